"""Global statistics of an image from a bounded, fixed random sample of its pixels.

A robust scale (median, MAD) or a percentile pinned by a million pixels is as good as one over a whole
Sentinel-2 tile (the standard error of a median from n values is ~1.25 σ/√n: 0.1 % of the scale), and
costs a bounded time and memory instead of a full ``partition`` per statistic. At most ``SAMPLE_MAX``
values the sample is all of them, so small jobs get the exact statistic.
"""

from __future__ import annotations

import numpy as np

SAMPLE_MAX = 1_000_000
SEED = 0


def sample_index(n: int, size: int = SAMPLE_MAX, seed: int = SEED) -> np.ndarray | None:
    """Indices of a fixed random sample (with replacement) of ``size`` out of ``n``; None when ``n <= size``
    (use them all)."""
    if n <= size:
        return None
    return np.random.default_rng(seed).integers(0, n, size)


def distinct_sample(n: int, size: int = SAMPLE_MAX, seed: int = SEED) -> np.ndarray | None:
    """The distinct indices of ``sample_index``'s sample, in increasing order (``np.unique``'s result, by a sort:
    numpy's hash-based ``unique`` takes ~30 times as long on a million of them); None when ``n <= size``."""
    pick = sample_index(n, size, seed)
    if pick is None:
        return None
    pick.sort()
    return pick[np.concatenate(([True], pick[1:] != pick[:-1]))]


def sampled(values: np.ndarray, size: int = SAMPLE_MAX, seed: int = SEED) -> np.ndarray:
    """``values`` (1-D), or a fixed random sample of ``size`` of them."""
    pick = sample_index(values.shape[-1], size, seed)
    return values if pick is None else values[..., pick]


def sampled_median(values: np.ndarray, size: int = SAMPLE_MAX, seed: int = SEED) -> float:
    """The median of ``values`` (1-D), exact up to ``size`` values, else that of a fixed random sample."""
    return float(np.median(sampled(values, size, seed)))
