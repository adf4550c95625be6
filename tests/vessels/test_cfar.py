"""SAR CFAR on synthetic sea clutter of known distribution: false-alarm rate at the chosen level,
detection of planted ships of known size, length estimates, and the land mask keeping piers out."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geo.vessels.cfar import CfarParams, detect_sar
from geo.vessels.landmask import LandParams, rasterize_land, sar_land_mask
from tests.vessels import sea

SHAPE = (1000, 1000)
GRID = sea.scene_grid(SHAPE)


def _matches(detections, ships, grid=GRID):
    """For each ship, the detection whose centre lies within half its length (+1 px) of the ship's centre."""
    found, used = {}, set()
    for k, ship in enumerate(ships):
        x, y = grid.transform @ (ship.col, ship.row)
        best = None
        for i, d in enumerate(detections):
            distance = math.hypot(d.x - x, d.y - y)
            if distance <= ship.length_m / 2 + 10 and (best is None or distance < best[0]):
                best = (distance, i)
        if best:
            found[k] = detections[best[1]]
            used.add(best[1])
    false = [d for i, d in enumerate(detections) if i not in used]
    return found, false


@pytest.mark.parametrize("texture", [None, 4.0], ids=["gamma", "K"])
def test_pixel_false_alarm_rate_matches_chosen_level(texture):
    """Pure clutter (with a x0.6..x1.6 trend the local background must follow): the share of seed pixels
    is the chosen pfa, within Poisson error, for gamma and K clutter alike."""
    bands = sea.sar_scene(SHAPE, [], looks=4.0, texture=texture, seed=5)
    sea_mask = np.ones(SHAPE, bool)
    for pfa in (1e-3, 1e-4):
        out = detect_sar({"vv": bands["vv"]}, sea_mask, GRID, CfarParams(pfa=pfa, clutter="auto", min_pixels=1))
        expected = pfa * sea_mask.sum()
        observed = out.diagnostics["seed_pixels"]
        assert abs(observed - expected) < 4 * math.sqrt(expected) + 0.1 * expected, (pfa, observed, expected)
        assert out.diagnostics["channels"]["vv"]["clutter"]["model"] == ("gamma" if texture is None else "k")


def test_default_level_gives_no_false_detections_on_a_million_pixels():
    bands = sea.sar_scene(SHAPE, [], looks=4.0, texture=4.0, seed=6)
    out = detect_sar(bands, np.ones(SHAPE, bool), GRID)
    # fused VV+VH at pfa 1e-6: about one seed pixel expected, and clusters need 2 pixels
    assert out.diagnostics["seed_pixels"] <= 5
    assert len(out.detections) == 0


@pytest.mark.parametrize("texture", [None, 4.0], ids=["gamma", "K"])
def test_planted_ships_found_with_their_length(texture):
    rng = np.random.default_rng(7)
    ships = sea.random_ships(SHAPE, 40, rng, lengths=(30.0, 250.0), contrast=20.0)
    bands = sea.sar_scene(SHAPE, ships, looks=4.0, texture=texture, seed=8)
    out = detect_sar(bands, np.ones(SHAPE, bool), GRID)
    found, false = _matches(out.detections, ships)
    assert len(found) >= 39, f"{len(found)} of 40 ships found"
    assert len(false) <= 1, false
    errors = [abs(found[k].length_m - s.length_m) / s.length_m for k, s in enumerate(ships) if k in found and s.length_m >= 60]
    assert np.median(errors) < 0.10 and max(errors) < 0.30, errors
    large = [d for d in found.values() if d.length_m >= 50]
    assert all(d.score > 6 for d in large)


def test_nested_ships_do_not_hide_each_other():
    """A tight anchorage: trimming keeps each ship out of its neighbours' background."""
    ships = [sea.Ship(200 + 12 * i, 300 + 14 * j, 100.0, 16.0, 0.0, 20.0) for i in range(4) for j in range(4)]
    bands = sea.sar_scene((500, 600), ships, looks=4.0, texture=4.0, seed=9)
    out = detect_sar(bands, np.ones((500, 600), bool), sea.scene_grid((500, 600)))
    found, false = _matches(out.detections, ships, sea.scene_grid((500, 600)))
    assert len(found) >= 15 and not false


def test_land_mask_keeps_harbour_structures_from_counting():
    """Land and piers are bright on every date; ships come and go. The time-series mask hides the
    piers and the breakwater, and the ship moored alongside a pier is still detected."""
    land, structures = sea.harbour((400, 600))
    grid = sea.scene_grid((400, 600))
    berth = sea.Ship(206.5, 220.0, 120.0, 18.0, 90.0, 20.0)  # alongside the middle pier (rows 200-202)
    rng = np.random.default_rng(3)
    dates = []
    for i in range(6):
        ships = sea.random_ships((400, 600), 4, rng, col_min=300, lengths=(60.0, 150.0), contrast=20.0)
        dates.append((sea.sar_scene((400, 600), ships + ([berth] if i == 0 else []), texture=6.0, seed=20 + i,
                                    land=land, structures=structures), ships))
    mask, method = sar_land_mask([d[0]["vv"] for d in dates], grid)
    assert method == "sar-temporal-median/6 scenes"
    assert mask[land | structures].all()
    assert not mask[20:, 250:].any()  # open water (ships come and go) stays sea; the breakwater is in rows 10-12
    bands, ships = dates[0]
    out = detect_sar(bands, ~mask, grid)
    found, false = _matches(out.detections, ships + [berth], grid)
    assert len(found) == len(ships) + 1 and not false
    # without a land mask the piers and land light up as "ships"
    unmasked = detect_sar(bands, np.ones((400, 600), bool), grid)
    assert len(unmasked.detections) > len(out.detections)


def test_single_scene_land_mask_keeps_land_and_piers_but_not_ships():
    land, structures = sea.harbour((400, 600))
    grid = sea.scene_grid((400, 600))
    ship = sea.Ship(300, 450, 150.0, 24.0, 30.0, 20.0)
    bands = sea.sar_scene((400, 600), [ship], texture=6.0, seed=30, land=land, structures=structures)
    mask, method = sar_land_mask([bands["vv"]], grid, LandParams())
    assert method == "sar-single-scene+objects-on-water"
    assert mask[land].mean() > 0.99 and mask[structures].mean() > 0.99  # piers touch land; the breakwater is 450 m
    assert not mask[295:306, 440:461].any()


def test_land_layer_is_burnt_in():
    from shapely.geometry import box

    from geo.geometry import WGS84, reproject

    grid = sea.scene_grid((100, 100))
    left, bottom, right, top = grid.bounds
    polygon = reproject(box(left, bottom, left + 300, top), grid.crs.to_string(), WGS84)
    mask = rasterize_land([polygon], grid)
    assert mask[:, :29].all() and not mask[:, 32:].any()
