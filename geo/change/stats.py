"""Change statistics: per-pixel measures of how much two co-registered dates differ.

* ``cva_magnitude``: change-vector analysis, the length of the band-difference vector (raw units).
* ``mahalanobis_change``: the band-difference vector of *normalised* bands whitened by a robust estimate
  of its no-change covariance: D² = dᵀ Σ⁻¹ d is chi-square with k degrees of freedom where nothing
  changed (Gaussian noise), so a threshold is a significance level.
* ``irmad_change``: IR-MAD's chi-square statistic (see ``normalise``), k degrees of freedom.
* ``index_change``: differences of NDVI, NDWI and NDBI, whitened the same way (chi-square, 3 dof).
* ``local_change``: the local-regression residual of one band in both directions (see ``local``), in
  robust standard deviations, averaged over a Gaussian footprint. The detector of built-up change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from geo.change.tiling import BlockRunner, run_serial
from geo.change.local_blocks import local_statistic
from geo.change.normalise import IRMAD
from geo.change.normalised_stack import NormalisedStack
from geo.errors import ChangeError, TooFewPixelsError

# Spectral indices as normalised differences (a − b) / (a + b) of Earth Search band names.
INDICES: dict[str, tuple[str, str]] = {
    "ndvi": ("nir", "red"),  # vegetation
    "ndwi": ("green", "nir"),  # open water (McFeeters)
    "ndbi": ("swir16", "nir"),  # built-up and bare ground
}


@dataclass(frozen=True)
class ChangeStatistic:
    values: np.ndarray  # per pixel, NaN where invalid
    name: str
    dof: int | None = None  # chi-square degrees of freedom where nothing changed, when the statistic has them
    details: dict[str, object] = field(default_factory=dict)


def _band(stack: np.ndarray | NormalisedStack, bands: Sequence[str], name: str) -> np.ndarray:
    try:
        band: np.ndarray = stack[list(bands).index(name)]
        return band
    except ValueError:
        raise ChangeError(f"band {name!r} is needed but the stack has only {', '.join(bands)}") from None


def cva_magnitude(before: np.ndarray, after: np.ndarray, valid: np.ndarray) -> ChangeStatistic:
    """|after − before| over all bands, NaN where invalid."""
    values = np.sqrt(((after.astype(np.float64) - before) ** 2).sum(axis=0)).astype(np.float32)
    values[~valid] = np.nan
    return ChangeStatistic(values, "cva")


def _trimmed_covariance(d: np.ndarray, start: np.ndarray, keep: float = 0.9, iterations: int = 5) -> np.ndarray:
    """Covariance of the core of the no-change cloud (d is k × N), consistency-corrected for trimming."""
    k = d.shape[0]
    subset = start
    cutoff = 2 * special.gammaincinv(k / 2, keep)  # chi2_k's `keep` quantile (scipy.stats' own formula)
    cov = np.atleast_2d(np.cov(d[:, subset]))
    for _ in range(iterations):
        inv = np.linalg.pinv(cov)
        dist = np.einsum("in,ij,jn->n", d, inv, d)
        subset = dist < cutoff
        if subset.sum() <= k * 10:
            break
        # Trimming a Gaussian at the chi2_k `keep` quantile shrinks its covariance by this factor.
        shrink = special.chdtr(k + 2, cutoff) / keep
        cov = np.atleast_2d(np.cov(d[:, subset])) / shrink
    return cov


def whitened_chi2(differences: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """D² of (k, row, col) differences under a robust no-change covariance, and that covariance.

    The trimming starts from all pixels and works inwards: started from a hand-picked "unchanged" core it
    would begin too small and, trimming at a fixed quantile, stay too small (every pixel significant)."""
    k = differences.shape[0]
    d = differences[:, valid].astype(np.float64)
    if d.shape[1] <= 10 * k:
        raise TooFewPixelsError(f"a chi-square statistic over {k} variables needs more than {10 * k} valid pixels, "
                                f"the pair has {d.shape[1]}")
    d = d - np.median(d, axis=1, keepdims=True)
    cov = _trimmed_covariance(d, np.ones(d.shape[1], bool))
    values = np.full(valid.shape, np.nan, dtype=np.float32)
    values[valid] = np.einsum("in,ij,jn->n", d, np.linalg.pinv(cov), d)
    return values, cov


def mahalanobis_change(before: np.ndarray, after: np.ndarray, valid: np.ndarray) -> ChangeStatistic:
    """D² of (after − before) per pixel, after normalised onto before (CVA on normalised bands, whitened)."""
    values, cov = whitened_chi2(after - before, valid)
    return ChangeStatistic(values, "cva-chi2", before.shape[0], {"covariance": cov.round(8).tolist()})


def irmad_change(result: IRMAD) -> ChangeStatistic:
    return ChangeStatistic(result.chi2, "irmad-chi2", result.dof, result.to_dict())


def normalised_difference(stack: np.ndarray, bands: Sequence[str], index: str) -> np.ndarray:
    a, b = (_band(stack, bands, name).astype(np.float64) for name in INDICES[index])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(a + b != 0, (a - b) / (a + b), 0.0)


def index_differences(before: np.ndarray, after: np.ndarray, bands: Sequence[str]) -> dict[str, np.ndarray]:
    """After − before of each index in ``INDICES``: dNDVI < 0 is vegetation loss, dNDWI > 0 more water,
    dNDBI > 0 more built-up or bare ground."""
    return {name: normalised_difference(after, bands, name) - normalised_difference(before, bands, name)
            for name in INDICES}


def index_change(before: np.ndarray, after: np.ndarray, valid: np.ndarray, bands: Sequence[str]) -> ChangeStatistic:
    """Chi-square (3 dof) of the (dNDVI, dNDWI, dNDBI) vector under its robust no-change covariance."""
    diffs = index_differences(before, after, bands)
    values, cov = whitened_chi2(np.stack(list(diffs.values())), valid)
    return ChangeStatistic(values, "index-chi2", len(diffs), {"indices": list(diffs), "covariance": cov.round(8).tolist()})


def local_change(
    before: np.ndarray, after: np.ndarray | NormalisedStack, valid: np.ndarray, bands: Sequence[str], band: str,
    window_px: int, sigma_px: float, runner: BlockRunner | None = None, min_over_sigmas_px: tuple[float, ...] = (),
    min_over_windows_px: tuple[int, ...] = (),
) -> ChangeStatistic:
    """Mean absolute robust z of the local-regression residuals of ``band`` — after predicted from before
    and before from after — over a Gaussian footprint of ``sigma_px``.

    Both directions, because a change that one date's neighbourhood explains well (a bright roof among
    bright roofs) can stand out from the other's. The red band: vegetation absorbs it (chlorophyll), so
    leaf-out, harvests and season change it little, while soil, concrete, roofs and water differ strongly.
    A grid larger than one block (``geo.change.local_blocks``) is computed block by block, by ``runner``.
    ``min_over_sigmas_px``, ``min_over_windows_px``: other footprints and windows, the statistic then the
    per-pixel minimum over all of them (computed together: what they share is worked out once).
    """
    score, _ = local_statistic(_band(before, bands, band), _band(after, bands, band), valid, window_px, sigma_px,
                               runner or run_serial, min_over_sigmas_px=min_over_sigmas_px,
                               min_over_windows_px=min_over_windows_px)
    details: dict[str, object] = {"band": band, "window_px": window_px, "sigma_px": sigma_px}
    if min_over_sigmas_px:
        details["min_over_sigmas_px"] = list(min_over_sigmas_px)
    if min_over_windows_px:
        details["min_over_windows_px"] = list(min_over_windows_px)
    return ChangeStatistic(score, "local-regression", details=details)
