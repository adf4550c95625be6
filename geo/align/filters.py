"""The few image filters (and the region labelling) the shift estimator and its cloud mask need, in numpy
alone, bit for bit those of ``scipy.ndimage``.

Why not scipy itself: ``geo coreg`` on a small pair spent more time importing ``scipy.ndimage`` (~0.2 s of
CPU, through ``scipy.special`` and numpy's lazily-loaded submodules) than measuring the shift. The filters
here follow ndimage's own arithmetic (lines in float64, the same order of sums, a float32 result after each
axis), so a shift and everything computed from it are unchanged (``tests/align/test_filters.py`` compares
them with scipy's, element for element). Images of a million pixels or more (a job's whole grid) go to
scipy's compiled filters after all: same results, faster, and a line buffer of memory where these hold a
block of lines in float64; there the import is a small part of the work.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import ModuleType
from typing import Literal

import numpy as np

PadMode = Literal["symmetric", "edge"]  # numpy's names for ndimage's "reflect" and "nearest"
CUBIC_POLE = -0.267949192431122706472553658494127633  # sqrt(3) - 2: the cubic B-spline's one pole
IMAGE_AXES = (-2, -1)  # rows, then columns (as ndimage runs a 2-D image's axes); a stack's first axis is its images


LINE_BLOCK_VALUES = 1 << 22  # float64 values of the lines filtered at once (32 MiB): numpy's vector speed,
# and memory that does not grow with the image (ndimage itself works a line at a time)
Kernel = Callable[[np.ndarray], np.ndarray]
SCIPY_FROM_PIXELS = 1_000_000  # from this size scipy's compiled filters (same results, a line buffer of
# memory, several times faster) repay their import (~0.2 s): whole grids in a job; a small pair stays in numpy


def _ndimage(image: np.ndarray) -> ModuleType | None:
    """scipy.ndimage for a large 2-D ``image``, None for a small one or a stack (windows, each small)."""
    if image.size < SCIPY_FROM_PIXELS or image.ndim != 2:
        return None
    from scipy import ndimage

    return ndimage


def _along(image: np.ndarray, axis: int, before: int, after: int, mode: PadMode, kernel: Kernel) -> np.ndarray:
    """``kernel`` run on every line of a 2-D ``image`` (or a stack of them) along ``axis``, a block of lines
    at a time: it gets them as float64 (line length + ``before`` + ``after``, lines...) padded as ``np.pad``
    would, and returns (line length, lines...); float32 out, as ndimage writes each axis's result."""
    n = image.shape[axis]
    filled, sources = _padding(n, before, after, mode)
    lines = np.moveaxis(image, axis, 0)
    out = np.empty(image.shape, np.float32)
    out_lines = np.moveaxis(out, axis, 0)
    step = max(1, LINE_BLOCK_VALUES // (n + before + after))
    for first in range(0, lines.shape[1], step):
        part = lines[:, first:first + step]
        # one float64 copy, contiguous: the line in the middle, the few padding rows gathered from it
        padded = np.empty((n + before + after,) + part.shape[1:])
        padded[before:before + n] = part
        if len(filled):
            padded[filled] = padded[sources]
        out_lines[:, first:first + step] = kernel(padded)
    return out


@functools.lru_cache(maxsize=64)
def _padding(n: int, before: int, after: int, mode: PadMode) -> tuple[np.ndarray, np.ndarray]:
    """(positions of the padding in a padded line, the positions in it they copy): ``np.pad``'s "edge" or
    "symmetric" (the line mirrored at both ends, as often as needed). The same few shapes recur: kept."""
    at = np.arange(-before, n + after)
    if mode == "edge":
        at = np.clip(at, 0, n - 1)
    else:
        at = at % (2 * n)
        at = np.where(at >= n, 2 * n - 1 - at, at)
    filled = np.concatenate([np.arange(before), np.arange(before + n, n + before + after)])
    return filled, at[filled] + before


def correlate1d(image: np.ndarray, weights: np.ndarray, axis: int, mode: PadMode) -> np.ndarray:
    """``ndimage.correlate1d`` for an odd, symmetric or antisymmetric kernel, float32 out."""
    w = np.asarray(weights, np.float64)
    half = len(w) // 2
    if len(w) % 2 == 0 or not (np.array_equal(w, w[::-1]) or np.array_equal(w, -w[::-1])):
        raise ValueError("only odd symmetric or antisymmetric kernels are supported")
    sign = 1.0 if np.array_equal(w, w[::-1]) else -1.0
    n = image.shape[axis]
    ndi = _ndimage(image)
    if ndi is not None:
        filtered: np.ndarray = ndi.correlate1d(image, w, axis=axis, output=np.float32,
                                               mode="nearest" if mode == "edge" else "reflect")
        return filtered

    def correlate(padded: np.ndarray) -> np.ndarray:
        out: np.ndarray = padded[half:half + n] * w[half]
        for k in range(half, 0, -1):  # farthest taps first, as ndimage sums them
            out += (padded[half - k:half - k + n] + sign * padded[half + k:half + k + n]) * w[half - k]
        return out

    return _along(image, axis, half, half, mode, correlate)


def gaussian_filter(image: np.ndarray, sigma: float, truncate: float = 4.0) -> np.ndarray:
    """``ndimage.gaussian_filter`` (mode "reflect") of a 2-D image, float32 out; of a stack (windows,
    image first), each image's. Sigma 0 smooths nothing, as ndimage (benchmarks/coreg_residual.py's unsmoothed
    variant): the kernel would divide by zero."""
    if sigma <= 0:
        return np.array(image, dtype=np.float32)
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 / (sigma * sigma) * x**2)
    kernel = kernel / kernel.sum()
    out = image
    for axis in IMAGE_AXES:
        out = correlate1d(out, kernel, axis, "symmetric")
    return out


