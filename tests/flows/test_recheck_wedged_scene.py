"""``geo recheck`` from cron over a scene whose host never serves it (HTTP 503, or a truncated file, at every
run): the AOI fails (exit 4, retried next run) until the read has failed in ``GIVE_UP_RUNS`` runs over at least
``GIVE_UP_AFTER``; then the scene is skipped with why, like an unusable one, and the later scenes of the AOI
are processed."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest

from geo.recheck.give_up import GIVE_UP_AFTER, GIVE_UP_RUNS
from geo.store import iso_utc, parse_utc
from tests.flows.conftest import drawn_aoi
from tests.scenes.test_broken_items import BEFORE, BROKEN, LATER, broken_archive


def _failures(store) -> list[tuple[str, int, str, str]]:
    with sqlite3.connect(store) as db:
        return db.execute("SELECT scene_id, n_runs, first_failed_at, last_error FROM read_failures").fetchall()


@pytest.mark.parametrize("fault, said", [
    ({"kind": "status", "status": 503, "methods": ("GET", "HEAD")}, "503"),
    ({"kind": "truncate", "methods": ("GET",)}, "failed after 3 attempts"),  # a third of the file, at every read
])
def test_a_scene_its_host_never_serves_is_skipped_after_three_failed_runs_over_a_day(user, tmp_path, fault, said):
    assert (GIVE_UP_RUNS, GIVE_UP_AFTER) == (3, timedelta(hours=24))
    server = broken_archive(tmp_path / "archive", lambda item: None)
    server.inject(fault["kind"], match=f"/files/s2/{BROKEN}/red.tif", times=-1,
                  **{k: v for k, v in fault.items() if k != "kind"})
    drawn_aoi(user.home / "harbour.geojson")
    store = user.home / "store.gpkg"
    runs, counts = [], []
    try:
        runs.append(user("recheck", "--store", "store.gpkg", "--aoi", "harbour.geojson", "--source", server.url,
                         "--since", "2015-12-01"))
        counts.append(_failures(store))
        runs.append(user("recheck", "--store", "store.gpkg", "--source", server.url))
        counts.append(_failures(store))
        # a day passes before cron's third run (the runs here are seconds apart): the first failure is 25 h old
        first = parse_utc(counts[-1][0][2])
        with sqlite3.connect(store) as db:
            db.execute("UPDATE read_failures SET first_failed_at = ?", (iso_utc(first - timedelta(hours=25)),))
        runs.append(user("recheck", "--store", "store.gpkg", "--source", server.url))
        counts.append(_failures(store))
        runs.append(user("recheck", "--store", "store.gpkg", "--source", server.url))  # cron's next: nothing new
    finally:
        server.stop()
    for run in runs[:2]:  # as before: the AOI fails, the next run retries
        assert run.returncode == 4, run.output
        assert f"failed harbour: {BROKEN}: scene {BROKEN} asset 'red'" in run.stdout and said in run.stdout
        assert "scene skipped" not in run.stderr
    assert [[(s, n) for s, n, _, _ in c] for c in counts[:2]] == [[(BROKEN, 1)], [(BROKEN, 2)]]
    assert counts[0][0][2] == counts[1][0][2]  # counted since the first failure
    error = counts[1][0][3]
    assert error.startswith(f"scene {BROKEN} asset 'red'") and said in error
    third = runs[2]
    since = iso_utc(first - timedelta(hours=25))
    why = f"failed to read in 3 runs since {since}: {error}"
    assert third.returncode == 0, third.output
    assert third.stdout.startswith("run 3: 1 new pair, "), third.stdout
    assert "harbour: 1 pair, " in third.stdout and ", 1 scene skipped (1 unreadable); head " + LATER in third.stdout
    assert f"warning: AOI harbour: scene skipped: {why}" in third.stderr
    summary = json.loads((user.home / "store-outputs" / "runs" / "000003" / "summary.json").read_text())
    (entry,) = summary["aois"]
    assert [(p["before_scene"], p["after_scene"], p["status"], p["reason"]) for p in entry["pairs"]] == [
        (BEFORE, BROKEN, "skipped", why), (BEFORE, LATER, "done", "")]
    assert entry["head_scene"] == LATER and summary["failed_aois"] == [] and summary["n_new_changes"] > 0
    with sqlite3.connect(store) as db:  # the reason is kept with the pair; the count is done with
        assert db.execute("SELECT reason FROM pairs WHERE after_scene = ?", (BROKEN,)).fetchone() == (why,)
    assert counts[2] == []
    assert runs[3].returncode == 0 and "nothing new: 1 AOI checked" in runs[3].stdout, runs[3].output


def test_a_store_of_schema_10_already_held_up_by_a_scene_starts_counting_at_its_next_run(user, tmp_path):
    # a store the workbench before left (no count of failed reads), its AOI already failing on the scene
    server = broken_archive(tmp_path / "archive", lambda item: None)
    server.inject("status", match=f"/files/s2/{BROKEN}/red.tif", methods=("GET", "HEAD"), status=503, times=-1)
    drawn_aoi(user.home / "harbour.geojson")
    store = user.home / "store.gpkg"
    try:
        first = user("recheck", "--store", "store.gpkg", "--aoi", "harbour.geojson", "--source", server.url,
                     "--since", "2015-12-01")
        with sqlite3.connect(store) as db:
            db.execute("DROP TABLE read_failures")
            db.execute("ALTER TABLE aois DROP COLUMN retired_run")  # migration 12's
            db.execute("ALTER TABLE claims DROP COLUMN retired_run")
            db.execute("DELETE FROM gpkg_contents WHERE table_name = 'read_failures'")
            db.execute("UPDATE store_meta SET value = '10' WHERE key = 'schema_version'")
        db.close()
        second = user("recheck", "--store", "store.gpkg", "--source", server.url)
    finally:
        server.stop()
    assert first.returncode == 4 and second.returncode == 4, second.output
    assert second.stdout.startswith("store schema migrated from version 10 to 13\nrun 2: 0 new pairs"), second.stdout
    assert f"failed harbour: {BROKEN}: scene {BROKEN} asset 'red'" in second.stdout
    assert [(s, n) for s, n, _, _ in _failures(store)] == [(BROKEN, 1)]  # the run before the upgrade is not known
