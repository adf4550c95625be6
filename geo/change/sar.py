"""SAR change: where clouds hide the ground, radar backscatter still shows new structures, metal and ships.

Two tests on calibrated *intensity* (linear power, e.g. Sentinel-1 GRD/RTC VV and VH), both with a
significance level rather than a tuned threshold:

* ``log_ratio_change`` — a pair. Speckle is multiplicative, so change is a ratio. Each date is speckle
  filtered (Lee's MMSE filter); where nothing changed the ratio of two L-look intensities follows an F
  distribution with (2L, 2L) degrees of freedom, so ln(after / before) is tested two-sided at ``alpha``.
  L is estimated from the unfiltered log-ratio — most pixels do not change, and var ln F(2L, 2L) =
  2·ψ₁(L) — so the test calibrates itself; each filtered pixel is tested with its own equivalent looks
  (Lee's weight says how much it was averaged), so textured land is not flooded with false alarms.
* ``omnibus_change`` — a time series of k dual-polarisation intensity images (Conradsen et al. 2016, the
  complex Wishart omnibus test; with intensities only, the diagonal case: each channel a gamma variable).
  Q tests "all k dates have the same backscatter"; −2ρ ln Q is chi-square with (k − 1) degrees of freedom
  per channel, with Box's ω₂ correction. The factors R_j of Q (Q = ∏ R_j) test date j against the dates
  before it, and date the first change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from scipy import optimize, special, stats

from geo.errors import ChangeError, TooFewPixelsError

MAX_LOOKS = 1e4


def _positive(values: np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim < 2:
        raise ChangeError(f"{name}: expected an image (rows, cols), got shape {values.shape}")
    return values


def lee_weight(intensity: np.ndarray, looks: float, size: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """The window mean m and Lee's weight w = var(x) / v (v the window variance, var(x) = (v − m²/L) /
    (1 + 1/L)) of every pixel: 0 on flat speckle, towards 1 on edges, texture and point targets."""
    if size < 1 or size % 2 == 0:
        raise ChangeError(f"speckle filter size must be an odd number >= 1, got {size}")
    if looks <= 0:
        raise ChangeError(f"number of looks must be positive, got {looks}")
    intensity = np.asarray(intensity, dtype=np.float64)
    if size == 1:
        return intensity.copy(), np.ones(intensity.shape)
    mean = ndi.uniform_filter(intensity, size, mode="reflect")
    variance = np.maximum(ndi.uniform_filter(intensity**2, size, mode="reflect") - mean**2, 0.0)
    cu2 = 1.0 / looks  # squared coefficient of variation of L-look speckle
    signal_var = np.maximum((variance - mean**2 * cu2) / (1.0 + cu2), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(variance > 0, signal_var / variance, 0.0)
    return mean, np.clip(weight, 0.0, 1.0)


def lee_filter(intensity: np.ndarray, looks: float, size: int = 7) -> np.ndarray:
    """Lee's minimum-mean-square-error speckle filter: x̂ = m + w (I − m) (``lee_weight``). Flat areas get
    the window mean (w → 0), edges and point targets keep their own value (w → 1)."""
    mean, weight = lee_weight(intensity, looks, size)
    filtered: np.ndarray = mean + weight * (np.asarray(intensity, dtype=np.float64) - mean)
    return filtered


def filtered_looks(looks: float, weight: np.ndarray, size: int) -> np.ndarray:
    """Equivalent looks of x̂ = (1 − w) m + w I for L-look speckle, m the mean of n = size² pixels that
    include I: var(x̂)/mean² = [w² + (1 − w²)/n] / L. Between L (w = 1) and n·L (w = 0)."""
    n = float(size * size)
    return looks / (weight**2 + (1.0 - weight**2) / n)


def looks_from_log_ratio_spread(log_ratio: np.ndarray) -> float:
    """ENL L whose ln F(2L, 2L) has the log-ratio's median absolute deviation. ln F(2L, 2L) is symmetric
    about 0, so its MAD is its upper quartile; matching quartiles (not a normal's 1.4826·MAD to the
    variance 2ψ₁(L)) keeps the heavier-than-normal tails from biasing L high, which would raise the
    false-alarm rate. Robust to a minority of changed pixels."""
    values = log_ratio[np.isfinite(log_ratio)]
    mad = float(np.median(np.abs(values - np.median(values))))

    def gap(n: float) -> float:
        return float(np.log(stats.f.ppf(0.75, 2 * n, 2 * n))) - mad

    if gap(MAX_LOOKS) >= 0:
        return MAX_LOOKS
    return float(optimize.brentq(gap, 1e-2, MAX_LOOKS))


@dataclass(frozen=True)
class PairChange:
    log_ratio: np.ndarray  # ln(after / before) of the filtered intensities; > 0 brighter
    p_value: np.ndarray  # two-sided, under "no change" (F(2L, 2L) ratio, L per pixel)
    changed: np.ndarray
    looks: float  # median equivalent number of looks of the filtered pixels
    bounds: tuple[float, float]  # log-ratio acceptance interval at ``alpha`` for the median looks
    alpha: float
    raw_looks: float = 0.0  # looks of the unfiltered intensities (given, or estimated from the raw ratio)
    looks_map: np.ndarray | None = None  # equivalent looks per pixel used by the test


def log_ratio_change(
    before: np.ndarray, after: np.ndarray, looks: float | None = None, alpha: float = 1e-3, filter_size: int = 7,
    valid: np.ndarray | None = None,
) -> PairChange:
    """Change between two co-registered intensity images at significance ``alpha``. ``looks``: the
    images' number of looks; None estimates it from the unfiltered log-ratio (stable texture cancels in a
    ratio, so what is left is speckle: var ln F(2L, 2L) = 2ψ₁(L); most pixels do not change).

    Both dates are filtered with the same Lee weights (the larger of the two), so each pixel's filtered ratio
    compares like with like, and is tested against F(2L', 2L') with L' its own equivalent looks
    (``filtered_looks``): flat areas are averaged over the window and tested tightly, textured areas
    and edges keep more speckle and are tested loosely. One global ENL would flood textured land
    with false alarms."""
    before, after = _positive(before, "before"), _positive(after, "after")
    if before.shape != after.shape:
        raise ChangeError(f"before {before.shape} and after {after.shape} intensity images differ in shape")
    if not 0 < alpha < 1:
        raise ChangeError(f"significance level must be in (0, 1), got {alpha}")
    ok = (before > 0) & (after > 0) & np.isfinite(before) & np.isfinite(after)
    if valid is not None:
        ok &= valid
    if ok.sum() < 100:
        raise TooFewPixelsError("SAR log-ratio needs at least 100 pixels with positive intensity on both dates, "
                                f"the pair has {int(ok.sum())}")
    b_in = np.where(ok, before, np.median(before[ok]))
    a_in = np.where(ok, after, np.median(after[ok]))
    if looks is None:
        looks = looks_from_log_ratio_spread(np.log(a_in[ok] / b_in[ok]))
    mean_b, weight_b = lee_weight(b_in, looks, filter_size)
    mean_a, weight_a = lee_weight(a_in, looks, filter_size)
    weight = np.maximum(weight_b, weight_a)  # as little smoothing as either date needs (measured best calibrated)
    b = mean_b + weight * (b_in - mean_b)
    a = mean_a + weight * (a_in - mean_a)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.where(ok & (a > 0) & (b > 0), np.log(a / b), np.nan)
    enl = np.minimum(filtered_looks(float(looks), weight, filter_size), MAX_LOOKS)
    dof = 2.0 * enl
    cdf = stats.f.cdf(np.exp(np.nan_to_num(log_ratio)), dof, dof)
    p_value = np.where(ok, 2.0 * np.minimum(cdf, 1.0 - cdf), np.nan)
    typical = float(np.median(enl[ok]))
    bounds = (float(np.log(stats.f.ppf(alpha / 2, 2 * typical, 2 * typical))),
              float(np.log(stats.f.isf(alpha / 2, 2 * typical, 2 * typical))))
    changed = ok & (np.nan_to_num(p_value, nan=1.0) < alpha)
    return PairChange(log_ratio, p_value, changed, typical, bounds, alpha, float(looks), np.where(ok, enl, np.nan))


@dataclass(frozen=True)
class SeriesChange:
    statistic: np.ndarray  # −2ρ ln Q
    p_value: np.ndarray  # of the omnibus test (no change over the whole series)
    changed: np.ndarray  # omnibus significant at ``alpha``
    first_change: np.ndarray  # index j of the first date that differs from those before it (−1: none)
    dof: int
    alpha: float


def _omnibus_correction(p: int, looks: float, k: int) -> tuple[float, float]:
    """Box's (ρ, ω₂) for the omnibus test over k dates of p×p complex Wishart matrices of ``looks`` looks."""
    n, p2 = looks, p * p
    rho = 1.0 - (2 * p2 - 1) / (6.0 * (k - 1) * p) * (k / n - 1.0 / (n * k))
    omega2 = p2 * (p2 - 1) / (24.0 * rho**2) * (k / n**2 - 1.0 / (n * k) ** 2) - p2 * (k - 1) / 4.0 * (1 - 1 / rho) ** 2
    return rho, omega2


