"""An AOI drawn wholly on the water (a roadstead, an anchorage): its water index has no land in it, only calm
and sun-glinted water. Otsu's split of that histogram fell between the two waters (MNDWI ~0.8 and ~0.33),
clipped to 0.3, so glinted water near 0.3 became a speckle of "land": on the synthetic port's open water
(tests/vessels/port.py) ``geo vessels`` counted 20 Sentinel-2 vessels where 2 were planted, and saw 1.79 of
its 3.25 km2 of water. A split whose darker side is water too is no land/water split."""

from __future__ import annotations

import numpy as np
import pytest

from geo.change.classify import water_index
from geo.vessels.landmask import optical_land_mask
from tests.vessels import sea, sen2ships

SHAPE = (200, 200)
GRID = sea.scene_grid(SHAPE)


def _indices(land: np.ndarray | None) -> list[np.ndarray]:
    """Three dates of open water, the right quarter glinted (``sea.optical_scene``), no ship."""
    scenes = [sea.optical_scene(SHAPE, [], seed=seed, land=land) for seed in range(3)]
    return [water_index(b["green"], b["nir"], b["swir16"]) for b in scenes]


def test_glinted_open_water_is_all_water():
    indices = _indices(None)
    glint = np.zeros(SHAPE, bool)
    glint[:, 3 * SHAPE[1] // 4:] = True
    assert 0.25 < float(np.median(indices[0][glint])) < 0.4 < 0.75 < float(np.median(indices[0][~glint]))
    for dates in (indices, indices[:1]):  # the time-series mask and the single-scene one
        land, _ = optical_land_mask(dates, GRID)
        assert not land.any(), f"{land.mean():.0%} of open water taken for land ({len(dates)} date(s))"


def test_a_coast_still_splits_land_from_glinted_water():
    coast = np.zeros(SHAPE, bool)
    coast[:, :50] = True
    for dates in (_indices(coast), _indices(coast)[:1]):
        land, _ = optical_land_mask(dates, GRID)
        assert land[:, :50].all()
        assert not land[:, 60:].any(), f"{land[:, 60:].mean():.0%} of the water taken for land"


# A real anchorage: Algiers' roadstead (sen2ships, Sentinel-2 L2A of 2023-08-17), 4 x 4 km of open sea under sun
# glint holding 4 labelled ships of 118-214 m. Its MNDWI is ~0.1 throughout (SWIR lifted to near the green), so
# Otsu split calm from glinted water at 0.099 (darker side's median 0.089, under the 0.3 the rule above looked
# for): half the sea was "land", and an AOI drawn there saw "100% of the water (0.10 km2)" of its 4 km2 and 0 of
# its ships. A split whose darker side is water by the index's own sign (MNDWI > 0) is no land/water split.
ANCHORAGE = (slice(500, 900), slice(850, 1250))


@pytest.mark.skipif(not sen2ships.available(), reason="no sen2ships ports in ../shared/data")
def test_a_real_glinted_anchorage_is_all_water():
    crop = sen2ships.load_port("algiers").crop(*ANCHORAGE)
    b = crop.bands
    index = water_index(b["green"], b["nir"], b["swir16"])
    assert 0.05 < float(np.nanmedian(index)) < 0.15
    land, _ = optical_land_mask([index], crop.grid)
    ships = crop.ships > 0
    assert len(np.unique(crop.ships[ships])) == 4
    assert land[~ships].mean() < 0.01, f"{land[~ships].mean():.0%} of the open sea taken for land"
