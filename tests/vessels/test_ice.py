"""A Far-East port in winter (Vladivostok's bays freeze): ice floes and pack ice are bright in the visible and NIR
and dark in the SWIR, as snow is. Floes among the ships are not counted as ships (the foam test: SWIR far below
NIR, green above it, as surf), wide floes and a harbour frozen over are left out of the water seen (bright in blue
and larger than a ship, as cloud), and a claim whose window saw only ice is not observable, its denial too."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from tests import synthetic
from tests.vessels import sea
from tests.vessels.port import CLAIMS, SHAPE, _ships

# Sea ice under a little snow (reflectance): bright in the visible and NIR, dark in the SWIR
ICE = {"blue": 0.75, "green": 0.74, "red": 0.72, "nir": 0.62, "swir16": 0.06, "swir22": 0.04}
KINDS = ("open", "open", "floes", "wide-floes", "frozen", "open")
DATES = [synthetic.utc(2021, 5, 1) + timedelta(days=10 * i) for i in range(len(KINDS))]  # the window: 10 June


def _discs(rng: np.random.Generator, n: int, radius: tuple[float, float]) -> np.ndarray:
    rr, cc = np.ogrid[: SHAPE[0], : SHAPE[1]]
    out = np.zeros(SHAPE, bool)
    for _ in range(n):
        r, c, size = rng.integers(20, 280), rng.integers(150, 290), rng.uniform(*radius)
        out |= (rr - r) ** 2 + (cc - c) ** 2 <= size**2
    return out


@pytest.fixture(scope="module")
def icy_port(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    root = tmp_path_factory.mktemp("icy-port")
    rng = np.random.default_rng(5)
    land, structures = sea.harbour(SHAPE)
    water = ~(land | structures)
    items, planted = [], {}
    for i, (when, kind) in enumerate(zip(DATES, KINDS)):
        ships = [] if kind == "frozen" else _ships(rng, 3, berth=False)
        bands = sea.optical_scene(SHAPE, ships, seed=300 + i, land=land | structures, glint=False)
        scl = np.where(land | structures, 5, 6).astype(np.uint8)
        hulls = np.zeros(SHAPE)
        for ship in ships:
            hulls = np.maximum(hulls, ship.coverage(SHAPE))
        scl[hulls > 0.5] = 7
        ice = {"open": np.zeros(SHAPE, bool), "frozen": water, "floes": _discs(rng, 40, (1.5, 4.0)),
               "wide-floes": _discs(rng, 15, (6.0, 14.0))}[kind] & water & (hulls < 0.05)
        for band, value in ICE.items():
            bands[band] = np.where(ice, value * (1 + 0.03 * rng.normal(size=SHAPE)), bands[band]).astype(np.float32)
        scl[ice] = 11
        scene_id = f"S2A_ICE_{when:%Y%m%d}_{kind}"
        items.append(sea.write_s2_item(root / "scenes" / scene_id, scene_id, when, bands, scl))
        planted[scene_id] = len(ships)
    synthetic.write_catalog(root / "scenes", items)
    (root / "aoi").mkdir()
    synthetic.write_aoi(root / "aoi" / "test-port.geojson", "test-port", synthetic.grid_bounds_lonlat(SHAPE, 10))
    (root / "seeds").mkdir()
    (root / "seeds" / "port.toml").write_text(CLAIMS.replace("2021-06-14", "2021-06-12"))  # the frozen date only
    return root, planted


def test_ice_floes_are_not_ships_and_a_frozen_window_is_not_observable(icy_port, tmp_path, geo_cli):
    root, planted = icy_port
    out = tmp_path / "out"
    shell = geo_cli("vessels", "--aoi", "test-port", "--from", "2021-04-25", "--to", "2021-06-30", "--sensor", "s2",
                    "--source", str(root / "scenes" / "catalog.json"), "--aoi-dir", str(root / "aoi"),
                    "--seeds-dir", str(root / "seeds"), "--out", str(out))
    assert shell.returncode == 0, shell.stderr
    rows = {row["scene"]: row for row in csv.DictReader((out / "timeseries.csv").open())}
    for scene_id, ships in planted.items():
        row = rows[scene_id]
        if scene_id.endswith("wide-floes"):  # as under cloud: less water seen, ships beside the ice not counted
            assert int(row["n_vessels"]) <= ships and float(row["observed_fraction"]) < 0.95, (scene_id, row)
        else:  # 40 floes among three ships: three ships
            assert int(row["n_vessels"]) == ships, (scene_id, row)
    assert float(rows[next(s for s in rows if s.endswith("frozen"))]["observed_fraction"]) == 0.0
    evidence = {e["claim_id"]: e for e in json.loads((out / "evidence.json").read_text())}
    reason = "s2: the 1 scene in the window saw less than 80% of the AOI's water (cloud, ice or nodata)"
    assert evidence["test-ships"]["verdict"] == "not observable" and evidence["test-ships"]["rationale"] == reason
    assert evidence["test-denial"]["verdict"] == "not observable", evidence["test-denial"]
    assert "no significant vessel rise" not in shell.stdout and "cannot be checked here" in shell.stdout, shell.stdout
