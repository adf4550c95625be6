"""Change typing from region means: each type from spectra that show it, with a confidence."""

from __future__ import annotations

import numpy as np
import pytest

from geo.change.classify import SceneLevels, classify, indices, scene_levels, water_level
from tests.change.scenes import BANDS, ROOF, URBAN, VEGETATION, WATER

BARE = np.array([0.12, 0.15, 0.18, 0.24, 0.32, 0.28])
ASPHALT = np.array([0.05, 0.06, 0.06, 0.08, 0.10, 0.09])
SHIP = np.array([0.20, 0.21, 0.22, 0.25, 0.18, 0.14])
LEVELS = SceneLevels(water_index=0.1, dark_nir=0.08)


def _ix(spectrum):
    return indices(dict(zip(BANDS, map(float, spectrum))))


@pytest.mark.parametrize("before, after, area, expected", [
    (WATER, SHIP, 2_000.0, "vessel"),
    (WATER, URBAN, 200_000.0, "water_to_land"),
    (URBAN, WATER, 20_000.0, "land_to_water"),
    (VEGETATION, ROOF, 5_000.0, "new_bright_surface"),
    (URBAN, ROOF, 5_000.0, "new_bright_surface"),
    (VEGETATION, BARE, 20_000.0, "bare_soil"),
    (VEGETATION, 0.5 * VEGETATION + 0.5 * ASPHALT, 20_000.0, "vegetation_loss"),
    (BARE, VEGETATION, 20_000.0, "vegetation_gain"),
    (BARE, ASPHALT, 5_000.0, "darkening"),
    (WATER, WATER * 1.6, 50_000.0, "water_change"),
])
def test_types(before, after, area, expected):
    change_type, confidence = classify(_ix(before), _ix(after), area, LEVELS)
    assert change_type == expected
    assert 0.5 <= confidence <= 1.0


def test_confidence_grows_with_the_deciding_change():
    weak = classify(_ix(URBAN), _ix(URBAN + 0.03), 1000.0, LEVELS)
    strong = classify(_ix(URBAN), _ix(URBAN + 0.06), 1000.0, LEVELS)
    assert weak[0] == strong[0] == "new_bright_surface" and strong[1] > weak[1]


def test_hazy_city_is_not_water():
    """Top-of-atmosphere winter data: urban MNDWI above 0, yet NIR far from water-dark."""
    hazy = np.array([0.17, 0.16, 0.12, 0.12, 0.10, 0.08])
    assert _ix(hazy).water > LEVELS.water_index
    assert classify(_ix(hazy), _ix(hazy + 0.05), 5_000.0, LEVELS)[0] == "new_bright_surface"


def test_scene_levels_split_water_from_land():
    rng = np.random.default_rng(0)
    shape = (100, 100)
    scene = np.where(np.arange(100)[None, :, None] < 30, WATER[:, None, None], URBAN[:, None, None]) * np.ones((6, *shape))
    scene = scene + rng.normal(scale=0.003, size=scene.shape)
    levels = scene_levels(scene, scene, np.ones(shape, bool), BANDS)
    assert 0.0 <= levels.water_index <= 0.3
    assert levels.is_water(_ix(WATER)) and not levels.is_water(_ix(URBAN))
    assert water_level(np.full(10, 0.2)) == 0.0  # no contrast: the textbook level


# Sunlit spectra put into shadow as physics does it: above the path radiance every band keeps the
# diffuse skylight's share of its light, a third in the blue and a few per cent in the SWIR.
PATH = np.array([0.06, 0.05, 0.04, 0.02, 0.01, 0.005])
SKYLIGHT = np.array([0.35, 0.25, 0.2, 0.12, 0.06, 0.04])
SHADED_LEVELS = SceneLevels(water_index=0.1, dark_nir=0.08, path=(0.05, 0.02, 0.0075))


def _shaded(spectrum):
    return PATH + (spectrum - PATH).clip(0) * SKYLIGHT


