"""Re-checks over a series with known truth: each planted roof is found once, in the pair where it appears;
a re-check with nothing new reads no pixels and changes nothing; a new scene adds only the new pair."""

from __future__ import annotations

import hashlib
import json
import shutil
import xml.etree.ElementTree as ET
from datetime import date

import numpy as np
import pytest
import rasterio

from geo.aoi import load_aoi
from geo.claim_files import load_claims
from geo.errors import DateError
from geo.recheck.plan import plan_aoi
from geo.recheck.run import recheck
from geo.scenes.source import LocalCatalog
from geo.store import Store, parse_utc
from tests import synthetic
from tests.recheck.conftest import ALGORITHM_VERSION, PLANTS, SCENE_IDS, SHIFTS, dump_store, output_files, rect_lonlat, request

RUN1_PAIRS = [(SCENE_IDS[0], SCENE_IDS[1]), (SCENE_IDS[1], SCENE_IDS[2])]


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_planted_roofs_found(changes, upto: int) -> None:
    """Every roof planted at dates 1..upto is found exactly once, by the pair ending at its date, with the
    right first_seen, area and type; nothing else is found."""
    expected = 0
    for k in range(1, upto + 1):
        for aoi_id, rects in PLANTS[k].items():
            for rect in rects:
                expected += 1
                truth = rect_lonlat(rect)
                hits = [f for f in changes if f.geometry.intersects(truth)]
                assert len(hits) == 1, f"{aoi_id} roof {rect} at date {k}: {len(hits)} polygons"
                hit = hits[0]
                assert hit.aoi_id == aoi_id
                assert (hit.before_scene, hit.after_scene) == (SCENE_IDS[k - 1], SCENE_IDS[k])
                assert parse_utc(str(hit.extra["first_seen"])).date() == date(2021, 3 + k, 1)
                assert hit.change_type == "new_bright_surface"
                area = rect.height * rect.width * 100.0
                assert abs(hit.area_m2 - area) <= 0.12 * area, (rect, hit.area_m2)
    assert len(changes) == expected


def test_first_recheck_finds_each_planted_roof_once_at_its_date(first_run):
    series, store = first_run
    with Store.open(store, create=False) as opened:
        assert opened.run_ids() == [1]
        summary = opened.run_summary(1)
        assert summary["n_pairs"] == 8
        changes = opened.changes()
        assert_planted_roofs_found(changes, upto=2)
        for aoi_id in ("site-a", "site-b", "site-c", "site-d"):
            pairs = opened.pairs(aoi_id, ALGORITHM_VERSION)
            assert [(p.before.id, p.after.id) for p in pairs] == RUN1_PAIRS
            assert opened.chain(aoi_id, ALGORITHM_VERSION).head.id == SCENE_IDS[2]
        assert opened.latest_window_verdict("site-a", "a-build", ALGORITHM_VERSION)["verdict"] == "consistent with the claim"
        assert opened.latest_window_verdict("site-b", "b-build", ALGORITHM_VERSION)["verdict"] == "no evidence found"
        assert opened.latest_window_verdict("site-d", "d-build", ALGORITHM_VERSION) is None  # window not reached
    verdicts = {v["claim_id"]: v for v in summary["verdicts"]}
    assert verdicts["a-build"]["covers_window"] and verdicts["a-build"]["n_matching"] == 1
    # the run's files: its new changes as RFC 7946 GeoJSON, its summary, the latest summary, a QGIS layer file
    out = store.with_name("s-outputs")
    collection = json.loads((out / "runs" / "000001" / "changes.geojson").read_text())
    assert sorted(f["properties"]["change_id"] for f in collection["features"]) == sorted(
        f.change_id for f in changes)
    assert "crs" not in collection and collection["features"][0]["properties"]["first_seen"].endswith("Z")
    kml = ET.parse(out / "runs" / "000001" / "changes.kml").getroot()  # the same changes for Google Earth
    namespace = {"k": "http://www.opengis.net/kml/2.2"}
    assert sorted(d.text for d in kml.iterfind(
        ".//k:Placemark/k:ExtendedData/k:SchemaData/k:SimpleData[@name='change_id']", namespace)) == sorted(
        f.change_id for f in changes)
    seen = {f["properties"]["change_id"]: f["properties"]["first_seen"] for f in collection["features"]}
    assert {p.get("id"): p.findtext("k:TimeSpan/k:begin", namespaces=namespace) for p in kml.iterfind(
        ".//k:Placemark", namespace)} == {f"change-{k}": v for k, v in seen.items()}  # on Google Earth's time slider
    assert json.loads((out / "runs" / "000001" / "summary.json").read_text()) == summary
    assert json.loads((out / "latest.json").read_text()) == summary
    assert (out / "s.qlr").is_file()


