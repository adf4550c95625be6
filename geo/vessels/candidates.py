"""What a Sentinel-2 ship candidate looks like: a few physical measures per detection, for the classifier
(``geo.vessels.ship_model``) that tells hulls from the quay-side clutter the single-scene land model lets
through (containers, cranes, hull-shaped land pieces, bank slivers).

Each measure is taken on the detection's own pixels (its footprint, rasterised back onto the grid) and on
two rings around it (1-3 px and 4-8 px out): size and shape, brightness and spectrum shape inside,
contrast to the nearby water, and how much land (of the land model the detector ran with) surrounds it.
A hull at berth has land on one side only and water beyond bow and stern; a container stack or a crane
on a quay has land all round; a surf line or bank sliver is long, thin and wet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from rasterio import features as rio_features
from scipy import ndimage as ndi

from geo.grid import Grid
from geo.vessels.model import VesselDetection

FEATURES = (
    "log_length", "log_width", "log_elongation", "fill", "log_peak", "nir_contrast", "swir_over_nir",
    "ndvi", "blue_over_nir", "mndwi", "nir_variation", "land_near", "land_around", "water_index_around",
)
NEAR_PX = 3
AROUND_PX = 8
EPS = 1e-4


def _ratio(a: float, b: float) -> float:
    return a / max(b, EPS)


def _mean(band: np.ndarray, where: np.ndarray) -> float:
    values = band[where]
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else 0.0


def footprints(detections: Sequence[VesselDetection], grid: Grid) -> np.ndarray:
    """The detections' pixel footprints on ``grid``: k on the k-th detection's pixels (1-based), 0 elsewhere."""
    out: np.ndarray = rio_features.rasterize([(d.geometry, k) for k, d in enumerate(detections, start=1)],
                                             out_shape=grid.shape, transform=grid.transform, fill=0, dtype="int32")
    return out


def candidate_features(detections: Sequence[VesselDetection], bands: Mapping[str, np.ndarray], land: np.ndarray,
                       grid: Grid) -> np.ndarray:
    """One row of ``FEATURES`` per detection (``bands``: reflectance with blue, green, red, nir, swir16;
    ``land``: the land model the detector ran with, True = land)."""
    out = np.zeros((len(detections), len(FEATURES)))
    if not detections:
        return out
    labels = footprints(detections, grid)
    b = {name: np.asarray(bands[name], dtype=np.float64) for name in ("blue", "green", "red", "nir", "swir16")}
    with np.errstate(divide="ignore", invalid="ignore"):
        mndwi = (b["green"] - b["swir16"]) / (b["green"] + b["swir16"])
    pixel = math.sqrt(grid.pixel_area)
    rows, cols = grid.shape
    for k, d in enumerate(detections, start=1):
        c, r = ~grid.transform @ (d.x, d.y)
        half = int(math.ceil(d.length_m / pixel / 2)) + AROUND_PX + 2
        r0, r1 = max(int(r) - half, 0), min(int(r) + half + 1, rows)
        c0, c1 = max(int(c) - half, 0), min(int(c) + half + 1, cols)
        window = (slice(r0, r1), slice(c0, c1))
        inside = labels[window] == k
        if not inside.any():  # a sliver polygon whose pixel centres fall outside it: its centre pixel
            inside[min(max(int(r) - r0, 0), r1 - r0 - 1), min(max(int(c) - c0, 0), c1 - c0 - 1)] = True
        near = ndi.binary_dilation(inside, iterations=NEAR_PX) & ~inside
        around = ndi.binary_dilation(inside, iterations=AROUND_PX) & ~ndi.binary_dilation(inside, iterations=NEAR_PX)
        other = labels[window] > 0
        sea_near = near & ~land[window] & ~other
        sea_around = around & ~land[window] & ~other
        water_ref = sea_around if sea_around.sum() >= 5 else sea_near if sea_near.sum() >= 3 else ~land[window] & ~inside
        w = {name: band[window] for name, band in b.items()}
        mean = {name: _mean(band, inside) for name, band in w.items()}
        water = {name: float(np.nanmedian(band[water_ref])) if water_ref.any() else 0.0 for name, band in w.items()}
        nir_inside = w["nir"][inside]
        out[k - 1] = [
            math.log(d.length_m), math.log(d.width_m), math.log(d.length_m / d.width_m),
            min(d.area_m2 / (d.length_m * d.width_m), 2.0), math.log(max(d.peak, 1.0)),
            mean["nir"] - water["nir"],
            _ratio(mean["swir16"] - water["swir16"], mean["nir"] - water["nir"]),
            _ratio(mean["nir"] - mean["red"], mean["nir"] + mean["red"]),
            _ratio(mean["blue"], mean["nir"]),
            _mean(mndwi[window], inside),
            _ratio(float(np.nanstd(nir_inside)), float(np.nanmean(nir_inside))),
            float(land[window][near].mean()) if near.any() else 0.0,
            float(land[window][around].mean()) if around.any() else 0.0,
            _mean(mndwi[window], around),
        ]
    return np.clip(np.nan_to_num(out), -20.0, 20.0)
