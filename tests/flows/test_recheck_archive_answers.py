"""``geo recheck`` against archives that answer badly, as cron runs it: the first re-check of a drawn area
whose search fails, and later ones. What failed is retried by the next run without --aoi, from where the
first run was asked to start; nothing is dropped in silence, no chain wedges."""

from __future__ import annotations

import copy
import json
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import rasterio

from tests import archive_data
from tests.archive_server import ArchiveServer
from tests.flows.conftest import DEMO_CATALOG, drawn_aoi
from tests.scenes.test_broken_items import BEFORE, BROKEN, LATER, broken_archive


@pytest.fixture(scope="module")
def clear_archive(tmp_path_factory) -> Iterator[ArchiveServer]:
    """Three clear scenes over Nantes (nothing broken)."""
    server = broken_archive(tmp_path_factory.mktemp("clear"), lambda item: None)
    yield server
    server.stop()


def test_an_area_whose_first_search_failed_is_retried_by_the_next_run_from_its_since(user, clear_archive):
    drawn_aoi(user.home / "harbour.geojson")
    clear_archive.clear()
    clear_archive.inject("status", match="/search", methods=("POST",), times=-1, status=500)  # the archive is down
    first = user("recheck", "--store", "store.gpkg", "--aoi", "harbour.geojson", "--source", clear_archive.url,
                 "--since", "2015-12-01")
    clear_archive.clear()
    assert first.returncode == 4, first.output
    # the run's first line says it failed in part, as a log's `grep '^run'` shows it (it read as a run with nothing new)
    assert first.stdout.startswith("run 1: 0 new pairs, 0 new changes (none), 1 AOI failed (retried next run) in ")
    assert "failed harbour: search failed: " in first.stdout and "HTTP 500" in first.stdout
    assert "search failed" not in first.stderr, first.stderr  # said once, for cron's log
    with sqlite3.connect(user.home / "store.gpkg") as db:  # registered, though nothing was found
        assert db.execute("SELECT aoi_id, first_run FROM aois").fetchall() == [("harbour", 1)]
    # cron's next run names no AOI and no --since: the area is retried, its chain starting at the first --since
    second = user("recheck", "--store", "store.gpkg", "--source", clear_archive.url)
    assert second.returncode == 0, second.output
    summary = json.loads((user.home / "store-outputs" / "runs" / "000002" / "summary.json").read_text())
    (entry,) = summary["aois"]
    assert entry["baseline_scene"] == BEFORE
    assert entry["baseline_reason"] == "no scene on or before 2015-12-01 within 365 days: first scene after it"
    assert [(p["after_scene"], p["status"]) for p in entry["pairs"]] == [(BROKEN, "done"), (LATER, "done")]
    assert summary["failed_aois"] == [] and summary["n_new_changes"] > 0


def test_an_area_no_scene_covers_yet_is_registered_and_checked_again_not_dropped(user):
    # Watching a place before the source has imagery of it: the first re-check finds no scene at all. The area
    # is registered all the same (cron's next run, with no --aoi, checks it again instead of failing).
    paris = [[2.30, 48.85], [2.31, 48.85], [2.31, 48.86], [2.30, 48.86], [2.30, 48.85]]  # outside the demo scenes
    drawn_aoi(user.home / "paris.geojson", [paris])
    first = user("recheck", "--store", "store.gpkg", "--aoi", "paris.geojson", "--source", str(DEMO_CATALOG),
                 "--since", "2015-06-23")
    assert first.returncode == 0, first.output
    assert "run 1: 0 new pairs" in first.stdout
    # it said "since 2014-06-23" for --since 2015-06-23: the search's reach back for a baseline is named as such
    assert "paris: no chain yet: no scene over the AOI from 2014-06-23 to " in first.stdout
    assert "(the 365 days before 2015-06-23 searched for a baseline too)" in first.stdout
    with sqlite3.connect(user.home / "store.gpkg") as db:
        assert db.execute("SELECT aoi_id, first_run FROM aois").fetchall() == [("paris", 1)]
    cron = user("recheck", "--store", "store.gpkg", "--source", str(DEMO_CATALOG))
    assert cron.returncode == 0, cron.output
    assert "nothing new: 1 AOI checked" in cron.stdout and "store unchanged" in cron.stdout
    with sqlite3.connect(user.home / "store.gpkg") as db:  # no run recorded for finding nothing again
        assert db.execute("SELECT count(*) FROM runs").fetchone() == (1,)


def _bandless(server: ArchiveServer, folder: Path) -> ArchiveServer:
    server.items["sentinel-2-l2a"][1]["assets"].pop("red")
    return server


