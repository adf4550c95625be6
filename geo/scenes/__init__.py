"""Scenes: search archives (STAC API or local catalog), describe items, read windows onto a grid."""
