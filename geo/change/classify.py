"""Change typing: what kind of change a region is, from spectral indices before and after.

Rules on region means of NDVI (vegetation), NDWI (open water, McFeeters), NDBI (built-up/bare) and
brightness. Each type carries a confidence from how far the deciding index moved past its cut.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

CHANGE_TYPES = (
    "vessel",
    "water_to_land",
    "land_to_water",
    "vegetation_loss",
    "vegetation_gain",
    "bare_soil",
    "new_bright_surface",
    "darkening",
    "other",
)
STRONG_BRIGHTENING = 0.08  # visible reflectance
VESSEL_MAX_AREA_M2 = 60_000.0  # 400 m x 150 m: larger bright objects on water are not single ships


@dataclass(frozen=True)
class Indices:
    ndvi: float
    ndwi: float
    ndbi: float
    brightness: float


def _ratio(a: float, b: float) -> float:
    return float((a - b) / (a + b)) if (a + b) != 0 else 0.0


def indices(means: Mapping[str, float]) -> Indices:
    """Indices from mean reflectances of a region (keys: Earth Search asset names)."""
    green, red, nir = means.get("green", np.nan), means.get("red", np.nan), means.get("nir", np.nan)
    swir = means.get("swir16", np.nan)
    visible = [means[b] for b in ("blue", "green", "red") if b in means]
    return Indices(
        ndvi=_ratio(nir, red),
        ndwi=_ratio(green, nir),
        ndbi=_ratio(swir, nir) if np.isfinite(swir) else np.nan,
        brightness=float(np.mean(visible)) if visible else np.nan,
    )


def _confidence(margin: float, scale: float) -> float:
    """0.5 at the cut, approaching 1 as the index moves ``scale`` past it."""
    return float(np.clip(0.5 + 0.5 * margin / scale, 0.0, 1.0))


def classify(before: Indices, after: Indices, area_m2: float) -> tuple[str, float]:
    """(change_type, confidence in 0..1) for one region."""
    was_water, is_water = before.ndwi > 0.0, after.ndwi > 0.0
    d_ndvi = after.ndvi - before.ndvi
    d_bright = after.brightness - before.brightness
    if was_water and not is_water:
        if area_m2 <= VESSEL_MAX_AREA_M2 and d_bright > 0:
            return "vessel", _confidence(-after.ndwi, 0.2)
        return "water_to_land", _confidence(-after.ndwi, 0.2)
    if is_water and not was_water:
        return "land_to_water", _confidence(after.ndwi, 0.2)
    if d_ndvi < -0.15 and before.ndvi > 0.3:
        if d_bright > STRONG_BRIGHTENING:  # roofs, concrete, metal: far brighter than soil in the visible
            return "new_bright_surface", _confidence(d_bright - STRONG_BRIGHTENING, 0.1)
        if np.isfinite(after.ndbi) and after.ndbi > 0.05 and after.ndvi < 0.2:
            return "bare_soil", _confidence(-d_ndvi - 0.15, 0.3)
        return "vegetation_loss", _confidence(-d_ndvi - 0.15, 0.3)
    if d_ndvi > 0.15 and after.ndvi > 0.3:
        return "vegetation_gain", _confidence(d_ndvi - 0.15, 0.3)
    if d_bright > 0.02:
        return "new_bright_surface", _confidence(d_bright - 0.02, 0.05)
    if d_bright < -0.02:
        return "darkening", _confidence(-d_bright - 0.02, 0.05)
    return "other", 0.5
