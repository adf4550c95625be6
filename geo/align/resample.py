"""Apply a co-registration: one resampling of the target's own pixels onto the reference grid.

A displacement model says where each REF-grid pixel's content lies in TGT (REF-grid pixel coordinates).
Those positions are taken to TGT's CRS and pixel space (exactly on a coarse lattice, bilinear in between:
the CRS mapping is smooth over 16 px, as in GDAL's approximate transformer) and TGT's source pixels are
sampled there once with a cubic B-spline (scipy ``map_coordinates``), in row blocks so memory stays
bounded. Reading through a GDAL ``WarpedVRT`` cannot take a displacement field, and resampling an already
resampled image would blur it twice: this keeps it to one interpolation from the source.

A pure translation can instead be applied with no resampling at all, by moving the target's geotransform
(``shifted_transform``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.io import DatasetReader
from rasterio.warp import transform as transform_points
from rasterio.windows import Window
from scipy import ndimage as ndi

from geo.atomic import replacing
from geo.grid import Grid
from geo.errors import OutputError
from geo.scenes.read import Displacement, open_raster
from geo.scenes.warp import read_filled

log = logging.getLogger(__name__)

LATTICE = 16
BLOCK_ROWS = 512


def translation(dx_px: float, dy_px: float) -> Displacement:
    """The displacement of a global shift: the same everywhere."""
    return lambda rows, cols: (np.full(np.shape(rows), dx_px), np.full(np.shape(rows), dy_px))


def source_positions(
    src: DatasetReader, grid: Grid, displacement: Displacement, row_start: int, n_rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """TGT (row, col) pixel-index positions of rows ``row_start``.. of ``grid`` after displacement."""
    rows = np.arange(row_start, row_start + n_rows, dtype=float)
    cols = np.arange(grid.width, dtype=float)
    lat_r = np.unique(np.append(np.arange(rows[0], rows[-1], LATTICE), rows[-1]))
    lat_c = np.unique(np.append(np.arange(0, cols[-1], LATTICE), cols[-1]))
    rr, cc = np.meshgrid(lat_r, lat_c, indexing="ij")
    dx, dy = displacement(rr, cc)
    x, y = grid.transform @ (cc + 0.5 + dx, rr + 0.5 + dy)  # pixel centres in map units
    if src.crs != grid.crs:
        x, y = (np.asarray(v).reshape(rr.shape) for v in transform_points(grid.crs, src.crs, x.ravel(), y.ravel()))
    src_c, src_r = ~src.transform @ (x, y)
    lattice_r, lattice_c = src_r - 0.5, src_c - 0.5
    # bilinear from the lattice to every pixel
    fr = np.interp(rows, lat_r, np.arange(len(lat_r)))
    fc = np.interp(cols, lat_c, np.arange(len(lat_c)))
    at = np.meshgrid(fr, fc, indexing="ij")
    return (ndi.map_coordinates(lattice_r, at, order=1), ndi.map_coordinates(lattice_c, at, order=1))


def warp_band(
    src: DatasetReader,
    band: int,
    grid: Grid,
    displacement: Displacement,
    nodata: float | None,
    order: int = 3,
) -> tuple[np.ndarray, np.ndarray]:
    """One band of ``src`` on ``grid`` through ``displacement``: (float32 values, valid)."""
    values = np.zeros(grid.shape, np.float32)
    valid = np.zeros(grid.shape, bool)
    factor = max(grid.res[0] / abs(src.transform.a), 1.0) if src.crs == grid.crs else 1.0
    for start in range(0, grid.height, BLOCK_ROWS):
        n = min(BLOCK_ROWS, grid.height - start)
        pos_r, pos_c = source_positions(src, grid, displacement, start, n)
        margin = 4 + int(np.ceil(2 * factor))
        r0 = int(np.floor(np.nanmin(pos_r))) - margin
        c0 = int(np.floor(np.nanmin(pos_c))) - margin
        r1 = int(np.ceil(np.nanmax(pos_r))) + margin + 1
        c1 = int(np.ceil(np.nanmax(pos_c))) + margin + 1
        window = Window(c0, r0, c1 - c0, r1 - r0)
        raw = read_filled(src, band, window, nodata if nodata is not None else 0)
        ok = raw != nodata if nodata is not None else np.ones(raw.shape, bool)
        data = np.where(ok, raw, 0).astype(np.float32)
        if factor >= 1.5:  # downsampling: average first (area-like), or the spline would alias
            data = ndi.gaussian_filter(data, 0.5 * factor)
        at = [pos_r - r0, pos_c - c0]
        if order == 0:
            sampled = ndi.map_coordinates(data, at, order=0, mode="constant", cval=0.0)
        else:
            sampled = ndi.map_coordinates(data, at, order=order, mode="nearest", output=np.float32)
        # valid where the whole interpolation support was valid in the source
        support = ndi.minimum_filter(ok.astype(np.uint8), size=4 if order else 1, mode="constant", cval=0)
        block_valid = ndi.map_coordinates(support, at, order=0, mode="constant", cval=0) > 0
        values[start:start + n] = np.where(block_valid, sampled, 0.0)
        valid[start:start + n] = block_valid
    return values, valid


def write_warped(
    tgt_path: str, grid: Grid, displacement: Displacement, out_path: str
) -> None:
    """Every band of ``tgt_path`` resampled once onto ``grid`` through ``displacement``, as a GeoTIFF
    with the source's data type and nodata (0 when it has none: Sentinel-2's no-data value)."""
    with open_raster(tgt_path) as src:
        nodata = src.nodata if src.nodata is not None else 0
        dtype = src.dtypes[0]
        profile = dict(driver="GTiff", width=grid.width, height=grid.height, count=src.count, dtype=dtype,
                       crs=grid.crs, transform=grid.transform, nodata=nodata, tiled=True, compress="deflate",
                       blockxsize=256, blockysize=256)
        with _replacing(out_path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
            for band in range(1, src.count + 1):
                values, valid = warp_band(src, band, grid, displacement, nodata)
                if np.issubdtype(np.dtype(dtype), np.integer):
                    info = np.iinfo(dtype)
                    values = np.clip(np.rint(values), info.min, info.max)
                dst.write(np.where(valid, values, nodata).astype(dtype), band)


def shifted_transform(src_transform: Affine, src_crs, grid: Grid, dx_px: float, dy_px: float) -> Affine:
    """TGT's geotransform moved so its content lands where REF has it (no resampling).

    The shift is measured in REF-grid pixels; it is taken into TGT's CRS at the centre of ``grid``."""
    rows, cols = grid.height / 2, grid.width / 2
    x0, y0 = grid.transform @ (cols, rows)
    x1, y1 = grid.transform @ (cols + dx_px, rows + dy_px)
    if src_crs != grid.crs:
        (x0, x1), (y0, y1) = transform_points(grid.crs, src_crs, [x0, x1], [y0, y1])
    return Affine.translation(-(x1 - x0), -(y1 - y0)) * src_transform


def write_shifted(tgt_path: str, grid: Grid, dx_px: float, dy_px: float, out_path: str) -> None:
    """TGT's own pixels, untouched, with the geotransform corrected by the global shift."""
    with open_raster(tgt_path) as src:
        profile = src.profile.copy()
        profile.update(driver="GTiff", transform=shifted_transform(src.transform, src.crs, grid, dx_px, dy_px))
        for key in ("blockxsize", "blockysize", "tiled"):
            profile.pop(key, None)
        with _replacing(out_path) as tmp, rasterio.open(tmp, "w", **profile, tiled=True) as dst:
            for _, window in src.block_windows(1):
                dst.write(src.read(window=window), window=window)


def _replacing(out_path: str):
    """``replacing`` (temp file + rename) after checking the output can be written at all."""
    path = Path(out_path)
    parent = path.absolute().parent
    if path.is_dir() or not parent.is_dir() or not os.access(parent, os.W_OK):
        raise OutputError(f"{out_path}: cannot write a raster there (not a writable file path)")
    return replacing(path)
