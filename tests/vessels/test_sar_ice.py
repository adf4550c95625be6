"""A Far-East port in winter on Sentinel-1 (Vladivostok's bays freeze, Chongjin's harbour takes drift ice): floes
are bright to radar as hulls are, and the CFAR counted each floe as a ship (a field of them: dozens of "vessels"
beside 3 real ones; a claim whose window saw only ice read as water seen). Now an ice field (a patchwork of floes
and water over hundreds of metres) is taken out of the sea: its floes are not counted, its water is not seen, a
window that saw mostly ice is not observable, naming sea ice, and its denial too; the ships on the open water
beside it, and those of a crowded anchorage on an open-water date, are all counted."""

from __future__ import annotations

import csv
import json
import math
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi

from tests import synthetic
from geo.vessels.ice import sea_ice
from tests.vessels import sar_port, sea
from tests.vessels.port import CLAIMS, SHAPE, _ships

ICE_VV_DB, ICE_VH_DB = 8.0, 6.0  # floes over calm water (C band, drift ice with some deformation)
KINDS = ("open", "open", "floes", "open", "busy", "open", "open", "frozen", "open")
DATES = [synthetic.utc(2021, 5, 1) + timedelta(days=6 * i) for i in range(len(KINDS))]  # 'frozen': 12 June
BUSY = 12  # ships of 100-250 m at anchor in 1.5 km x 2 km


def floes(rng: np.random.Generator, area: np.ndarray, cover: float) -> np.ndarray:
    """Floes 40-120 m across (lobed discs) dropped in ``area`` until ``cover`` of it is ice."""
    rr, cc = np.ogrid[: SHAPE[0], : SHAPE[1]]
    out = np.zeros(SHAPE, bool)
    rows, cols = np.nonzero(area)
    while (out & area).sum() < cover * area.sum():
        k = rng.integers(rows.size)
        angle = np.arctan2(rr - rows[k], cc - cols[k])
        radius = rng.uniform(2.0, 6.0) * (1 + 0.25 * np.sin(3 * angle + rng.uniform(0, 2 * math.pi)))
        out |= (rr - rows[k]) ** 2 + (cc - cols[k]) ** 2 <= radius**2
    return out & area


