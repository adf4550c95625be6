"""Variants of ``local-fusion``'s statistic screened for issue 17 in ``benchmarks/oscd_statistics.py``: other
combinations of its four statistics (windows 48/96 px × footprints σ 1/2 px) than their minimum, the larger
of the two directions' |z| instead of their mean, and a contrast of texture (the NIR local variance ratio).
"""

from __future__ import annotations

if __name__ == "__main__":  # imported by the benchmarks, nothing of its own to run (it stopped in an import error)
    raise SystemExit("error: benchmarks/oscd_fusion_variants.py is a part of other benchmarks, not one to run: run python benchmarks/oscd_statistics.py")

import numpy as np

from geo.change.local import PRECISION, masked_gaussian, robust_z
from geo.change.local_blocks import local_regression_residual

from benchmarks.oscd_directions import CityData
from benchmarks.oscd_multivariate import SIGMAS, WINDOWS, ZPair, fused


def _band(city: CityData, name: str, date: int) -> np.ndarray:
    return (city.before if date == 0 else city.after)[city.bands.index(name)].astype(np.float64)


def red_pair(city: CityData, window: int) -> ZPair:
    """Signed robust z of the red local-regression residual, after from before and before from after."""
    before, after = _band(city, "red", 0), _band(city, "red", 1)

    def z(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.nan_to_num(robust_z(local_regression_residual(x, y, city.valid, window), city.valid, PRECISION))
    return z(before, after), z(after, before)


def _parts(city: CityData) -> list[np.ndarray]:
    """The four statistics ``local-fusion`` takes the minimum of."""
    out = []
    for window in WINDOWS:
        forward, backward = red_pair(city, window)
        out += [0.5 * (masked_gaussian(np.abs(forward), city.valid, s) + masked_gaussian(np.abs(backward), city.valid, s))
                for s in SIGMAS]
    return [np.nan_to_num(p) for p in out]


def fusion_geometric_mean(city: CityData) -> np.ndarray:
    return np.exp(np.mean(np.log(np.maximum(_parts(city), 1e-6)), axis=0))


def fusion_mean(city: CityData) -> np.ndarray:
    return np.asarray(np.mean(_parts(city), axis=0))


def directions_max_fused(city: CityData) -> np.ndarray:
    """The larger of the two directions' |z| (instead of their mean), × 0.8 towards the mean's scale, fused."""
    def larger(window: int) -> ZPair:
        forward, backward = red_pair(city, window)
        both = 0.8 * np.maximum(np.abs(forward), np.abs(backward))
        return both, both
    return fused(city.valid, larger)


def texture_ratio(city: CityData, band: str = "nir", sigma: float = 2.0) -> np.ndarray:
    """|robust z| of the log ratio of the two dates' local variance of ``band`` (Gaussian window σ 2 px),
    over the σ 1 px footprint: contrast of texture, blind to a change of brightness alone."""
    def variance(image: np.ndarray) -> np.ndarray:
        mean = masked_gaussian(image, city.valid, sigma)
        return np.nan_to_num(masked_gaussian(image * image, city.valid, sigma) - mean * mean)
    floor = (5 * PRECISION) ** 2
    ratio = np.log((variance(_band(city, band, 1)) + floor) / (variance(_band(city, band, 0)) + floor))
    z = np.abs(np.nan_to_num(robust_z(ratio, city.valid, PRECISION)))
    return np.nan_to_num(masked_gaussian(z, city.valid, 1.0))


def texture_with_fusion(city: CityData) -> np.ndarray:
    return np.asarray(0.5 * (np.min(_parts(city), axis=0) + texture_ratio(city)))