def test_recheck_with_no_new_scenes_reads_no_pixels_and_changes_nothing(first_run, tmp_path, geo_cli):
    series, store = first_run
    out = store.with_name("s-outputs")
    before_hash, before_rows, before_files = sha256(store), dump_store(store), files(out)
    # Proof that no pixel is read: every raster of every scene is gone; the catalog still lists them.
    shutil.move(series.scenes_dir / "data", tmp_path / "rasters-away")
    result = geo_cli(*series.args(store))  # the AOIs of the store, as a cron job would run it
    assert result.returncode == 0, result.stderr
    assert "nothing new: 4 AOIs checked" in result.stdout
    assert sha256(store) == before_hash and dump_store(store) == before_rows
    assert files(out) == before_files
    # Control: the same missing rasters do fail a re-check that has a new pair to read.
    series.publish(4)
    report = recheck(request(series, store))
    assert [f["aoi_id"] for f in report.failed_aois] == ["site-a", "site-b", "site-c", "site-d"]
    assert all(".tif" in f["error"] for f in report.failed_aois)
    assert report.summary["n_pairs"] == 0
    # and the failed AOIs are retried by the next run, from where they stopped
    shutil.move(tmp_path / "rasters-away", series.scenes_dir / "data")
    retry = recheck(request(series, store))
    assert not retry.failed_aois and retry.summary["n_pairs"] == 4 and retry.summary["n_new_changes"] == 2


def test_new_scene_only_the_new_pair_is_processed(first_run):
    series, store = first_run
    # the first two scenes are no longer needed: remove their rasters, so reading them would fail the run
    for scene_id in SCENE_IDS[:2]:
        shutil.rmtree(series.scenes_dir / "data" / scene_id)
    series.publish(4)
    report = recheck(request(series, store, aoi_refs=(), since=None))  # every AOI of the store
    assert report.run_id == 2 and not report.failed_aois
    for entry in report.summary["aois"]:
        assert [(p["before_scene"], p["after_scene"], p["status"]) for p in entry["pairs"]] == [
            (SCENE_IDS[2], SCENE_IDS[3], "done")]
        assert entry["new_scenes"] == [SCENE_IDS[3]]
    with Store.open(store, create=False) as opened:
        assert_planted_roofs_found(opened.changes(), upto=3)
        new = opened.changes(run_id=2)
        assert sorted(f.aoi_id for f in new) == ["site-b", "site-d"]
        assert opened.count("pairs") == 12
    news = {v["claim_id"]: v for v in report.summary["verdicts"]}
    assert news["d-build"]["verdict"] == "consistent with the claim" and news["d-build"]["changed"]
    assert "a-build" not in news  # its window was judged in run 1 and nothing about it changed
    assert report.summary["has_new"] and report.summary["n_new_changes"] == 2
    # and once more: nothing new
    rows = dump_store(store)
    assert recheck(request(series, store, aoi_refs=(), since=None)).run_id is None
    assert dump_store(store) == rows


