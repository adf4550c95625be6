"""Change typing: what kind of change a region is, from spectral indices before and after.

Rules on region means of NDVI (vegetation), a water index, NDBI (built-up/bare) and visible brightness.
Each type carries a confidence in 0..1: 0.5 at the rule's cut, approaching 1 as the deciding quantity moves
a scale past it.

Water is Xu's MNDWI (green vs SWIR 1.6 µm) where SWIR is read, else McFeeters' NDWI, split at a *scene*
level: over top-of-atmosphere data haze lifts urban MNDWI to ~0.1 while water stays far above, so a fixed
0 calls hazy cities water. The level is Otsu's split of the scene's index, kept within [0, 0.3]; and water
must also be dark in the near infrared (below half the scene's median), which wet roofs and winter
shade, bright in NIR, are not — or below the median and darker in NIR than in red, as turbid water is.

=====================  ==================================================================================
``vessel``             water before, a small bright object after (≤ 60,000 m²): a ship at berth or anchor
``water_to_land``      water before, land after (reclamation, a larger object on water, low water)
``land_to_water``      land before, water after (flooding, dredging, a new basin)
``new_bright_surface`` new built or bright surface: roofs, concrete, hard standing, vehicles, tents
``bare_soil``          earthworks: vegetation removed leaving bare, SWIR-bright ground
``vegetation_loss``    vegetation cleared or dried, not to bare bright ground
``vegetation_gain``    vegetation grew
``darkening``          a non-vegetated surface darkened (asphalt, dark roof, a construction site built on)
``shadow``             low priority: the same surface in or out of shadow (see below), not a new material
``water_change``       low priority: water on both dates, its surface changed (sediment, algae, sun glint)
``other``              none of the above stands out
=====================  ==================================================================================

A shadow cast (or gone) is told from a material change by how the light changes: shadow removes direct
sunlight and leaves blue skylight, so every band darkens and the long wavelengths (NIR, SWIR) far the most.
Reflectances are compared above the scene's dark level (its 1st percentile: the path radiance that
top-of-atmosphere data add to every pixel, shadow or not). A construction site built on darkens the
visible most (bright soil or concrete under a darker roof) and is not a shadow. ``shadow`` and
``water_change`` are types no claim signature lists (``geo/claims.py``): they are reported, never evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from skimage.filters import threshold_otsu

from geo.change.sampling import distinct_sample
from geo.change.normalised_stack import NormalisedStack, stack_pixels
from geo.scenes.scratch import nth_valid

CHANGE_TYPES = (
    "vessel",
    "water_to_land",
    "land_to_water",
    "vegetation_loss",
    "vegetation_gain",
    "bare_soil",
    "new_bright_surface",
    "darkening",
    "shadow",
    "water_change",
    "other",
)
STRONG_BRIGHTENING = 0.12  # visible reflectance: roofs, concrete, metal; bare soil brightens less
VESSEL_MAX_AREA_M2 = 60_000.0  # 400 m x 150 m: larger bright objects on water are not single ships
MAX_WATER_LEVEL = 0.3
SHADOW_RATIO = 0.8  # shadow: every band (above the dark level) below this share of its sunlit value
SKYLIGHT_TILT = 0.7  # and NIR and SWIR keep at most this much of the visible's share (skylight is blue)
DARK_PERCENTILE = 1.0


@dataclass(frozen=True)
class Indices:
    ndvi: float
    water: float  # MNDWI, or NDWI without SWIR
    ndbi: float
    brightness: float
    nir: float = float("nan")
    swir: float = float("nan")  # mean of the SWIR bands read (1.6 and 2.2 um)


@dataclass(frozen=True)
class SceneLevels:
    """What counts as water in this scene pair (see the module notes)."""

    water_index: float = 0.0
    dark_nir: float = float("inf")
    # The scene's dark level (path radiance) of visible brightness, NIR and SWIR: see the module notes.
    path: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def is_water(self, region: Indices) -> bool:
        """Water index above the scene's level, and dark in NIR: below half the scene's median, or below
        the median and darker than in red (turbid water: sediment lifts NIR, water still absorbs it more
        than red)."""
        return bool(region.water > self.water_index and (not region.nir >= self.dark_nir or (region.ndvi < 0 and region.nir < 2 * self.dark_nir)))

    def above_path(self, region: Indices) -> tuple[float, float, float]:
        """(visible, NIR, SWIR) of a region above the scene's dark level."""
        values = (region.brightness, region.nir, region.swir)
        return (values[0] - self.path[0], values[1] - self.path[1], values[2] - self.path[2])


def _ratio(a: float, b: float) -> float:
    return float((a - b) / (a + b)) if np.isfinite(a + b) and (a + b) != 0 else float("nan")


