"""Global statistics of an image from a bounded, fixed random sample of its pixels.

A robust scale (median, MAD) or a percentile pinned by a million pixels is as good as one over a whole
Sentinel-2 tile (the standard error of a median from n values is ~1.25 σ/√n: 0.1 % of the scale), and
costs a bounded time and memory instead of a full ``partition`` per statistic. At most ``SAMPLE_MAX``
values the sample is all of them, so small jobs get the exact statistic.
"""

from __future__ import annotations

import functools

import numpy as np

SAMPLE_MAX = 1_000_000
SEED = 0


def sample_index(n: int, size: int = SAMPLE_MAX, seed: int = SEED) -> np.ndarray | None:
    """Indices of a fixed random sample (with replacement) of ``size`` out of ``n``; None when ``n <= size``
    (use them all)."""
    return None if n <= size else _drawn(n, size, seed)


def _drawn(n: int, size: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size)


@functools.lru_cache(maxsize=4)  # ≤ 32 MB; a 100 km² job asks for the same 3 samples 19 times
def _in_order(n: int, size: int, seed: int) -> np.ndarray:
    pick = _drawn(n, size, seed)
    pick.sort()
    pick.flags.writeable = False
    return pick


def sample_in_order(n: int, size: int = SAMPLE_MAX, seed: int = SEED) -> np.ndarray | None:
    """``sample_index``'s sample in increasing order, drawn once per (n, size, seed) and read-only: the same
    multiset of indices, for what depends only on it (order statistics of the values there); a gather at
    indices in order is far cheaper."""
    return None if n <= size else _in_order(n, size, seed)


def distinct_sample(n: int, size: int = SAMPLE_MAX, seed: int = SEED) -> np.ndarray | None:
    """The distinct indices of ``sample_index``'s sample, in increasing order (``np.unique``'s result, by a sort:
    numpy's hash-based ``unique`` takes ~30 times as long on a million of them); None when ``n <= size``."""
    pick = sample_in_order(n, size, seed)
    if pick is None:
        return None
    return pick[np.concatenate(([True], pick[1:] != pick[:-1]))]


def sampled(values: np.ndarray, size: int = SAMPLE_MAX, seed: int = SEED) -> np.ndarray:
    """``values`` (1-D), or a fixed random sample of ``size`` of them."""
    pick = sample_index(values.shape[-1], size, seed)
    return values if pick is None else values[..., pick]


def sampled_in_order(values: np.ndarray, size: int = SAMPLE_MAX, seed: int = SEED) -> np.ndarray:
    """The values ``sampled`` gives (the same multiset), in the array's order: for order statistics, which do
    not depend on it. Gathered in increasing index order, a million of them take ~1/10 of the time they take at
    the sample's random positions (cache misses)."""
    pick = sample_in_order(values.shape[-1], size, seed)
    return values if pick is None else values[..., pick]


def sampled_median(values: np.ndarray, size: int = SAMPLE_MAX, seed: int = SEED) -> float:
    """The median of ``values`` (1-D), exact up to ``size`` values, else that of a fixed random sample."""
    return float(median(sampled(values, size, seed)))


def median(values: np.ndarray, keepdims: bool = False) -> np.ndarray:
    """``np.median(values, axis=-1, keepdims=keepdims)``, the same values and dtype, in a quarter of its time
    on a million: numpy 2 partitions at three places (both middles and the last, for NaN) by a slow
    introselect, where one place takes its vectorised partition; the lower middle is then the largest of
    the half below the upper one. Values with NaN, none at all or not float32/64 are left to numpy."""
    values = np.asarray(values)
    n = values.shape[-1] if values.ndim else 0
    # (numpy averages float16 middles in float32: those too are left to it)
    if n == 0 or values.dtype not in (np.float32, np.float64) or np.isnan(values).any():
        exact: np.ndarray = np.median(values, axis=-1, keepdims=keepdims)
        return exact
    half = n // 2
    rows = values.reshape(-1, n)
    middle = np.empty(rows.shape[0], values.dtype)
    for row, line in enumerate(rows):  # row by row: numpy partitions a 2-D array along its last axis slowly
        part = np.partition(line, half)
        upper = part[half]
        # numpy's mean of the two middles (or of the one): their sum, divided by their count
        middle[row] = upper / 1 if n % 2 else (part[:half].max() + upper) / 2
    shaped = middle.reshape(values.shape[:-1] + ((1,) if keepdims else ()))
    return shaped if shaped.ndim else shaped[()]


def percentiles(values: np.ndarray, q: tuple[float, ...]) -> np.ndarray:
    """``np.percentile(values, q)`` of 1-D values, the same float64 numbers, by one single-place partition per
    percentile (numpy 2 partitions at all four neighbours at once by its slow introselect: ~15× the time on a
    million float32). Its linear method: the neighbours below and above each virtual index (n - 1)·q/100,
    the upper one the least value past the lower, interpolated as numpy's ``_lerp`` does. NaN, no values,
    other dtypes or a percentile at either end are left to numpy."""
    values = np.asarray(values)
    n = values.shape[0] if values.ndim == 1 else 0
    fraction = np.true_divide(np.asarray(q, np.float64), 100)
    virtual = (n - 1) * fraction
    if (n < 2 or values.dtype not in (np.float32, np.float64) or not (virtual >= 0).all()
            or not (virtual < n - 1).all() or np.isnan(values).any()):
        exact: np.ndarray = np.percentile(values, q)
        return exact
    below = np.floor(virtual).astype(np.intp)
    lower, upper = np.empty(below.size, values.dtype), np.empty(below.size, values.dtype)
    for j, place in enumerate(below.tolist()):
        part = np.partition(values, place)
        lower[j], upper[j] = part[place], part[place + 1:].min()
    gamma = virtual - below
    step = upper - lower
    result: np.ndarray = np.add(lower, step * gamma)
    np.subtract(upper, step * (1 - gamma), out=result, where=gamma >= 0.5, casting="unsafe", dtype=result.dtype)
    return result
