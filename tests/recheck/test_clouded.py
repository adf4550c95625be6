"""A clouded newest scene must not wedge the cron job: the skipped pair is recorded once, later re-checks do
nothing until a usable scene arrives, and the chain then goes around the clouded scene. Several AOIs share
the store; the clouded one never holds the others back, nor does a failure while recording one AOI."""

from __future__ import annotations

import json
import sqlite3

import rasterio

from geo.store import Store
from tests import synthetic
from tests.recheck.conftest import ALGORITHM_VERSION, AOIS, PLANTS, SCENE_IDS, SHAPE, dump_store, rect_lonlat

CLOUDED = "S2A_SYN_20210515"  # between SCENE_IDS[2] (1 May) and SCENE_IDS[3] (1 June)
S0, S1, S2, S5 = SCENE_IDS  # S5: the next usable scene after the clouded one
SKIP_REASON = "only 0% of the AOI clear on both dates (need 50%)"


def pairs(store, aoi_id: str) -> list[tuple]:
    with sqlite3.connect(store) as conn:
        return list(conn.execute(
            "SELECT before_scene, after_scene, status, reason, n_changes, run_id FROM pairs "
            "WHERE aoi_id = ? AND algorithm_version = ? ORDER BY fid", (aoi_id, ALGORITHM_VERSION)))


def window_verdicts(store, claim_id: str) -> list[tuple]:
    with sqlite3.connect(store) as conn:
        rows = conn.execute("SELECT before_scene, after_scene, verdict, covers_window, details, run_id FROM verdicts "
                            "WHERE kind = 'window' AND claim_id = ? ORDER BY fid", (claim_id,))
        return [(b, a, v, bool(c), json.loads(d)["n_pairs"], r) for b, a, v, c, d, r in rows]


def add_clouded_scene(series) -> None:
    """Site A under a cloud (and its 300 m margin clear: the read is not empty), the other sites clear."""
    row0, col0, row1, col1 = AOIS["site-a"]
    series.add_clouded_scene(CLOUDED, synthetic.utc(2021, 5, 15), (0.2, -0.3), (row0 - 2, col0 - 2, row1 + 2, col1 + 2))


def test_clouded_scene_is_skipped_once_and_the_chain_goes_around_it(first_run, geo_cli, tmp_path):
    series, store = first_run  # run 1: S0 -> S1 -> S2 over the four sites, head S2
    add_clouded_scene(series)

    series.publish(3, extra=(CLOUDED,))
    clouded = geo_cli(*series.args(store, "--json"))
    assert clouded.returncode == 0, clouded.stderr
    entries = {e["aoi_id"]: e for e in json.loads(clouded.stdout)["aois"]}
    assert entries["site-a"]["pairs"][0]["status"] == "skipped" and entries["site-a"]["head_scene"] == S2
    for aoi_id in ("site-b", "site-c", "site-d"):
        assert [(p["before_scene"], p["after_scene"], p["status"]) for p in entries[aoi_id]["pairs"]] == [
            (S2, CLOUDED, "done")]
        assert entries[aoi_id]["head_scene"] == CLOUDED

    # The cron job's next run: nothing new, and nothing read (the rasters are gone) or written.
    rows = dump_store(store)
    (series.scenes_dir / "data").rename(tmp_path / "rasters-away")
    idle = geo_cli(*series.args(store))
    assert idle.returncode == 0, idle.stderr
    assert "nothing new: 4 AOIs checked" in idle.stdout
    assert dump_store(store) == rows
    (tmp_path / "rasters-away").rename(series.scenes_dir / "data")

    series.publish(4, extra=(CLOUDED,))
    clear = geo_cli(*series.args(store, "--json"))
    assert clear.returncode == 0, clear.stderr
    summary = json.loads(clear.stdout)
    assert summary["run_id"] == 3 and summary["failed_aois"] == []

    # Site A: the clouded pair recorded once, with its reason; the chain went from the head to S5.
    assert pairs(store, "site-a") == [(S0, S1, "done", "", 1, 1), (S1, S2, "done", "", 1, 1),
                                      (S2, CLOUDED, "skipped", SKIP_REASON, 0, 2), (S2, S5, "done", "", 0, 3)]
    # The clear sites went through the clouded scene; the roofs of S5 are found by its pair.
    for aoi_id in ("site-b", "site-c", "site-d"):
        assert [p[:3] for p in pairs(store, aoi_id)] == [(S0, S1, "done"), (S1, S2, "done"), (S2, CLOUDED, "done"),
                                                          (CLOUDED, S5, "done")]
    with Store.open(store, create=False) as opened:
        for aoi_id in AOIS:
            assert opened.chain(aoi_id, ALGORITHM_VERSION).head.id == S5
        changes = opened.changes()
    found = sorted((f.aoi_id, f.before_scene, f.after_scene, f.extra["run_id"]) for f in changes)
    assert found == [("site-a", S0, S1, 1), ("site-a", S1, S2, 1), ("site-b", S1, S2, 1), ("site-b", CLOUDED, S5, 3),
                     ("site-c", S0, S1, 1), ("site-d", CLOUDED, S5, 3)]
    for aoi_id, rects in PLANTS[3].items():  # each roof of S5 is where it was planted
        [hit] = [f for f in changes if f.after_scene == S5 and f.geometry.intersects(rect_lonlat(rects[0]))]
        assert hit.aoi_id == aoi_id and hit.change_type == "new_bright_surface"

    # Window verdicts: d-build (10-25 May) was "not yet covered" over S2 -> clouded scene, and is now judged
    # over S2 -> clouded -> S5 (two pairs), which shows its roof. a-build and b-build (March) are untouched.
    assert window_verdicts(store, "d-build") == [
        (S2, CLOUDED, "not tested", False, 1, 2), (S2, S5, "consistent with the claim", True, 2, 3)]
    assert [v[:3] for v in window_verdicts(store, "a-build")] == [(S0, S1, "consistent with the claim")]
    assert [v[:3] for v in window_verdicts(store, "b-build")] == [(S0, S1, "no evidence found")]

    # And the next run is a no-op again.
    assert "nothing new: 4 AOIs checked" in geo_cli(*series.args(store)).stdout


