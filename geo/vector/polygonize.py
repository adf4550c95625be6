"""Change mask -> one valid polygon per connected change region (in the grid's CRS)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import shapely
from rasterio import features
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geo.geometry import polygonal
from geo.grid import Grid


@dataclass(frozen=True)
class Region:
    label: int
    geometry: BaseGeometry  # in the grid's CRS
    pixels: int


def polygonize(labels: np.ndarray, grid: Grid) -> list[Region]:
    """One (Multi)Polygon per label, made valid (pixel rings touching at corners are not)."""
    parts: dict[int, list[BaseGeometry]] = defaultdict(list)
    for geojson, value in features.shapes(labels, mask=labels > 0, transform=grid.transform, connectivity=8):
        parts[int(value)].append(shape(geojson))
    counts = np.bincount(labels.ravel())
    regions = []
    for label in sorted(parts):
        geometry = polygonal(shapely.make_valid(shapely.union_all(parts[label])))
        if not geometry.is_empty:
            regions.append(Region(label, geometry, int(counts[label])))
    return regions
