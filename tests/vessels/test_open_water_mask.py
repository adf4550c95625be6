"""An AOI drawn wholly on the water (a roadstead, an anchorage): its water index has no land in it, only calm
and sun-glinted water. Otsu's split of that histogram fell between the two waters (MNDWI ~0.8 and ~0.33),
clipped to 0.3, so glinted water near 0.3 became a speckle of "land": on the synthetic port's open water
(tests/vessels/port.py) ``geo vessels`` counted 20 Sentinel-2 vessels where 2 were planted, and saw 1.79 of
its 3.25 km2 of water. A split whose darker side is water too is no land/water split."""

from __future__ import annotations

import numpy as np

from geo.change.classify import water_index
from geo.vessels.landmask import optical_land_mask
from tests.vessels import sea

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
