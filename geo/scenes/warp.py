"""One raster onto one grid: the window of the file under the grid, read in one go and resampled in memory
(or copied when the grid is the file's own pixel grid), from the coarsest overview that is still fine
enough. Errors are rasterio's, for the caller to classify (``geo.scenes.read`` retries remote ones)."""

from __future__ import annotations

import logging
import math
import os
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from rasterio.enums import Resampling
from rasterio.errors import RasterioError
from rasterio.io import DatasetReader
from rasterio.warp import reproject, transform_bounds
from rasterio.warp import transform as transform_points
from rasterio.windows import Window, from_bounds

from geo.errors import RasterError
from geo.grid import Grid
from geo.scenes.gdal_env import gdal_env
from geo.scenes.separable import cubic_onto

log = logging.getLogger(__name__)

DEFAULT_NODATA = 0  # Sentinel-2 DN 0 is "no data" in every product level


def _georeferenced(src: DatasetReader, href: str) -> None:
    if src.gcps[0]:  # ground control points (e.g. Sentinel-1 GRD in radar geometry) georeference it too
        return
    if src.crs is None and not src.transform.is_identity:  # a world file (.wld, .pgw, .tfw) alone: no CRS
        raise RasterError(f"{href}: raster has a geotransform but no CRS (a world file "
                          f"alone?); give it one: gdal_translate -a_srs EPSG:CODE {shlex.quote(href)} georeferenced.tif")
    if src.crs is None:
        raise RasterError(f"{href}: raster has no CRS (georeference missing)")
    if src.transform.is_identity:
        raise RasterError(f"{href}: raster has no geotransform (georeference missing)")


@contextmanager
def open_raster(href: str, **env: Any) -> Iterator[DatasetReader]:
    """Open a georeferenced raster or raise ``RasterError`` naming it (corrupt, missing, no CRS)."""
    if os.path.exists(href):  # a local file's sidecars count: its world file, .prj, .aux.xml (CRS, nodata, ...)
        env = {"GDAL_DISABLE_READDIR_ON_OPEN": "FALSE", **env}
    try:
        with gdal_env(**env), rasterio.open(href) as src:
            _georeferenced(src, href)
            yield src
    except RasterioError as exc:
        raise RasterError(f"{href}: cannot read raster ({gdal_message(exc)})") from None


def source_resolution(src: DatasetReader, grid: Grid) -> float | None:
    """The size of one source pixel in the grid's units (near the file's centre), None if unknown."""
    if src.crs is None or src.transform.is_identity:
        return None
    if src.crs == grid.crs:
        return float(abs(src.transform.a))
    col, row = src.width / 2, src.height / 2
    xs, ys = zip(*(src.transform @ (c, r) for c, r in ((col, row), (col + 1, row), (col, row + 1))))
    gx, gy = transform_points(src.crs, grid.crs, list(xs), list(ys))
    east = np.hypot(gx[1] - gx[0], gy[1] - gy[0])
    south = np.hypot(gx[2] - gx[0], gy[2] - gy[0])
    return float(np.sqrt(east * south))


def overview_level(src: DatasetReader, grid: Grid) -> int | None:
    """Index of the coarsest overview whose pixels are still no larger than the grid's, or None for
    full resolution."""
    factors = src.overviews(1)
    size = source_resolution(src, grid)
    if not factors or size is None:
        return None
    ratio = min(grid.res) / size
    usable = [i for i, factor in enumerate(factors) if factor <= ratio * (1 + 1e-6)]
    return usable[-1] if usable else None


def lattice_offset(src: DatasetReader, grid: Grid) -> tuple[float, float] | None:
    """The column and row of ``src`` under the grid's first pixel when ``grid`` is ``src``'s lattice moved
    (same CRS, same pixel size, no rotation), or None."""
    a, g = src.transform, grid.transform
    if src.crs is None or src.crs != grid.crs or a.b or a.d or g.b or g.d:
        return None
    if not (np.isclose(a.a, g.a, rtol=1e-9) and np.isclose(a.e, g.e, rtol=1e-9)):
        return None
    return (g.c - a.c) / a.a, (g.f - a.f) / a.e


