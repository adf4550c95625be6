"""The quick "nothing new" of ``geo.recheck.quick`` says what the full re-check would say, or lets it decide:
an item whose footprint box touches an AOI's box but whose footprint misses the AOI, an AOI file edited since
it was stored, claims added or naming unknown AOIs. Each case runs the real command; the import profile
tells which path answered (the full one imports shapely)."""

from __future__ import annotations

import json
import sqlite3

from shapely.geometry import Polygon, mapping

from geo.geometry import WGS84, reproject
from tests.recheck.conftest import AOIS, CLAIMS, SCENE_IDS, box_lonlat, dump_store, imported_modules
from tests.synthetic import CRS_UTM, ORIGIN, utc

PROFILE = {"PYTHONPROFILEIMPORTTIME": "1"}
EDGE = "S2A_SYN_20210520"  # acquired after the head (1 May); its footprint hugs site A without touching it
# (row, col) scene pixels: an L along the top and left edges of the scene, 5 px outside site A (rows and columns
# 20-110), so its bounding box holds site A's whole box
EDGE_FOOTPRINT = ((0, 0), (0, 120), (15, 120), (15, 15), (120, 15), (120, 0))
BOWTIE = {"type": "Polygon", "coordinates": [[[3.0, 45.1], [3.01, 45.11], [3.01, 45.1], [3.0, 45.11], [3.0, 45.1]]]}


def lonlat_polygon(pixels) -> Polygon:
    return reproject(Polygon([(ORIGIN[0] + c * 10, ORIGIN[1] - r * 10) for r, c in pixels]), CRS_UTM.to_string(),
                     WGS84)


def publish_edge_scene(series) -> None:
    item = series.item(SCENE_IDS[3]).clone()
    item.id, item.datetime = EDGE, utc(2021, 5, 20)
    footprint = lonlat_polygon(EDGE_FOOTPRINT)
    item.geometry, item.bbox = mapping(footprint), list(footprint.bounds)
    (series.scenes_dir / "items" / f"{EDGE}.json").write_text(json.dumps(item.to_dict()))
    series.publish(3, extra=(EDGE,))


def without_times(stdout: str) -> dict:
    summary = json.loads(stdout)
    return {k: v for k, v in summary.items() if k not in ("started_at", "finished_at")}


def full_path_taken(stderr: str) -> bool:
    return "shapely" in imported_modules(stderr)


def write_feature(path, aoi_id: str, geometry: dict) -> None:
    path.write_text(json.dumps({"type": "Feature", "properties": {"id": aoi_id, "kind": "other"}, "geometry": geometry}))


def test_box_only_overlap_lets_the_full_path_decide_and_both_paths_say_the_same(first_run, geo_cli):
    series, store = first_run
    rows = dump_store(store)
    for since in ((), ("--since", "2021-05-15")):  # after the head's day, the head is not searched for again
        quick = geo_cli(*series.args(store, "--json", *since), env=PROFILE)
        assert quick.returncode == 0 and not full_path_taken(quick.stderr), quick.stderr[-2000:]
        heads = {e["aoi_id"]: e["head_scene"] for e in json.loads(quick.stdout)["aois"]}
        assert heads == dict.fromkeys(AOIS, None if since else SCENE_IDS[2])
        publish_edge_scene(series)
        full = geo_cli(*series.args(store, "--json", *since), env=PROFILE)
        assert full.returncode == 0 and full_path_taken(full.stderr), full.stderr[-2000:]
        assert without_times(full.stdout) == without_times(quick.stdout)
        assert dump_store(store) == rows  # the edge scene is over no AOI: not even recorded as seen
        series.publish(3)


def test_an_aoi_file_edited_since_it_was_stored_is_checked_again(first_run, geo_cli):
    series, store = first_run
    rows = dump_store(store)
    path = series.aoi_dir / "site-a.geojson"
    row0, col0, row1, col1 = AOIS["site-a"]
    smaller = mapping(Polygon.from_bounds(*box_lonlat(row0 + 5, col0 + 5, row1 - 5, col1 - 5)))
    write_feature(path, "site-a", json.loads(json.dumps(smaller)))
    edited = geo_cli(*series.args(store), env=PROFILE)
    assert edited.returncode == 0 and "run 2: 0 new pairs" in edited.stdout, edited.stderr[-2000:]
    assert full_path_taken(edited.stderr)
    # the new area is recorded once, said on the AOI's line (not a warning on cron's stderr)
    told = [line for line in edited.stdout.splitlines() if line.startswith("  site-a:")]
    assert told == ["  site-a: its area redrawn, recorded: the pairs of new scenes are processed with it, those "
                    "already processed keep the old one"], edited.stdout
    assert "warning:" not in edited.stderr
    with sqlite3.connect(store) as conn:
        stored, updated = conn.execute("SELECT feature, updated_run FROM aois WHERE aoi_id = 'site-a'").fetchone()
    assert json.loads(stored)["geometry"]["coordinates"] == [[list(p) for p in smaller["coordinates"][0]]]
    assert updated == 2
    # then every later run is quiet and quick (each took the full path and said the area differed, forever)
    rows = dump_store(store)
    for _ in range(2):
        idle = geo_cli(*series.args(store), env=PROFILE)
        assert idle.returncode == 0 and "nothing new: 4 AOIs checked" in idle.stdout, idle.stderr[-2000:]
        assert not full_path_taken(idle.stderr) and "differs" not in idle.stderr
    assert dump_store(store) == rows
    write_feature(path, "site-a", BOWTIE)
    broken = geo_cli(*series.args(store))
    # validated again: that AOI is the run's failed AOI (exit 4, the others go on), nothing of it recorded
    assert broken.returncode == 4 and "Traceback" not in broken.stderr
    assert f"failed site-a: {path}: invalid polygon (Self-intersection" in broken.stdout
    assert dump_store(store) == rows  # nothing but a failure: no run recorded