def indices(means: Mapping[str, float]) -> Indices:
    """Indices from mean reflectances of a region (keys: Earth Search asset names)."""
    green, red, nir = means.get("green", np.nan), means.get("red", np.nan), means.get("nir", np.nan)
    swir = means.get("swir16", np.nan)
    visible = [means[b] for b in ("blue", "green", "red") if b in means]
    swirs = [means[b] for b in ("swir16", "swir22") if b in means]
    return Indices(
        ndvi=_ratio(nir, red),
        water=_ratio(green, swir) if np.isfinite(swir) else _ratio(green, nir),
        ndbi=_ratio(swir, nir),
        brightness=float(np.mean(visible)) if visible else np.nan,
        nir=float(nir),
        swir=float(np.mean(swirs)) if swirs else np.nan,
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


def _stack_water_index(stack: np.ndarray, bands: tuple[str, ...] | list[str], valid: np.ndarray) -> np.ndarray:
    """The water index of a stack's ``valid`` pixels (computed on those only: no whole-grid temporaries)."""
    names = list(bands)
    green = stack[names.index("green")][valid]  # required, like nir in scene_levels
    nir, swir16 = (stack[names.index(b)][valid] if b in names else None for b in ("nir", "swir16"))
    return water_index(green, nir, swir16)


def water_level(*water: np.ndarray, max_level: float = MAX_WATER_LEVEL) -> float:
    """Otsu's split of the water index between water and land (NaN ignored), kept within [0, max_level]:
    0 is the textbook level, but over top-of-atmosphere (L1C) data haze lifts urban MNDWI to ~0.1 while
    open water stays ~0.8, and the bimodal split follows that."""
    values = np.concatenate([w[np.isfinite(w)].ravel() for w in water]) if water else np.array([])
    if values.size < 2 or np.ptp(values) <= 0:
        return 0.0
    return float(np.clip(threshold_otsu(values), 0.0, max_level))


def _dark_level(stacks: tuple[np.ndarray, ...], bands: list[str], group: tuple[str, ...], valid: np.ndarray) -> float:
    """The scene's dark level of the mean of ``group``'s bands (0 when none is read)."""
    present = [bands.index(b) for b in group if b in bands]
    if not present:
        return 0.0
    values = np.concatenate([np.stack([stack[b][valid] for b in present]).mean(axis=0) for stack in stacks])
    return float(np.nanpercentile(values, DARK_PERCENTILE))


def scene_levels(before: np.ndarray, after: np.ndarray | NormalisedStack, valid: np.ndarray, bands: tuple[str, ...] | list[str]) -> SceneLevels:
    """The water and dark levels of a pair over its valid pixels (both dates pooled): all of them up to a
    million, else a fixed sample of a million (``geo.change.sampling``), read at those pixels only."""
    if not valid.any():
        return SceneLevels()
    pixels = nth_valid(valid, distinct_sample(int(np.count_nonzero(valid))))
    before, after = stack_pixels(before, pixels), stack_pixels(after, pixels)  # (band, pixel)
    valid = np.ones(pixels.size, bool)
    names = list(bands)
    nir = np.concatenate([before[names.index("nir")][valid], after[names.index("nir")][valid]])
    path = tuple(_dark_level((before, after), names, group, valid)
                 for group in (("blue", "green", "red"), ("nir",), ("swir16", "swir22")))
    return SceneLevels(water_level(_stack_water_index(before, bands, valid), _stack_water_index(after, bands, valid)),
                       0.5 * float(np.nanmedian(nir)), (path[0], path[1], path[2]))


def _confidence(margin: float, scale: float) -> float:
    """0.5 at the cut, approaching 1 as the index moves ``scale`` past it."""
    return float(np.clip(0.5 + 0.5 * margin / scale, 0.0, 1.0)) if np.isfinite(margin) else 0.5


def shadow_margin(before: Indices, after: Indices, levels: SceneLevels = SceneLevels()) -> float:
    """How clearly a region went into (or out of) shadow: > 0 when, above the dark level, every band of
    the darker date is below ``SHADOW_RATIO`` of the brighter date's, and NIR and SWIR keep at most
    ``SKYLIGHT_TILT`` of the share the visible keeps (diffuse skylight, which lights a shadow, is about a
    third of the light in the blue and a few per cent in the SWIR); the margin is the smaller of those
    gaps. NaN without NIR and SWIR."""
    lit, shaded = levels.above_path(before), levels.above_path(after)
    if after.brightness > before.brightness:  # out of shadow: the before date is the shaded one
        lit, shaded = shaded, lit
    if not all(np.isfinite(lit + shaded)) or min(lit) <= 0:
        return float("nan")
    visible, nir, swir = (s / l for s, l in zip(shaded, lit))
    return float(min(SHADOW_RATIO - max(visible, nir, swir), SKYLIGHT_TILT * visible - max(nir, swir)))


def classify(before: Indices, after: Indices, area_m2: float, levels: SceneLevels = SceneLevels()) -> tuple[str, float]:
    """(change_type, confidence in 0..1) for one region."""
    was_water, is_water = levels.is_water(before), levels.is_water(after)
    water_level = levels.water_index
    d_ndvi = after.ndvi - before.ndvi
    d_bright = after.brightness - before.brightness
    # In top-of-atmosphere data a shadow looks like water (dark NIR, SWIR darkened most): a region that
    # turned "water" the way light changes under a shadow is one, unless that date shows open water,
    # which absorbs NIR more than red (NDVI < 0); shaded land need not.
    shadow = shadow_margin(before, after, levels)
    if was_water and not is_water:
        margin = water_level - after.water
        if shadow > 0 and not before.ndvi < 0:
            return "shadow", _confidence(shadow, 0.1)
        if area_m2 <= VESSEL_MAX_AREA_M2 and d_bright > 0:
            return "vessel", _confidence(margin, 0.2)
        return "water_to_land", _confidence(margin, 0.2)
    if is_water and not was_water:
        if shadow > 0 and not after.ndvi < 0:
            return "shadow", _confidence(shadow, 0.1)
        return "land_to_water", _confidence(after.water - water_level, 0.2)
    if is_water and was_water:
        return "water_change", _confidence(min(before.water, after.water) - water_level, 0.2)
    if shadow > 0:
        return "shadow", _confidence(shadow, 0.1)
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