def with_ice(bands: dict[str, np.ndarray], ice: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Floe pixels: textured (gamma 2) and speckled, ``ICE_VV_DB`` / ``ICE_VH_DB`` over the sea's mean."""
    out = {}
    for name, level, db in (("vv", 0.01, ICE_VV_DB), ("vh", 0.002, ICE_VH_DB)):
        floe = level * 10 ** (db / 10) * rng.gamma(2.0, 0.5, size=SHAPE) * rng.gamma(4.0, 0.25, size=SHAPE)
        out[name] = np.where(ice, floe, bands[name]).astype(np.float32)
    return out


@pytest.fixture(scope="module")
def icy_sar_port(tmp_path_factory) -> tuple[Path, dict[str, int], dict[str, float]]:
    root = tmp_path_factory.mktemp("icy-sar-port")
    rng = np.random.default_rng(7)
    land, structures = sea.harbour(SHAPE)
    water = ~(land | structures)
    north = np.zeros(SHAPE, bool)
    north[: SHAPE[0] // 2 - 10] = True
    items, planted, iced = [], {}, {}
    for i, (when, kind) in enumerate(zip(DATES, KINDS)):
        if kind == "frozen":
            ships = []
        elif kind == "busy":
            ships = sea.random_ships(SHAPE, BUSY, rng, col_min=140, margin=12, lengths=(100.0, 250.0))
        elif kind == "floes":  # ships on the open water south of the ice
            ships = [s for s in _ships(rng, 12, berth=False) if s.row > SHAPE[0] // 2 + 20][:3]
        else:
            ships = _ships(rng, 3, berth=False)
        bands = sea.sar_scene(SHAPE, ships, texture=6.0, seed=400 + i, land=land, structures=structures)
        hulls = np.zeros(SHAPE, bool)
        for ship in ships:
            hulls |= ship.coverage(SHAPE) > 0
        area = {"floes": north, "frozen": np.ones(SHAPE, bool)}.get(kind, np.zeros(SHAPE, bool))
        ice = floes(rng, area & water & ~ndi.binary_dilation(hulls, iterations=8), 0.4 if kind == "floes" else 0.5)
        scene_id = f"S1A_ICE_{when:%Y%m%d}_{kind}"
        item = sea.write_s1_item(root / "scenes" / scene_id, scene_id, when, with_ice(bands, ice, rng))
        item.properties.update({"sat:relative_orbit": 42, "sat:orbit_state": "ascending"})  # one geometry: SAR pairs
        items.append(item)
        planted[scene_id], iced[scene_id] = len(ships), float(ice.sum() / water.sum())
    synthetic.write_catalog(root / "scenes", items)
    (root / "aoi").mkdir()
    synthetic.write_aoi(root / "aoi" / "test-port.geojson", "test-port", synthetic.grid_bounds_lonlat(SHAPE, 10))
    (root / "seeds").mkdir()
    (root / "seeds" / "port.toml").write_text(CLAIMS.replace("2021-06-14", "2021-06-12"))  # the frozen date only
    return root, planted, iced


def test_sea_ice_floes_are_not_ships_and_a_window_of_ice_is_not_observable(icy_sar_port, tmp_path, geo_cli):
    root, planted, iced = icy_sar_port
    out = tmp_path / "out"
    shell = geo_cli("vessels", "--aoi", "test-port", "--from", "2021-04-25", "--to", "2021-06-30", "--sensor", "s1",
                    "--source", str(root / "scenes" / "catalog.json"), "--aoi-dir", str(root / "aoi"),
                    "--seeds-dir", str(root / "seeds"), "--out", str(out))
    assert shell.returncode == 0, shell.stderr
    rows = {row["scene"]: row for row in csv.DictReader((out / "timeseries.csv").open())}
    features = json.loads((out / "vessels.geojson").read_text())["features"]
    for scene_id, ships in planted.items():
        row = rows[scene_id]
        assert int(row["n_vessels"]) == ships, (scene_id, row)  # floes dropped, every ship kept (a busy date too)
        assert sum(f["properties"]["scene"] == scene_id for f in features) == ships, scene_id
        seen = float(row["observed_fraction"])
        if scene_id.endswith("floes"):  # the ice field over the north half: water not seen
            assert 0.3 < seen < 0.75, (scene_id, row, iced[scene_id])
        elif scene_id.endswith("frozen"):
            assert seen < 0.05, (scene_id, row)
        else:
            assert seen > 0.99, (scene_id, row)
    manifest = json.loads((out / "vessels-manifest.json").read_text())
    frozen = next(s for s in planted if s.endswith("frozen"))
    assert manifest["per_scene"][frozen]["sea_ice_fraction"] > 0.95, manifest["per_scene"][frozen]
    evidence = {e["claim_id"]: e for e in json.loads((out / "evidence.json").read_text())}
    reason = "s1: the 1 scene in the window saw less than 80% of the AOI's water (sea ice or nodata)"
    assert evidence["test-ships"]["verdict"] == "not observable" and evidence["test-ships"]["rationale"] == reason
    assert evidence["test-denial"]["verdict"] == "not observable", evidence["test-denial"]
    assert "no significant vessel rise" not in shell.stdout and "cannot be checked here" in shell.stdout, shell.stdout
    assert "sea ice" in shell.stdout and "cloud" not in shell.stdout, shell.stdout  # radar sees through cloud


def test_a_sar_change_pair_leaves_sea_ice_out_and_a_window_of_ice_is_not_observable(icy_sar_port, tmp_path, geo_cli):
    """geo run --sensor s1 over the open date before the window and the date of pack ice in it: the floes came out as
    46 new 'vessel' changes (0.53 km2), so once the counts said 'not observable' the change polygons made the ships
    claim 'consistent' and its denial 'inconsistent with the denial'. Ice on either date is now left out of the
    comparison, as snow is on Sentinel-2, and said: both claims are not observable."""
    root, _, _ = icy_sar_port
    out = tmp_path / "run"
    shell = geo_cli("run", "--aoi", "test-port", "--claim", "test-ships", "--claim", "test-denial", "--sensor", "s1",
                    "--source", str(root / "scenes" / "catalog.json"), "--aoi-dir", str(root / "aoi"),
                    "--seeds-dir", str(root / "seeds"), "--out", str(out))
    assert shell.returncode == 0, shell.stderr
    claims = {c["claim_id"]: c for c in json.loads((out / "claims.json").read_text())}
    assert {c["verdict"] for c in claims.values()} == {"not observable"}, claims
    assert claims["test-ships"]["change_verdict"]["verdict"] == "not observable", claims["test-ships"]
    assert "had sea ice on one date or both" in claims["test-ships"]["rationale"], claims["test-ships"]["rationale"]
    assert "cloud" not in claims["test-ships"]["rationale"], claims["test-ships"]["rationale"]  # radar sees through it
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["not_compared"]["fraction"] > 0.6 and "sea ice" in manifest["not_compared"]["why"], manifest
    changes = json.loads((out / "changes.geojson").read_text())["features"]
    assert sum(f["properties"]["area_m2"] for f in changes) < 20_000, len(changes)  # no field of floes as new objects


def _no_ice_seas() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(11)
    shape = (600, 600)
    cols = np.arange(shape[1])[None, :] * np.ones(shape)
    everywhere = np.ones(shape, bool)
    port = sar_port.port_scene(1, 10.0)
    anchorage = sea.random_ships(SHAPE, 30, rng, col_min=110, margin=10, lengths=(100.0, 250.0))
    land, structures = sea.harbour(SHAPE)
    return {
        "spiky sea in EW's 40 m pixels": (ndi.zoom(sea.clutter((150, 150), 4.4, 1.5, rng), 4, order=1), everywhere),
        "swell +-3 dB, 200 m": (10 ** (0.3 * np.sin(2 * np.pi * cols / 20)) * sea.clutter(shape, 4.4, 4.0, rng),
                                everywhere),
        "a wind front of 6 dB": (np.where(cols > 300, 10 ** 0.6, 1.0) * sea.clutter(shape, 4.4, 4.0, rng), everywhere),
        "30 ships of 100-250 m at anchor": (sea.sar_scene(SHAPE, anchorage, looks=4.4, texture=6.0, seed=9, land=land,
                                                          structures=structures)["vv"], ~(land | structures)),
        "the SAR port: hulls moored abreast": (port.vv, ~port.land),
    }


@pytest.mark.parametrize("name", ["spiky sea in EW's 40 m pixels", "swell +-3 dB, 200 m", "a wind front of 6 dB",
                                  "30 ships of 100-250 m at anchor", "the SAR port: hulls moored abreast"])
def test_no_ice_is_found_on_open_water_or_among_ships(name):
    """What spreads the texture of a sea without ice, in a window of 280 m: ships however crowded, swell, a spiky sea
    in coarse pixels (its spread is about the water's level, floes stand 5-10 dB above it), a wind front's edge."""
    image, water = _no_ice_seas()[name]
    assert not sea_ice(image, water, sea.scene_grid(image.shape)).any(), name
