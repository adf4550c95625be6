"""Apply a co-registration: one resampling of the target's own pixels onto the reference grid, through the
displacement model (``geo.scenes.displace``: one interpolation from the source).

A pure translation can instead be applied with no resampling at all, by moving the target's geotransform
(``shifted_transform``).
"""

from __future__ import annotations

import logging
import os
from contextlib import AbstractContextManager
from pathlib import Path


import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.io import DatasetReader, DatasetWriter
from rasterio.warp import transform as transform_points

from geo.atomic import existing_ancestor, replacing
from geo.grid import Grid
from geo.errors import OutputError
from geo.scenes.displace import Displacement, warp_band
from geo.scenes.warp import open_raster

log = logging.getLogger(__name__)


def translation(dx_px: float, dy_px: float) -> Displacement:
    """The displacement of a global shift: the same everywhere."""
    return lambda rows, cols: (np.full(np.shape(rows), dx_px), np.full(np.shape(rows), dy_px))


def write_warped(
    tgt_path: str, grid: Grid, displacement: Displacement, out_path: str
) -> None:
    """Every band of ``tgt_path`` resampled once onto ``grid`` through ``displacement``, as a GeoTIFF
    with the source's data type and nodata. Without one: 0 for an integer type (Sentinel-2's no-data value), NaN for
    a floating-point one (an index, a difference, sigma0: 0.0 is a value there, and NaN the nodata QGIS and
    rasterio users expect of float rasters)."""
    with open_raster(tgt_path) as src:
        dtype = src.dtypes[0]
        nodata = src.nodata if src.nodata is not None else (np.nan if np.dtype(dtype).kind == "f" else 0)
        profile = dict(driver="GTiff", width=grid.width, height=grid.height, count=src.count, dtype=dtype,
                       crs=grid.crs, transform=grid.transform, nodata=nodata, tiled=True, compress="deflate",
                       blockxsize=256, blockysize=256)
        with _replacing(out_path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
            for band in range(1, src.count + 1):
                values, valid = warp_band(src, band, grid, displacement, nodata)
                if np.issubdtype(np.dtype(dtype), np.integer):
                    values = _as_integers(values, valid, nodata, np.iinfo(dtype))
                dst.write(np.where(valid, values, nodata).astype(dtype), band)
            _copy_band_metadata(src, dst)


def _as_integers(values: np.ndarray, valid: np.ndarray, nodata: float, info: np.iinfo) -> np.ndarray:
    """Resampled values rounded into the integer type; a valid pixel landing on the nodata value (an 8-bit
    image's dark water at 1, the cubic's undershoot rounding it to 0) is moved one step off it, to the side it
    came from, or it would read as nodata."""
    out: np.ndarray = np.clip(np.rint(values), info.min, info.max)
    hit = valid & (out == nodata)
    if hit.any():
        up = ((values[hit] >= nodata) & (nodata < info.max)) | (nodata <= info.min)
        out[hit] = np.where(up, nodata + 1, nodata - 1)
    return out


def shifted_transform(src_transform: Affine, src_crs: CRS | None, grid: Grid, dx_px: float, dy_px: float) -> Affine:
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
            _copy_band_metadata(src, dst)


def _copy_band_metadata(src: DatasetReader, dst: DatasetWriter) -> None:
    """What says what each band is (its description, e.g. ``B04``, its colour, its scale and offset to
    reflectance or units), and overviews where the source has them (QGIS draws a large file from them): the
    corrected file is the same bands, only moved."""
    if src.overviews(1):
        dst.build_overviews(src.overviews(1), Resampling.average)
    dst.colorinterp = src.colorinterp
    dst.scales, dst.offsets = src.scales, src.offsets
    for band in range(1, src.count + 1):
        if src.descriptions[band - 1]:
            dst.set_band_description(band, src.descriptions[band - 1])
        if src.units[band - 1]:
            dst.set_band_unit(band, src.units[band - 1])


def _replacing(out_path: str) -> AbstractContextManager[Path]:
    """``replacing`` (temp file + rename) after checking the output can be written at all."""
    path = Path(out_path)
    parent = path.absolute().parent
    if path.is_dir():
        raise OutputError(f"{out_path}: cannot write a raster there (it is a folder; give a file name)")
    if not parent.is_dir():
        ancestor = existing_ancestor(parent)
        if not ancestor.is_dir():  # 'notes.txt/out.tif': the folder is missing because a file has its name
            raise OutputError(f"{out_path}: cannot write a raster there ({ancestor} is a file, not a folder)")
        raise OutputError(f"{out_path}: cannot write a raster there (folder {parent} does not exist)")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"{out_path}: cannot write a raster there (folder {parent} is not writable)")
    return replacing(path)
