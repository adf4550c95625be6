"""Relative radiometric normalisation of the after image onto the before image.

1. **IR-MAD** (iteratively re-weighted multivariate alteration detection, Nielsen 2007): canonical
   correlation analysis of the two dates gives pairs of band combinations (U_i, V_i) with correlations
   ρ_1 ≤ … ≤ ρ_k; their differences, the MAD variates M_i = U_i − V_i, are uncorrelated with variances
   2(1 − ρ_i). Where nothing changed, Z = Σ M_i² / σ_i² is chi-square with k degrees of freedom, so each
   pixel gets a no-change probability P(χ²_k > Z). Re-fitting with those probabilities as weights lets
   the unchanged pixels, not the changes, define the correlation. The result is invariant to any linear
   transformation of either image (gain, offset, band mixing), so it needs no normalisation first.
   σ_i is estimated robustly (1.4826 · median absolute deviation of M_i) rather than as 2(1 − ρ_i) from
   the weighted fit: the weights shrink the fitted variances, and on a pair with no change at all the
   textbook Z then flags ~30 % of pixels at a 1 % level; the robust scale keeps the false-alarm rate at
   the significance level (tested) while changes, a minority, barely move it.
2. **Invariant pixels**: those IR-MAD finds unchanged with high probability.
3. **Orthogonal regression** per band of after on before over the invariant pixels. It treats both dates
   as noisy, so the fit is symmetric (regressing before on after gives the inverse line).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import linalg, special

from geo.change.sampling import distinct_sample, median, sample_in_order
from geo.change.normalised_stack import NormalisedStack
from geo.scenes.scratch import nth_valid, take_pixels
from geo.errors import TooFewPixelsError, UniformPairError

log = logging.getLogger(__name__)

MIN_INVARIANT = 500
CHUNK_PX = 1 << 20  # pixels per slab of the chi-square over the whole pair (~50 MB of float64 variates)
# Pixels at a time of the MAD variates and their chi-square: a few hundred kB of temporaries that stay in the
# cache (a million at once: 7 times the time, in fresh pages). Each pixel's numbers are those of one pass: its
# variates are 6 x 6 products of its own column, the chi-square a sum over its own bands.
COLUMNS = 1 << 14


@dataclass(frozen=True)
class BandFit:
    slope: float
    intercept: float
    n_invariant: int

    def to_dict(self) -> dict[str, float | int]:
        return {"slope": round(self.slope, 5), "intercept": round(self.intercept, 6), "n_invariant": self.n_invariant}


@dataclass(frozen=True)
class MadTransform:
    """The fitted IR-MAD: canonical vectors and means of both dates, the MAD variates' centre and variance."""

    a: np.ndarray
    b: np.ndarray
    mx: np.ndarray
    my: np.ndarray
    centre: np.ndarray  # (k, 1)
    variance: np.ndarray  # (k,)

    def chi2(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Z = Σ M_i² / σ_i² of (k, n) pixels of both dates (float64), in columns of ``COLUMNS`` pixels."""
        chi2 = np.empty(x.shape[1])
        for start in range(0, x.shape[1], COLUMNS):
            part = slice(start, start + COLUMNS)
            mad = _variates(x[:, part].astype(np.float64), y[:, part].astype(np.float64), self.a, self.b, self.mx,
                            self.my)
            chi2[part] = _standardised_sum(mad, self.centre, self.variance)
        return chi2


@dataclass(frozen=True)
class IRMAD:
    """IR-MAD of one image pair. ``chi2`` and ``no_change`` are images (NaN where invalid), computed from the
    pair on first use (slabs of ``chunk`` pixels): the default detector needs them only at sampled pixels
    (``at``), so a large pair never holds them."""

    rho: np.ndarray  # canonical correlations, ascending (first MAD variate = largest change variance)
    dof: int
    iterations: int
    converged: bool
    transform: MadTransform = field(repr=False, compare=False)
    before: np.ndarray = field(repr=False, compare=False)
    after: np.ndarray = field(repr=False, compare=False)
    valid: np.ndarray = field(repr=False, compare=False)
    chunk: int = CHUNK_PX

    def to_dict(self) -> dict[str, object]:
        return {"rho": [round(float(r), 5) for r in self.rho], "dof": self.dof,
                "iterations": self.iterations, "converged": self.converged}

    def at(self, pixels: np.ndarray) -> np.ndarray:
        """Z at flat pixel indices (float32, as in ``chi2``)."""
        values: np.ndarray = self.transform.chi2(take_pixels(self.before, pixels),
                                                 take_pixels(self.after, pixels)).astype(np.float32)
        return values

    @property
    def chi2(self) -> np.ndarray:
        return self._images[0]

    @property
    def no_change(self) -> np.ndarray:
        """P(chi2_k > Z): the probability of a value this large where nothing changed."""
        return self._images[1]

    @cached_property
    def _images(self) -> tuple[np.ndarray, np.ndarray]:
        k, valid = self.dof, self.valid
        chi2 = np.full(valid.shape, np.nan, dtype=np.float32)
        no_change = np.full(valid.shape, np.nan, dtype=np.float32)
        rows = max(1, self.chunk // valid.shape[1])
        for start in range(0, valid.shape[0], rows):  # contiguous slabs of rows: no gathering of scattered pixels
            slab, ok = slice(start, start + rows), valid[start:start + rows]
            values = self.transform.chi2(self.before[:, slab].reshape(k, -1), self.after[:, slab].reshape(k, -1))
            chi2[slab] = np.where(ok.ravel(), values, np.nan).reshape(ok.shape)
            no_change[slab] = np.where(ok, special.chdtrc(k, chi2[slab]), np.nan)
        return chi2, no_change


def orthogonal_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """y ≈ slope·x + intercept minimising perpendicular distances."""
    mx, my = x.mean(), y.mean()
    sxx, syy, sxy = ((x - mx) ** 2).mean(), ((y - my) ** 2).mean(), ((x - mx) * (y - my)).mean()
    if sxy == 0:
        return 1.0, float(my - mx)
    slope = (syy - sxx + np.sqrt((syy - sxx) ** 2 + 4 * sxy**2)) / (2 * sxy)
    return float(slope), float(my - slope * mx)


def _canonical(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weighted CCA of x and y (k × N): (rho ascending, a, b, mean_x, mean_y) with unit-variance variates."""
    k = x.shape[0]
    sw = w.sum()
    mx, my = (x * w).sum(1) / sw, (y * w).sum(1) / sw
    xc, yc = x - mx[:, None], y - my[:, None]
    sxx, syy, sxy = (xc * w) @ xc.T / sw, (yc * w) @ yc.T / sw, (xc * w) @ yc.T / sw
    ridge = 1e-12 * np.eye(k) * max(np.trace(sxx), np.trace(syy), 1e-30)
    sxx, syy = sxx + ridge, syy + ridge
    rho2, a = linalg.eigh(sxy @ np.linalg.solve(syy, sxy.T), sxx)  # ascending eigenvalues
    rho = np.sqrt(np.clip(rho2, 0.0, 1.0 - 1e-12))
    b = np.linalg.solve(syy, sxy.T @ a)
    a = a / np.sqrt(np.einsum("ji,jk,ki->i", a, sxx, a))
    b = b / np.sqrt(np.einsum("ji,jk,ki->i", b, syy, b))
    # Pair signs so that U_i and V_i correlate positively, and U_i correlates positively with the bands' sum.
    b *= np.sign(np.einsum("ji,jk,ki->i", a, sxy, b))[None, :]
    flip = np.sign(a.T @ sxx @ np.ones(k))
    flip[flip == 0] = 1.0
    return rho, a * flip, b * flip, mx, my


def _variates(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray, mx: np.ndarray, my: np.ndarray) -> np.ndarray:
    variates: np.ndarray = a.T @ (x - mx[:, None]) - b.T @ (y - my[:, None])
    return variates


def _variates_at(before: np.ndarray, after: np.ndarray, pixels: np.ndarray, a: np.ndarray, b: np.ndarray,
                 mx: np.ndarray, my: np.ndarray) -> np.ndarray:
    """``_variates`` of the stacks' float64 values at flat ``pixels``, in columns of ``COLUMNS``."""
    x, y = take_pixels(before, pixels), take_pixels(after, pixels)
    mad = np.empty(x.shape, np.float64)
    for start in range(0, x.shape[1], COLUMNS):
        part = slice(start, start + COLUMNS)
        mad[:, part] = _variates(x[:, part].astype(np.float64), y[:, part].astype(np.float64), a, b, mx, my)
    return mad


def _robust_variance(mad: np.ndarray, centre: np.ndarray | None = None) -> np.ndarray:
    """(1.4826 MAD)² of each variate; ``centre``: their medians, when known."""
    centred = mad - (median(mad, keepdims=True) if centre is None else centre)
    scale = 1.4826 * median(np.abs(centred, out=centred))
    variance: np.ndarray = np.maximum(scale, 1e-12) ** 2
    return variance


def _chi2(mad: np.ndarray, variance: np.ndarray) -> np.ndarray:
    return _standardised_sum(mad, median(mad, keepdims=True), variance)


def _standardised_sum(mad: np.ndarray, centre: np.ndarray, variance: np.ndarray) -> np.ndarray:
    chi2: np.ndarray = ((mad - centre) ** 2 / variance[:, None]).sum(0)
    return chi2


def _textured(x: np.ndarray, y: np.ndarray) -> None:
    """Raise ``UniformPairError`` when a date's pixels (k × N) hold one value in every band: their covariance is 0
    and the canonical correlation divides by it (noise-free synthetic snow on both dates ended a run in "array
    must not contain infs or NaNs"); real data are never so, but for fresh snow, calm sea or saturation."""
    flat = [not np.any(np.ptp(v, axis=1) > 0) for v in (x, y)]
    if any(flat):
        date = "both dates" if all(flat) else "the before date" if flat[0] else "the after date"
        raise UniformPairError(f"one value in every band on {date} (no texture to compare by: fresh snow, calm "
                               "water or saturation)")


def irmad(
    before: np.ndarray, after: np.ndarray, valid: np.ndarray, max_iterations: int = 30,
    tolerance: float = 1e-3, sample: int = 30_000, seed: int = 0, chunk: int = CHUNK_PX,
) -> IRMAD:
    """IR-MAD of two (band, row, col) stacks over ``valid`` pixels.

    The weights are iterated on a fixed random sample of valid pixels (thirty thousand pin six canonical
    correlations to ~0.005). The MAD variates' centre and robust scale come from at most a million valid
    pixels (``geo.change.sampling``: all of them in smaller pairs); the chi-square statistic is then computed
    for every valid pixel in slabs of rows of about ``chunk`` pixels, so memory stays that of the two float32 images.
    """
    k = before.shape[0]
    n_valid = int(valid.sum())
    if n_valid < 10 * k:
        raise TooFewPixelsError(f"IR-MAD needs at least {10 * k} valid pixels, the pair has {n_valid}")
    rng = np.random.default_rng(seed)
    pick = nth_valid(valid, rng.choice(n_valid, sample, replace=False) if n_valid > sample else None)
    x, y = take_pixels(before, pick).astype(np.float64), take_pixels(after, pick).astype(np.float64)
    _textured(x, y)
    weights = np.ones(x.shape[1])
    rho_old = np.full(k, -1.0)
    converged, iteration = False, 0
    for iteration in range(1, max_iterations + 1):
        rho, a, b, mx, my = _canonical(x, y, weights)
        mad = _variates(x, y, a, b, mx, my)
        variance = _robust_variance(mad)
        weights = special.chdtrc(k, _chi2(mad, variance))
        if weights.sum() < 10 * k:  # nothing looks unchanged: keep the last fit rather than divide by ~0
            break
        if np.max(np.abs(rho - rho_old)) < tolerance:
            converged = True
            break
        rho_old = rho
    # the sample's pixels in raster order: their variates' medians do not depend on it, their reads do
    scale_pick = nth_valid(valid, sample_in_order(n_valid, seed=seed + 1))
    scale_mad = _variates_at(before, after, scale_pick, a, b, mx, my)
    centre = median(scale_mad, keepdims=True)
    transform = MadTransform(a, b, mx, my, centre, _robust_variance(scale_mad, centre))
    log.debug("IR-MAD: %d iterations, rho %s", iteration, np.round(rho, 4))
    return IRMAD(rho, k, iteration, converged, transform, before, after, valid, chunk)


def invariant_pixels(result: IRMAD, valid: np.ndarray, min_probability: float = 0.9) -> np.ndarray:
    """Pixels IR-MAD finds unchanged with probability above ``min_probability``, among at most a million
    valid pixels (all of them in smaller pairs: they are what the normalisation fits); on real pairs far
    apart in time that set can be tiny, so it is topped up to the 5 % least-changed pixels when too small."""
    pixels = nth_valid(valid, distinct_sample(int(np.count_nonzero(valid)), seed=2))
    chi2 = result.at(pixels)
    keep = special.chdtrc(result.dof, chi2) > min_probability
    if keep.sum() < MIN_INVARIANT:
        keep = chi2 <= np.percentile(chi2, 5.0)
    invariant = np.zeros(valid.shape, bool)
    invariant.ravel()[pixels[keep]] = True
    return invariant


def normalise_lazily(
    before: np.ndarray, after: np.ndarray, valid: np.ndarray
) -> tuple[NormalisedStack, list[BandFit], np.ndarray, IRMAD]:
    """``after`` mapped onto ``before``'s radiometry by orthogonal regression per band over IR-MAD's
    invariant pixels, as a stack normalised where it is read (``geo.change.normalised_stack``: a detector
    reads one band, typing and edges a few pixels). Returns (after_normalised, fits, invariant mask, IR-MAD
    result)."""
    result = irmad(before, after, valid)
    invariant = invariant_pixels(result, valid)
    n = int(invariant.sum())
    fits = []
    fit_pixels = np.flatnonzero(invariant)  # among at most a million: they pin a line as well as a tile's worth
    x_fit, y_fit = take_pixels(before, fit_pixels), take_pixels(after, fit_pixels)
    for band in range(before.shape[0]):
        slope, intercept = orthogonal_fit(x_fit[band].astype(np.float64), y_fit[band].astype(np.float64))
        if not np.isfinite(slope) or abs(slope) < 1e-6:
            slope, intercept = 1.0, 0.0
        fits.append(BandFit(slope, intercept, n))
    stack = NormalisedStack(after, tuple(f.slope for f in fits), tuple(f.intercept for f in fits))
    return stack, fits, invariant, result


def normalise(
    before: np.ndarray, after: np.ndarray, valid: np.ndarray
) -> tuple[np.ndarray, list[BandFit], np.ndarray, IRMAD]:
    """``normalise_lazily`` with the whole normalised stack computed (on scratch when ``after`` is)."""
    stack, fits, invariant, result = normalise_lazily(before, after, valid)
    return stack.materialise(), fits, invariant, result
