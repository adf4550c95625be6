"""``geo vessels`` and ``geo recheck`` over the synthetic port (tests/vessels/port.py, planted ships of known
number) as its archive publishes two Sentinel-1 passes again under new ids (a GRD reprocessed, an RTC item made
again under a new suffix: ``S1A_TEST_20210413_R2``), beside the old items, or withdrawing them. Sentinel-1 ids
name no tile, so neither command knew the two items for one observation: ``geo vessels`` read both (their ships
twice in ``vessels.geojson``, 53 features for 41) and took its row from the old one; ``geo recheck`` counted the
new ids as new scenes, run after run off the quick path. One observation per pass and sensing time, read from
the newest publication: the series, detections and stored counts are those of the archive without it."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from pathlib import Path

import pystac
import pytest

from tests import synthetic
from tests.recheck.conftest import imported_modules
from tests.recheck.test_noop_imports import PROFILE, assert_light

PERIOD = ("--from", "2021-03-25", "--to", "2021-06-30", "--sensor", "s1")
AGAIN = {"S1A_TEST_20210413": "S1A_TEST_20210413_R2",  # a baseline date
         "S1A_TEST_20210611": "S1A_TEST_20210611_R2"}  # a date in the ship claims' window


def archive(port_project, folder: Path, again: dict[str, str], orbit: bool = False, withdrawn: bool = False) -> Path:
    """The port's catalog rewritten into ``folder``: each Sentinel-1 item named in ``again`` also under its new
    id (the same pixels and sensing time; without the old item when ``withdrawn``); ``orbit``: Sentinel-1 items
    say their relative orbit (a pass's items are then grouped by it)."""
    shutil.rmtree(folder, ignore_errors=True)
    items = []
    for item in pystac.Catalog.from_file(str(port_project.catalog)).get_items(recursive=True):
        if item.id.startswith("S1") and orbit:
            item.properties.update({"sat:relative_orbit": 118, "sat:orbit_state": "ascending"})
        if item.id in again:
            republished = item.clone()
            republished.id = again[item.id]
            items.append(republished)
            if withdrawn:
                continue
        items.append(item.clone())
    return synthetic.write_catalog(folder, items)


def vessels(user, source: Path, port_project, out: str) -> tuple[list[tuple], Path]:
    """``geo vessels`` of the port's Sentinel-1 series: the rows of ``timeseries.csv`` (date, scene, counts) and
    the run folder."""
    result = user("vessels", "--aoi", "test-port", *PERIOD, "--source", str(source), "--aoi-dir",
                  str(port_project.aoi_dir), "--seeds-dir", str(port_project.seeds_dir), "--out", out)
    assert result.returncode == 0, result.output
    rows = [(r["date"], r["scene"], int(r["n_vessels"]), int(r["n_large"]), int(r["n_100m"]), r["observed_fraction"])
            for r in csv.DictReader((user.home / out / "timeseries.csv").open())]
    return rows, user.home / out


def renamed(rows: list[tuple]) -> list[tuple]:
    """Rows as they read with the republished passes' new ids."""
    return [(day, AGAIN.get(scene, scene), *rest) for day, scene, *rest in rows]


@pytest.mark.parametrize("orbit", [False, True], ids=["no-orbit", "orbit"])
def test_vessels_counts_a_pass_published_again_once_from_its_newest_publication(user, port_project, tmp_path, orbit):
    plain, plain_dir = vessels(user, archive(port_project, tmp_path / "plain", {}, orbit), port_project, "plain")
    both, both_dir = vessels(user, archive(port_project, tmp_path / "both", AGAIN, orbit), port_project, "both")
    assert len(plain) == 12 and sum(row[2] for row in plain) >= 30  # twelve dates, the planted ships found
    assert both == renamed(plain)  # one row per date, from the newest publication, its counts unchanged

    def features(folder: Path) -> list[tuple]:
        found = json.loads((folder / "vessels.geojson").read_text())["features"]
        return sorted((f["properties"]["date"], f["properties"]["length_m"]) for f in found)

    assert features(both_dir) == features(plain_dir) and len(features(plain_dir)) == 41  # each ship once
    assert not (both_dir / "detections-S1A_TEST_20210611.geojson").exists()  # the old publication not read
    manifest = json.loads((both_dir / "vessels-manifest.json").read_text())
    assert sorted(s["id"] for s in manifest["scenes"]) == sorted(AGAIN.get(r[1], r[1]) for r in plain)

    def evidence(folder: Path) -> list[tuple]:
        return [(e["claim_id"], e["verdict"], e.get("p_value"))
                for e in json.loads((folder / "evidence.json").read_text())]

    assert evidence(both_dir) == evidence(plain_dir)
    assert ("test-ships", "consistent with the claim") in [e[:2] for e in evidence(plain_dir)]


def stored(user) -> list[tuple]:
    with sqlite3.connect(user.home / "port.gpkg") as conn:
        return conn.execute("SELECT date, sensor, scene_id, n_vessels, n_large, n_100m FROM vessel_series "
                            "ORDER BY datetime, sensor").fetchall()


def seen(user) -> set[str]:
    with sqlite3.connect(user.home / "port.gpkg") as conn:
        return {r[0] for r in conn.execute("SELECT scene_id FROM scenes")}


def recheck_args(source: Path, port_project) -> tuple[str, ...]:
    return ("recheck", "--aoi", "test-port", "--source", str(source), "--aoi-dir", str(port_project.aoi_dir),
            "--seeds-dir", str(port_project.seeds_dir), "--store", "port.gpkg", "--since", "2021-05-20")


def summary(user, run: int) -> dict:
    entry, = json.loads((user.home / f"port-outputs/runs/{run:06d}/summary.json").read_text())["aois"]
    return entry


def assert_quiet_and_light(user, args: tuple[str, ...], rows: list[tuple]) -> None:
    """A re-check with nothing new, answered on the quick path: nothing counted, nothing heavy imported."""
    idle = user(*args, env=PROFILE)
    assert idle.returncode == 0 and idle.stdout.startswith("nothing new: 1 AOI checked"), idle.stdout
    assert_light(imported_modules(idle.stderr))
    assert stored(user) == rows


def test_recheck_counts_a_pass_published_later_once_and_stays_quiet(user, port_project, tmp_path):
    """The passes published again after their first count, beside the old items, then alone."""
    folder = tmp_path / "archive"
    args = recheck_args(archive(port_project, folder, {}), port_project)
    first = user(*args)
    assert first.returncode == 0, first.output
    rows = stored(user)
    assert len(rows) == 16 and summary(user, 1)["vessels"]["n_counted"] == 16  # twelve S1 dates, four S2
    verdicts = {e["claim_id"]: e["verdict"] for e in summary(user, 1)["vessels"]["evidence"]}
    assert verdicts["test-ships"] == "consistent with the claim"

    archive(port_project, folder, AGAIN)  # republished beside the old items
    second = user(*args)
    assert second.returncode == 0, second.output
    assert "vessels counted on" not in second.stdout, second.stdout  # was: "on 2 new scenes"
    assert stored(user) == rows  # the old publications' counts stand: one row per observation
    assert set(AGAIN.values()) <= seen(user)  # recorded as seen: the next run knows them
    assert_quiet_and_light(user, args, rows)

    archive(port_project, folder, AGAIN, withdrawn=True)  # the old items withdrawn
    assert_quiet_and_light(user, args, rows)


def test_recheck_of_an_archive_holding_both_publications_counts_the_newest(user, port_project, tmp_path):
    """A first re-check over an archive that holds both publications: its stored counts are those of the
    archive without the duplicates, under the newest ids; the old items recorded as seen."""
    plain_store = tmp_path / "plain"
    plain_store.mkdir()
    args = recheck_args(archive(port_project, tmp_path / "plain-archive", {}), port_project)
    assert user(*args).returncode == 0
    plain = stored(user)
    (user.home / "port.gpkg").rename(plain_store / "port.gpkg")
    shutil.rmtree(user.home / "port-outputs")

    args = recheck_args(archive(port_project, tmp_path / "archive", AGAIN), port_project)
    first = user(*args)
    assert first.returncode == 0, first.output
    assert stored(user) == [(day, sensor, AGAIN.get(scene, scene), *counts) for day, sensor, scene, *counts in plain]
    entry = summary(user, 1)["vessels"]
    assert entry["n_counted"] == 16 and sorted(entry["new_scenes"]) == sorted(AGAIN.get(r[2], r[2]) for r in plain)
    assert set(AGAIN) <= seen(user)
    assert_quiet_and_light(user, args, stored(user))