def test_incremental_rechecks_equal_one_recheck_over_all_scenes(first_run, tmp_path):
    series, incremental = first_run
    series.publish(4)
    recheck(request(series, incremental))
    batch = tmp_path / "batch.gpkg"
    recheck(request(series, batch, aoi_refs=("site-a", "site-b")))

    def results(path):
        # without the row number and the run each row came from: only their order and run differ
        rows = dump_store(path, ignore=("fid", "run_id"))
        changes = sorted(r for r in rows["changes"] if r[2] in ("site-a", "site-b"))
        pairs = sorted(r for r in rows["pairs"] if r[0] in ("site-a", "site-b"))
        return changes, pairs

    assert results(incremental) == results(batch)


def test_unusable_scene_is_skipped_and_the_chain_goes_around_it(tmp_path):
    from tests.recheck.conftest import build_series

    series = build_series(tmp_path / "project")
    # a scene between t1 and t2 with no data over the northern half (site a): a copy of t1
    cloudy_id = "S2A_SYN_20210415"
    stack = synthetic.make_series((240, 240), SHIFTS[:2], {1: tuple(r for rs in PLANTS[1].values() for r in rs)})[1]
    series.add_scene(cloudy_id, synthetic.utc(2021, 4, 15), stack)
    for path in (series.scenes_dir / "data" / cloudy_id).glob("*.tif"):
        with rasterio.open(path, "r+") as dst:
            data = dst.read(1)
            data[:125] = 0
            dst.write(data, 1)
    series.publish(3, extra=(cloudy_id,))
    report = recheck(request(series, tmp_path / "s.gpkg", aoi_refs=("site-a", "site-c")))
    entries = {e["aoi_id"]: e for e in report.summary["aois"]}
    for aoi_id in ("site-a",):
        pairs = [(p["before_scene"], p["after_scene"], p["status"]) for p in entries[aoi_id]["pairs"]]
        assert pairs == [(SCENE_IDS[0], SCENE_IDS[1], "done"), (SCENE_IDS[1], cloudy_id, "skipped"),
                         (SCENE_IDS[1], SCENE_IDS[2], "done")]
        assert "clear" in entries[aoi_id]["pairs"][1]["reason"] or "no valid pixels" in entries[aoi_id]["pairs"][1]["reason"]
    for aoi_id in ("site-c",):
        pairs = [(p["before_scene"], p["after_scene"], p["status"]) for p in entries[aoi_id]["pairs"]]
        assert pairs == [(SCENE_IDS[0], SCENE_IDS[1], "done"), (SCENE_IDS[1], cloudy_id, "done"),
                         (cloudy_id, SCENE_IDS[2], "done")]
    with Store.open(tmp_path / "s.gpkg", create=False) as opened:
        changes = opened.changes()
    # the same roofs as without the unusable scene; on site c the copy of t1 shows nothing new
    found = sorted((f.aoi_id, f.after_scene) for f in changes)
    assert found == [("site-a", SCENE_IDS[1]), ("site-a", SCENE_IDS[2]), ("site-c", SCENE_IDS[1])]


def test_max_pairs_leaves_the_rest_for_the_next_run(series, tmp_path):
    store = tmp_path / "s.gpkg"
    first = recheck(request(series, store, max_pairs=1, aoi_refs=("site-a",)))
    [entry] = first.summary["aois"]
    assert [(p["before_scene"], p["after_scene"]) for p in entry["pairs"]] == RUN1_PAIRS[:1]
    assert entry["deferred_scenes"] == 1
    second = recheck(request(series, store, max_pairs=1, aoi_refs=("site-a",)))
    [entry] = second.summary["aois"]
    assert [(p["before_scene"], p["after_scene"]) for p in entry["pairs"]] == RUN1_PAIRS[1:]
    assert recheck(request(series, store, max_pairs=1, aoi_refs=("site-a",))).run_id is None
    with Store.open(store, create=False) as opened:
        assert sorted(f.after_scene for f in opened.changes()) == [SCENE_IDS[1], SCENE_IDS[2]]


def _plan(series, aoi_id, since=None):
    aoi = load_aoi(series.aoi_dir / f"{aoi_id}.geojson")
    claims = [c for c in load_claims(series.seeds_dir).values() if aoi_id in c.aoi_ids]
    return plan_aoi(LocalCatalog(series.catalog), aoi, claims, None, set(), date(2021, 12, 31), since)


