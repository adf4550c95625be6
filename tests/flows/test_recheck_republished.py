"""``geo recheck`` as an archive publishes a pass again under a new id (reprocessed under a new processing
baseline, or re-ingested: Earth Search's ``S2A_53TKG_20210611_0_L2A`` then ``..._1_L2A``), keeping the old
item beside it or withdrawing it. One observation: no new pair, no duplicate change, and the newest
publication read from then on. Before, the chain read the old publication while both were held (the two were
"tiles" of one pass, the old id sorting first), and, once the head was withdrawn, paired it with its own
republication ("1 scene skipped: not acquired after the before scene"). Also an archive editing an item's
date: a scene of the chain moved after the head is not a new scene (the chain went back to it, pairing the head
with an older scene, and found the change the head shows "undone")."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import pytest

from tests.archive_data import utc
from tests.archive_server import ArchiveServer
from tests.flows.tiles import LonLatBox, Tile, lon_lat_aoi, tile_item, utm_box

AREA = (132.02, 43.09, 132.05, 43.11)  # inside one tile of zone 53
ROOF = (132.03, 43.097, 132.04, 43.103)  # appears on 06-11 and stays
YARD = (132.022, 43.092, 132.027, 43.095)  # appears on 06-21


def scene(day: int, version: int = 0) -> str:
    return f"S2A_53TKG_202106{day:02d}_{version}_L2A"


class Archive:
    def __init__(self, server: ArchiveServer, folder) -> None:
        self.server, self.folder = server, folder

    def publish(self, day: int, version: int = 0, changed: tuple[LonLatBox, ...] = ()) -> None:
        """The tile over AREA sensed on 2021-06-``day``, as publication ``version`` (baseline 05.00 + version)."""
        box = (min(c[0] for c in changed), min(c[1] for c in changed), max(c[2] for c in changed),
               max(c[3] for c in changed)) if changed else None
        tile_item(self.server, self.folder, Tile(scene(day, version), utc(2021, 6, day), 32653,
                                                 utm_box(32653, 132.035, 43.1, 3000, 3000), changed=box,
                                                 properties={"s2:processing_baseline": f"05.{version}0"}))

    def withdraw(self, item_id: str) -> None:
        items = self.server.items["sentinel-2-l2a"]
        items[:] = [i for i in items if i["id"] != item_id]


@pytest.fixture
def archive(tmp_path) -> Iterator[Archive]:
    server = ArchiveServer(page_size=3).start()
    archive = Archive(server, tmp_path / "tiles")
    archive.publish(1)
    archive.publish(11, changed=(ROOF,))
    yield archive
    server.stop()


def recheck(user, archive: Archive, as_json: bool = True):
    """The summary (``as_json``), else what the terminal shows."""
    result = user("recheck", "--store", "store.gpkg", "--aoi", "site.geojson", "--source", archive.server.url,
                  "--since", "2021-06-01", *(["--json"] if as_json else []))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.output
    return json.loads(result.stdout) if as_json else result.stdout


def stored(user) -> tuple[list[tuple], list[tuple]]:
    with sqlite3.connect(user.home / "store.gpkg") as conn:
        return (conn.execute("SELECT before_scene, after_scene, status, n_changes FROM pairs ORDER BY fid").fetchall(),
                conn.execute("SELECT head_scene FROM chains").fetchall())


def n_changes(user) -> int:
    with sqlite3.connect(user.home / "store.gpkg") as conn:
        return conn.execute("SELECT count(*) FROM changes").fetchone()[0]


def test_a_pass_published_again_beside_the_old_one_is_one_scene_read_from_the_newest(user, archive):
    lon_lat_aoi(user.home / "site.geojson", AREA)
    first = recheck(user, archive)
    assert [(p["before_scene"], p["after_scene"], p["n_changes"]) for p in first["aois"][0]["pairs"]] == [
        (scene(1), scene(11), 1)]

    # both passes reprocessed (baseline 05.10), the old items kept: nothing new to pair, no change found again
    archive.publish(1, 1)
    archive.publish(11, 1, changed=(ROOF,))
    again = recheck(user, archive)
    assert again["n_pairs"] == 0 and again["n_new_changes"] == 0 and not again["has_new"]
    assert stored(user) == ([(scene(1), scene(11), "done", 1)], [(scene(11, 1),)])  # the head as published now
    assert n_changes(user) == 1

    # a new pass pairs with the head's newest publication, which is read (not the old one)
    archive.server.clear()
    archive.publish(21, changed=(ROOF, YARD))
    third = recheck(user, archive)
    pair, = third["aois"][0]["pairs"]
    assert (pair["before_scene"], pair["after_scene"], pair["status"]) == (scene(11, 1), scene(21), "done")
    read = {r.path.split("/")[3] for r in archive.server.records("/files/tiles/")}
    assert scene(11) not in read and read <= {scene(11, 1), scene(21)}
    assert pair["n_changes"] >= 1 and n_changes(user) == 1 + pair["n_changes"]  # the yard, the roof not again
    assert recheck(user, archive)["run_id"] is None


def test_a_chain_head_withdrawn_for_its_republication_is_not_paired_with_it(user, archive):
    lon_lat_aoi(user.home / "site.geojson", AREA)
    recheck(user, archive)
    archive.publish(11, 1, changed=(ROOF,))
    archive.withdraw(scene(11))
    shown = recheck(user, archive, as_json=False)
    assert "0 new pairs, 0 new changes" in shown and "skipped" not in shown
    assert f"site: nothing to pair; head {scene(11)} is read as {scene(11, 1)} from now on" in shown
    with sqlite3.connect(user.home / "store.gpkg") as conn:
        entry, = json.loads(conn.execute("SELECT summary FROM runs WHERE run_id = 2").fetchone()[0])["aois"]
    assert entry["pairs"] == [] and (entry["head_was"], entry["head_scene"]) == (scene(11), scene(11, 1))
    assert stored(user) == ([(scene(1), scene(11), "done", 1)], [(scene(11, 1),)])

    archive.publish(21, changed=(ROOF, YARD))
    third = recheck(user, archive)
    pair, = third["aois"][0]["pairs"]
    assert (pair["before_scene"], pair["after_scene"], pair["status"]) == (scene(11, 1), scene(21), "done")
    assert pair["n_changes"] >= 1 and n_changes(user) == 1 + pair["n_changes"]


def test_over_a_local_catalog_a_republished_pass_leaves_the_next_quick_check_light(user, archive, tmp_path):
    """Once the re-check has recorded the new publication (as seen, the head under its new id), a re-check with
    nothing new decides from plain numbers again (``geo.recheck.quick``), without the geometry stack."""
    from tests.flows.test_recheck_passes import local_catalog
    from tests.recheck.conftest import dump_store, imported_modules
    from tests.recheck.test_noop_imports import PROFILE, assert_light

    lon_lat_aoi(user.home / "site.geojson", AREA)
    args = ("recheck", "--store", "store.gpkg", "--source", "", "--json")

    def run(folder: str, *extra: str, env=None):
        source = local_catalog(archive.server, archive.folder, tmp_path / folder)
        result = user(*[source if a == "" else a for a in args], *extra, env=env)
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    run("first", "--aoi", "site.geojson", "--since", "2021-06-01")
    archive.publish(11, 1, changed=(ROOF,))
    archive.withdraw(scene(11))
    recorded = json.loads(run("second").stdout)
    assert recorded["run_id"] == 2 and recorded["aois"][0]["pairs"] == []
    rows = dump_store(user.home / "store.gpkg")
    quiet = run("third", env=PROFILE)
    assert json.loads(quiet.stdout)["aois"][0]["head_scene"] == scene(11, 1)
    assert_light(imported_modules(quiet.stderr))
    assert dump_store(user.home / "store.gpkg") == rows


def test_a_republication_whose_id_names_no_tile_is_still_not_paired_with_the_head(user, archive):
    """An id of another form (no tile in it), sensed at the head's time: the same observation, seen, never paired
    (it was, when its id sorted after the head's: "not acquired after the before scene")."""
    lon_lat_aoi(user.home / "site.geojson", AREA)
    recheck(user, archive)
    item = next(i for i in archive.server.items["sentinel-2-l2a"] if i["id"] == scene(11))
    archive.server.add_item({**json.loads(json.dumps(item)), "id": "S2A_ZZ_REPROCESSED_20210611"})
    archive.withdraw(scene(11))  # the scene cache still holds it: the head is read from there
    again = recheck(user, archive)
    entry, = again["aois"]
    assert entry["pairs"] == [] and entry["new_scenes"] == ["S2A_ZZ_REPROCESSED_20210611"]
    assert stored(user) == ([(scene(1), scene(11), "done", 1)], [(scene(11),)])


def test_a_chain_scene_whose_date_moves_after_the_head_is_not_paired_again(user, archive: Archive):
    lon_lat_aoi(user.home / "site.geojson", AREA)
    recheck(user, archive)
    before = stored(user)
    for item in archive.server.items["sentinel-2-l2a"]:
        if item["id"] == scene(1):  # the baseline, re-dated after the head (06-11)
            item["properties"]["datetime"] = "2021-06-15T11:00:00Z"
    again = recheck(user, archive)
    assert again["run_id"] is None and again["aois"][0]["head_scene"] == scene(11)
    assert stored(user) == before == ([(scene(1), scene(11), "done", 1)], [(scene(11),)])

    archive.publish(21, changed=(ROOF,))  # the chain goes on from its head
    pair, = recheck(user, archive)["aois"][0]["pairs"]
    assert (pair["before_scene"], pair["after_scene"], pair["n_changes"]) == (scene(11), scene(21), 0)
    with sqlite3.connect(user.home / "store.gpkg") as conn:
        assert conn.execute("SELECT change_type FROM changes").fetchall() == [("new_bright_surface",)]


def test_a_skipped_scene_published_again_is_tried_once_more(user, archive):
    """A pass skipped because its item could not be read (here: no red band) and then published again (mended) is
    new data about that date: its new publication is paired with the head, once."""
    lon_lat_aoi(user.home / "site.geojson", AREA)
    archive.publish(21, changed=(ROOF, YARD))
    broken = next(i for i in archive.server.items["sentinel-2-l2a"] if i["id"] == scene(21))
    del broken["assets"]["red"]
    first = recheck(user, archive)
    assert [(p["after_scene"], p["status"]) for p in first["aois"][0]["pairs"]] == [(scene(11), "done"),
                                                                                   (scene(21), "skipped")]
    archive.withdraw(scene(21))
    archive.publish(21, 1, changed=(ROOF, YARD))
    pair, = recheck(user, archive)["aois"][0]["pairs"]
    assert (pair["before_scene"], pair["after_scene"], pair["status"]) == (scene(11), scene(21, 1), "done")
    assert pair["n_changes"] >= 1 and recheck(user, archive)["run_id"] is None