def _ungeoreferenced(server: ArchiveServer, folder: Path) -> ArchiveServer:
    """The red band served as a COG without CRS or geotransform (its pixels are the right ones)."""
    path = f"/files/s2/{BROKEN}/red.tif"
    with rasterio.open(server.files[path]) as src:
        server.files[path] = archive_data.write_cog(folder / "red-nowhere.tif", src.read(1), None, None, src.nodata)
    return server


def _not_served(server: ArchiveServer, folder: Path) -> ArchiveServer:
    """The red band's URL answers 404 Not Found, at every run."""
    del server.files[f"/files/s2/{BROKEN}/red.tif"]
    return server


def _login_page(server: ArchiveServer, folder: Path) -> ArchiveServer:
    """The red band's URL answers 200 with a portal's HTML login page instead of the file."""
    page = folder / "login.html"
    page.write_text("<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Please sign in</body></html>\n")
    server.files[f"/files/s2/{BROKEN}/red.tif"] = page
    return server


RED_URL = f"http://127.0.0.1:{{port}}/files/s2/{BROKEN}/red.tif"


@pytest.mark.parametrize("breaks, why", [
    (_bandless, "no asset 'red' (Sentinel-2 B04; has blue, green, nir, scl, swir16, swir22): the change step reads "
                "it for the change statistic, the co-registration and the true-colour layers (an asset keyed B04 gives "
                "it)"),
    (_ungeoreferenced, f"asset 'red': {RED_URL}: raster has no CRS (georeference missing)"),
    (_not_served, f"asset 'red' ({RED_URL}): HTTP response code: 404"),
    (_login_page, f"asset 'red' ({RED_URL}): not a raster: the host answers with text/html "
                  "('<!DOCTYPE html> <html><head><title>Sign in</title></head><bo'...)"),
])
def test_a_scene_whose_band_cannot_be_used_is_skipped_with_why_and_the_chain_goes_around_it(user, tmp_path, breaks,
                                                                                          why):
    # An item without the band will not grow one, a file without georeference will not gain one: retrying
    # them every run (exit 4) would hold the chain up forever.
    server = breaks(broken_archive(tmp_path / "archive", lambda item: None), tmp_path / "archive")
    why = why.format(port=server.url.rsplit(":", 1)[1])
    drawn_aoi(user.home / "harbour.geojson")
    try:
        first = user("recheck", "--store", "store.gpkg", "--aoi", "harbour.geojson", "--source", server.url,
                     "--since", "2015-12-01")
        first_end = time.time()
        again = user("recheck", "--store", "store.gpkg", "--source", server.url)
    finally:
        server.stop()
    assert first.returncode == 0, first.output
    assert f"warning: AOI harbour: scene skipped: scene {BROKEN}: {why}" in first.stderr
    summary = json.loads((user.home / "store-outputs" / "runs" / "000001" / "summary.json").read_text())
    assert [(p["after_scene"], p["status"]) for p in summary["aois"][0]["pairs"]] == [(BROKEN, "skipped"),
                                                                                     (LATER, "done")]
    assert summary["aois"][0]["head_scene"] == LATER and summary["failed_aois"] == []
    with sqlite3.connect(user.home / "store.gpkg") as db:  # the reason is kept with the pair
        (reason,) = db.execute("SELECT reason FROM pairs WHERE after_scene = ?", (BROKEN,)).fetchone()
    assert reason == f"scene {BROKEN}: {why}"
    assert again.returncode == 0 and "nothing new: 1 AOI checked" in again.stdout, again.output
    # the second run did not fetch the broken scene's band again
    assert [r for r in server.records(f"/files/s2/{BROKEN}/") if r.at > first_end] == []


def test_a_band_the_host_cannot_serve_for_now_is_retried_by_the_next_run(user, tmp_path):
    # 503 (or a timeout) is the host's trouble of the moment, not a fact about the scene: the AOI fails this
    # run, and the next one reads the scene and pairs it, not going around it.
    server = broken_archive(tmp_path / "archive", lambda item: None)
    server.inject("status", match=f"/files/s2/{BROKEN}/red.tif", methods=("GET", "HEAD"), status=503, times=-1)
    drawn_aoi(user.home / "harbour.geojson")
    try:
        first = user("recheck", "--store", "store.gpkg", "--aoi", "harbour.geojson", "--source", server.url,
                     "--since", "2015-12-01")
        with sqlite3.connect(user.home / "store.gpkg") as db:  # a failed read, counted (given up on at the 3rd run)
            counted = db.execute("SELECT scene_id, n_runs FROM read_failures").fetchall()
        server.faults.clear()
        again = user("recheck", "--store", "store.gpkg", "--source", server.url)
        with sqlite3.connect(user.home / "store.gpkg") as db:  # read: its count starts again
            left = db.execute("SELECT count(*) FROM read_failures").fetchone()[0]
    finally:
        server.stop()
    assert (counted, left) == ([(BROKEN, 1)], 0)
    assert first.returncode == 4, first.output
    assert f"failed harbour: {BROKEN}: scene {BROKEN} asset 'red'" in first.stdout and "503" in first.stdout
    assert "scene skipped" not in first.stderr
    assert again.returncode == 0, again.output
    summary = json.loads((user.home / "store-outputs" / "runs" / "000002" / "summary.json").read_text())
    assert [(p["after_scene"], p["status"]) for p in summary["aois"][0]["pairs"]] == [(BROKEN, "done"),
                                                                                     (LATER, "done")]


