"""Change typing: what kind of change a region is, from spectral indices before and after.

Rules on region means of NDVI (vegetation), a water index, NDBI (built-up/bare) and visible brightness.
Each type carries a confidence in 0..1: 0.5 at the rule's cut, approaching 1 as the deciding quantity moves
a scale past it.

Water is Xu's MNDWI (green vs SWIR 1.6 µm) where SWIR is read, else McFeeters' NDWI, split at a *scene*
level: over top-of-atmosphere data haze lifts urban MNDWI to ~0.1 while water stays far above, so a fixed
0 calls hazy cities water. The level is Otsu's split of the scene's index, kept within [0, 0.3]; and water
must also be dark in the near infrared (below half the scene's median), which wet roofs and winter
shade, bright in NIR, are not.

=====================  ==================================================================================
``vessel``             water before, a small bright object after (≤ 60,000 m²): a ship at berth or anchor
``water_to_land``      water before, land after (reclamation, a larger object on water, low water)
``land_to_water``      land before, water after (flooding, dredging, a new basin)
``new_bright_surface`` new built or bright surface: roofs, concrete, hard standing, vehicles, tents
``bare_soil``          earthworks: vegetation removed leaving bare, SWIR-bright ground
``vegetation_loss``    vegetation cleared or dried, not to bare bright ground
``vegetation_gain``    vegetation grew
``darkening``          a non-vegetated surface darkened (asphalt, dark roof, a construction site built on)
``water_change``       water on both dates, its colour changed (sediment, algae, sun glint)
``other``              none of the above stands out
=====================  ==================================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from skimage.filters import threshold_otsu

CHANGE_TYPES = (
    "vessel",
    "water_to_land",
    "land_to_water",
    "vegetation_loss",
    "vegetation_gain",
    "bare_soil",
    "new_bright_surface",
    "darkening",
    "water_change",
    "other",
)
STRONG_BRIGHTENING = 0.12  # visible reflectance: roofs, concrete, metal; bare soil brightens less
VESSEL_MAX_AREA_M2 = 60_000.0  # 400 m x 150 m: larger bright objects on water are not single ships
MAX_WATER_LEVEL = 0.3


@dataclass(frozen=True)
class Indices:
    ndvi: float
    water: float  # MNDWI, or NDWI without SWIR
    ndbi: float
    brightness: float
    nir: float = float("nan")


@dataclass(frozen=True)
class SceneLevels:
    """What counts as water in this scene pair (see the module notes)."""

    water_index: float = 0.0
    dark_nir: float = float("inf")

    def is_water(self, region: Indices) -> bool:
        return bool(region.water > self.water_index and not region.nir >= self.dark_nir)


def _ratio(a: float, b: float) -> float:
    return float((a - b) / (a + b)) if np.isfinite(a + b) and (a + b) != 0 else float("nan")


def indices(means: Mapping[str, float]) -> Indices:
    """Indices from mean reflectances of a region (keys: Earth Search asset names)."""
    green, red, nir = means.get("green", np.nan), means.get("red", np.nan), means.get("nir", np.nan)
    swir = means.get("swir16", np.nan)
    visible = [means[b] for b in ("blue", "green", "red") if b in means]
    return Indices(
        ndvi=_ratio(nir, red),
        water=_ratio(green, swir) if np.isfinite(swir) else _ratio(green, nir),
        ndbi=_ratio(swir, nir),
        brightness=float(np.mean(visible)) if visible else np.nan,
        nir=float(nir),
    )


def water_index(green: np.ndarray, nir: np.ndarray | None, swir16: np.ndarray | None = None) -> np.ndarray:
    """Water > 0, per pixel (the index ``indices`` uses). With SWIR 1.6 um, Xu's MNDWI (green - SWIR) /
    (green + SWIR): built-up land, dark roofs and asphalt, which McFeeters' NDWI (green - NIR) /
    (green + NIR) often calls water, reflect SWIR and come out negative. Ships, land and cloud are < 0
    in both."""
    other = nir if swir16 is None else swir16
    with np.errstate(divide="ignore", invalid="ignore"):
        index: np.ndarray = (green - other) / (green + other)
        return index


def _stack_water_index(stack: np.ndarray, bands: tuple[str, ...] | list[str]) -> np.ndarray:
    names = list(bands)
    green = stack[names.index("green")]  # required, like nir in scene_levels
    nir, swir16 = (stack[names.index(b)] if b in names else None for b in ("nir", "swir16"))
    return water_index(green, nir, swir16)


def water_level(*water: np.ndarray, max_level: float = MAX_WATER_LEVEL) -> float:
    """Otsu's split of the water index between water and land (NaN ignored), kept within [0, max_level]:
    0 is the textbook level, but over top-of-atmosphere (L1C) data haze lifts urban MNDWI to ~0.1 while
    open water stays ~0.8, and the bimodal split follows that."""
    values = np.concatenate([w[np.isfinite(w)].ravel() for w in water]) if water else np.array([])
    if values.size < 2 or np.ptp(values) <= 0:
        return 0.0
    return float(np.clip(threshold_otsu(values), 0.0, max_level))


def scene_levels(before: np.ndarray, after: np.ndarray, valid: np.ndarray, bands: tuple[str, ...] | list[str]) -> SceneLevels:
    """The water levels of a pair over its valid pixels (both dates pooled)."""
    if not valid.any():
        return SceneLevels()
    nir = np.concatenate([before[list(bands).index("nir")][valid], after[list(bands).index("nir")][valid]])
    return SceneLevels(water_level(_stack_water_index(before, bands)[valid], _stack_water_index(after, bands)[valid]),
                       0.5 * float(np.nanmedian(nir)))


def _confidence(margin: float, scale: float) -> float:
    """0.5 at the cut, approaching 1 as the index moves ``scale`` past it."""
    return float(np.clip(0.5 + 0.5 * margin / scale, 0.0, 1.0)) if np.isfinite(margin) else 0.5


def classify(before: Indices, after: Indices, area_m2: float, levels: SceneLevels = SceneLevels()) -> tuple[str, float]:
    """(change_type, confidence in 0..1) for one region."""
    was_water, is_water = levels.is_water(before), levels.is_water(after)
    water_level = levels.water_index
    d_ndvi = after.ndvi - before.ndvi
    d_bright = after.brightness - before.brightness
    if was_water and not is_water:
        margin = water_level - after.water
        if area_m2 <= VESSEL_MAX_AREA_M2 and d_bright > 0:
            return "vessel", _confidence(margin, 0.2)
        return "water_to_land", _confidence(margin, 0.2)
    if is_water and not was_water:
        return "land_to_water", _confidence(after.water - water_level, 0.2)
    if is_water and was_water:
        return "water_change", _confidence(min(before.water, after.water) - water_level, 0.2)
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
