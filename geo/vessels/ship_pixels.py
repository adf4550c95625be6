"""Which non-water pixels of one Sentinel-2 scene are ship: a per-pixel probability learnt on the six
sen2ships development ports' ship masks (``benchmarks/vessel_pixel_model.py``), shipped as a small tree
ensemble in JSON (``geo/vessels/params/ship_pixels.json``) and evaluated here with numpy only.

The single-scene land model keeps a berthed ship only when the water brackets it along its length
(``geo.vessels.berths``); a container ship loaded like the yard beside it, or a ferry moored bow-on in a
slip, is not bracketed and stays land. Per pixel, measures that travel between ports tell a hull from the
quay it lies on: its spectrum (painted steel and cargo stay flat from NIR to SWIR, concrete and soil rise),
its contrast to the nearest water at two scales, how much water lies around it at three scales (a hull
juts into the water; a yard's quay edge has water on one side only, along a straight line), how far the
water edge is, and its texture. Connected pieces of high probability, of a ship's size, become objects on
the water: the detector and the hull model (``geo.vessels.ship_model``) then judge them like the others.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from geo.change.labels import EIGHT

SHIPPED_PIXELS = "ship_pixels.json"

PIXEL_FEATURES = (
    "mndwi", "ndvi", "nir", "swir_minus_nir", "blue_minus_nir", "nir_contrast_3", "nir_contrast_10",
    "swir_contrast_10", "water_5", "water_11", "water_25", "log_water_distance", "nir_sd_3", "mndwi_mean_5",
)
SHIP_PIXEL_BANDS = ("blue", "green", "red", "nir", "swir16")
NEAR_WATER_PX = 25  # 250 m: the width of three hulls moored abreast against the quay, and then some


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out: np.ndarray = np.nan_to_num(a / b)
    return out


def _water_background(band: np.ndarray, water: np.ndarray, sigma: float) -> np.ndarray:
    """Per pixel, ``band``'s mean over the water near it (Gaussian-weighted, ``sigma`` px), the scene's water
    median where no water is near."""
    weight = ndi.gaussian_filter(water.astype(np.float32), sigma)
    total = ndi.gaussian_filter(np.where(water, band, 0.0).astype(np.float32), sigma)
    fallback = float(np.median(band[water])) if water.any() else 0.0
    out: np.ndarray = np.where(weight > 1e-3, total / np.maximum(weight, 1e-3), fallback)
    return out


def pixel_features(bands: Mapping[str, np.ndarray], water: np.ndarray) -> np.ndarray:
    """(len(PIXEL_FEATURES), rows, cols) float32 per-pixel measures (``bands``: reflectance with blue,
    green, red, nir, swir16; ``water``: the scene's water, True = water)."""
    b = {name: np.nan_to_num(np.asarray(bands[name], dtype=np.float32)) for name in SHIP_PIXEL_BANDS}
    mndwi = _ratio(b["green"] - b["swir16"], b["green"] + b["swir16"])
    w = water.astype(np.float32)
    nir_mean = ndi.uniform_filter(b["nir"], 3)
    nir_sd = np.sqrt(np.maximum(ndi.uniform_filter(b["nir"] * b["nir"], 3) - nir_mean**2, 0.0))
    distance = ndi.distance_transform_edt(~water) if water.any() else np.full(water.shape, 1e3)
    columns = {
        "mndwi": mndwi,
        "ndvi": _ratio(b["nir"] - b["red"], b["nir"] + b["red"]),
        "nir": b["nir"],
        "swir_minus_nir": b["swir16"] - b["nir"],
        "blue_minus_nir": b["blue"] - b["nir"],
        "nir_contrast_3": b["nir"] - _water_background(b["nir"], water, 3.0),
        "nir_contrast_10": b["nir"] - _water_background(b["nir"], water, 10.0),
        "swir_contrast_10": b["swir16"] - _water_background(b["swir16"], water, 10.0),
        "water_5": ndi.uniform_filter(w, 5),
        "water_11": ndi.uniform_filter(w, 11),
        "water_25": ndi.uniform_filter(w, 25),
        "log_water_distance": np.log1p(distance),
        "nir_sd_3": nir_sd,
        "mndwi_mean_5": ndi.uniform_filter(mndwi, 5),
    }
    return np.stack([np.asarray(columns[name], dtype=np.float32) for name in PIXEL_FEATURES])


@dataclass(frozen=True)
class PixelModel:
    """Gradient-boosted trees over ``features``: per tree, node arrays (feature index into ``features``,
    -1 at a leaf; threshold; left and right child; leaf value); P(ship) = logistic(base + rate x sum of
    the leaves reached)."""

    features: tuple[str, ...]
    base: float
    rate: float
    trees: tuple[tuple[tuple[int, ...], tuple[float, ...], tuple[int, ...], tuple[int, ...], tuple[float, ...]], ...]
    threshold: float  # pixels with probability >= this are ship
    min_pixels: int  # smaller pieces are not a ship
    trained_on: str = ""

    def probability(self, table: np.ndarray) -> np.ndarray:
        """P(ship) per row of a (n, len(features)) table."""
        score = np.full(len(table), self.base)
        for feature, threshold, left, right, value in self.trees:
            f, t, lo, hi, v = (np.asarray(a) for a in (feature, threshold, left, right, value))
            node = np.zeros(len(table), np.int64)
            for _ in range(len(f)):
                inner = f[node] >= 0
                if not inner.any():
                    break
                x = table[np.arange(len(table)), np.maximum(f[node], 0)]
                node = np.where(inner, np.where(x <= t[node], lo[node], hi[node]), node)
            score += self.rate * v[node]
        out: np.ndarray = 1.0 / (1.0 + np.exp(-score))
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PixelModel:
        unknown = [name for name in data["features"] if name not in PIXEL_FEATURES]
        if unknown:
            raise ValueError(f"ship pixel model names unknown pixel features: {', '.join(unknown)}")
        trees = tuple((tuple(map(int, t[0])), tuple(map(float, t[1])), tuple(map(int, t[2])), tuple(map(int, t[3])),
                       tuple(map(float, t[4]))) for t in data["trees"])
        return cls(tuple(data["features"]), float(data["base"]), float(data["rate"]), trees, float(data["threshold"]),
                   int(data["min_pixels"]), str(data.get("trained_on", "")))


@lru_cache(maxsize=1)
def shipped_pixel_model() -> PixelModel:
    text = resources.files("geo.vessels").joinpath("params", SHIPPED_PIXELS).read_text()
    return PixelModel.from_dict(json.loads(text))


def ship_probability(bands: Mapping[str, np.ndarray], water: np.ndarray, model: PixelModel,
                     where: np.ndarray | None = None) -> np.ndarray:
    """P(ship) per pixel (0 outside ``where``, default: the non-water pixels)."""
    where = ~water if where is None else where
    features = pixel_features(bands, water)
    columns = [PIXEL_FEATURES.index(name) for name in model.features]
    out = np.zeros(water.shape, np.float32)
    if where.any():
        out[where] = model.probability(features[columns][:, where].T)
    return out


def near_water(water: np.ndarray) -> np.ndarray:
    """The non-water pixels within ``NEAR_WATER_PX`` of the water: where a berthed ship can lie."""
    if not water.any():
        return np.zeros(water.shape, bool)
    out: np.ndarray = ~water & (ndi.distance_transform_edt(~water) <= NEAR_WATER_PX)
    return out


def ship_pixels(bands: Mapping[str, np.ndarray], water: np.ndarray, model: PixelModel) -> np.ndarray:
    """Non-water pixels near the water that the model takes for ship, in pieces (8-connected) of at least
    ``min_pixels``."""
    mask = ship_probability(bands, water, model, near_water(water)) >= model.threshold
    labels, count = ndi.label(mask, structure=EIGHT)
    if count == 0:
        return mask
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    keep = sizes >= model.min_pixels
    keep[0] = False
    out: np.ndarray = keep[labels]
    return out
