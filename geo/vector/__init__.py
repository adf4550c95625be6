"""Vector stage: change masks to clean polygons with attributes."""
