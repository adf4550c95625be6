"""A TGT on REF's lattice but for a fraction of a pixel (same CRS and pixel size: a grid snapped differently,
a file shifted by part of a pixel) is read as stored and moved onto REF's grid by cubic B-spline interpolation
of its own pixels. GDAL's cubic warp (Keys' kernel) is not an exact delay: on a real Sentinel-2 band given a
known 0.37/-0.24 px offset it pulled the measured shift by 0.009/0.011 px, 4-5 times the stated sigma; the
B-spline by 0.0003 (README, "Co-registration figures")."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from rasterio.windows import Window

from geo.grid import Grid
from geo.scenes.warp import lattice_offset, read_filled

if TYPE_CHECKING:
    from rasterio.io import DatasetReader

PAD = 8  # pixels read around the grid: the B-spline's prefilter decays to < 1e-4 over them
REACH = 2  # pixels either side a cubic B-spline sample depends on: invalid ones there make it invalid


def _offset(src: DatasetReader, grid: Grid) -> tuple[int, int, float, float] | None:
    """TGT's column and row under the grid's first pixel, whole and fractional parts, when ``grid`` is TGT's
    lattice moved; else None (another CRS, pixel size or a rotation)."""
    offset = lattice_offset(src, grid)
    if offset is None:
        return None
    col, row = offset
    c0, r0 = math.floor(col), math.floor(row)
    return c0, r0, col - c0, row - r0


def read_offset(src: DatasetReader, band: int, grid: Grid) -> np.ndarray | None:
    """TGT's band on ``grid`` (0 where invalid or beyond its edge, as the warp gives), when ``grid`` is TGT's
    lattice but for a fraction of a pixel; else None."""
    found = _offset(src, grid)
    if found is None:
        return None
    from scipy import ndimage  # here: geo coreg of a pair on one lattice starts without scipy

    c0, r0, fc, fr = found
    height, width = grid.shape
    values = read_filled(src, band, Window(c0 - PAD, r0 - PAD, width + 2 * PAD + 1, height + 2 * PAD + 1), 0,
                         "float64")
    invalid = ~np.isfinite(values) | (values == 0)
    if src.nodata is not None and not np.isnan(src.nodata):
        invalid |= values == src.nodata
    if invalid.all():
        return np.zeros(grid.shape)
    if invalid.any():  # filled from the nearest valid pixel: a step to 0 would ring through the prefilter
        nearest = ndimage.distance_transform_edt(invalid, return_distances=False, return_indices=True)
        values = values[tuple(nearest)]
    moved = ndimage.shift(values, (-fr, -fc), order=3, mode="nearest")[PAD:PAD + height, PAD:PAD + width]
    near_invalid = ndimage.maximum_filter(invalid, size=2 * REACH + 1)
    rows, cols = PAD + round(fr), PAD + round(fc)
    moved[near_invalid[rows:rows + height, cols:cols + width]] = 0
    return np.asarray(moved, dtype=np.float64)