def test_only_the_aois_rechecked_are_validated_and_a_file_of_no_id_is_a_warning(first_run, geo_cli):
    series, store = first_run
    rows = dump_store(store)
    stray = series.aoi_dir / "zz-draft.geojson"
    write_feature(stray, "zz-draft", BOWTIE)  # someone's unfinished AOI: not in the store, not re-checked
    idle = geo_cli(*series.args(store), env=PROFILE)
    assert idle.returncode == 0 and "nothing new: 4 AOIs checked" in idle.stdout, idle.stderr[-2000:]
    assert not full_path_taken(idle.stderr)
    named = geo_cli(*series.args(store, "--aoi", "zz-draft"))
    assert named.returncode == 1 and f"{stray}: invalid polygon (Self-intersection" in named.stderr
    write_feature(stray, "ZZ draft", BOWTIE)
    unnamed = geo_cli(*series.args(store))  # every stored AOI has its good file: this one is none of theirs
    assert unnamed.returncode == 0 and "nothing new: 4 AOIs checked" in unnamed.stdout, unnamed.stderr[-2000:]
    warning, = unnamed.stderr.strip().splitlines()
    assert warning.startswith(f"warning: {stray}: property 'id' must be a lower-case slug")
    assert warning.endswith("(skipped: not needed here; check with `geo aoi list`)")
    named = geo_cli(*series.args(store, "--aoi", "zz-draft"))  # asked for: its file may be the broken one
    assert named.returncode == 1 and f"{stray}: property 'id' must be a lower-case slug" in named.stderr
    assert dump_store(store) == rows


C_BUILD = """
[[claim]]
id = "c-build"
claimant = "test"
statement = "Roofs went up on site C in March."
date_stated = 2021-04-20
stance = "assert"
aoi_ids = ["{aoi}"]
window = {{ start = 2021-03-05, end = 2021-03-25 }}
signatures = ["new_construction"]
"""


def window_verdicts(store) -> list[tuple]:
    with sqlite3.connect(store) as conn:
        return list(conn.execute("SELECT claim_id, before_scene, after_scene, verdict, run_id FROM verdicts "
                                 "WHERE kind = 'window' ORDER BY fid"))


def test_claims_added_to_the_seeds_keep_their_semantics(first_run, geo_cli):
    series, store = first_run
    rows = dump_store(store)
    seeds = series.seeds_dir / "claims.toml"
    seeds.write_text(CLAIMS + C_BUILD.format(aoi="atlantis"))
    unknown = geo_cli(*series.args(store))  # it concerns no AOI re-checked: a warning
    assert unknown.returncode == 0 and "nothing new: 4 AOIs checked" in unknown.stdout, unknown.stderr[-2000:]
    assert f"warning: {seeds}: claim 'c-build' names unknown AOI 'atlantis' (skipped" in unknown.stderr
    assert dump_store(store) == rows
    # A new claim on a stored AOI whose window the chain covers is judged by the next run, from the store (it
    # waited for the AOI's next new scene: tests/recheck/test_added_claims.py); then the quick path holds again.
    seeds.write_text(CLAIMS + C_BUILD.format(aoi="site-c"))
    judging = geo_cli(*series.args(store), env=PROFILE)
    assert judging.returncode == 0 and "run 2: 0 new pairs" in judging.stdout, judging.stderr[-2000:]
    judged = [v for v in window_verdicts(store) if v[0] == "c-build"]
    rows = dump_store(store)
    idle = geo_cli(*series.args(store), env=PROFILE)
    assert idle.returncode == 0 and "nothing new: 4 AOIs checked" in idle.stdout, idle.stderr[-2000:]
    assert not full_path_taken(idle.stderr)
    assert dump_store(store) == rows
    series.publish(4)
    news = geo_cli(*series.args(store))
    assert news.returncode == 0 and "run 3:" in news.stdout, news.stderr[-2000:]
    assert [v for v in window_verdicts(store) if v[0] == "c-build"] == judged  # its segment did not grow
    assert judged == [("c-build", SCENE_IDS[0], SCENE_IDS[1], "consistent with the claim", 2)]