def _factor_correction(p: int, looks: float, j: int) -> tuple[float, float]:
    """Box's (ρ, ω₂) for the factor R_j (date j against the j − 1 dates before it)."""
    n, p2 = looks, p * p
    rho = 1.0 - (2 * p2 - 1) * (1.0 + 1.0 / (j * (j - 1))) / (6.0 * p * n)
    omega2 = -p2 / 4.0 * (1 - 1 / rho) ** 2 + p2 * (p2 - 1) * (1 + (2 * j - 1) / (j**2 * (j - 1) ** 2)) / (24.0 * n**2 * rho**2)
    return rho, omega2


def _p_value(statistic: np.ndarray, dof: int, omega2: float) -> np.ndarray:
    """P(−2ρ ln Q > z) ≈ P(χ²_f > z) + ω₂ [P(χ²_{f+4} > z) − P(χ²_f > z)]."""
    base = special.chdtrc(dof, statistic)
    return np.clip(base + omega2 * (special.chdtrc(dof + 4, statistic) - base), 0.0, 1.0)


def omnibus_change(series: Sequence[np.ndarray] | np.ndarray, looks: float, alpha: float = 1e-3) -> SeriesChange:
    """Omnibus test on a (k, channels, rows, cols) series of multi-looked intensities (channels e.g. VV, VH;
    each an average of ``looks`` looks). Channels are tested as independent gamma variables and their
    statistics added."""
    data = np.asarray(series, dtype=np.float64)
    if data.ndim == 3:
        data = data[:, None]
    if data.ndim != 4 or data.shape[0] < 2:
        raise ChangeError(f"omnibus test needs a (dates >= 2, channels, rows, cols) series, got shape {data.shape}")
    if looks <= 1:
        raise ChangeError(f"omnibus test needs more than one look (got {looks}): multi-look or filter first")
    if not 0 < alpha < 1:
        raise ChangeError(f"significance level must be in (0, 1), got {alpha}")
    k, channels = data.shape[:2]
    ok = np.all(data > 0, axis=(0, 1)) & np.all(np.isfinite(data), axis=(0, 1))
    logs = np.log(np.where(ok, data, 1.0))
    cumulative = np.log(np.cumsum(np.where(ok, data, 1.0), axis=0))  # ln Σ_{i<=j} X_i
    # ln Q = L Σ_channels [k ln k + Σ_i ln X_i − k ln Σ_i X_i]  (X_i as averages: the L's cancel)
    ln_q = looks * (k * np.log(k) + logs.sum(axis=0) - k * cumulative[-1]).sum(axis=0)
    rho, omega2 = _omnibus_correction(1, looks, k)
    dof = channels * (k - 1)
    statistic = np.where(ok, -2.0 * rho * ln_q, np.nan)
    p_value = np.where(ok, _p_value(np.nan_to_num(statistic), dof, omega2), np.nan)
    changed = ok & (np.nan_to_num(p_value, nan=1.0) < alpha)
    first = np.full(ok.shape, -1, dtype=np.int16)
    for j in range(2, k + 1):  # R_j: date j against dates 1..j-1 (1-based)
        ln_r = looks * (j * np.log(j) - (j - 1) * np.log(j - 1) + (j - 1) * cumulative[j - 2]
                        + logs[j - 1] - j * cumulative[j - 1]).sum(axis=0)
        rho_j, omega2_j = _factor_correction(1, looks, j)
        p_j = _p_value(np.nan_to_num(-2.0 * rho_j * ln_r), channels, omega2_j)
        first = np.where(changed & (first < 0) & (p_j < alpha), j - 1, first)
    return SeriesChange(statistic, p_value, changed, first, dof, alpha)
