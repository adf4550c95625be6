"""Issue 17, screened in ``benchmarks/oscd_statistics.py``: ``local-fusion``'s agreement idea carried across
bands. Its minimum over windows and footprints won because a pixel must be change in every fit; here a pixel
must be change in red AND in another band (each band's own fusion, the per-pixel minimum of the two), or its
red residual must have the sign of the other band's (new roofs and cleared sites brighten or darken the
visible bands together; vegetation moves red and NIR apart, haze moves blue most). The mean of all bands
had lost (docs/change-detection.md, *Directions*): that mean lets one band's change through, the minimum
does not.
"""

from __future__ import annotations

if __name__ == "__main__":  # imported by the benchmarks, nothing of its own to run (it stopped in an import error)
    raise SystemExit("error: benchmarks/oscd_band_agreement.py is a part of other benchmarks, not one to run: run python benchmarks/oscd_statistics.py")

from collections.abc import Callable

import numpy as np

from geo.change.local import PRECISION, robust_z
from geo.change.local_blocks import local_regression_residual

from benchmarks.oscd_candidates import _memo, robust_min
from benchmarks.oscd_directions import CityData
from benchmarks.oscd_multivariate import ZPair, fused

SCALE = 1.25  # the minimum of two statistics sits lower than either: onto the shared grid (as the 20 m screen)


def band_z(city: CityData, band: str, window: int) -> ZPair:
    """Signed robust z of ``band``'s local-regression residual, after from before and before from after."""
    def make() -> ZPair:
        i = city.bands.index(band)
        b, a = city.before[i].astype(np.float64), city.after[i].astype(np.float64)

        def z(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            return np.asarray(np.nan_to_num(robust_z(local_regression_residual(x, y, city.valid, window), city.valid,
                                                     PRECISION)))
        return z(b, a), z(a, b)
    return _memo(city, f"z {band} {window}", make)  # type: ignore[return-value]


def band_fusion(city: CityData, band: str) -> np.ndarray:
    return _memo(city, f"fusion {band}", lambda: fused(city.valid, lambda w: band_z(city, band, w)))  # type: ignore[return-value]


def minimum_with(*others: str) -> Callable[[CityData], np.ndarray]:
    def statistic(city: CityData) -> np.ndarray:
        return np.asarray(SCALE * np.min([robust_min(city), *(band_fusion(city, b) for b in others)], axis=0))
    return statistic


def geometric_with(other: str) -> Callable[[CityData], np.ndarray]:
    def statistic(city: CityData) -> np.ndarray:
        return np.asarray(np.sqrt(robust_min(city) * band_fusion(city, other)))
    return statistic


def same_sign_as(other: str, weight: float = 0.5) -> Callable[[CityData], np.ndarray]:
    """Red's z × ``weight`` where ``other``'s residual (same direction, same window) has the opposite sign."""
    def statistic(city: CityData) -> np.ndarray:
        def pair(window: int) -> ZPair:
            red, second = band_z(city, "red", window), band_z(city, other, window)
            return (red[0] * np.where(red[0] * second[0] >= 0, 1.0, weight),
                    red[1] * np.where(red[1] * second[1] >= 0, 1.0, weight))
        return fused(city.valid, pair)
    return statistic


CANDIDATES: dict[str, Callable[[CityData], np.ndarray]] = {
    "bands agree: min of red and green fusions (x 1.25)": minimum_with("green"),
    "bands agree: min of red, green and blue fusions (x 1.25)": minimum_with("green", "blue"),
    "bands agree: min of red and NIR fusions (x 1.25)": minimum_with("nir"),
    "bands agree: min of red and SWIR 1.6 fusions (x 1.25)": minimum_with("swir16"),
    "bands agree: geometric mean of red and green fusions": geometric_with("green"),
    "bands agree: red x 0.5 where green's residual has the other sign": same_sign_as("green"),
}