def aligned_window(src: DatasetReader, grid: Grid) -> Window | None:
    """The window of ``src`` that *is* ``grid`` (same CRS, same pixel size, whole-pixel offset), or None.
    The common Sentinel-2 case: a 10 m AOI grid in the tile's own UTM zone, snapped to 10 m."""
    offset = lattice_offset(src, grid)
    if offset is None:
        return None
    col, row = offset
    if abs(col - round(col)) > 1e-6 or abs(row - round(row)) > 1e-6:
        return None
    return Window(round(col), round(row), grid.width, grid.height)


def read_filled(src: DatasetReader, band: int, window: Window, fill: float, dtype: str | None = None) -> np.ndarray:
    """``window`` of one band as stored (as ``dtype``, converted by GDAL as it reads: default the file's own),
    ``fill`` beyond the file's edge. Not rasterio's boundless read: that goes through a VRT which re-decodes
    (JPEG2000) tiles on every call instead of using GDAL's block cache."""
    dtype = dtype or src.dtypes[band - 1]
    shape = (int(window.height), int(window.width))
    inner = window.intersection(Window(0, 0, src.width, src.height)) if _overlaps(window, src) else None
    if inner is not None and (inner.width, inner.height) == (window.width, window.height):  # all inside
        inside: np.ndarray = src.read(band, window=window, out_dtype=dtype)
        return inside
    out = np.full(shape, fill, dtype=dtype)
    if inner is not None:
        r0, c0 = int(inner.row_off - window.row_off), int(inner.col_off - window.col_off)
        out[r0:r0 + int(inner.height), c0:c0 + int(inner.width)] = src.read(band, window=inner, out_dtype=dtype)
    return out


def _copy(src: DatasetReader, window: Window, grid: Grid, nodata: float) -> np.ma.MaskedArray:
    """Pixels of an aligned window as they are (no resampling), nodata outside the file."""
    return _masked(read_filled(src, 1, window, nodata), nodata)


def _overlaps(window: Window, src: DatasetReader) -> bool:
    return bool(window.col_off < src.width and window.row_off < src.height
                and window.col_off + window.width > 0 and window.row_off + window.height > 0)


def _masked(out: np.ndarray, nodata: float) -> np.ma.MaskedArray:
    """``out`` (the caller's own array, not copied) masked where nodata."""
    return np.ma.masked_invalid(out, copy=False) if np.isnan(nodata) else np.ma.masked_equal(out, nodata, copy=False)


def source_window(src: DatasetReader, grid: Grid, resampling: Resampling) -> Window | None:
    """The part of ``src`` under ``grid``, grown by the resampling kernel's reach, clipped to the file
    (None when they do not meet)."""
    left, bottom, right, top = transform_bounds(grid.crs, src.crs, *grid.bounds, densify_pts=21)
    window = from_bounds(left, bottom, right, top, src.transform)
    size = source_resolution(src, grid) or min(grid.res)
    pad = 3 + math.ceil(min(grid.res) / size)  # cubic reaches 2 px, lanczos 3; coarser grids average more
    col0, row0 = math.floor(window.col_off) - pad, math.floor(window.row_off) - pad
    col1 = math.ceil(window.col_off + window.width) + pad
    row1 = math.ceil(window.row_off + window.height) + pad
    col0, row0, col1, row1 = max(col0, 0), max(row0, 0), min(col1, src.width), min(row1, src.height)
    if col1 <= col0 or row1 <= row0:
        return None
    return Window(col0, row0, col1 - col0, row1 - row0)


