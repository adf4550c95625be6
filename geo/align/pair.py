"""Read two rasters of the same place onto the reference's grid, over their overlap only."""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, NamedTuple, TypeVar

import numpy as np
import rasterio
from affine import Affine
from rasterio.enums import MaskFlags, Resampling
from rasterio.io import DatasetReader
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window, from_bounds

from geo.align import lk
from geo.align.coreg import CONTEXT, MIN_QUALITY, Shift, combine_shifts, estimate_shift, prepare
from geo.align.lattice import Swapped, coarser_target
from geo.align.masks import clean_masks, pixel_size_m, robust_level
from geo.align.subpixel import read_offset
from geo.align.windows import BLOCK, texture_map, window_sums
from geo.errors import CoregError, OverlapError, RasterError
from geo.grid import Grid
from geo.scenes.gdal_env import gdal_env
from geo.scenes.warp import aligned_window, open_raster, read_filled

if TYPE_CHECKING:  # the windowed path's read planning is imported where used: a small pair is read whole
    from geo.align.blocks import ReadCost

log = logging.getLogger(__name__)

READ_BUDGET = 4_200_000  # decoded pixels (both files) for the global shift: about four 1024-px blocks
FILL_SPREADS = 50  # robust spreads below the rest: a fill value, not a dark pixel (water is ~3)
BandSpec = int | str  # a band by 1-based number, or by its description (``B04``)


@dataclass(frozen=True)
class RasterPair:
    """Both rasters' pixels on one grid, and where each is valid (a docstring also spares the dataclass an
    ``inspect.signature`` for its default one at import)."""

    grid: Grid  # a window of the reference grid covering the overlap
    ref: np.ndarray
    tgt: np.ndarray
    ref_valid: np.ndarray
    tgt_valid: np.ndarray


def _valid(values: np.ndarray, nodata: float | None) -> np.ndarray:
    valid = np.isfinite(values)
    if nodata is not None:
        valid &= values != nodata
    known: np.ndarray = valid & (values != 0)  # Sentinel-2 DN 0 is "no data"
    return _without_fill(values, known)