@pytest.mark.parametrize("new_id, found", [(f"{BROKEN}_v2", True), ("S2A_REPROCESSED_20170701", False)])
def test_a_chain_head_the_archive_withdrew_is_stood_in_for_not_a_failure_forever(user, tmp_path, new_id, found):
    # Archives re-process scenes under new ids and drop the old items. Without the head's item in the scene
    # cache (another machine, a cleared cache) the chain's before scene could not be looked up: the AOI failed
    # at every run (exit 4) and no later scene was ever paired. A new id naming the head's tile, sensed at its
    # time, is the head (tests/flows/test_recheck_republished.py); another id sensed at its time stands in for it,
    # with a warning (the later scene stood in when the new id sorted before the old: the pair to it was lost).
    server = broken_archive(tmp_path / "archive", lambda item: None)
    items = server.items["sentinel-2-l2a"]
    later = items.pop()  # published after the first re-check
    drawn_aoi(user.home / "harbour.geojson")
    try:
        first = user("recheck", "--store", "store.gpkg", "--aoi", "harbour.geojson", "--source", server.url,
                     "--since", "2015-12-01")
        assert first.returncode == 0 and f"head {BROKEN}" in first.stdout, first.output
        head = items.pop()  # withdrawn, and published again under a new id
        items += [{**copy.deepcopy(head), "id": new_id}, later]
        shutil.rmtree(tmp_path / "scene-cache")
        second = user("recheck", "--store", "store.gpkg", "--source", server.url)
    finally:
        server.stop()
    assert second.returncode == 0, second.output
    warning = (f"warning: chain head {BROKEN} is gone ({server.url}: no scene with id '{BROKEN}' in sentinel-2-l2a): "
               f"{new_id}, sensed at the same time, stands in as the before scene")
    if found:  # no warning: the head is where it was, under its new id
        assert "is gone" not in second.stderr and second.stderr == "", second.stderr
    else:
        assert warning in second.stderr, second.stderr
    summary = json.loads((user.home / "store-outputs" / "runs" / "000002" / "summary.json").read_text())
    (entry,) = summary["aois"]
    assert [(p["before_scene"], p["after_scene"], p["status"]) for p in entry["pairs"]] == [
        (new_id, LATER, "done")]
    assert entry["head_scene"] == LATER and summary["failed_aois"] == []


@contextmanager
def _held_back(user, archive: ArchiveServer) -> Iterator[tuple[list[dict], list[dict]]]:
    """A first re-check of a drawn area over the baseline scene alone; yields the archive's item list and the two
    later scenes held back (newest first) for the test to publish; the archive is left as it was."""
    drawn_aoi(user.home / "harbour.geojson")
    archive.clear()
    items = archive.items["sentinel-2-l2a"]
    held = [items.pop() for _ in range(2)]
    try:
        assert user("recheck", "--store", "store.gpkg", "--aoi", "harbour.geojson", "--source", archive.url,
                    "--since", "2015-12-01").returncode == 0
        yield items, held
    finally:
        items[:] = [i for i in items if i not in held] + list(reversed(held))
        archive.clear()