def test_new_aoi_baseline_comes_from_its_claims(series):
    # a-build's window starts 2021-03-05: the baseline is the latest scene on or before it (t0)
    plan = _plan(series, "site-a")
    assert plan.head.id == SCENE_IDS[0] and plan.baseline_reason == "latest scene on or before 2021-03-05"
    assert [s.id for s in plan.pending] == list(SCENE_IDS[1:3])


@pytest.mark.parametrize("since, baseline", [("2021-04-10", SCENE_IDS[1]), ("2021-02-01", SCENE_IDS[0])])
def test_since_sets_the_baseline_of_new_aois(series, since, baseline):
    plan = _plan(series, "site-c", date.fromisoformat(since))
    assert plan.head.id == baseline


def test_aoi_without_claims_needs_since(series):
    with pytest.raises(DateError, match="'site-c' has no claims naming it and no --since"):
        _plan(series, "site-c")


def test_a_registry_aoi_whose_file_is_gone_is_retired_with_its_results_and_taken_up_again_when_it_is_back(first_run):
    """Its file removed from aoi/: the next scheduled run retires it (it was re-checked from the store's record
    for good, said nowhere), keeping what the store holds of it; its file back, it catches up."""
    series, store = first_run
    path = series.aoi_dir / "site-d.geojson"
    kept = path.read_text()
    path.unlink()
    series.publish(4)

    def rows_of_site_d() -> list[list[tuple]]:
        with Store.open(store) as opened:
            return [list(opened.conn.execute(f"SELECT * FROM {t} WHERE aoi_id = 'site-d' ORDER BY fid"))
                    for t in ("pairs", "changes", "verdicts", "chains")]

    before = rows_of_site_d()
    assert before[0] and before[2]
    report = recheck(request(series, store, aoi_refs=(), since=None))
    entries = {e["aoi_id"]: e for e in report.summary["aois"]}
    assert sorted(entries) == ["site-a", "site-b", "site-c"]
    assert [r["aoi_id"] for r in report.summary["aois_retired"]] == ["site-d"]
    with Store.open(store) as opened:
        assert opened.retired() == {"site-d": report.run_id}
    assert rows_of_site_d() == before  # kept as they were, neither dropped nor added to
    path.write_text(kept)
    back = recheck(request(series, store, aoi_refs=(), since=None))
    assert back.summary["aois_resumed"] == ["site-d"] and "aois_retired" not in back.summary
    assert {e["aoi_id"]: e for e in back.summary["aois"]}["site-d"]["n_new_changes"] == 1
    with Store.open(store) as opened:
        assert opened.retired() == {}


def test_scene_stack_values_are_what_the_series_promises():
    """The fixture itself: roofs appear at their dates and stay."""
    plants = {k: tuple(r for rs in v.values() for r in rs) for k, v in PLANTS.items()}
    stacks = synthetic.make_series((240, 240), SHIFTS, plants)
    rect = PLANTS[2]["site-b"][0]
    inner = (slice(rect.row + 3, rect.row + rect.height - 3), slice(rect.col + 3, rect.col + rect.width - 3))
    red = synthetic.BANDS.index("red")
    assert np.median(stacks[1][red][inner]) < 0.15 < np.median(stacks[2][red][inner])
    assert np.median(stacks[3][red][inner]) > 0.25


def test_lost_run_files_are_rewritten_identically(first_run):
    """A re-check killed after its commit but before its files: the next one writes them from the store."""
    series, store = first_run
    out = store.with_name("s-outputs")
    before = output_files(out)
    shutil.rmtree(out / "runs" / "000001")
    (out / "latest.json").unlink()
    (out / "runs" / ".000001.abc.partial").mkdir()  # a staging folder left by the killed writer
    swapped_out = out / "runs" / ".000002.4194303-0123abcd.old"  # a folder a killed swap left
    swapped_out.mkdir()
    (swapped_out / "summary.json").write_text("{}")
    report = recheck(request(series, store))
    assert report.repaired_runs == [1] and report.run_id is None
    assert output_files(out) == before
