"""Read two rasters of the same place onto the reference's grid, over their overlap only."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import rasterio
from affine import Affine
from rasterio.enums import Resampling
from rasterio.io import DatasetReader
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window, from_bounds

from geo.align import lk
from geo.align.coreg import (
    CONTEXT, MIN_QUALITY, Shift, choose_windows, clean_masks, combine_shifts, estimate_shift, texture_map,
)
from geo.errors import CoregError, OverlapError, RasterError
from geo.grid import Grid
from geo.scenes.read import open_raster

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RasterPair:
    grid: Grid  # a window of the reference grid covering the overlap
    ref: np.ndarray
    tgt: np.ndarray
    ref_valid: np.ndarray
    tgt_valid: np.ndarray


def _valid(values: np.ndarray, nodata: float | None) -> np.ndarray:
    valid = np.isfinite(values)
    if nodata is not None:
        valid &= values != nodata
    return valid & (values != 0)  # Sentinel-2 DN 0 is "no data"


def _overlap(ref, tgt, ref_path: str, tgt_path: str) -> Window:
    """The window of REF covering the overlap of the two rasters."""
    tgt_bounds = transform_bounds(tgt.crs, ref.crs, *tgt.bounds, densify_pts=21)
    left, bottom = max(ref.bounds.left, tgt_bounds[0]), max(ref.bounds.bottom, tgt_bounds[1])
    right, top = min(ref.bounds.right, tgt_bounds[2]), min(ref.bounds.top, tgt_bounds[3])
    if right <= left or top <= bottom:
        raise OverlapError(f"{ref_path} and {tgt_path} do not overlap")
    window = from_bounds(left, bottom, right, top, ref.transform).round_offsets().round_lengths()
    window = window.intersection(Window(0, 0, ref.width, ref.height))
    if window.width < 1 or window.height < 1:
        raise OverlapError(f"{ref_path} and {tgt_path} do not overlap")
    return window


def _read(ref, tgt, band: int, window: Window, factor: int = 1) -> RasterPair:
    """REF over ``window`` (decimated by ``factor``, averaging) and TGT warped onto the same grid."""
    shape = (max(1, int(window.height) // factor), max(1, int(window.width) // factor))
    transform = ref.window_transform(window) @ Affine.scale(window.width / shape[1], window.height / shape[0])
    grid = Grid(ref.crs, transform, shape)
    ref_values = _read_window(ref, band, window, shape)
    with _overview(tgt, factor) as source:
        # cubic when TGT is as fine or coarser; averaging when it is much finer (cubic would alias)
        finer = source.crs == ref.crs and abs(source.transform.a) * 1.5 <= abs(grid.transform.a)
        with WarpedVRT(source, crs=grid.crs, transform=grid.transform, width=grid.width, height=grid.height,
                       resampling=Resampling.average if finer else Resampling.cubic,
                       src_nodata=tgt.nodata if tgt.nodata is not None else 0, nodata=0) as vrt:
            tgt_values = vrt.read(band).astype(np.float64)
    return RasterPair(grid, ref_values, tgt_values, _valid(ref_values, ref.nodata), _valid(tgt_values, 0))


def _read_window(src: DatasetReader, band: int, window: Window, shape: tuple[int, int]) -> np.ndarray:
    """``window`` of ``src`` (0 beyond its edge) at ``shape``. Not rasterio's boundless read: that goes
    through a VRT which re-decodes (JPEG2000) tiles on every call instead of using GDAL's block cache."""
    inside = window.intersection(Window(0, 0, src.width, src.height))
    if (inside.width, inside.height) == (window.width, window.height):
        return src.read(band, window=window, out_shape=shape, resampling=Resampling.average).astype(np.float64)
    if shape != (int(window.height), int(window.width)):
        raise ValueError("decimated reads must lie inside the raster")
    out = np.zeros(shape, np.float64)
    r, c = int(inside.row_off - window.row_off), int(inside.col_off - window.col_off)
    out[r:r + int(inside.height), c:c + int(inside.width)] = src.read(band, window=inside)
    return out