def uniform_filter(image: np.ndarray, size: int) -> np.ndarray:
    """``ndimage.uniform_filter`` (mode "reflect") of a 2-D image (or each of a stack): the mean over a
    ``size`` box, kept as ndimage keeps it (a running sum, updated by the entering and leaving values,
    divided by ``size``), float32 out."""

    def running_mean(padded: np.ndarray) -> np.ndarray:
        n = padded.shape[0] - size + 1
        steps = np.empty((n,) + padded.shape[1:])
        steps[0] = padded[0]
        for k in range(1, size):
            steps[0] += padded[k]
        np.subtract(padded[size:size + n - 1], padded[:n - 1], out=steps[1:])
        means: np.ndarray = np.cumsum(steps, axis=0, out=steps)  # a cumulative sum adds in order, as the loop does
        means /= size
        return means

    ndi = _ndimage(image)
    if ndi is not None:
        filtered: np.ndarray = ndi.uniform_filter(image, size, output=np.float32)
        return filtered
    out = image
    for axis in IMAGE_AXES:
        out = _along(out, axis, size // 2, size - size // 2 - 1, "symmetric", running_mean)
    return out


def spline_filter(image: np.ndarray) -> np.ndarray:
    """``ndimage.spline_filter(image, order=3, output=np.float32)`` (mode "mirror") of a 2-D image (or each
    of a stack): cubic B-spline coefficients, the recursive filter run along each axis over a block of lines
    at once."""
    z = CUBIC_POLE

    def recursive(c: np.ndarray) -> np.ndarray:
        n = c.shape[0]
        if n < 2:
            return c
        c *= (1.0 - z) * (1.0 - 1.0 / z)
        z_n_1 = z ** (n - 1)
        # the causal start: c0 + z^(n-1) c[n-1] + sum over i of z^i (c[i] + z^(n-1) c[n-1-i]), the powers
        # multiplied up and the terms added in order, as ndimage's loop does
        terms = np.empty_like(c[:n - 1])
        terms[0] = c[0] + z_n_1 * c[n - 1]
        powers = np.cumprod(np.full(n - 2, z)).reshape((n - 2,) + (1,) * (c.ndim - 1))
        terms[1:] = powers * (c[1:n - 1] + z_n_1 * c[n - 2:0:-1])
        c[0] = np.cumsum(terms, axis=0)[-1] / (1 - z_n_1 * z_n_1)
        # the two recursions a line position at a time (each step needs the last): the same operations, into
        # views made once and one scratch line (a step costs its call, not its few hundred values)
        row, step = list(c), np.empty_like(c[0])
        for i in range(1, n):
            np.multiply(row[i - 1], z, out=step)
            row[i] += step
        c[n - 1] = (z * c[n - 2] + c[n - 1]) * z / (z * z - 1)
        for i in range(n - 2, -1, -1):
            np.subtract(row[i + 1], row[i], out=step)
            np.multiply(step, z, out=row[i])
        return c

    ndi = _ndimage(image)
    if ndi is not None:
        filtered: np.ndarray = ndi.spline_filter(image, order=3, output=np.float32)
        return filtered
    out = image
    for axis in IMAGE_AXES:
        out = _along(out, axis, 0, 0, "edge", recursive)
    return out


def all_within(mask: np.ndarray, pixels: int) -> np.ndarray:
    """True where every pixel within ``pixels`` (a square) of a 2-D ``mask`` (or each of a stack) is True,
    the outside counted False: a binary erosion, along one axis then the other (exact, and a byte a pixel
    of memory)."""
    ndi = _ndimage(mask)
    if ndi is not None:
        eroded: np.ndarray = ndi.minimum_filter(mask.astype(np.uint8), size=2 * pixels + 1, mode="constant", cval=0) > 0
        return eroded
    out = mask.astype(bool)
    for axis in IMAGE_AXES:
        n = out.shape[axis]
        shape = list(out.shape)
        shape[axis] = n + 2 * pixels
        padded = np.zeros(shape, bool)  # the outside: False
        lines, eroded = np.moveaxis(padded, axis, 0), np.moveaxis(out, axis, 0)
        lines[pixels:pixels + n] = eroded
        out = np.ascontiguousarray(np.moveaxis(_all_of_runs(lines, 2 * pixels + 1), 0, axis))
    return out


def _all_of_runs(lines: np.ndarray, width: int) -> np.ndarray:
    """Element k: every one of ``lines[k:k + width]`` True (first axis). Runs of 2, 4, 8 ... built by halves,
    then two overlapping runs of the largest power of two cover ``width``: ~log2(width) passes, not width."""
    run, covered = lines, 1
    while 2 * covered <= width:
        run = run[:-covered] & run[covered:]
        covered *= 2
    count = len(lines) - width + 1
    all_true: np.ndarray = run[:count] & run[width - covered:width - covered + count]
    return all_true


def maximum_filter(image: np.ndarray, size: int) -> np.ndarray:
    """``ndimage.maximum_filter(image, size)`` (a square, mode "reflect"): the maximum along each axis in
    turn (exact: no arithmetic)."""
    ndi = _ndimage(image)
    if ndi is not None:
        peaks: np.ndarray = ndi.maximum_filter(image, size=size)
        return peaks
    before = size // 2
    out = image
    for axis in range(image.ndim):
        n = out.shape[axis]
        at = np.arange(-before, n + size - before - 1) % (2 * n)
        padded = np.moveaxis(out, axis, 0)[np.where(at >= n, 2 * n - 1 - at, at)]
        peak = padded[:n].copy()
        for k in range(1, size):
            np.maximum(peak, padded[k:k + n], out=peak)
        out = np.moveaxis(peak, 0, axis)
    return np.ascontiguousarray(out)


def label(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """``ndimage.label(mask, structure=np.ones((3, 3)))`` of a 2-D mask: 8-connected regions numbered
    1..n in the order their first pixel comes in a raster scan, 0 outside; and n.

    Works on runs (a row's consecutive pixels), linked to the runs of the next row they touch, corners
    included. The runs are a forest, each pointing to a smaller run of its region; rounds of "hook every
    linked pair of roots, the larger under the smaller, then follow parents to the roots"
    (Shiloach-Vishkin) end when no link joins two roots. A run's root is then its region's first run."""
    ndi = _ndimage(mask)
    if ndi is not None:
        labelled, count = ndi.label(mask, structure=np.ones((3, 3), bool))
        return labelled, int(count)
    height, width = mask.shape
    labels = np.zeros(mask.shape, np.int32)
    at = np.flatnonzero(mask)  # the mask's pixels in raster order: a pass over the image, then only them
    if len(at) == 0:
        return labels, 0
    row, col = np.divmod(at, width)
    # a run starts where the previous pixel is not its left neighbour on the same row, and ends before
    # the next start; runs come in raster order, starts and ends alike
    starts = np.flatnonzero(np.concatenate(([True], (np.diff(at) != 1) | (np.diff(row) != 0))))
    start_row, start_col = row[starts], col[starts]
    end_col = col[np.append(starts[1:], len(at)) - 1]  # inclusive
    stride = width + 3  # keys of (row, col) in one sorted line, col from -1 to width + 1
    start_key, end_key = start_row * stride + start_col + 1, start_row * stride + end_col + 1
    # the runs of the row above that touch each run: end >= start - 1 and start <= end + 1
    above = (start_row - 1) * stride + 1
    first = np.searchsorted(end_key, above + start_col - 1, "left")
    last = np.searchsorted(start_key, above + end_col + 1, "right")
    touching = np.maximum(last - first, 0)
    b = np.repeat(np.arange(len(start_row)), touching)
    a = np.repeat(first, touching) + (np.arange(touching.sum()) - np.repeat(np.cumsum(touching) - touching, touching))
    parent = np.arange(len(start_row))
    while True:
        ra, rb = parent[a], parent[b]
        apart = ra != rb
        if not apart.any():
            break
        a, b, ra, rb = a[apart], b[apart], ra[apart], rb[apart]
        np.minimum.at(parent, np.maximum(ra, rb), np.minimum(ra, rb))
        while True:  # every run straight to its root
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped
    firsts, numbered = np.unique(parent, return_inverse=True)
    labels.flat[at] = np.repeat(numbered + 1, end_col - start_col + 1)
    return labels, len(firsts)
