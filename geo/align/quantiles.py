"""``np.median`` and ``np.percentile`` (linear) of a 1-D array, the same values, without their import of
``numpy.ma``: numpy's NaN and masked-array checks import it at the first call (~0.01-0.03 s), which a short
command such as ``geo coreg`` of a small pair would pay for a few order statistics."""

from __future__ import annotations

import math

import numpy as np


def median(values: np.ndarray) -> float:
    """``np.median(values)`` (NaN when there is one, or no value)."""
    n = values.size
    if n == 0:
        return math.nan
    part = np.partition(values, [(n - 1) // 2, n // 2] if n % 2 == 0 else [n // 2])
    if np.isnan(part[-1]):  # partitioning puts NaN last
        return math.nan
    return float(part[n // 2]) if n % 2 else float((part[n // 2 - 1] + part[n // 2]) / 2.0)


def percentile(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` of float64 values without NaN, interpolated as numpy does (method
    "linear", from the nearer of the two neighbouring order statistics)."""
    n = values.size
    if n == 0:
        return math.nan
    virtual = (n - 1) * (q / 100)
    below = min(math.floor(virtual), n - 1)
    above = min(below + 1, n - 1)
    part = np.partition(values, sorted({below, above}))
    low, high = float(part[below]), float(part[above])
    gamma = virtual - below if virtual < n - 1 else 0.0
    step = high - low
    return high - step * (1 - gamma) if gamma >= 0.5 else low + step * gamma