@contextmanager
def _overview(src: DatasetReader, factor: int) -> Iterator[DatasetReader]:
    """``src`` at its largest overview no coarser than ``factor`` (decoding a JPEG2000 or COG at full
    resolution only to average it down is most of the cost of a coarse look), else ``src`` itself."""
    levels = [f for f in src.overviews(1) if f <= factor] if factor > 1 else []
    if not levels:
        yield src
        return
    with rasterio.open(src.name, overview_level=len(levels) - 1) as coarse:
        yield coarse
@contextmanager
def open_pair(ref_path: str, tgt_path: str, band: int = 1) -> Iterator[tuple[DatasetReader, DatasetReader]]:
    """Both rasters, checked for the band."""
    with open_raster(ref_path) as ref, open_raster(tgt_path) as tgt:
        for path, src in ((ref_path, ref), (tgt_path, tgt)):
            if not 1 <= band <= src.count:
                raise RasterError(f"{path}: has {src.count} band(s), band {band} requested")
        yield ref, tgt


def read_pair(ref_path: str, tgt_path: str, band: int = 1) -> RasterPair:
    """REF's pixels over the overlap, and TGT's resampled onto exactly that grid (for estimation only)."""
    with open_pair(ref_path, tgt_path, band) as (ref, tgt):
        return _read(ref, tgt, band, _overlap(ref, tgt, ref_path, tgt_path))


def estimate_shift_from_files(
    ref_path: str, tgt_path: str, band: int = 1, window: int = 128, n_windows: int = 9, factor: int = 8,
    min_quality: float = MIN_QUALITY,
) -> tuple[Shift, Grid]:
    """The global shift reading windows, not files: an overview (1/``factor``, cheap from COG or JPEG2000
    overviews) picks clear, textured windows; only those are read at full resolution and measured.
    Returns the shift and the overlap grid (REF's lattice) it refers to."""
    with open_pair(ref_path, tgt_path, band) as (ref, tgt):
        overlap = _overlap(ref, tgt, ref_path, tgt_path)
        grid = Grid(ref.crs, ref.window_transform(overlap), (int(overlap.height), int(overlap.width)))
        if min(grid.shape) < 4 * window:  # small: the whole overlap is cheap enough
            pair = _read(ref, tgt, band, overlap)
            return estimate_shift(pair.ref, pair.tgt, pair.ref_valid, pair.tgt_valid, min_quality, window,
                                  n_windows), grid
        coarse = _read(ref, tgt, band, overlap, factor)
        ref_ok, tgt_ok = clean_masks(coarse.ref, coarse.tgt, coarse.ref_valid, coarse.tgt_valid)
        block = max(1, 16 // factor)
        score = texture_map(coarse.ref, ref_ok & tgt_ok, block)
        picks = choose_windows(score, window // (block * factor), max(1, int(np.sqrt(n_windows))))[:n_windows]
        margin = 2 * CONTEXT + lk.MARGIN + 16  # room for the integer shift and the preparation
        shifts = []
        for br, bc, _ in picks:
            r, c = br * block * factor - margin, bc * block * factor - margin
            region = Window(overlap.col_off + c, overlap.row_off + r, window + 2 * margin, window + 2 * margin)
            pair = _read(ref, tgt, band, region)
            try:
                shifts.append(estimate_shift(pair.ref, pair.tgt, pair.ref_valid, pair.tgt_valid, min_quality,
                                             window, 1))
            except CoregError as exc:
                log.info("window at row %d, col %d skipped: %s", r, c, exc)
    if not shifts:  # nothing clear enough in the overview's picks: fall back to the whole overlap
        pair = read_pair(ref_path, tgt_path, band)
        return estimate_shift(pair.ref, pair.tgt, pair.ref_valid, pair.tgt_valid, min_quality, window,
                              n_windows), pair.grid
    return combine_shifts(shifts), grid
