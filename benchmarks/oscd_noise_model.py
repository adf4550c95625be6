"""Issue 17, screened in ``benchmarks/oscd_statistics.py``: ``local-fusion``'s statistic with a per-pair noise
model, and the SAR-style log ratio.

- noise model: the red residual's spread grows with brightness (bright roofs: the top decile's median |z|
  is ~2 × the darkest quartile's) and with the local gradient (misregistration, PSF). Each direction's
  signed z is divided by its own spread, estimated per pair (label-free) as the median |z| in quantile bins
  of a pixel's brightness (the darker of the two dates: a dark field built on keeps the small spread of dark
  pixels), optionally × the larger of the two dates' gradient magnitude; then fused as ``local-fusion``.
- log ratio: the local regression of log red on log red (a ratio of local averages, as for SAR: change
  measured relative to brightness), fused alone, and by minimum or mean with ``local-fusion``.
- priors on ``local-fusion``: darkening (after darker than predicted) down-weighted, since OSCD's change is
  mostly new construction; pixels vegetated in both dates (green-up, brown-down) down-weighted.
"""

from __future__ import annotations

if __name__ == "__main__":  # imported by the benchmarks, nothing of its own to run (it stopped in an import error)
    raise SystemExit("error: benchmarks/oscd_noise_model.py is a part of other benchmarks, not one to run: run python benchmarks/oscd_statistics.py")

from collections.abc import Callable

import numpy as np
from scipy import ndimage as ndi

from geo.change.local import PRECISION, masked_gaussian, robust_z
from geo.change.local_blocks import local_regression_residual

from benchmarks.oscd_candidates import _memo, red_z, robust_min
from benchmarks.oscd_directions import CityData
from benchmarks.oscd_multivariate import ZPair, fused

BINS = 20  # quantile bins of brightness (1-D model)
BINS_2D = 8  # per axis, brightness × gradient (2-D model)


def _red(city: CityData, date: int) -> np.ndarray:
    return np.asarray((city.before if date == 0 else city.after)[city.bands.index("red")], dtype=np.float64)


def _brightness(city: CityData) -> np.ndarray:
    """The darker of the two dates' red over a σ 1 px footprint."""
    def smooth(x: np.ndarray) -> np.ndarray:
        return np.asarray(np.nan_to_num(masked_gaussian(x, city.valid, 1.0)))
    return _memo(city, "darker", lambda: np.minimum(smooth(_red(city, 0)), smooth(_red(city, 1))))  # type: ignore[return-value]


def _gradient(city: CityData, persistent: bool = False) -> np.ndarray:
    """The larger of the two dates' red gradient magnitude (σ 1 px), or the smaller (``persistent``: an edge
    in both dates, where misregistration leaves a residual; a new building's edge is in one date only)."""
    def grad(x: np.ndarray) -> np.ndarray:
        filled = np.where(city.valid, x, np.median(x[city.valid]))
        return np.asarray(ndi.gaussian_gradient_magnitude(filled, 1.0))
    pick = np.minimum if persistent else np.maximum
    return _memo(city, f"gradient{persistent}", lambda: pick(grad(_red(city, 0)), grad(_red(city, 1))))  # type: ignore[return-value]


def _bin_index(values: np.ndarray, valid: np.ndarray, bins: int) -> np.ndarray:
    edges = np.quantile(values[valid], np.linspace(0, 1, bins + 1)[1:-1])
    return np.asarray(np.digitize(values, edges))


def _spread(z: np.ndarray, valid: np.ndarray, cells: np.ndarray, count: int) -> np.ndarray:
    """Each pixel's median |z| over its cell's valid pixels, relative to the whole image's."""
    a = np.abs(z)
    overall = float(np.median(a[valid]))
    table = np.full(count, overall)
    for k in range(count):
        m = valid & (cells == k)
        if m.sum() >= 200:
            table[k] = float(np.median(a[m]))
    return np.asarray(np.maximum(table / max(overall, 1e-9), 0.25)[cells])


def _scaled(city: CityData, window: int, cells: np.ndarray, count: int, power: float) -> ZPair:
    forward, backward = red_z(city, window)
    return (forward / _spread(forward, city.valid, cells, count) ** power,
            backward / _spread(backward, city.valid, cells, count) ** power)


def by_brightness(power: float = 1.0) -> Callable[[CityData], np.ndarray]:
    def statistic(city: CityData) -> np.ndarray:
        cells = _bin_index(_brightness(city), city.valid, BINS)
        return fused(city.valid, lambda w: _scaled(city, w, cells, BINS, power))
    return statistic


def by_gradient(power: float = 1.0, persistent: bool = False) -> Callable[[CityData], np.ndarray]:
    def statistic(city: CityData) -> np.ndarray:
        cells = _bin_index(_gradient(city, persistent), city.valid, BINS)
        return fused(city.valid, lambda w: _scaled(city, w, cells, BINS, power))
    return statistic


def by_brightness_and_gradient(power: float = 1.0) -> Callable[[CityData], np.ndarray]:
    def statistic(city: CityData) -> np.ndarray:
        cells = (_bin_index(_brightness(city), city.valid, BINS_2D) * BINS_2D
                 + _bin_index(_gradient(city), city.valid, BINS_2D))
        return fused(city.valid, lambda w: _scaled(city, w, cells, BINS_2D**2, power))
    return statistic


