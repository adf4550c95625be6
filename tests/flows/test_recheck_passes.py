"""``geo recheck`` over an AOI seen half by each tile of one pass (across the 132°E boundary of UTM zones 52 and 53,
tests/flows/tiles.py): the chain's scenes are passes, as ``geo run``'s (``test_utm_zones.py``). The re-check
planned tile by tile: its pair read one tile of each date (44% of the AOI "outside the scenes", half of the
change across the seam) and the other tile of the after date was paired next, "not acquired after the before
scene". A store written that way keeps working: its tiles are the passes' (not new scenes), its head tile
becomes its pass (at its next pair; a re-check with nothing new reports it as stored)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from tests.archive_data import utc
from tests.archive_server import ArchiveServer
from tests.flows.test_utm_zones import AREA, EAST, LAT, SEAM_CHANGE, SEAM_CHANGE_KM2, WEST, seam_change
from tests.flows.tiles import Tile, lon_lat_aoi, tile_item, utm_box

ORBIT = 32


def pass_id(day: int) -> str:
    return f"{WEST}_202106{day:02d}+{EAST}_202106{day:02d}"


def add_pass(server: ArchiveServer, folder, day: int, changed=None) -> None:
    """The pass of 2021-06-``day``: zone 52's tile ends at ~132.002°E, zone 53's starts at ~131.998°E."""
    for name, epsg, lon in ((WEST, 32652, 131.965), (EAST, 32653, 132.035)):
        tile_item(server, folder, Tile(f"{name}_202106{day:02d}", utc(2021, 6, day), epsg,
                                       utm_box(epsg, lon, LAT, 3000, 3000), orbit=ORBIT, changed=changed))


@pytest.fixture
def halves(tmp_path) -> Iterator[ArchiveServer]:
    server = ArchiveServer(page_size=3).start()
    add_pass(server, tmp_path / "tiles", 1)
    add_pass(server, tmp_path / "tiles", 11, SEAM_CHANGE)
    yield server
    server.stop()


def recheck(user, server: ArchiveServer) -> dict:
    result = user("recheck", "--store", "store.gpkg", "--aoi", "across.geojson", "--source", server.url,
                  "--since", "2021-06-01", "--json")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.output
    return json.loads(result.stdout)


def stored(user) -> tuple[list[tuple], list[tuple], list[tuple]]:
    with sqlite3.connect(user.home / "store.gpkg") as conn:
        return (conn.execute("SELECT scene_id FROM scenes ORDER BY datetime, scene_id").fetchall(),
                conn.execute("SELECT before_scene, after_scene, status FROM pairs ORDER BY fid").fetchall(),
                conn.execute("SELECT head_scene FROM chains").fetchall())


def test_a_recheck_reads_each_pass_whole_and_a_second_one_reads_nothing(user, halves):
    lon_lat_aoi(user.home / "across.geojson", AREA)
    summary = recheck(user, halves)
    entry, = summary["aois"]
    assert entry["baseline_scene"] == pass_id(1)
    assert entry["new_scenes"] == [pass_id(1), pass_id(11)]
    pair, = entry["pairs"]
    assert (pair["before_scene"], pair["after_scene"], pair["status"]) == (pass_id(1), pass_id(11), "done")
    assert (pair["clear_fraction"], pair["outside_fraction"]) == (1.0, 0.0)
    assert entry["head_scene"] == pass_id(11)
    change = seam_change(user, "store-outputs/runs/000001")  # the whole change across the seam, as geo run's
    assert SEAM_CHANGE_KM2 < change["properties"]["area_m2"] / 1e6 < SEAM_CHANGE_KM2 * 1.2
    assert (change["properties"]["before_scene"], change["properties"]["after_scene"]) == (pass_id(1), pass_id(11))
    scenes, pairs, head = stored(user)
    assert scenes == [(pass_id(1),), (pass_id(11),)] and head == [(pass_id(11),)]
    manifest = json.loads(next(p for _, p in sqlite3.connect(user.home / "store.gpkg").execute(
        "SELECT fid, manifest FROM pairs")))
    assert manifest["scenes"]["after"]["tiles"] == [f"{WEST}_20210611", f"{EAST}_20210611"]

    halves.clear()
    again = recheck(user, halves)
    assert again["run_id"] is None and not again["has_new"]
    assert again["aois"][0]["head_scene"] == pass_id(11)
    assert [r.path for r in halves.records() if "/files/" in r.path] == []  # no pixel read
    assert stored(user) == (scenes, pairs, head)


def test_a_store_written_tile_by_tile_goes_on_by_passes(user, halves, tmp_path):
    """A store as the tile-by-tile planner wrote it (the archive's items without an orbit, zone 53's said sensed
    two minutes after zone 52's, make each tile its own scene): the head a tile of 06-11. Its tiles are not new;
    the next pass pairs with the head's pass, whole."""
    lon_lat_aoi(user.home / "across.geojson", AREA)
    sensed = {item["id"]: item["properties"]["datetime"] for item in halves.items["sentinel-2-l2a"]}
    for item in halves.items["sentinel-2-l2a"]:
        del item["properties"]["sat:relative_orbit"]
        if item["id"].startswith(EAST):
            item["properties"]["datetime"] = (datetime.fromisoformat(sensed[item["id"]].replace("Z", "+00:00"))
                                              + timedelta(minutes=2)).isoformat()
    old = recheck(user, halves)
    tiles = [f"{name}_202106{day:02d}" for day in (1, 11) for name in (WEST, EAST)]
    assert old["aois"][0]["new_scenes"] == tiles
    scenes, pairs, (old_head,) = stored(user)
    assert old_head[0] in tiles[2:] and scenes == [(t,) for t in tiles]

    for item in halves.items["sentinel-2-l2a"]:
        item["properties"]["sat:relative_orbit"] = ORBIT
        item["properties"]["datetime"] = sensed[item["id"]]
    nothing = recheck(user, halves)  # the passes of 06-01 and 06-11 are the tiles stored
    assert nothing["run_id"] is None and nothing["aois"][0]["head_scene"] == old_head[0]  # as the store keeps it
    assert stored(user) == (scenes, pairs, [old_head])

    add_pass(halves, tmp_path / "tiles", 21, SEAM_CHANGE)
    summary = recheck(user, halves)
    entry, = summary["aois"]
    assert entry["new_scenes"] == [pass_id(21)]
    pair, = entry["pairs"]  # from the head's pass: all of the AOI seen on both dates, nothing changed since
    assert (pair["before_scene"], pair["after_scene"], pair["status"]) == (pass_id(11), pass_id(21), "done")
    assert (pair["clear_fraction"], pair["outside_fraction"], pair["n_changes"]) == (1.0, 0.0, 0)
    assert stored(user)[2] == [(pass_id(21),)]
    assert recheck(user, halves)["run_id"] is None


def local_catalog(server: ArchiveServer, tiles, folder) -> str:
    """The archive's items as a local catalog (``scenes/``) of the tiles' files written in ``tiles``."""
    import pystac

    catalog = pystac.Catalog("passes", "the passes across 132E")
    for item in server.items["sentinel-2-l2a"]:
        local = json.loads(json.dumps(item))
        for band, asset in local["assets"].items():
            asset["href"] = str(tiles / item["id"] / f"{band}.tif")
        catalog.add_item(pystac.Item.from_dict(local))
    catalog.normalize_hrefs(str(folder))
    catalog.save(catalog_type=pystac.CatalogType.ABSOLUTE_PUBLISHED)
    return str(folder / "catalog.json")


def test_nothing_new_over_a_local_catalog_of_passes_is_told_from_plain_numbers(user, halves, tmp_path):
    """Over a local catalog a re-check with nothing new decides from the items' ids, dates and boxes, without the
    geometry stack (``geo.recheck.quick``): the items are tiles, the store holds their passes (A+B)."""
    from tests.recheck.conftest import imported_modules
    from tests.recheck.test_noop_imports import PROFILE, assert_light

    lon_lat_aoi(user.home / "across.geojson", AREA)
    source = local_catalog(halves, tmp_path / "tiles", tmp_path / "catalog")
    args = ("recheck", "--store", "store.gpkg", "--aoi", "across.geojson", "--source", source, "--since",
            "2021-06-01", "--json")
    first = user(*args)
    assert first.returncode == 0, first.output
    assert [p["after_scene"] for p in json.loads(first.stdout)["aois"][0]["pairs"]] == [pass_id(11)]
    again = user("recheck", "--store", "store.gpkg", "--source", source, "--json", env=PROFILE)  # as cron runs it
    assert again.returncode == 0, again.stderr[-3000:]
    summary = json.loads(again.stdout)
    assert summary["run_id"] is None and summary["aois"][0]["head_scene"] == pass_id(11)
    assert_light(imported_modules(again.stderr))


def test_a_sentinel1_chain_reads_the_slices_of_each_pass_as_one_scene(user, port_project, tmp_path):
    """The synthetic port's Sentinel-1 passes, each cut in two slices along track (``test_pass_slices.py``): the
    re-check's Sentinel-1 chain pairs the passes, and finds what it finds over the same scenes whole."""
    from tests.flows.test_pass_slices import sliced_catalog

    port = json.loads((port_project.aoi_dir / "test-port.geojson").read_text())
    (user.home / "port.geojson").write_text(json.dumps({"type": "Feature", "properties": {},
                                                        "geometry": port["geometry"]}))
    chains = {}
    for name in ("whole", "halves"):
        source = sliced_catalog(port_project.catalog, tmp_path / name, slices=name == "halves")
        result = user("recheck", "--store", f"{name}.gpkg", "--aoi", "port.geojson", "--source", str(source),
                      "--sensor", "both", "--since", "2021-06-10", "--json")
        assert result.returncode == 0, result.output
        chains[name], = [e for e in json.loads(result.stdout)["aois"] if e["sensor"] == "s1"]
    halves, whole = chains["halves"], chains["whole"]
    def as_pass(scene_id: str) -> str:
        return f"{scene_id}_N+{scene_id}_S"

    assert halves["new_scenes"] == [as_pass(scene) for scene in whole["new_scenes"]]
    assert [(p["before_scene"], p["after_scene"], p["status"]) for p in halves["pairs"]] == [
        (as_pass(p["before_scene"]), as_pass(p["after_scene"]), p["status"]) for p in whole["pairs"]]
    assert len(whole["pairs"]) >= 2 and whole["head_scene"] == "S1A_TEST_20210613"
    assert {(p["clear_fraction"], p["outside_fraction"]) for p in halves["pairs"]} == {(1.0, 0.0)}
    assert [p["n_changes"] for p in halves["pairs"]] == [p["n_changes"] for p in whole["pairs"]]
    assert sum(p["n_changes"] for p in whole["pairs"]) >= 9  # the ships of the window's dates among them


def overlapping_tiles(tmp_path, days=((2021, 6, 1), (2021, 6, 11))) -> str:
    """A local catalog of passes (on ``days``, year, month, day) whose two tiles each show the whole AOI."""
    server = ArchiveServer(page_size=3).start()
    try:
        for year, month, day in days:
            for name, epsg in ((WEST, 32652), (EAST, 32653)):
                tile_item(server, tmp_path / "tiles", Tile(f"{name}_{year}{month:02d}{day:02d}", utc(year, month, day),
                                                           epsg, utm_box(epsg, 132.0, LAT, 6000, 3000), orbit=ORBIT))
        return local_catalog(server, tmp_path / "tiles", tmp_path / "catalog")
    finally:
        server.stop()


def test_a_tile_left_out_of_its_pass_is_known_to_the_next_quick_check(user, tmp_path):
    """Two tiles of each pass show the whole AOI (zone 52's reaches past 132°E): the pass keeps zone 53's (the AOI
    grid's), the other adds nothing. The re-check records it as seen, so that a re-check with nothing new over a
    local catalog knows it from plain numbers (before, it was "new" there every run: the full path, every run)."""
    from tests.recheck.conftest import dump_store, imported_modules
    from tests.recheck.test_noop_imports import PROFILE, assert_light

    source = overlapping_tiles(tmp_path)
    lon_lat_aoi(user.home / "across.geojson", AREA)
    first = user("recheck", "--store", "store.gpkg", "--aoi", "across.geojson", "--source", source, "--since",
                 "2021-06-01", "--json")
    assert first.returncode == 0, first.output
    entry, = json.loads(first.stdout)["aois"]
    assert entry["new_scenes"] == [f"{EAST}_20210601", f"{EAST}_20210611"]  # the passes: one tile each
    assert [(p["before_scene"], p["after_scene"], p["status"]) for p in entry["pairs"]] == [
        (f"{EAST}_20210601", f"{EAST}_20210611", "done")]
    scenes, _, head = stored(user)
    assert sorted(scenes) == sorted((f"{name}_202106{day:02d}",) for day in (1, 11) for name in (WEST, EAST))
    assert head == [(f"{EAST}_20210611",)]

    rows = dump_store(user.home / "store.gpkg")
    again = user("recheck", "--store", "store.gpkg", "--source", source, "--json", env=PROFILE)  # as cron runs it
    assert again.returncode == 0, again.stderr[-3000:]
    summary = json.loads(again.stdout)
    assert summary["run_id"] is None and summary["aois"][0]["head_scene"] == f"{EAST}_20210611"
    assert dump_store(user.home / "store.gpkg") == rows
    assert_light(imported_modules(again.stderr))


SHIP_CLAIM = """
[document]
title = "ships across the seam"

[[claim]]
id = "across-ships"
claimant = "test"
statement = "Ships came in early June 2020."
date_stated = 2020-06-20
stance = "assert"
aoi_ids = ["across"]
window = { start = 2020-06-01, end = 2020-06-05 }
signatures = ["large_vessels_at_berth"]
"""


def test_a_tile_left_out_of_its_pass_is_known_to_the_vessel_counts_of_the_next_quick_check(user, tmp_path):
    """As above, for an AOI with a ship claim: the vessel counts read each pass once (zone 53's tile), and the
    tile the pass leaves out is recorded as seen, so the quick no-op check knows it is not a scene to count (before,
    it was "new to its vessel counts" every run: the full path, every run). The pass of 1 March 2020 lies in the
    vessel period only (180 days before the claim window), not in the chain's search (a year before --since)."""
    from tests.recheck.conftest import dump_store, imported_modules
    from tests.recheck.test_noop_imports import PROFILE, assert_light

    days = ((2020, 3, 1), (2021, 6, 1), (2021, 6, 11))
    source = overlapping_tiles(tmp_path, days)
    lon_lat_aoi(user.home / "across.geojson", AREA)
    (user.home / "seeds").mkdir()
    (user.home / "seeds" / "ships.toml").write_text(SHIP_CLAIM)
    first = user("recheck", "--store", "store.gpkg", "--aoi", "across.geojson", "--source", source, "--since",
                 "2021-06-01", "--seeds-dir", "seeds", "--json")
    assert first.returncode == 0, first.output
    entry, = json.loads(first.stdout)["aois"]
    assert entry["aoi_id"] == "across"
    east = [f"{EAST}_{y}{m:02d}{d:02d}" for y, m, d in days]
    assert entry["vessels"]["new_scenes"] == east  # one tile a pass counted
    assert entry["new_scenes"] == east[1:]  # the chain's passes
    with sqlite3.connect(user.home / "store.gpkg") as conn:
        counted = conn.execute("SELECT scene_id FROM vessel_series ORDER BY datetime").fetchall()
    assert counted == [(scene,) for scene in east]
    scenes, _, _ = stored(user)  # seen: the chain's passes, and every tile a pass left out (March's: by the counts)
    assert sorted(scenes) == sorted([*((f"{WEST}_{y}{m:02d}{d:02d}",) for y, m, d in days), *((s,) for s in east[1:])])

    rows = dump_store(user.home / "store.gpkg")
    again = user("recheck", "--store", "store.gpkg", "--source", source, "--seeds-dir", "seeds", "--json",
                 env=PROFILE)  # as cron runs it
    assert again.returncode == 0, again.stderr[-3000:]
    summary = json.loads(again.stdout)
    assert summary["run_id"] is None and summary["aois"][0]["head_scene"] == f"{EAST}_20210611"
    assert dump_store(user.home / "store.gpkg") == rows
    assert_light(imported_modules(again.stderr))
