"""Outputs: files users open (GeoJSON, JSON summaries), written atomically."""