def _log_pair(city: CityData, window: int) -> ZPair:
    floor = 10 * PRECISION  # a dark pixel's log is noise: no ratio below ~10 quantisation steps
    b, a = np.log(np.maximum(_red(city, 0), floor)), np.log(np.maximum(_red(city, 1), floor))

    def z(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.asarray(np.nan_to_num(robust_z(local_regression_residual(x, y, city.valid, window), city.valid,
                                                 PRECISION)))
    return z(b, a), z(a, b)


def log_ratio(city: CityData) -> np.ndarray:
    return _memo(city, "log_ratio", lambda: fused(city.valid, lambda w: _log_pair(city, w)))  # type: ignore[return-value]


def log_ratio_min(city: CityData) -> np.ndarray:
    return np.asarray(1.25 * np.minimum(robust_min(city), log_ratio(city)))


def log_ratio_mean(city: CityData) -> np.ndarray:
    return np.asarray(0.5 * (robust_min(city) + log_ratio(city)))


def _ndvi(city: CityData, date: int) -> np.ndarray:
    stack = city.before if date == 0 else city.after
    nir, red = stack[city.bands.index("nir")].astype(np.float64), stack[city.bands.index("red")].astype(np.float64)
    return np.asarray(np.nan_to_num((nir - red) / np.maximum(nir + red, 1e-6)))


def brightening(weight: float) -> Callable[[CityData], np.ndarray]:
    """``local-fusion`` × ``weight`` where the after date is darker than predicted (OSCD's change is mostly new
    construction: brighter after)."""
    def statistic(city: CityData) -> np.ndarray:
        forward = np.nan_to_num(masked_gaussian(red_z(city, 96)[0], city.valid, 1.5))
        return np.asarray(robust_min(city) * np.where(forward > 0, 1.0, weight))
    return statistic


def vegetated_both(weight: float, level: float = 0.3) -> Callable[[CityData], np.ndarray]:
    """``local-fusion`` × ``weight`` where both dates are vegetated (NDVI > ``level`` over σ 1.5 px): green-up
    or brown-down of what stays vegetation, not construction."""
    def statistic(city: CityData) -> np.ndarray:
        lowest = np.minimum(*(np.nan_to_num(masked_gaussian(_ndvi(city, d), city.valid, 1.5)) for d in (0, 1)))
        return np.asarray(robust_min(city) * np.where(lowest > level, weight, 1.0))
    return statistic


def tensor_change(city: CityData) -> np.ndarray:
    """The two dates' red structure tensors (gradient σ 1 px, integrated over σ 2 px) compared scale-free:
    ‖J₁ − J₀‖ / (tr J₀ + tr J₁), in [0, 1]; an offset of illumination leaves it at 0, a gain g at
    |g² − 1| / (g² + 1) (small for the few-% gains between co-registered dates)."""
    def tensor(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        filled = np.where(city.valid, x, np.median(x[city.valid]))
        gx, gy = ndi.gaussian_filter(filled, 1.0, order=(0, 1)), ndi.gaussian_filter(filled, 1.0, order=(1, 0))
        return tuple(np.asarray(ndi.gaussian_filter(v, 2.0)) for v in (gx * gx, gx * gy, gy * gy))  # type: ignore[return-value]
    (a0, b0, c0), (a1, b1, c1) = tensor(_red(city, 0)), tensor(_red(city, 1))
    norm = np.sqrt((a1 - a0) ** 2 + 2 * (b1 - b0) ** 2 + (c1 - c0) ** 2)
    return np.asarray(norm / (a0 + c0 + a1 + c1 + (5 * PRECISION) ** 2))


def tensor_alone(city: CityData) -> np.ndarray:
    return np.asarray(4.0 * tensor_change(city))  # × 4: onto the red statistic's range


def tensor_weighted(city: CityData) -> np.ndarray:
    return np.asarray(robust_min(city) * (0.5 + tensor_change(city)))


def tensor_agree(weight: float = 0.5, quantile: float = 0.5) -> Callable[[CityData], np.ndarray]:
    """The fusion × ``weight`` unless the structure changed too (above its own ``quantile``): both agree."""
    def statistic(city: CityData) -> np.ndarray:
        d = np.asarray(_memo(city, "tensor", lambda: tensor_change(city)))
        level = np.quantile(d[city.valid], quantile)
        return np.asarray(robust_min(city) * np.where(d > level, 1.0, weight))
    return statistic


CANDIDATES: dict[str, Callable[[CityData], np.ndarray]] = {
    "noise: z / spread(darker date's brightness), fused": by_brightness(1.0),
    "noise: z / sqrt(spread(brightness)), fused": by_brightness(0.5),
    "noise: z / spread(brightness x gradient), fused": by_brightness_and_gradient(1.0),
    "noise: z / sqrt(spread(brightness x gradient)), fused": by_brightness_and_gradient(0.5),
    "noise: z / spread(gradient), fused": by_gradient(1.0),
    "noise: z / sqrt(spread(gradient)), fused": by_gradient(0.5),
    "noise: z / spread(persistent gradient), fused": by_gradient(1.0, True),
    "noise: z / sqrt(spread(persistent gradient)), fused": by_gradient(0.5, True),
    "prior: darkening x 0.7": brightening(0.7),
    "prior: vegetated in both dates x 0.5": vegetated_both(0.5),
    "tensor: structure-tensor change alone (x 4)": tensor_alone,
    "tensor: fusion x (0.5 + change)": tensor_weighted,
    "tensor: fusion x 0.5 where the structure kept": tensor_agree(),
    "tensor: fusion x 0.7 where the structure kept": tensor_agree(0.7),
    "tensor: fusion x 0.5 where the structure kept (below its 75th percentile)": tensor_agree(0.5, 0.75),
    "tensor: fusion x 0.5 where the structure kept (below its 25th percentile)": tensor_agree(0.5, 0.25),
    "log ratio: red, fused": log_ratio,
    "log ratio: min with the fusion (x 1.25)": log_ratio_min,
    "log ratio: mean with the fusion": log_ratio_mean,
}