def test_a_scene_clouded_over_the_whole_grid_is_skipped_naming_it(first_run, geo_cli):
    """A scene showing nothing of any AOI's grid: each pair skipped, its reason (store, --json) naming the scene
    that showed nothing, as before such a pair was judged 'not observable' rather than refused (it said 'only 0%
    of the AOI clear on both dates', which leaves the reader to find which date)."""
    series, store = first_run
    series.add_clouded_scene(CLOUDED, synthetic.utc(2021, 5, 15), (0.2, -0.3), (0, 0, *SHAPE))
    series.publish(3, extra=(CLOUDED,))
    shell = geo_cli(*series.args(store, "--json"))
    assert shell.returncode == 0, shell.stderr
    reason = f"scene {CLOUDED}: no valid pixels over the area (all nodata or cloud)"
    for entry in json.loads(shell.stdout)["aois"]:
        assert [(p["after_scene"], p["status"], p["reason"]) for p in entry["pairs"]] == [
            (CLOUDED, "skipped", reason)], entry
        assert pairs(store, entry["aoi_id"])[-1] == (S2, CLOUDED, "skipped", reason, 0, 2)
    terminal = geo_cli(*series.args(store))  # the chain goes on from S2: nothing new
    assert "nothing new: 4 AOIs checked" in terminal.stdout, terminal.stdout


def test_a_scene_showing_a_handful_of_pixels_is_skipped_not_retried_for_ever(first_run, geo_cli):
    """Cloud over the whole grid but a 14-pixel hole (6 × 6 once the cloud's 40 m buffer is masked): every AOI
    failed with 'IR-MAD needs at least 60 valid pixels, the pair has 36', exit 4, and so again at each cron run,
    the chain wedged on that scene. Now the pair is skipped as a clouded one, saying why, and the chain goes on."""
    series, store = first_run
    series.add_clouded_scene(CLOUDED, synthetic.utc(2021, 5, 15), (0.2, -0.3), (0, 0, *SHAPE))
    with rasterio.open(series.scenes_dir / "data" / CLOUDED / "scl.tif", "r+") as scl:
        classes = scl.read(1)
        classes[60:74, 60:74] = 4  # vegetation, in site A
        scl.write(classes, 1)
    series.publish(3, extra=(CLOUDED,))
    shell = geo_cli(*series.args(store))
    assert shell.returncode == 0, shell.stdout + shell.stderr
    reason = pairs(store, "site-a")[-1][3]
    assert pairs(store, "site-a")[-1][:3] == (S2, CLOUDED, "skipped") and reason.startswith("too few valid pixels"), reason
    assert "nothing new: 4 AOIs checked" in geo_cli(*series.args(store)).stdout


FAIL_SITE_D = """CREATE TRIGGER fail_site_d BEFORE INSERT ON changes WHEN NEW.aoi_id = 'site-d'
                 BEGIN SELECT RAISE(ABORT, 'injected failure for site-d'); END"""


def test_a_failure_recording_one_aoi_keeps_the_others(first_run, geo_cli):
    series, store = first_run
    series.publish(4)
    with sqlite3.connect(store) as conn:  # a real fault in the real store, hit only by site D's change
        conn.execute(FAIL_SITE_D)
    failed = geo_cli(*series.args(store, "--json"))
    assert failed.returncode == 4, (failed.returncode, failed.stderr[-2000:])
    summary = json.loads(failed.stdout)
    [failure] = summary["failed_aois"]
    assert failure["aoi_id"] == "site-d" and "injected failure for site-d" in failure["error"]
    assert "Traceback" not in failed.stderr
    with Store.open(store, create=False) as opened:
        assert opened.run_ids() == [1, 2]
        new = sorted((f.aoi_id, f.after_scene) for f in opened.changes(run_id=2))
        assert new == [("site-b", S5)]  # site D's roof is not recorded, site B's is
        for aoi_id in ("site-a", "site-b", "site-c"):
            assert opened.chain(aoi_id, ALGORITHM_VERSION).head.id == S5
        assert opened.chain("site-d", ALGORITHM_VERSION).head.id == S2  # nothing of site D's part was kept
        assert S5 not in opened.seen_scene_ids("site-d")
    assert [p[:3] for p in pairs(store, "site-d")] == [(S0, S1, "done"), (S1, S2, "done")]

    with sqlite3.connect(store) as conn:
        conn.execute("DROP TRIGGER fail_site_d")
    retry = geo_cli(*series.args(store, "--json"))
    assert retry.returncode == 0, retry.stderr
    entries = {e["aoi_id"]: e for e in json.loads(retry.stdout)["aois"]}
    assert [(p["before_scene"], p["after_scene"], p["n_changes"]) for p in entries["site-d"]["pairs"]] == [(S2, S5, 1)]
    assert all(not entries[a]["pairs"] for a in ("site-a", "site-b", "site-c"))
    assert [p[:3] for p in pairs(store, "site-d")][-1] == (S2, S5, "done")
