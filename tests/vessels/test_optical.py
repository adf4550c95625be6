"""Sentinel-2 detector on synthetic water with planted bright hulls, glint, land and a cloud."""

from __future__ import annotations

import numpy as np
import pytest

from geo.change.classify import water_index
from geo.vessels.landmask import optical_land_mask
from geo.vessels.optical import detect_optical
from tests.vessels import sea
from tests.vessels.test_cfar import _matches

SHAPE = (600, 600)
GRID = sea.scene_grid(SHAPE)
CLOUD = (300, 330, 45)


@pytest.fixture(scope="module")
def scene():
    rng = np.random.default_rng(2)
    land = np.zeros(SHAPE, bool)
    land[:, :100] = True
    ships = sea.random_ships(SHAPE, 30, rng, col_min=120, lengths=(30.0, 200.0))
    bands = sea.optical_scene(SHAPE, ships, seed=1, land=land, cloud=CLOUD)
    return bands, ships, land


def _under_cloud(ship, margin=6):
    return np.hypot(ship.row - CLOUD[0], ship.col - CLOUD[1]) <= CLOUD[2] + ship.length_m / 20 + margin


def test_ships_found_cloud_and_glint_ignored(scene):
    bands, ships, land = scene
    out = detect_optical(bands, np.ones(SHAPE, bool), ~land, GRID)  # sea from the map: cloud lies on water
    visible = [s for s in ships if not _under_cloud(s)]
    found, false = _matches(out.detections, visible)
    assert len(found) == len(visible), f"{len(found)} of {len(visible)}"
    assert not false, [(d.x, d.y, d.pixels) for d in false]
    # the cloud is not a ship and its water is not observed
    rr, cc = np.ogrid[: SHAPE[0], : SHAPE[1]]
    disc = (rr - CLOUD[0]) ** 2 + (cc - CLOUD[1]) ** 2 <= CLOUD[2] ** 2
    assert not out.observed[disc].any()
    assert out.diagnostics["cloud_fraction_of_sea"] > disc.sum() / (~land).sum()
    errors = [abs(found[k].length_m - s.length_m) / s.length_m for k, s in enumerate(visible) if k in found and s.length_m >= 60]
    assert np.median(errors) < 0.15


def test_single_scene_water_mask_from_mndwi(scene):
    bands, ships, land = scene
    mask, method = optical_land_mask([water_index(bands["green"], bands["nir"], bands["swir16"])], GRID)
    assert method == "water-index-single-scene"
    assert mask[land].all()
    # ships are holes in the water, filled: none of the open-water ships is land
    for ship in ships:
        if not _under_cloud(ship, 10):
            assert not mask[int(ship.row), int(ship.col)]
    out = detect_optical(bands, np.ones(SHAPE, bool), ~mask, GRID)
    visible = [s for s in ships if not _under_cloud(s)]
    found, false = _matches(out.detections, visible)
    assert len(found) >= len(visible) - 1 and not false


def test_scl_cloud_mask_removes_cloud_and_glint_is_flagged():
    rng = np.random.default_rng(4)
    ships = sea.random_ships((300, 300), 6, rng, lengths=(50.0, 150.0))
    bands = sea.optical_scene((300, 300), ships, seed=3, cloud=(150, 150, 30), glint=True)
    for band in bands:  # glint over the whole scene
        bands[band] = bands[band] + 0.035
    rr, cc = np.ogrid[:300, :300]
    valid = (rr - 150) ** 2 + (cc - 150) ** 2 > 30**2  # what SCL 8/9 masking leaves
    out = detect_optical(bands, valid, np.ones((300, 300), bool), sea.scene_grid((300, 300)))
    assert out.diagnostics["glint"] is True
    visible = [s for s in ships if np.hypot(s.row - 150, s.col - 150) > 30 + s.length_m / 20 + 6]
    found, false = _matches(out.detections, visible, sea.scene_grid((300, 300)))
    assert len(found) == len(visible) and not false
