"""Change mask -> one valid polygon per connected change region (in the grid's CRS).

Regions are labelled on the whole grid; the grid is polygonised in blocks of ``BLOCK_PX`` (GDAL's
polygoniser then holds one block's rows and polygons at a time) and a region's pieces from the blocks it
spans are merged along the seams into one polygon, the one the whole grid gives (tested).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import shapely
from affine import Affine
from rasterio import features
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geo.change.labels import region_sizes
from geo.change.tiling import layout
from geo.geometry import polygonal
from geo.grid import Grid


BLOCK_PX = 4096  # a tile's 10 980 px rows in three blocks


@dataclass(frozen=True)
class Region:
    label: int
    geometry: BaseGeometry  # in the grid's CRS
    pixels: int


def polygonize(labels: np.ndarray, grid: Grid, block_px: int = BLOCK_PX) -> list[Region]:
    """One (Multi)Polygon per label, made valid (pixel rings touching at corners are not)."""
    parts: dict[int, list[BaseGeometry]] = defaultdict(list)
    blocks: dict[int, set[int]] = defaultdict(set)  # label -> the blocks it has pieces in
    for index, block in enumerate(layout(labels.shape, 0, block_px)):
        piece = labels[block.core]
        transform = grid.transform @ Affine.translation(block.col0, block.row0)
        for geojson, value in features.shapes(piece, mask=piece > 0, transform=transform, connectivity=8):
            parts[int(value)].append(shape(geojson))
            blocks[int(value)].add(index)
    counts = region_sizes(labels, int(labels.max()))
    regions = []
    for label in sorted(parts):
        geometry = shapely.make_valid(shapely.union_all(parts[label]))
        if len(blocks[label]) > 1:  # drop the vertices the seams left on straight edges
            geometry = shapely.normalize(shapely.simplify(geometry, 0.0))
        geometry = polygonal(geometry)
        if not geometry.is_empty:
            regions.append(Region(label, geometry, int(counts[label])))
    return regions
