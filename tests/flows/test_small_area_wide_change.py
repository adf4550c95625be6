"""A small area drawn inside a large new change (a 120 m compound in a camp or cleared tract of 600 m or 1 km)
was found unchanged: its grid (the area plus a 300 m margin, ~50 px) lay almost all inside the change, so the
statistic's windows and the gross-change screen had no unchanged ground to compare with. A small area's grid
now has a minimum extent of context. Driven through ``geo run`` on a loopback archive of synthetic tiles."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.archive_data import utc
from tests.archive_server import ArchiveServer
from tests.flows.conftest import registry_aoi
from tests.flows.tiles import Tile, lon_lat_square, tile_item, utm_box

EPSG = 32652
AOI_M = 120  # the compound: a 120 m square (the smallest area geo run takes is 100 m square)
PLACES = {600: (131.95, 43.80, 6), 1000: (131.90, 43.70, 7)}  # change side (m): lon, lat, month of the pair

CLAIM = """[document]
title = "Site notes"

[[claim]]
id = "compound-{side}"
claimant = "An analyst"
statement = "A compound was built inside the new camp."
date_stated = 2021-{month:02d}-20
aoi_ids = ["compound-{side}"]
window = {{ start = 2021-{month:02d}-02, end = 2021-{month:02d}-10 }}
signatures = ["new_construction"]
"""


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Iterator[ArchiveServer]:
    server = ArchiveServer(page_size=5).start()
    folder = tmp_path_factory.mktemp("small-area")
    for side, (lon, lat, month) in PLACES.items():
        for day, changed in ((1, None), (11, lon_lat_square(lon, lat, side))):
            tile_item(server, folder, Tile(f"S2A_camp{side}_2021{month:02d}{day:02d}", utc(2021, month, day), EPSG,
                                           utm_box(EPSG, lon, lat, 2500, 2500), changed=changed))
    yield server
    server.stop()


@pytest.mark.parametrize("side", sorted(PLACES))
def test_a_small_area_inside_a_wide_new_change_is_found_changed(user, archive, side):
    lon, lat, month = PLACES[side]
    west, south, east, north = lon_lat_square(lon, lat, AOI_M)
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    aois, seeds = user.home / "aoi", user.home / "seeds"
    aois.mkdir(), seeds.mkdir()
    registry_aoi(aois / "compound.geojson", f"compound-{side}", "Compound", ring)
    (seeds / "claim.toml").write_text(CLAIM.format(side=side, month=month), encoding="utf-8")
    shell = user("run", "--aoi", f"compound-{side}", "--source", archive.url, "--aoi-dir", "aoi", "--seeds-dir",
                 "seeds", "--before", f"2021-{month:02d}-01", "--after", f"2021-{month:02d}-11", "--out", "out")
    assert shell.returncode == 0, shell.stderr
    out = user.home / "out"
    features = json.loads((out / "changes.geojson").read_text())["features"]
    area = sum(f["properties"]["area_m2"] for f in features)
    # the change covers the whole square (14,400 m², ~144 px of 10 m): found whole, clipped to the area
    assert 12_000 < area < 16_500, (side, area, shell.stderr)
    verdict, = json.loads((out / "claims.json").read_text())
    assert verdict["verdict"] == "consistent with the claim", verdict
    manifest = json.loads((out / "manifest.json").read_text())
    params = manifest["parameters"]
    grid = manifest["grid"]
    assert min(grid["shape"]) * 10 >= 3000, grid  # the minimum extent of context
    assert min(params["margin_used_m"]) > 1400 and params["margin_m"] == 300, params  # grown from 300 m
    assert manifest["coregistration"] is None or max(abs(manifest["coregistration"]["dx_px"]),
                                                     abs(manifest["coregistration"]["dy_px"])) <= 3


def test_a_wide_area_around_the_kilometre_change_keeps_its_margin_and_refuses_a_false_shift(user, archive):
    # a 2.6 km area (wider than the minimum: its 300 m margin as before, a 320 px grid) around the 1 km change:
    # co-registration matched the fields' repeating texture ~57 px away at quality 0.97 on a grid of this size
    lon, lat, month = PLACES[1000]
    west, south, east, north = lon_lat_square(lon, lat, 2600)
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    (user.home / "camp.geojson").write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": {
        "type": "Polygon", "coordinates": [ring]}}))
    shell = user("run", "--aoi", "camp.geojson", "--source", archive.url, "--before", f"2021-{month:02d}-01",
                 "--after", f"2021-{month:02d}-11", "--out", "out")
    assert shell.returncode == 0, shell.stderr
    manifest = json.loads((user.home / "out" / "manifest.json").read_text())
    assert manifest["parameters"]["margin_used_m"] == [300.0, 300.0]
    shift = manifest["coregistration"]
    assert shift is None or max(abs(shift["dx_px"]), abs(shift["dy_px"])) <= 3, shift
    features = json.loads((user.home / "out" / "changes.geojson").read_text())["features"]
    assert 0.9e6 < max(f["properties"]["area_m2"] for f in features) < 1.1e6