@pytest.mark.parametrize("lit", [VEGETATION + PATH, 0.3 * URBAN + 0.7 * VEGETATION + PATH])
def test_a_shadow_cast_or_gone_is_shadow(lit):
    """On main a shadow was vegetation loss / gain. (In shadow, grey surfaces keep more red than NIR above
    the path radiance, like open water: those stay water types, see ``geo.change.classify``.)"""
    shaded = _shaded(lit)
    assert classify(_ix(lit), _ix(shaded), 3_000.0, SHADED_LEVELS)[0] == "shadow"
    assert classify(_ix(shaded), _ix(lit), 3_000.0, SHADED_LEVELS)[0] == "shadow"


@pytest.mark.parametrize("before, after, expected", [
    (BARE, ASPHALT, "darkening"),  # a site built on darkens every band about as much: not a shadow
    (np.array([0.22, 0.24, 0.26, 0.30, 0.33, 0.30]), np.array([0.10, 0.10, 0.11, 0.21, 0.28, 0.27]), "darkening"),
    (URBAN, WATER, "land_to_water"),  # open water (NIR below red) on the after date: water, not shadow
    (WATER, SHIP, "vessel"),
])
def test_material_change_and_open_water_are_not_shadow(before, after, expected):
    assert classify(_ix(before + PATH), _ix(after + PATH), 3_000.0, SHADED_LEVELS)[0] == expected


def test_turbid_water_on_both_dates_is_a_water_change():
    """Sediment lifts a river's NIR above the scene's water-dark level (main typed it vessel or darkening);
    water still absorbs NIR more than red, so both dates are water and the change is the water's."""
    clear = np.array([0.07, 0.08, 0.06, 0.05, 0.02, 0.015])
    turbid = np.array([0.09, 0.12, 0.13, 0.11, 0.04, 0.03])
    levels = SceneLevels(water_index=0.1, dark_nir=0.08)
    assert _ix(turbid).nir >= levels.dark_nir and _ix(turbid).ndvi < 0
    assert classify(_ix(clear), _ix(turbid), 20_000.0, levels)[0] == "water_change"
    assert classify(_ix(turbid), _ix(clear), 20_000.0, levels)[0] == "water_change"
    bright_land = np.array([0.17, 0.18, 0.19, 0.18, 0.06, 0.05])  # NDVI < 0 but NIR above the median
    assert not levels.is_water(_ix(bright_land))


def test_every_change_type_has_a_colour():
    from geo.change.classify import CHANGE_TYPES
    from geo.outputs.palette import CHANGE_TYPE_COLOURS, OTHER_COLOUR

    assert set(CHANGE_TYPES) == set(CHANGE_TYPE_COLOURS)
    assert CHANGE_TYPE_COLOURS["shadow"] != OTHER_COLOUR


def test_without_swir22_a_region_is_typed_otherwise_only_by_the_shadow_test():
    """A pair without B12 (``geo.jobs.band_needs``): B12 reaches typing only through the shadow test's SWIR level,
    so over 20,000 random region pairs (the scene's dark level read with and without it too) a type changes only
    where one of the two types is ``shadow``; and there are such regions (B12 does tell some apart)."""
    rng = np.random.default_rng(7)
    spectra = np.stack([WATER, SHIP, URBAN, ROOF, VEGETATION, BARE, ASPHALT])
    five = [b for b in BANDS if b != "swir22"]
    changed = 0
    for _ in range(20_000):
        before, after = (spectra[rng.integers(len(spectra))] * rng.uniform(0.3, 1.5, len(BANDS)) for _ in range(2))
        path = rng.uniform(0.0, 0.03, 3)
        with_b12 = SceneLevels(0.1, 0.08, (path[0], path[1], path[2]))
        without = SceneLevels(0.1, 0.08, (path[0], path[1], path[2] * rng.uniform(0.7, 1.3)))
        full = classify(_ix(before), _ix(after), 5_000.0, with_b12)[0]
        means = [{b: float(v) for b, v in zip(BANDS, s) if b in five} for s in (before, after)]
        degraded = classify(indices(means[0]), indices(means[1]), 5_000.0, without)[0]
        if full != degraded:
            changed += 1
            assert "shadow" in (full, degraded), (full, degraded)
    assert changed > 0
