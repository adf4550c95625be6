"""Re-checks of an AOI whose claims predict ships: vessel counts per scene accumulate in the store, only new
scenes are counted, and the claims' vessel evidence is recomputed over the whole stored series each run and
kept in the verdict history. The synthetic port (tests/vessels/port.py): a quiet Sentinel-1 baseline from
1 April to 25 May, a busy claim window (11 and 13 June), and Sentinel-2 dates in May and June."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pystac
import pytest

from geo.recheck.request import RecheckRequest
from geo.recheck.run import recheck
from geo.store import Store
from geo.store.vessels import vessel_rows
from tests import synthetic
from tests.recheck.conftest import ALGORITHM_VERSION, dump_store

LATE = ("S1A_TEST_20210611", "S1A_TEST_20210613", "S2A_TEST_20210612")  # published for the second run


@pytest.fixture
def port_copy(port_project, tmp_path):
    """A private copy of the port's scenes (the test removes rasters) and a way to publish some of them."""
    scenes = tmp_path / "scenes"
    shutil.copytree(port_project.root / "scenes", scenes)
    for path in scenes.rglob("*.json"):
        path.write_text(path.read_text().replace(str(port_project.root), str(tmp_path)))
    items = {i.id: i for i in pystac.Catalog.from_file(str(scenes / "catalog.json")).get_items(recursive=True)}
    catalog = tmp_path / "published"

    def publish(ids):
        synthetic.write_catalog(catalog, [items[i].clone() for i in sorted(ids)])
        return catalog / "catalog.json"

    return scenes, items, publish


def _request(port_project, store, source):
    return RecheckRequest(store=store, source=str(source), aoi_refs=("test-port",), aoi_dir=port_project.aoi_dir,
                          seeds_dir=port_project.seeds_dir, today=date(2021, 7, 1))


def _vessel_history(store):
    with Store.open(store, create=False) as opened:
        rows = opened.conn.execute(
            "SELECT claim_id, verdict, before_scene, after_scene, run_id, details FROM verdicts WHERE kind = 'vessels' "
            "ORDER BY fid").fetchall()
    return [(c, v, b, a, r, json.loads(d)) for c, v, b, a, r, d in rows]


def test_vessel_series_accumulates_and_the_evidence_is_recomputed_over_it(port_project, port_copy, tmp_path):
    scenes, items, publish = port_copy
    store = tmp_path / "s.gpkg"
    early = [i for i in items if i not in LATE]
    first = recheck(_request(port_project, store, publish(early)))
    assert first.run_id == 1 and not first.failed_aois
    [entry] = first.summary["aois"]
    assert sorted(entry["vessels"]["new_scenes"]) == sorted(early) and entry["vessels"]["n_counted"] == 13
    history = {c: (v, d) for c, v, _, _, _, d in _vessel_history(store)}
    assert history["test-ships"][0] == "not tested"  # no scene inside 10-14 June yet
    assert "no scene inside the window" in history["test-ships"][1]["rationale"]
    assert history["test-quiet"][0] == "no evidence found"

    # Second run: three new scenes. The rasters of every scene counted before are gone (but the change chain's
    # head, the before scene of its next pair), so reading one would fail the AOI: only the new ones are read.
    with Store.open(store, create=False) as opened:
        head = opened.chain("test-port", ALGORITHM_VERSION).head.id
    assert head.startswith("S2A_")
    for scene_id in early:
        if scene_id != head:
            shutil.rmtree(scenes / scene_id)
    second = recheck(_request(port_project, store, publish(items)))
    assert second.run_id == 2 and not second.failed_aois, second.failed_aois
    [entry] = second.summary["aois"]
    assert sorted(entry["vessels"]["new_scenes"]) == sorted(LATE) and entry["vessels"]["n_dates"] == 16
    with Store.open(store, create=False) as opened:
        stored = vessel_rows(opened, "test-port", "vessels/0.1")
        masks = dict(opened.conn.execute("SELECT sensor, method FROM vessel_masks").fetchall())
    assert len(stored) == 16 and {r["run_id"] for r in stored if r["scene"] in LATE} == {2}
    # the new scenes are judged against the sea of the first run's time-series land mask, kept in the store
    assert masks["s1"].startswith("sar-temporal-median/") and masks["s2"].startswith("water-index-temporal-median/")
    for row in (r for r in stored if r["scene"] in LATE):
        assert "(kept from an earlier run)" in row["land_mask"]
        planted = [s for s in port_project.ships[row["scene"]] if 10 <= s.row < 290 and 10 <= s.col < 290]
        assert abs(row["n_vessels"] - len(planted)) <= 1, (row, len(planted))
    # the evidence over the whole stored series: the window's rise is now significant
    history = _vessel_history(store)
    ships = [(v, b, a, r, d) for c, v, b, a, r, d in history if c == "test-ships"]
    assert [(v, r) for v, _, _, r, _ in ships] == [("not tested", 1), ("consistent with the claim", 2)]
    verdict, before, after, _, details = ships[-1]
    assert (before, after) == ("S1A_TEST_20210401", "S1A_TEST_20210613")  # first and last scene of the series
    # ships >= 100 m (the class troop transport turns on), as the stored series now keeps them (migration 4)
    test = details["tests"]["s1"]
    assert details["p_value"] < 0.01 and test["count"] == "n_100m"
    baseline = [r for r in stored if r["sensor"] == "s1" and r["date"] < "2021-06-10"]
    assert test["baseline"] == [r["n_100m"] for r in baseline] and len(baseline) == 10
    assert test["baseline"] != [r["n_large"] for r in baseline]  # (n_large: 2, 1, 3, 3, 3, 2, 3, 1, 3, 2)
    news = {(v["kind"], v["claim_id"]): v for v in second.summary["verdicts"]}
    assert news[("vessels", "test-ships")]["changed"] and news[("vessels", "test-ships")]["previous_verdict"] == "not tested"
    assert news[("vessels", "test-denial")]["verdict"] == "inconsistent with the denial"
    assert second.summary["has_new"]
    # the counts merged with the window verdict of the change chain, by the rule of geo run
    combined = details["combined"]
    assert combined["verdict"] == "consistent with the claim" and combined["verdict_source"].startswith("vessel counts")

    # Third run: nothing new, nothing read, nothing written.
    rows = dump_store(store)
    assert recheck(_request(port_project, store, publish(items))).run_id is None
    assert dump_store(store) == rows
