"""Change statistics.

``mahalanobis_change``: the band-difference vector d of each pixel, whitened by a robust estimate of its
no-change covariance, gives D² = dᵀ Σ⁻¹ d, which is chi-square with k degrees of freedom where nothing
changed (Gaussian noise) — so a threshold is a significance level, not a magic number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class ChangeStatistic:
    values: np.ndarray  # D² per pixel, NaN where invalid
    dof: int
    covariance: np.ndarray
    name: str = "mahalanobis-chi2"


def _trimmed_covariance(d: np.ndarray, start: np.ndarray, keep: float = 0.9, iterations: int = 5) -> np.ndarray:
    """Covariance of the core of the no-change cloud (d is k × N), consistency-corrected for trimming."""
    k = d.shape[0]
    subset = start
    cutoff = stats.chi2.ppf(keep, k)
    cov = np.cov(d[:, subset])
    for _ in range(iterations):
        inv = np.linalg.pinv(cov)
        dist = np.einsum("in,ij,jn->n", d, inv, d)
        subset = dist < cutoff
        if subset.sum() <= k * 10:
            break
        # Trimming a Gaussian at the chi2_k `keep` quantile shrinks its covariance by this factor.
        shrink = stats.chi2.cdf(cutoff, k + 2) / keep
        cov = np.cov(d[:, subset]) / shrink
    return np.atleast_2d(cov)


def mahalanobis_change(before: np.ndarray, after: np.ndarray, valid: np.ndarray, invariant: np.ndarray) -> ChangeStatistic:
    """D² of (after − before) per pixel; ``invariant`` seeds the robust covariance."""
    k = before.shape[0]
    d = (after - before)[:, valid]
    seed = invariant[valid]
    cov = _trimmed_covariance(d, seed if seed.sum() > 10 * k else np.ones(d.shape[1], bool))
    inv = np.linalg.pinv(cov)
    values = np.full(valid.shape, np.nan, dtype=np.float32)
    values[valid] = np.einsum("in,ij,jn->n", d, inv, d)
    return ChangeStatistic(values, k, cov)
