"""Sea-clutter models for SAR intensity: gamma (fully developed speckle, L looks) and K (speckle times a
gamma-distributed texture, for rough or swell-modulated sea), fitted by right-truncated maximum likelihood.

Truncation is how the fit stays blind to ships: the sample is cut at a high empirical quantile and the
likelihood of each kept value is divided by the model's probability of lying below the cut, so the
estimates are unbiased for the clutter as long as targets lie above the cut, without having to know
which pixels are targets. Thresholds are the model's upper quantiles at the chosen false-alarm rate.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
from scipy import integrate, optimize, special, stats

log = logging.getLogger(__name__)

ClutterKind = Literal["gamma", "k", "auto"]
MAX_SAMPLE = 200_000  # pixels used for a fit (the likelihood is binned, so more costs little)
TRUNCATION_QUANTILE = 0.99  # right-truncation point of the fit (targets above it do not bias it)
MAX_SHAPE = 200.0  # K texture shape beyond this is indistinguishable from gamma at these sample sizes
N_BINS = 400  # the likelihood is evaluated on log-spaced bins of the sample (Bessel functions are costly)


class ClutterModel(Protocol):
    name: str

    def sf(self, value: float) -> float:
        """P(clutter > value)."""

    def isf(self, pfa: float) -> float:
        """The value clutter exceeds with probability ``pfa``."""

    def to_dict(self) -> dict[str, float | str]:
        ...


@dataclass(frozen=True)
class GammaClutter:
    """Intensity ~ Gamma(shape = looks, scale = mean / looks)."""

    looks: float
    mean: float
    name: str = "gamma"

    def sf(self, value: float) -> float:
        return float(stats.gamma.sf(value, self.looks, scale=self.mean / self.looks))

    def isf(self, pfa: float) -> float:
        return float(stats.gamma.isf(pfa, self.looks, scale=self.mean / self.looks))

    def logpdf(self, values: np.ndarray) -> np.ndarray:
        logpdf: np.ndarray = stats.gamma.logpdf(values, self.looks, scale=self.mean / self.looks)
        return logpdf

    def to_dict(self) -> dict[str, float | str]:
        return {"model": self.name, "looks": round(self.looks, 4), "mean": round(self.mean, 6)}


@dataclass(frozen=True)
class KClutter:
    """Intensity = texture x speckle; speckle ~ Gamma(looks, 1/looks), texture ~ Gamma(shape, 1/shape),
    both of unit mean, scaled by ``mean``. The two shapes enter symmetrically."""

    looks: float
    shape: float
    mean: float
    name: str = "k"

    def logpdf(self, values: np.ndarray) -> np.ndarray:
        lk, nu, mu = self.looks, self.shape, self.mean
        values = np.maximum(np.asarray(values, dtype=np.float64), 1e-300)
        arg = 2.0 * np.sqrt(lk * nu * values / mu)
        # log K_v(x) = log(kve(v, x)) - x keeps the Bessel function finite for large arguments
        log_bessel = np.log(np.maximum(special.kve(nu - lk, arg), 1e-300)) - arg
        logpdf: np.ndarray = (
            math.log(2.0) + 0.5 * (lk + nu) * math.log(lk * nu / mu) + (0.5 * (lk + nu) - 1.0) * np.log(values)
            - special.gammaln(lk) - special.gammaln(nu) + log_bessel
        )
        return logpdf

    def sf(self, value: float) -> float:
        """P(I > value) = E_texture[ Q(looks, looks * value / (mean * texture)) ], integrated over log texture."""
        lk, nu, mu = self.looks, self.shape, self.mean
        if value <= 0:
            return 1.0

        def integrand(u: float) -> float:
            tau = math.exp(u)
            density = math.exp(nu * math.log(nu) + nu * u - nu * tau - special.gammaln(nu))  # of log texture
            return float(special.gammaincc(lk, lk * value / (mu * tau))) * density

        centre = math.log(max(value / mu, 1e-6)) if value > mu else 0.0
        result, _ = integrate.quad(integrand, -12.0 / math.sqrt(nu) - 2, max(centre, 0) + 12.0, points=[0.0, centre],
                                   limit=200, epsabs=0.0, epsrel=1e-7)
        return float(min(max(result, 0.0), 1.0))

    def sf_fast(self, value: float) -> float:
        """``sf`` by the trapezoid rule on a fixed grid of log texture: exact to ~1e-9 relative for the
        probabilities of the body used in fitting, and several times cheaper than adaptive quadrature."""
        lk, nu, mu = self.looks, self.shape, self.mean
        u = np.linspace(-(40.0 / nu) - 10.0 / math.sqrt(nu) - 1.0, math.log1p(40.0 / nu) + 1.0, 2000)
        tau = np.exp(u)
        density = np.exp(nu * math.log(nu) + nu * u - nu * tau - special.gammaln(nu))
        integrand = special.gammaincc(lk, lk * value / (mu * tau)) * density
        return float(min(max(integrate.trapezoid(integrand, u), 0.0), 1.0))

    def isf(self, pfa: float) -> float:
        target = math.log(pfa)
        upper = self.mean * 10.0
        while math.log(max(self.sf(upper), 1e-300)) > target:
            upper *= 4.0
        return float(optimize.brentq(lambda v: math.log(max(self.sf(v), 1e-300)) - target, self.mean * 1e-3, upper,
                                     xtol=1e-10 * upper, rtol=1e-10))

    def to_dict(self) -> dict[str, float | str]:
        return {"model": self.name, "looks": round(self.looks, 4), "shape": round(self.shape, 4),
                "mean": round(self.mean, 6)}


@dataclass(frozen=True)
class ClutterFit:
    model: GammaClutter | KClutter
    n_samples: int
    truncation: float
    log_likelihood: float
    aic: float
    alternatives: dict[str, float]  # AIC of each model tried

    def to_dict(self) -> dict[str, object]:
        return {**self.model.to_dict(), "n_samples": self.n_samples, "truncation": round(self.truncation, 5),
                "aic": round(self.aic, 2), "aic_by_model": {k: round(v, 2) for k, v in self.alternatives.items()}}


def _sample(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    values = values[np.isfinite(values) & (values > 0)]
    if values.size > MAX_SAMPLE:
        values = rng.choice(values, MAX_SAMPLE, replace=False)
    return values.astype(np.float64)


def _looks_from_log_variance(log_var: float) -> float:
    """Invert var(log I) = trigamma(L) for a gamma intensity (the log-cumulant estimator of L)."""
    if log_var <= special.polygamma(1, 200.0):
        return 200.0
    return float(optimize.brentq(lambda k: float(special.polygamma(1, k)) - log_var, 0.05, 200.0))


@dataclass(frozen=True)
class _Binned:
    """A sample as counts on log-spaced bins: the likelihood costs N_BINS density evaluations, not n."""

    centres: np.ndarray
    counts: np.ndarray
    log_widths: np.ndarray  # log of bin widths: turns densities into bin probabilities
    mean: float
    log_variance: float

    @classmethod
    def of(cls, kept: np.ndarray) -> _Binned:
        edges = np.geomspace(kept.min() * 0.999, kept.max() * 1.001, N_BINS + 1)
        counts, _ = np.histogram(kept, edges)
        used = counts > 0
        centres = np.sqrt(edges[:-1] * edges[1:])
        return cls(centres[used], counts[used].astype(np.float64), np.log(np.diff(edges))[used],
                   float(kept.mean()), float(np.var(np.log(kept))))

    @property
    def n(self) -> float:
        return float(self.counts.sum())

    def log_likelihood(self, logpdf: np.ndarray, inside: float) -> float:
        return float((self.counts * (logpdf + self.log_widths)).sum()) - self.n * math.log(max(inside, 1e-300))


def fit_gamma(kept: _Binned, cut: float) -> tuple[GammaClutter, float]:
    start = _looks_from_log_variance(kept.log_variance)

    def nll(params: np.ndarray) -> float:
        model = GammaClutter(math.exp(params[0]), math.exp(params[1]))
        cdf = float(stats.gamma.cdf(cut, model.looks, scale=model.mean / model.looks))
        return -kept.log_likelihood(model.logpdf(kept.centres), cdf)

    res = optimize.minimize(nll, np.log([start, kept.mean]), method="Nelder-Mead",
                            options={"xatol": 1e-6, "fatol": 1e-6, "maxiter": 2000})
    return GammaClutter(math.exp(res.x[0]), math.exp(res.x[1])), -float(res.fun)


def fit_k(kept: _Binned, cut: float, looks_guess: float) -> tuple[KClutter, float]:
    def model_of(params: np.ndarray) -> KClutter:
        return KClutter(float(np.clip(math.exp(params[0]), 0.2, MAX_SHAPE)),
                        float(np.clip(math.exp(params[1]), 0.2, MAX_SHAPE)), math.exp(params[2]))

    def nll(params: np.ndarray) -> float:
        model = model_of(params)
        return -kept.log_likelihood(model.logpdf(kept.centres), 1.0 - model.sf_fast(cut))

    # Start from the gamma looks and a moderately textured sea; the two shapes are interchangeable.
    starts = [np.log([looks_guess * 1.5, 3.0, kept.mean]), np.log([looks_guess * 1.2, 15.0, kept.mean])]
    best = min((optimize.minimize(nll, s, method="Nelder-Mead",
                                  options={"xatol": 1e-4, "fatol": 1e-4, "maxiter": 600}) for s in starts),
               key=lambda r: r.fun)
    model = model_of(best.x)
    # Report the smaller shape as the looks: for sea clutter the speckle is the rougher of the two.
    looks, shape = sorted((model.looks, model.shape))
    return KClutter(looks, shape, model.mean), -float(best.fun)


def fit_clutter(values: np.ndarray, kind: ClutterKind = "auto", seed: int = 0) -> ClutterFit:
    """Fit a clutter model to sea intensities (any scale; typically intensity over local mean).

    ``auto`` fits both and keeps the lower AIC (K has one parameter more).
    """
    rng = np.random.default_rng(seed)
    sample = _sample(np.asarray(values), rng)
    if sample.size < 200:
        raise ValueError(f"too few sea pixels to fit a clutter model ({sample.size}; need 200)")
    cut = float(np.quantile(sample, TRUNCATION_QUANTILE))
    kept = _Binned.of(sample[sample <= cut])
    gamma, ll_gamma = fit_gamma(kept, cut)
    aics = {"gamma": 4.0 - 2.0 * ll_gamma}
    chosen: tuple[GammaClutter | KClutter, float] = (gamma, ll_gamma)
    if kind in ("k", "auto"):
        k_model, ll_k = fit_k(kept, cut, gamma.looks)
        aics["k"] = 6.0 - 2.0 * ll_k
        if kind == "k" or aics["k"] < aics["gamma"]:
            chosen = (k_model, ll_k)
    model, ll = chosen
    log.debug("clutter fit: %s", model.to_dict())
    return ClutterFit(model, int(sample.size), cut, ll, aics[model.name], aics)