def test_a_search_that_times_out_once_is_quiet_and_one_that_always_does_says_so(user, clear_archive):
    # cron's log (or its mail) got "warning: POST .../search: ConnectionError; retry 1/2" from a run the retry
    # saved, and a search that never answered failed as "Max retries exceeded with url: /search
    # (ReadTimeoutError)", a timeout in other words. Quiet success; a timeout said to be one; the next run catches up.
    with _held_back(user, clear_archive) as (items, held):
        items += reversed(held[1:])
        clear_archive.clear()
        clear_archive.inject("slow", match="/search", methods=("POST",), delay=6)  # GEO_HTTP_TIMEOUT is 5 s here
        saved = user("recheck", "--store", "store.gpkg", "--source", clear_archive.url)
        time.sleep(1.5)  # the stalled answer is logged when it is sent
        assert [r.fault for r in clear_archive.records("/search")].count("slow") == 1  # it did time out, once
        items.append(held[0])
        clear_archive.inject("slow", match="/search", methods=("POST",), times=-1, delay=6)
        down = user("recheck", "--store", "store.gpkg", "--source", clear_archive.url)
        clear_archive.clear()
        again = user("recheck", "--store", "store.gpkg", "--source", clear_archive.url)
    assert saved.returncode == 0 and saved.stderr == "", saved.output
    assert saved.stdout.startswith("run 2: 1 new pair,"), saved.stdout
    assert down.returncode == 4, down.output
    assert (f"failed harbour: search failed: {clear_archive.url}: search failed (127.0.0.1 did not answer in time: "
            "a read timeout (GEO_HTTP_TIMEOUT s) at each attempt)") in down.stdout, down.stdout
    assert "ConnectionError" not in down.output and "Max retries" not in down.output
    assert again.returncode == 0 and again.stdout.startswith("run 3: 1 new pair,"), again.output  # run 3: down was none


def test_a_search_failing_on_its_second_page_is_not_taken_for_the_whole_answer(user, clear_archive):
    # Page 1 answered, page 2 refused (500 at every attempt): the AOI fails this run and records nothing of page 1's
    # scenes (a chain moved on to them would never pair what page 2 held before them); the next run pairs all.
    with _held_back(user, clear_archive) as (items, held):
        items += reversed(held)  # three scenes from the head's day on: two pages of two
        clear_archive.clear()
        clear_archive.inject("status", match="/search", methods=("POST",), status=500, times=-1, after=1)
        broken = user("recheck", "--store", "store.gpkg", "--source", clear_archive.url)
        statuses = [r.status for r in clear_archive.records("/search")]
        with sqlite3.connect(user.home / "store.gpkg") as db:
            paired = db.execute("SELECT count(*) FROM pairs").fetchone()[0]
            seen = db.execute("SELECT count(*) FROM scenes WHERE scene_id = ?", (BROKEN,)).fetchone()[0]
        clear_archive.clear()
        again = user("recheck", "--store", "store.gpkg", "--source", clear_archive.url)
    assert statuses[0] == 200 and set(statuses[1:]) == {500}, statuses
    assert broken.returncode == 4 and "failed harbour: search failed: " in broken.stdout, broken.output
    assert "HTTP 500" in broken.stdout
    assert (paired, seen) == (0, 0)  # page 1's scene was neither paired alone nor recorded as seen
    # the failed run recorded nothing at all (no run of failures alone): the next is run 2
    summary = json.loads((user.home / "store-outputs" / "runs" / "000002" / "summary.json").read_text())
    assert again.returncode == 0, again.output
    assert [(p["before_scene"], p["after_scene"], p["status"]) for p in summary["aois"][0]["pairs"]] == [
        (BEFORE, BROKEN, "done"), (BROKEN, LATER, "done")]


def test_runs_in_which_every_area_failed_record_no_run_and_leave_no_folder(user, clear_archive):
    # an archive down for a week recorded an empty run, with its own outputs folder, at every cron run
    with _held_back(user, clear_archive) as (items, held):
        outputs = user.home / "store-outputs"
        latest = (outputs / "latest.json").read_bytes()
        clear_archive.inject("status", match="/search", methods=("POST",), times=-1, status=500)  # the archive is down
        down = [user("recheck", "--store", "store.gpkg") for _ in range(2)]  # cron's line: the store's source
        clear_archive.clear()
        with sqlite3.connect(user.home / "store.gpkg") as db:
            assert db.execute("SELECT run_id FROM runs").fetchall() == [(1,)]
        assert sorted(p.name for p in (outputs / "runs").iterdir()) == ["000001"]
        assert (outputs / "latest.json").read_bytes() == latest
        items += reversed(held)
        back = user("recheck", "--store", "store.gpkg")
    for run in down:
        assert run.returncode == 4, run.output
        lines = run.stdout.splitlines()
        assert lines[0].startswith("no run recorded: 1 AOI failed (retried next run), nothing new in 0 others, in ")
        assert lines[0].endswith("; store unchanged") and len(lines) == 2, run.stdout
        assert lines[1].startswith("  failed harbour: search failed: ") and "HTTP 500" in lines[1]
        assert run.stderr == "", run.stderr
    assert back.returncode == 0 and back.stdout.startswith("run 2: 2 new pairs"), back.output