def _warp(src: DatasetReader, grid: Grid, resampling: Resampling, nodata: float) -> np.ma.MaskedArray:
    window = aligned_window(src, grid)
    if window is not None:  # no resampling to do: read the pixels (any kernel would return them unchanged)
        return _copy(src, window, grid, nodata)
    gcps, gcp_crs = src.gcps
    if gcps and src.transform.is_identity:
        # Georeferenced by ground control points only (Sentinel-1 GRD): GDAL's GCP transformer; the
        # warper reads only the source windows it needs.
        out = _nodata_grid(src, grid, nodata)
        reproject(rasterio.band(src, 1), out, gcps=gcps, src_crs=gcp_crs, src_nodata=nodata,
                  dst_crs=grid.crs, dst_transform=grid.transform, dst_nodata=nodata, resampling=resampling)
        return _masked(out, nodata)
    # Read the window in one go (GDAL fetches its tiles in one merged, parallel request), then resample
    # in memory: measured faster over HTTP than letting a WarpedVRT pull blocks chunk by chunk.
    window = source_window(src, grid, resampling)
    if window is None:
        return _masked(_nodata_grid(src, grid, nodata), nodata)
    data = src.read(1, window=window)
    origin = src.transform @ Affine.translation(window.col_off, window.row_off)
    fast = (cubic_onto(data, origin, grid.transform, grid.shape, nodata)
            if resampling == Resampling.cubic and src.crs == grid.crs else None)
    if fast is not None:  # GDAL's values, without its per-pixel warp (geo.scenes.separable)
        return _masked(fast, nodata)
    out = _nodata_grid(src, grid, nodata)
    reproject(data, out, src_transform=origin, src_crs=src.crs, src_nodata=nodata,
              dst_transform=grid.transform, dst_crs=grid.crs, dst_nodata=nodata, resampling=resampling)
    return _masked(out, nodata)


def _nodata_grid(src: DatasetReader, grid: Grid, nodata: float) -> np.ndarray:
    """What GDAL warps into: ``grid``'s shape in the source's type, nodata where nothing lands."""
    return np.full(grid.shape, nodata, dtype=src.dtypes[0])


@contextmanager
def opened_source(href: str, env: dict[str, Any], nodata: float | None) -> Iterator[tuple[DatasetReader, float]]:
    """The opened, georeferenced file and its nodata value (the item's, the file's, else 0)."""
    with gdal_env(**env), rasterio.open(href) as src:
        _georeferenced(src, href)
        if src.count > 1:  # its first band is not the band the asset names
            raise RasterError(f"{href}: holds {src.count} bands, and geo reads one band per asset: give each band "
                              "its own single-band file and asset (gdal_translate -b N)")
        src_nodata = nodata if nodata is not None else src.nodata
        yield src, DEFAULT_NODATA if src_nodata is None else src_nodata


def read_onto(href: str, grid: Grid, resampling: Resampling, nodata: float | None,
              env: dict[str, Any]) -> tuple[np.ma.MaskedArray, float]:
    """One file onto ``grid`` (raises rasterio's errors as they come, for the caller to classify)."""
    with opened_source(href, env, nodata) as (src, src_nodata):
        level = overview_level(src, grid)
        if level is None:
            return _warp(src, grid, resampling, src_nodata), src_nodata
        log.debug("%s: reading overview %d for a %.1f m grid", href, level, grid.res[0])
        with rasterio.open(href, overview_level=level) as overview:
            return _warp(overview, grid, resampling, src_nodata), src_nodata


def gdal_message(exc: BaseException) -> str:
    """The messages of a rasterio error and of the GDAL errors behind it, in one line (rasterio puts the
    HTTP status of a failed read in the chained exception, not in the one raised)."""
    messages: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(messages) < 5:
        text = " ".join(str(seen).split())
        if text and "See previous exception" not in text and text not in messages:
            messages.append(text)
        seen = seen.__cause__ or seen.__context__
    return "; ".join(messages) or type(exc).__name__
