"""A QGIS analyst triages the re-checks' results in the store itself, between cron runs (real PyQGIS, in a
subprocess, editing sessions committed): columns of their own, an edit of geo's, a change deleted, a polygon
drawn by hand, a spatial index made by QGIS, an editing session held open while the re-check runs."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.recheck.conftest import AOIS, Series, build_series

QGIS_PYTHON = Path("/usr/bin/python3")
EDITS = Path(__file__).with_name("qgis_store_edits.py")

pytestmark = pytest.mark.qgis


def _qgis_available() -> bool:
    if not QGIS_PYTHON.exists():
        return False
    return subprocess.run([str(QGIS_PYTHON), "-c", "import qgis.core"], capture_output=True, timeout=120).returncode == 0


@pytest.fixture(scope="module")
def qgis() -> None:
    if not _qgis_available():
        pytest.skip("PyQGIS not installed for /usr/bin/python3 (apt-get install python3-qgis)")


def _env(home: Path) -> dict[str, str]:
    return {"QT_QPA_PLATFORM": "offscreen", "HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin")}


def in_qgis(store: Path, *args: str) -> dict:
    proc = subprocess.run([str(QGIS_PYTHON), str(EDITS), str(store), *args], capture_output=True, text=True,
                          timeout=300, env=_env(store.parent))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def two_runs(user, tmp_path: Path) -> tuple[Series, Path]:
    series = build_series(tmp_path / "project")
    series.publish(2)
    store = user.home / "watch.gpkg"
    first = user(*series.args(store, *(a for aoi in AOIS for a in ("--aoi", aoi)), "--since", "2021-03-01"))
    assert first.returncode == 0, first.output
    series.publish(3)
    second = user(*series.args(store))
    assert second.returncode == 0 and second.stdout.startswith("run 2: 4 new pairs, 2 new changes"), second.output
    return series, store


def rows(store: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(store) as conn:
        return conn.execute(sql).fetchall()


def test_analyst_edits_survive_the_next_recheck_and_its_files(qgis, user, tmp_path):
    series, store = two_runs(user, tmp_path)
    (evidence,), = rows(store, "SELECT change_id FROM changes WHERE claim_ids LIKE '%\"a-build\"%'")
    (false_alarm,), = rows(store, "SELECT change_id FROM changes WHERE aoi_id = 'site-c'")
    (confirmed,), = rows(store, "SELECT change_id FROM changes WHERE aoi_id = 'site-a' AND run_id = 2")
    done = in_qgis(store, "triage", false_alarm, confirmed, evidence)
    assert done == {"columns": True, "edits": True, "drawn": [True, ["SUCCESS: 1 feature(s) added."]],
                    "own_layer": 0, "style_saved": True, "project_saved": True}, done

    series.publish(4)
    third = user(*series.args(store, "--json"))
    assert third.returncode == 0, third.output
    assert json.loads(third.stdout)["n_new_changes"] == 2
    seen = in_qgis(store, "look")
    assert seen["valid"] and seen["aois_valid"] and {"status", "note"} <= set(seen["fields"])
    got = seen["rows"]
    # the analyst's columns, values and edit kept; the change deleted stays deleted; the drawn polygon kept
    assert got[confirmed]["status"] == "confirmed" and got[confirmed]["note"] == "new roofs, seen on a VHR image"
    assert got[false_alarm] == {"change_type": "false_alarm", "status": "false alarm", "note": None, "run_id": 1,
                                "claim_ids": "[]"}
    assert got[confirmed]["claim_ids"] == "a-build, my-claim"
    assert evidence not in got and got["hand-1"]["status"] == "mine"
    assert len(got) == 3 + 1 + 2 and sum(r["run_id"] == 3 for r in got.values()) == 2
    assert seen["temporal"]  # the analyst's default style, saved from geo's, keeps the time slider
    assert rows(store, "SELECT name FROM qgis_projects") == [("triage",)]
    assert rows(store, "SELECT label FROM analyst_points") == [("look here",)]

    # the run files written again from the store (the outputs folder lost), and a STAC export: the drawn polygon
    # is the analyst's, not a change any run found
    shutil.rmtree(user.home / "watch-outputs")
    again = user(*series.args(store, "--export-stac", str(user.home / "stac")))
    assert again.returncode == 0, again.output
    assert "internal error" not in again.output and again.stdout.startswith("nothing new")
    run2 = json.loads((user.home / "watch-outputs" / "runs" / "000002" / "changes.geojson").read_text())
    assert [f["properties"]["change_id"] for f in run2["features"]] == [confirmed, rows(
        store, "SELECT change_id FROM changes WHERE aoi_id = 'site-b' AND run_id = 2")[0][0]]
    assert run2["features"][0]["properties"]["claim_ids"] == ["a-build", "my-claim"]
    assert "hand-1" not in (user.home / "stac").joinpath("collection.json").read_text()


def test_spatial_index_made_in_qgis(qgis, user, tmp_path):
    series, store = two_runs(user, tmp_path)
    assert in_qgis(store, "index") == {"changes": True, "aois": True}
    series.publish(4)
    third = user(*series.args(store))
    assert third.returncode == 0, third.output
    assert third.stdout.startswith("run 3: 4 new pairs, 2 new changes"), third.output
    seen = in_qgis(store, "look")
    # QGIS finds the new changes through its index, as the map canvas asks for them
    assert len(seen["rows"]) == 6 and seen["in_extent"] == sorted(seen["rows"])


def test_aoi_deleted_in_the_aois_layer_is_said_not_dropped(qgis, user, tmp_path):
    series, store = two_runs(user, tmp_path)
    assert in_qgis(store, "delete-aoi", "site-d") == {"deleted": True}
    # nothing new: it was "nothing new: 3 AOIs checked", site-d and its claim left out for good, said nowhere
    quiet = user(*series.args(store))
    assert quiet.returncode == 0, quiet.output
    warning = ("warning: site-d: its feature was deleted from the aois layer of watch.gpkg; re-checked from its file "
               "in aoi/ and recorded again (to stop its re-checks, remove its file from aoi/: the next re-check "
               "retires it)")
    assert warning in quiet.stderr.replace("\n", " "), quiet.stderr
    assert rows(store, "SELECT aoi_id FROM aois ORDER BY aoi_id") == [(a,) for a in sorted(AOIS)]
    series.publish(4)
    later = user(*series.args(store))
    assert later.returncode == 0 and later.stderr == "", later.output
    assert "site-d: 1 pair, 1 change" in later.stdout and "claim d-build on site-d: consistent" in later.stdout


def test_area_drawn_in_the_aois_layer_fails_alone(qgis, user, tmp_path):
    series, store = two_runs(user, tmp_path)
    assert in_qgis(store, "draw-aoi") == {"drawn": True}
    series.publish(4)
    third = user(*series.args(store, "--export-stac", str(user.home / "stac")))
    # it stopped every re-check: "internal error: JSONDecodeError" (exit 2); the others are re-checked now
    assert third.returncode == 4, third.output
    assert third.stdout.startswith("run 3: 4 new pairs, 2 new changes"), third.output
    failed = ("failed my-area: AOI 'my-area' of the aois layer of watch.gpkg is no AOI of geo's (its feature column is "
              "not geo's GeoJSON: a row added by hand, in QGIS?): add an area as a file of aoi/, or with --aoi FILE; "
              "then delete this row")
    assert failed in third.stdout, third.stdout
    assert "Traceback" not in third.stderr and "internal error" not in third.stderr
    assert (user.home / "stac" / "collection.json").is_file()


def test_editing_session_holding_the_store(qgis, user, tmp_path):
    series, store = two_runs(user, tmp_path)
    series.publish(4)
    holder = subprocess.Popen([str(QGIS_PYTHON), str(EDITS), str(store), "hold", "75"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, env=_env(tmp_path))
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "EDITING"
        started = time.monotonic()
        held = user(*series.args(store))
        assert time.monotonic() - started < 75
        assert held.returncode == 3, held.output
        assert held.stdout == "" and "Traceback" not in held.stderr and "internal error" not in held.stderr
        assert held.stderr.startswith("Locked: ") and len(held.stderr.strip().splitlines()) == 1, held.stderr
        assert str(store) in held.stderr and "QGIS" in held.stderr, held.stderr
        assert rows(store, "SELECT max(run_id) FROM runs") == [(2,)]
        note = json.loads(store.with_name(store.name + ".blocked").read_text())  # counted: exit 6 if left for a day
        assert note["runs"] == 1 and note["held_by"] == "another program"
        out, _ = holder.communicate(timeout=120)
        assert json.loads(out.strip().splitlines()[-1]) == {"committed": True}
    finally:
        holder.kill()
    later = user(*series.args(store))
    assert later.returncode == 0 and later.stdout.startswith("run 3: 4 new pairs, 2 new changes"), later.output
    assert "held" in {r[0] for r in rows(store, "SELECT change_type FROM changes")}
    assert not store.with_name(store.name + ".blocked").exists()  # the store got: the count is over
