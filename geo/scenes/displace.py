"""One raster onto one grid through a displacement model (a co-registration, ``geo.align``): one resampling
of the source's own pixels.

The model says where each grid pixel's content lies in the source (grid pixel coordinates). Those positions
are taken to the source's CRS and pixel space (exactly on a coarse lattice, bilinear in between: the CRS
mapping is smooth over 16 px, as in GDAL's approximate transformer) and the source pixels are sampled there
once with a cubic B-spline (scipy ``map_coordinates``), in row blocks so memory stays bounded. Reading
through a GDAL ``WarpedVRT`` cannot take a displacement field, and resampling an already resampled image
would blur it twice: this keeps it to one interpolation from the source.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, Literal

import numpy as np
from rasterio.enums import Resampling
from rasterio.io import DatasetReader
from rasterio.warp import transform as transform_points
from rasterio.windows import Window
from scipy import ndimage as ndi

from geo.grid import Grid, bilinear
from geo.scenes.warp import opened_source, read_filled

SplineOrder = Literal[0, 1, 2, 3, 4, 5]  # the orders scipy's map_coordinates takes

# (rows, cols) of a grid -> (dx, dy) px: where each pixel's content lies in the source
Displacement = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

LATTICE = 16
BLOCK_ROWS = 512


class SharedDisplacement:
    """A displacement model that answers a repeated query from memory: every band of a scene read through
    one model asks it for the same lattice of each block of rows, and a smooth model (thin-plate spline)
    costs about a second per band on a 700 km² grid. Safe to share between the threads reading the bands;
    it holds the lattices only (1/256 of the pixels). The source positions of a block of rows are shared
    too, while a band being read holds them (``positions``)."""

    def __init__(self, displacement: Displacement) -> None:
        self._displacement = displacement
        self._answers: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        self._lock = threading.Lock()
        self._positions: dict[Hashable, _Positions] = {}

    def __call__(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows, cols = np.asarray(rows, float), np.asarray(cols, float)
        key = hashlib.sha1(repr(rows.shape).encode() + rows.tobytes() + cols.tobytes()).digest()
        with self._lock:
            known = self._answers.get(key)
        if known is None:
            known = self._displacement(rows, cols)
            with self._lock:
                self._answers[key] = known
        return known

    def positions(self, key: Hashable, compute: Callable[[], tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
        """``compute()``'s source positions (arrays), shared by the bands asking with ``key`` (the bands of one
        pixel grid: a scene's four 10 m bands, its 20 m ones) while one of them holds them: the threads that
        ask while they are worked out wait for them. Only weak references are kept, so memory is what the
        reading threads hold, as without sharing; positions let go of, or whose computation failed, are
        computed again."""
        with self._lock:
            known = self._positions.get(key)
            mine = known is None or known.released()
            if known is None or mine:
                for gone in [k for k, e in self._positions.items() if e.released()]:
                    del self._positions[gone]
                known = self._positions[key] = _Positions()
            entry = known
        if mine:
            try:
                value = compute()
                for array in value:
                    array.flags.writeable = False  # handed to several threads
                entry.refs = tuple(weakref.ref(array) for array in value)
                return value
            finally:
                entry.done.set()
        entry.done.wait()
        held = entry.value()
        return held if held is not None else compute()


class _Positions:
    """Source positions being worked out by one thread, or worked out (weakly referenced)."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.refs: tuple[weakref.ref[np.ndarray], ...] = ()

    def value(self) -> tuple[np.ndarray, ...] | None:
        arrays = tuple(ref() for ref in self.refs)
        if not arrays or any(array is None for array in arrays):
            return None
        return arrays  # type: ignore[return-value]  # none is None

    def released(self) -> bool:
        return self.done.is_set() and self.value() is None


