"""A synthetic port project: a local STAC catalog with a Sentinel-1-like series (quiet baseline, busy
claim window, fixed piers) and a few Sentinel-2-like scenes (one with a cloud), an AOI and vessel claims.
``build`` makes it; the session fixture ``port_project`` (tests/conftest.py) holds one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np

from tests import synthetic
from tests.vessels import sea

SHAPE = (300, 300)
BASELINE_DATES = [synthetic.utc(2021, 4, 1) + timedelta(days=6 * i) for i in range(10)]
WINDOW_DATES = [synthetic.utc(2021, 6, 11), synthetic.utc(2021, 6, 13)]
S2_DATES = [synthetic.utc(2021, 5, 1), synthetic.utc(2021, 5, 11), synthetic.utc(2021, 5, 21), synthetic.utc(2021, 6, 12)]
CLOUDY_S2 = 2  # index into S2_DATES

CLAIMS = """
[document]
title = "synthetic port claims"

[[claim]]
id = "test-ships"
claimant = "test"
statement = "Transport ships gathered in the port in mid June."
date_stated = 2021-06-20
stance = "assert"
aoi_ids = ["test-port"]
window = { start = 2021-06-10, end = 2021-06-14 }
signatures = ["large_vessels_at_berth"]

[[claim]]
id = "test-quiet"
claimant = "test"
statement = "Ships gathered in early May (a quiet date of the baseline)."
date_stated = 2021-06-20
stance = "assert"
aoi_ids = ["test-port"]
window = { start = 2021-05-06, end = 2021-05-08 }
signatures = ["large_vessels_at_berth"]

[[claim]]
id = "test-gap"
claimant = "test"
statement = "Ships gathered on 10 May."
date_stated = 2021-06-20
stance = "assert"
aoi_ids = ["test-port"]
window = { start = 2021-05-09, end = 2021-05-11 }
signatures = ["large_vessels_at_berth"]

[[claim]]
id = "test-denial"
claimant = "test"
statement = "No ships came."
date_stated = 2021-06-21
stance = "deny"
denies = ["test-ships"]
aoi_ids = ["test-port"]
window = { start = 2021-06-10, end = 2021-06-14 }
signatures = ["large_vessels_at_berth"]
"""


@dataclass(frozen=True)
class PortProject:
    root: Path
    catalog: Path
    aoi_dir: Path
    seeds_dir: Path
    ships: dict[str, list[sea.Ship]]  # scene id -> planted ships
    land: np.ndarray
    structures: np.ndarray


def _ships(rng: np.random.Generator, n_large: int, berth: bool) -> list[sea.Ship]:
    ships = sea.random_ships(SHAPE, n_large, rng, col_min=150, margin=25, lengths=(70.0, 180.0))
    if berth:  # alongside the middle pier (rows 150-152, cols 100-139), 2 px off its south side
        ships.append(sea.Ship(156.5, 120.0, 120.0, 18.0, 90.0))
    return ships


def build(root: Path) -> PortProject:
    rng = np.random.default_rng(11)
    land, structures = sea.harbour(SHAPE)
    items, planted = [], {}
    for i, when in enumerate(BASELINE_DATES + WINDOW_DATES):
        in_window = when in WINDOW_DATES
        ships = _ships(rng, 9 if in_window else int(rng.integers(1, 4)), berth=(i % 3 == 0))
        scene_id = f"S1A_TEST_{when:%Y%m%d}"
        bands = sea.sar_scene(SHAPE, ships, texture=6.0, seed=100 + i, land=land, structures=structures)
        items.append(sea.write_s1_item(root / "scenes" / scene_id, scene_id, when, bands))
        planted[scene_id] = ships
    for i, when in enumerate(S2_DATES):
        ships = _ships(rng, 6 if when >= WINDOW_DATES[0] - timedelta(days=2) else 2, berth=False)
        cloud = (150, 220, 45) if i == CLOUDY_S2 else None
        bands = sea.optical_scene(SHAPE, ships, seed=200 + i, land=land | structures, cloud=cloud)
        scl = np.where(land | structures, 5, 6).astype(np.uint8)
        for ship in ships:
            scl[ship.coverage(SHAPE) > 0.5] = 7
        if cloud is not None:
            rr, cc = np.ogrid[: SHAPE[0], : SHAPE[1]]
            scl[(rr - cloud[0]) ** 2 + (cc - cloud[1]) ** 2 <= cloud[2] ** 2] = 9
        scene_id = f"S2A_TEST_{when:%Y%m%d}"
        items.append(sea.write_s2_item(root / "scenes" / scene_id, scene_id, when, bands, scl))
        planted[scene_id] = ships
    catalog = synthetic.write_catalog(root / "scenes", items)
    (root / "aoi").mkdir()
    synthetic.write_aoi(root / "aoi" / "test-port.geojson", "test-port", synthetic.grid_bounds_lonlat(SHAPE, 10))
    (root / "seeds").mkdir()
    (root / "seeds" / "port.toml").write_text(CLAIMS)
    return PortProject(root, catalog, root / "aoi", root / "seeds", planted, land, structures)