def _without_fill(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``valid`` less an untagged fill value (-9999 around a swath of reflectances, no nodata set): a value
    repeated on over 1 % of the pixels and ``FILL_SPREADS`` robust spreads below the rest, with whatever a warp
    mixed of it. Left valid, its edge is the sharpest texture there is, and the windows would measure it."""
    if not valid.any():
        return valid
    lowest = values[valid].min()
    fill = valid & (values == lowest)
    if np.count_nonzero(fill) < 0.01 * values.size:
        return valid
    level = robust_level(values, valid & ~fill)
    if level is None or lowest >= level[0] - FILL_SPREADS * max(level[1], 1e-12):
        return valid
    kept: np.ndarray = valid & (values > level[0] - FILL_SPREADS * level[1])
    return kept


def _overlap(ref: DatasetReader, tgt: DatasetReader, ref_path: str, tgt_path: str) -> Window:
    """The window of REF covering the overlap of the two rasters."""
    # in one CRS the bounds are TGT's own (what the transform returns then; building it costs ~1 ms of PROJ)
    tgt_bounds = tuple(tgt.bounds) if tgt.crs == ref.crs else transform_bounds(tgt.crs, ref.crs, *tgt.bounds,
                                                                               densify_pts=21)
    left, bottom = max(ref.bounds.left, tgt_bounds[0]), max(ref.bounds.bottom, tgt_bounds[1])
    right, top = min(ref.bounds.right, tgt_bounds[2]), min(ref.bounds.top, tgt_bounds[3])
    if right <= left or top <= bottom:
        raise OverlapError(f"{ref_path} and {tgt_path} do not overlap")
    window = from_bounds(left, bottom, right, top, ref.transform).round_offsets().round_lengths()
    window = window.intersection(Window(0, 0, ref.width, ref.height))
    if window.width < 1 or window.height < 1:
        raise OverlapError(f"{ref_path} and {tgt_path} do not overlap")
    return window


def _read(ref: DatasetReader, tgt: DatasetReader, bands: Bands, window: Window, factor: int = 1) -> RasterPair:
    """REF over ``window`` (decimated by ``factor``, averaging) and TGT warped onto the same grid."""
    return _read_many(ref, tgt, bands, [window], factor)[0]


def _read_many(ref: DatasetReader, tgt: DatasetReader, bands: Bands, windows: list[Window], factor: int = 1
               ) -> list[RasterPair]:
    """``_read`` for each window, the two files in two threads: decoding (most of the cost of a JPEG2000
    or remote read) releases the GIL, so the files decode side by side; each keeps its own dataset."""
    grids = []
    for window in windows:
        shape = (max(1, int(window.height) // factor), max(1, int(window.width) // factor))
        transform = ref.window_transform(window) @ Affine.scale(window.width / shape[1], window.height / shape[0])
        grids.append(Grid(ref.crs, transform, shape))

    def read_ref() -> list[np.ndarray]:
        with gdal_env():  # GDAL options set in a worker thread are that thread's own
            return [_read_window(ref, bands.ref, w, g.shape) for w, g in zip(windows, grids)]

    ref_job = _Background(read_ref)
    try:
        tgt_values = _warped(tgt, bands.tgt, grids, factor)
    finally:  # the thread reads REF, which the caller closes next
        ref_job.join()
    ref_values = ref_job.result()
    return [RasterPair(g, r, t, _valid(r, ref.nodata), _valid(t, 0))
            for g, r, t in zip(grids, ref_values, tgt_values)]


_T = TypeVar("_T")


class _Background(threading.Thread, Generic[_T]):
    """``job`` run at once in a thread of its own, in a copy of this context (rasterio keeps file openers,
    e.g. Python file objects, there); ``result()`` waits for it and returns its value or raises its error.
    One job, one thread: what ``concurrent.futures`` would do here, without its import (~3 ms of CPU, a tenth
    of a small ``geo coreg``'s measurement)."""

    def __init__(self, job: Callable[[], _T]) -> None:
        super().__init__(name="geo-read")
        self._job, self._context = job, contextvars.copy_context()
        self._value: list[_T] = []  # the job's value, once it has one
        self._error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self._value.append(self._context.run(self._job))
        except BaseException as exc:  # handed to the caller of result(), as a future does
            self._error = exc

    def result(self) -> _T:
        self.join()
        if self._error is not None:
            raise self._error
        return self._value[0]


def _warped(tgt: DatasetReader, band: int, grids: list[Grid], factor: int) -> list[np.ndarray]:
    """TGT resampled onto each grid: cubic when TGT is as fine or coarser, averaging when it is much
    finer (cubic would alias); read as it is where its pixels are the grid's (``_as_stored``)."""
    out = []
    with _overview(tgt, factor) as source:
        nodata_only = _nodata_only(source, band)
        # a mask band (or alpha) marks the invalid pixels: given a source nodata too, GDAL 3.12's warp (rasterio
        # 1.5) honours that instead and reads the masked pixels' values, where GDAL 3.10's honoured the mask
        invalid = {"src_nodata": tgt.nodata if tgt.nodata is not None else 0} if nodata_only else {}
        for grid in grids:
            window = aligned_window(source, grid) if factor == 1 and nodata_only else None
            if window is not None:
                out.append(_as_stored(source, band, window))
                continue
            moved = read_offset(source, band, grid) if factor == 1 and nodata_only else None
            if moved is not None:  # its lattice moved by part of a pixel: not through GDAL's cubic (subpixel.py)
                out.append(moved)
                continue
            finer = source.crs == grid.crs and abs(source.transform.a) * 1.5 <= abs(grid.transform.a)
            with WarpedVRT(source, crs=grid.crs, transform=grid.transform, width=grid.width, height=grid.height,
                           resampling=Resampling.average if finer else Resampling.cubic, nodata=0,
                           **invalid) as vrt:
                out.append(vrt.read(band).astype(np.float64))
    return out


def _nodata_only(src: DatasetReader, band: int) -> bool:
    """The band's invalid pixels are its nodata value (or none): no mask band or alpha, which the warp honours."""
    return set(src.mask_flag_enums[band - 1]) <= {MaskFlags.all_valid, MaskFlags.nodata}


def _as_stored(tgt: DatasetReader, band: int, window: Window) -> np.ndarray:
    """TGT's pixels over ``window`` of its own lattice, nodata (or 0 without one) and beyond its edge 0: what
    the cubic warp onto the same lattice returns (its kernel is 1 at a pixel's own centre, 0 at the others'),
    without warping every pixel (~10x the read of a small pair)."""
    values = read_filled(tgt, band, window, 0, "float64")
    if tgt.nodata is not None:
        values[np.isnan(values) if np.isnan(tgt.nodata) else values == tgt.nodata] = 0
    return values


def _read_window(src: DatasetReader, band: int, window: Window, shape: tuple[int, int]) -> np.ndarray:
    """``window`` of ``src`` (0 beyond its edge, ``read_filled``) at ``shape``."""
    inside = window.intersection(Window(0, 0, src.width, src.height))
    full_size = shape == (int(window.height), int(window.width))
    if (inside.width, inside.height) == (window.width, window.height):
        if full_size:  # as stored: GDAL converts the values (exactly) as it reads, no copy after
            return read_filled(src, band, window, 0, "float64")
        values: np.ndarray = src.read(band, window=window, out_shape=shape, resampling=Resampling.average)
        return values.astype(np.float64)
    if not full_size:
        raise ValueError("decimated reads must lie inside the raster")
    return read_filled(src, band, window, 0, "float64")


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
class Bands(NamedTuple):
    """The 1-based band measured in REF and in TGT."""

    ref: int
    tgt: int


def band_index(src: DatasetReader, path: str, band: BandSpec) -> int:
    """The 1-based index of ``band`` in ``src``: a number, or a band's description (e.g. ``B04``, any case)."""
    try:
        index = int(band)
    except ValueError:  # a name
        names = [(i, name) for i, name in enumerate(src.descriptions, 1) if name]
        found = [i for i, name in names if name.casefold() == str(band).strip().casefold()]
        if len(found) == 1:
            return found[0]
        known = (f"its bands: {', '.join(f'{i} {name!r}' for i, name in names)}" if names
                 else f"its {src.count} band(s) have no descriptions")
        what = f"{len(found)} bands named {band!r}" if found else f"no band named {band!r}"
        raise RasterError(f"{path}: {what} ({known}); give the band's number") from None
    if not 1 <= index <= src.count:
        raise RasterError(f"{path}: has {src.count} band(s), band {index} requested")
    dtype = src.dtypes[index - 1]
    if np.dtype(dtype).kind == "c":  # read as float, GDAL and numpy keep the real part alone
        raise RasterError(f"{path}: band {index} is complex ({dtype}: a SAR single-look complex product?); "
                          "co-registration measures intensity: give a band of its amplitude")
    return index


@contextmanager
def open_pair(ref_path: str, tgt_path: str, band: BandSpec = 1, tgt_band: BandSpec | None = None
              ) -> Iterator[tuple[DatasetReader, DatasetReader, Bands]]:
    """Both rasters and the band of each: ``band`` in REF, ``tgt_band`` (default ``band``) in TGT."""
    with open_raster(ref_path) as ref, open_raster(tgt_path) as tgt:
        for path, src in ((ref_path, ref), (tgt_path, tgt)):
            if src.crs is None or src.transform.is_identity:  # open_raster lets ground control points pass
                raise RasterError(f"{path}: georeferenced by ground control points only, not on a map grid; "
                                  f"warp it first (gdalwarp {path} warped.tif)")
        bands = Bands(band_index(ref, ref_path, band), band_index(tgt, tgt_path, band if tgt_band is None else tgt_band))
        yield ref, tgt, bands


def read_pair(ref_path: str, tgt_path: str, band: BandSpec = 1, tgt_band: BandSpec | None = None) -> RasterPair:
    """REF's pixels over the overlap, and TGT's resampled onto exactly that grid (for estimation only)."""
    with open_pair(ref_path, tgt_path, band, tgt_band) as (ref, tgt, bands):
        return _read(ref, tgt, bands, _overlap(ref, tgt, ref_path, tgt_path))


def read_measured_pair(ref_path: str, tgt_path: str, band: BandSpec = 1, tgt_band: BandSpec | None = None
                       ) -> tuple[RasterPair, Swapped | None]:
    """The two files' pixels over the overlap on the lattice they are measured on: REF's (``read_pair``), or a
    coarser TGT's with the roles swapped (TGT first, REF averaged onto it; ``geo.align.lattice``), and then
    how to report what is measured there on REF's grid."""
    with open_pair(ref_path, tgt_path, band, tgt_band) as (ref, tgt, bands):
        ratio = coarser_target(ref, tgt)
        if ratio is None:
            return _read(ref, tgt, bands, _overlap(ref, tgt, ref_path, tgt_path)), None
        pair = _read(tgt, ref, Bands(bands.tgt, bands.ref), _overlap(tgt, ref, tgt_path, ref_path))
        return pair, Swapped(pair.grid, _overlap_grid(ref, tgt), ratio)


def _overlap_grid(ref: DatasetReader, tgt: DatasetReader) -> Grid:
    """REF's lattice over the overlap."""
    overlap = _overlap(ref, tgt, ref.name, tgt.name)
    return Grid(ref.crs, ref.window_transform(overlap), (int(overlap.height), int(overlap.width)))


@dataclass(frozen=True)
class FileShift:
    """The global shift measured from files, the overlap grid it refers to, and what reading cost."""

    shift: Shift
    grid: Grid  # REF's lattice over the overlap
    read: ReadCost | None = None  # None when the whole overlap was read

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = dict(self.shift.to_dict(self.grid))
        if self.read is not None:
            out.update(self.read.to_dict())
        return out


def estimate_shift_from_files(
    ref_path: str, tgt_path: str, band: BandSpec = 1, window: int = 128, n_windows: int = 9, factor: int = 8,
    min_quality: float = MIN_QUALITY, read_budget: int = READ_BUDGET, tgt_band: BandSpec | None = None,
) -> FileShift:
    """The global shift between two raster files, reading windows, not files (see ``estimate_shift_from_datasets``);
    a TGT of coarser pixels is measured on its own lattice (``geo.align.lattice``)."""
    with open_pair(ref_path, tgt_path, band, tgt_band) as (ref, tgt, bands):
        ratio = coarser_target(ref, tgt)
        if ratio is not None:
            measured = estimate_shift_from_datasets(tgt, ref, bands.tgt, window, n_windows, factor, min_quality,
                                                    read_budget, bands.ref)
            swapped = Swapped(measured.grid, _overlap_grid(ref, tgt), ratio)
            return FileShift(swapped.shift(measured.shift), swapped.grid, measured.read)
        return estimate_shift_from_datasets(ref, tgt, bands.ref, window, n_windows, factor, min_quality, read_budget,
                                            bands.tgt)


def estimate_shift_from_datasets(
    ref: DatasetReader, tgt: DatasetReader, band: int = 1, window: int = 128, n_windows: int = 9,
    factor: int = 8, min_quality: float = MIN_QUALITY, read_budget: int = READ_BUDGET, tgt_band: int | None = None,
) -> FileShift:
    """The global shift reading windows: an overview (1/``factor``, cheap from COG or JPEG2000 overviews)
    scores the overlap for clear, textured windows where both dates agree; up to ``n_windows`` of them
    are chosen so that the blocks they touch in both files stay within ``read_budget`` decoded pixels
    (``geo.align.blocks``), and only those are read at full resolution and measured. ``tgt_band``: TGT's band
    when it is not ``band``."""
    bands = Bands(band, band if tgt_band is None else tgt_band)
    overlap = _overlap(ref, tgt, ref.name, tgt.name)
    grid = _overlap_grid(ref, tgt)
    margin = 2 * CONTEXT + lk.MARGIN + 16  # room for the integer shift and the preparation
    # small (a few windows across, or no more pixels than the windows would read and measure one by one,
    # an overview besides): the whole overlap is read and measured at once, which costs less
    if min(grid.shape) < 4 * window or grid.shape[0] * grid.shape[1] <= n_windows * (window + 2 * margin) ** 2:
        return FileShift(_whole_overlap_shift(ref, tgt, bands, overlap, window, n_windows, min_quality), grid)
    from geo.align.blocks import layout, plan_windows

    coarse = _read(ref, tgt, bands, overlap, factor)
    ref_ok, tgt_ok = clean_masks(coarse.ref, coarse.tgt, coarse.ref_valid, coarse.tgt_valid,
                                 pixel_size_m(coarse.grid))
    block = max(1, BLOCK // factor)
    size_blocks = window // (block * factor)
    sums = window_sums(texture_map(coarse.ref, ref_ok & tgt_ok, block), size_blocks)
    agreement = window_agreement(coarse.ref, coarse.tgt, ref_ok & tgt_ok, block, size_blocks)
    if agreement is not None:  # texture where both dates agree
        sums = sums * np.clip(agreement, 0, 1) ** 2
    layouts = [layout(ref, grid), layout(tgt, grid)]
    plan = plan_windows(sums, block * factor, window, margin, layouts, read_budget, n_windows)
    regions = [Window(overlap.col_off + c - margin, overlap.row_off + r - margin,
                      window + 2 * margin, window + 2 * margin) for r, c in plan.origins]
    shifts = []
    for (r, c), pair in zip(plan.origins, _read_many(ref, tgt, bands, regions)):
        try:
            shifts.append(estimate_shift(pair.ref, pair.tgt, pair.ref_valid, pair.tgt_valid, min_quality,
                                         window, 1, pixel_size_m(pair.grid)))
        except CoregError as exc:
            log.info("window at row %d, col %d skipped: %s", r, c, exc)
    log.info("%d windows read, %d blocks (%d pixels) decoded", len(regions), plan.cost.blocks, plan.cost.pixels)
    if not shifts:  # nothing clear enough in the overview's picks: fall back to the whole overlap
        return FileShift(_whole_overlap_shift(ref, tgt, bands, overlap, window, n_windows, min_quality), grid)
    return FileShift(combine_shifts(shifts), grid, plan.cost)


def _whole_overlap_shift(ref: DatasetReader, tgt: DatasetReader, bands: Bands, overlap: Window, window: int,
                         n_windows: int, min_quality: float) -> Shift:
    pair = _read(ref, tgt, bands, overlap)
    return pair_shift(pair, min_quality, window, n_windows)


def pair_shift(pair: RasterPair, min_quality: float = MIN_QUALITY, window: int = 128, n_windows: int = 9) -> Shift:
    """``estimate_shift`` on a pair read onto one grid (the cloud mask sized by its pixels)."""
    return estimate_shift(pair.ref, pair.tgt, pair.ref_valid, pair.tgt_valid, min_quality, window, n_windows,
                          pixel_size_m(pair.grid))


def window_agreement(
    ref: np.ndarray, tgt: np.ndarray, valid: np.ndarray, block: int, size_blocks: int
) -> np.ndarray | None:
    """Correlation of the band-passed images over every window of ``size_blocks`` x ``block`` px, laid
    out as ``window_sums``: where the two dates look alike (haze, thin cloud and change pull it down,
    which texture alone does not see). None when either image has no texture."""
    a, b = prepare(ref, valid), prepare(tgt, valid)
    if a is None or b is None:
        return None
    rows, cols = ref.shape[0] // block, ref.shape[1] // block
    shape = (rows, block, cols, block)
    v = valid[: rows * block, : cols * block]
    a, b = (np.where(v, x[: rows * block, : cols * block], 0.0) for x in (a, b))
    per_block = [x.reshape(shape).sum(axis=(1, 3)) for x in (v.astype(np.float32), a, b, a * a, b * b, a * b)]
    n, sa, sb, saa, sbb, sab = (window_sums(x, size_blocks, covered=0.0) for x in per_block)
    with np.errstate(all="ignore"):
        n = np.maximum(n, 1)
        cov = sab - sa * sb / n
        ncc = cov / np.sqrt((saa - sa * sa / n) * (sbb - sb * sb / n))
    scores: np.ndarray = np.nan_to_num(ncc, nan=0.0)
    return scores