def source_positions(
    src: DatasetReader, grid: Grid, displacement: Displacement, row_start: int, n_rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """Source (row, col) pixel-index positions of rows ``row_start``.. of ``grid`` after displacement."""
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
    return bilinear(lattice_r, fr, fc), bilinear(lattice_c, fr, fc)


def block_positions(src: DatasetReader, grid: Grid, displacement: Displacement, row_start: int, n_rows: int,
                    margin: int) -> tuple[np.ndarray, np.ndarray]:
    """(at, frame) of rows ``row_start``.. of ``grid``: their source positions (``source_positions``) as
    ``map_coordinates`` takes them, (2, rows, cols) float64 from the corner of the source window to read, and
    that window, ``margin`` px beyond the positions, with whether every position is finite: (r0, c0, r1, c1,
    finite). Worked out once for the bands of one pixel grid (their extremes and offsets: ~10 ms a block)."""
    pos_r, pos_c = source_positions(src, grid, displacement, row_start, n_rows)
    r0 = int(np.floor(np.nanmin(pos_r))) - margin
    c0 = int(np.floor(np.nanmin(pos_c))) - margin
    r1 = int(np.ceil(np.nanmax(pos_r))) + margin + 1
    c1 = int(np.ceil(np.nanmax(pos_c))) + margin + 1
    at = np.empty((2, *pos_r.shape))
    np.subtract(pos_r, r0, out=at[0])
    np.subtract(pos_c, c0, out=at[1])
    return at, np.array([r0, c0, r1, c1, np.isfinite(at).all()], np.int64)


def warp_band(
    src: DatasetReader,
    band: int,
    grid: Grid,
    displacement: Displacement,
    nodata: float | None,
    order: SplineOrder = 3,
) -> tuple[np.ndarray, np.ndarray]:
    """One band of ``src`` on ``grid`` through ``displacement``: (float32 values, valid)."""
    values = np.zeros(grid.shape, np.float32)
    valid = np.zeros(grid.shape, bool)
    factor = max(grid.res[0] / abs(src.transform.a), 1.0) if src.crs == grid.crs else 1.0
    margin = 4 + int(np.ceil(2 * factor))
    for start in range(0, grid.height, BLOCK_ROWS):
        n = min(BLOCK_ROWS, grid.height - start)

        def compute(start: int = start, n: int = n) -> tuple[np.ndarray, np.ndarray]:
            return block_positions(src, grid, displacement, start, n, margin)

        if isinstance(displacement, SharedDisplacement):  # the same for every band of this pixel grid
            key = (src.transform, src.crs.to_wkt(), grid, start, n)
            at, frame = displacement.positions(key, compute)
        else:
            at, frame = compute()
        r0, c0, r1, c1, finite = (int(v) for v in frame)
        window = Window(c0, r0, c1 - c0, r1 - r0)
        raw = read_filled(src, band, window, nodata if nodata is not None else 0)
        ok = source_valid(raw, nodata)
        data = np.where(ok, raw, 0).astype(np.float32)
        if factor >= 1.5 and order != 0:  # downsampling: average first (area-like), or the spline would alias;
            # a class band (nearest) keeps its classes
            data = ndi.gaussian_filter(data, 0.5 * factor)
        if order == 0:
            sampled = ndi.map_coordinates(data, at, order=0, mode="constant", cval=0.0)
        else:
            sampled = ndi.map_coordinates(data, at, order=order, mode="nearest", output=np.float32)
        if finite and ok.all():
            # every position keeps ``margin`` px from the window's edge: the whole support is valid
            values[start:start + n] = sampled
            valid[start:start + n] = True
            continue
        # valid where the whole interpolation support was valid in the source
        support = ndi.minimum_filter(ok.astype(np.uint8), size=4 if order else 1, mode="constant", cval=0)
        block_valid = ndi.map_coordinates(support, at, order=0, mode="constant", cval=0) > 0
        values[start:start + n] = np.where(block_valid, sampled, 0.0)
        valid[start:start + n] = block_valid
    return values, valid


def source_valid(raw: np.ndarray, nodata: float | None) -> np.ndarray:
    """The valid pixels of ``raw``: not the nodata value, and never NaN (``x != nan`` is always true: a NaN nodata
    would have been read as valid, and the spline spread it over the whole block)."""
    ok = np.ones(raw.shape, bool) if nodata is None or np.isnan(nodata) else raw != nodata
    if raw.dtype.kind == "f":
        ok &= ~np.isnan(raw)
    return ok


def read_displaced(href: str, grid: Grid, displacement: Displacement, resampling: Resampling,
                   nodata: float | None, env: dict[str, Any]) -> tuple[np.ma.MaskedArray, float]:
    """One file onto ``grid`` through a displacement model: one resampling of the source pixels
    (``warp_band``). Float32 values, NaN (masked) where invalid."""
    with opened_source(href, env, nodata) as (src, src_nodata):
        order: SplineOrder = 0 if resampling == Resampling.nearest else 3
        values, valid = warp_band(src, 1, grid, displacement, src_nodata, order)
    out = np.where(valid, values, np.nan).astype(np.float32)
    return np.ma.masked_invalid(out), float("nan")
