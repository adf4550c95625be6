"""Cubic resampling onto a grid of the source's own CRS whose pixels split the source's in 1, 2 or 4, at
any offset: a 20 m band onto a 10 m grid, a band onto a grid moved by a sub-pixel shift (the after scene of
a job). There each output column (row) lies at one of a few fractional positions of the source, so the warp
is a separable 4-tap convolution: weights of GDAL's cubic kernel (Keys, a = -0.5) in float64 along the rows,
then the columns, rounded and clamped as GDAL's warper does, a valid value equal to nodata nudged off it as
it does. The values are GDAL's ``reproject`` bit for bit (``tests/scenes/test_separable.py``) for a fraction
of its time (it works out a source position and sixteen weights per pixel). Where the kernel would reach a
nodata pixel or the edge of the array (GDAL then renormalises or falls back to bilinear) it answers None and
the caller warps with GDAL.
"""

from __future__ import annotations

import math

import numpy as np
from affine import Affine

STRIP_ROWS = 256  # output rows resampled at once: float64 temporaries stay a strip's


def _kernel(x: np.ndarray) -> np.ndarray:
    """GDAL's cubic convolution kernel (Keys, a = -0.5)."""
    x = np.abs(x)
    inner = x * x * (1.5 * x - 2.5) + 1.0
    outer = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    weights: np.ndarray = np.where(x <= 1.0, inner, np.where(x < 2.0, outer, 0.0))
    return weights


def _phases(n_out: int, start: float, factor: int) -> list[tuple[int, int, np.ndarray]]:
    """Along one axis, output pixel ``k``'s centre lies at source coordinate ``start + (k + 0.5) / factor``
    (pixel corners at whole numbers): the outputs ``p, p + factor, ...`` of each phase ``p`` share their
    weights, their first taps on consecutive source pixels. (phase, first source index of its first
    output's taps, the 4 weights) of each phase."""
    out = []
    for phase in range(min(factor, n_out)):
        position = start + (phase + 0.5) / factor - 0.5  # in pixel-centre indices, as GDAL takes it
        base = math.floor(position)
        t = position - base
        out.append((phase, base - 1, _kernel(np.array([t + 1.0, t, 1.0 - t, 2.0 - t]))))
    return out


def _along(values: np.ndarray, axis: int, phases: list[tuple[int, int, np.ndarray]], factor: int,
           n_out: int) -> np.ndarray:
    """The 4-tap sums of ``values`` along ``axis`` (float64, each tap's product added in turn, as GDAL): whole
    slices multiplied and added, a few passes over memory (scipy's ``correlate1d`` does the same sums line by
    line, at three times the time)."""
    out = np.empty((n_out, values.shape[1]) if axis == 0 else (values.shape[0], n_out), np.float64)
    product = np.empty(0)
    for phase, first, weights in phases:
        count = len(range(phase, n_out, factor))
        summed = out[_at(axis, slice(phase, n_out, factor))]  # a view: the phase's sums are made in place
        if product.shape != summed.shape:
            product = np.empty(summed.shape, np.float64)  # one buffer for the taps (no fresh pages per product)
        for tap, weight in enumerate(weights):
            np.multiply(values[_at(axis, slice(first + tap, first + tap + count))], weight,
                        out=product if tap else summed)
            if tap:
                summed += product
    return out


def _at(axis: int, part: slice) -> tuple[slice, ...]:
    """An index taking ``part`` along ``axis`` (0 or 1) of a 2-D array."""
    return (part, slice(None)) if axis == 0 else (slice(None), part)


def _reach(phases: list[tuple[int, int, np.ndarray]], factor: int, n_out: int) -> tuple[int, int]:
    """The source pixels the taps of ``n_out`` outputs along one axis span: [first, last + 1)."""
    ends = [first + len(range(phase, n_out, factor)) + 3 for phase, first, _ in phases]
    return min(first for _, first, _ in phases), max(ends)


def _factor(source: float, target: float) -> int | None:
    """The number of target pixels per source pixel when it is 1, 2 or 4, else None. (Where it is not a power
    of two the phases' positions are rounded, and at an exact tie of the kernel's sum, e.g. a position
    halfway between pixels, the rounding decides: GDAL works them out its own way.)"""
    ratio = source / target
    whole = round(ratio)
    return whole if whole in (1, 2, 4) and math.isclose(ratio, whole, rel_tol=1e-9) else None


def cubic_onto(data: np.ndarray, transform: Affine, grid_transform: Affine, shape: tuple[int, int],
               nodata: float) -> np.ndarray | None:
    """``data`` (an integer raster with ``transform``) resampled by cubic convolution onto ``shape`` pixels
    of ``grid_transform`` (the same CRS), or None where this does not apply (see the module)."""
    if not np.issubdtype(data.dtype, np.integer) or transform.b or transform.d or grid_transform.b or grid_transform.d:
        return None
    info = np.iinfo(data.dtype)
    if not (info.min <= nodata <= info.max and float(nodata).is_integer()):
        return None
    fx, fy = _factor(transform.a, grid_transform.a), _factor(transform.e, grid_transform.e)
    if fx is None or fy is None:
        return None
    col0, row0 = ~transform @ (grid_transform.c, grid_transform.f)  # the grid's corner in source pixels
    cols, rows = _phases(shape[1], col0, fx), _phases(shape[0], row0, fy)
    reach_cols, reach_rows = _reach(cols, fx, shape[1]), _reach(rows, fy, shape[0])
    if min(reach_cols[0], reach_rows[0]) < 0 or reach_cols[1] > data.shape[1] or reach_rows[1] > data.shape[0]:
        return None
    used = data[reach_rows[0]:reach_rows[1], reach_cols[0]:reach_cols[1]]
    if (used == nodata).any():
        return None
    out = np.empty(shape, data.dtype)
    strip_rows = STRIP_ROWS * fy  # whole periods of the phases, so a strip starts at phase 0
    strip_phases = [(p, b - reach_rows[0], w) for p, b, w in rows]  # from a strip's first tap row
    for top in range(0, shape[0], strip_rows):
        n = min(strip_rows, shape[0] - top)
        first = reach_rows[0] + top // fy  # the strip's first tap row
        source = data[first:first + _reach(rows, fy, n)[1] - reach_rows[0]]
        across = _along(source, 1, cols, fx, shape[1])
        down = _along(across, 0, strip_phases, fy, n)
        down += 0.5  # rounded half up, clamped (in place: the same numbers as GDAL's)
        out[top:top + n] = np.clip(np.floor(down, out=down), info.min, info.max, out=down)
    out[out == nodata] = nodata + 1 if nodata < info.max else nodata - 1  # as GDAL: a valid pixel is not nodata
    return out
