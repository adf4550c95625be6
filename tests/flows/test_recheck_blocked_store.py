"""A store blocked for days: a QGIS transaction left open over a weekend, or a hung re-check holding the lock,
refused every scheduled re-check with exit 3, which cron and systemd are told to take quietly (the next run picks
the work up), so nobody heard of it. Each refused run now counts itself in ``<store>.blocked`` beside the store, and
one refused when the count began longer ago than ``--blocked-alert`` (24 h) exits 6 with a line naming the store,
since when, how many runs and what holds it; the next run that gets the store removes the file.

"A day ago" is made by writing the note's ``since`` back: the file is the user's real note, not a stand-in."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.conftest import REPO
from tests.flows.conftest import drawn_aoi

HOLD_LOCK = """
import sys
from pathlib import Path
from geo.store import writer_lock
with writer_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.readline()
"""
HOLD_WRITE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")  # as QGIS holds one while a layer is edited in a transaction group
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


def _holder(script: str, store: Path) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", script, str(store)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def _release(holder: subprocess.Popen) -> None:
    holder.communicate("\n", timeout=60)
    assert holder.returncode == 0


def _note(home: Path) -> dict:
    return json.loads((home / "watch.gpkg.blocked").read_text())


def _back(home: Path, hours: float) -> str:
    """The note's first refused run moved ``hours`` back; its new ``since``, as the line gives it."""
    note = _note(home)
    since = datetime.now(timezone.utc) - timedelta(hours=hours)
    note["since"] = since.isoformat(timespec="seconds").replace("+00:00", "Z")
    (home / "watch.gpkg.blocked").write_text(json.dumps(note))
    return since.strftime("%Y-%m-%d %H:%M UTC")


def _first_store(user) -> None:
    first = user("recheck", "--store", "watch.gpkg", "--aoi", "demo-nantes-port", "--source", "demo")
    assert first.returncode == 0 and first.stdout.startswith("run 1: "), first.output


def test_a_hung_recheck_holding_the_lock_for_a_day_is_said_with_exit_6_naming_its_pid(user):
    _first_store(user)
    home, note = user.home, user.home / "watch.gpkg.blocked"
    holder = _holder(HOLD_LOCK, home / "watch.gpkg")
    try:
        refused = user("recheck", "--store", "watch.gpkg")
        assert refused.returncode == 3 and refused.stdout == "", refused.output  # quiet: the next run picks it up
        assert refused.stderr.startswith("Locked: watch.gpkg: another re-check is writing this store "
                                         f"(pid {holder.pid} on "), refused.stderr
        assert "runs refused" not in refused.stderr
        first = _note(home)
        assert first["runs"] == 1 and first["since"] == first["last"] and first["held_by"] == "re-check"
        assert first["holder"]["pid"] == holder.pid
        again = user("recheck", "--store", "watch.gpkg")
        assert again.returncode == 3, again.output
        since = datetime.fromisoformat(first["since"].replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M UTC")
        assert again.stderr.rstrip().endswith(f"(2 runs refused in a row since {since}; past 24 h a refused run exits "
                                              "6: --blocked-alert)"), again.stderr
        assert _note(home)["since"] == first["since"] and _note(home)["runs"] == 2
        # a day later: every run since was refused
        since = _back(home, 25)
        loud = user("recheck", "--store", "watch.gpkg")
        assert loud.returncode == 6 and loud.stdout == "", loud.output
        assert loud.stderr == (
            f"Blocked: watch.gpkg: every re-check for 25 h was refused the store (3 runs in a row since {since}, nothing "
            f"recorded; --blocked-alert 24 h): another re-check holds its lock, pid {holder.pid} on "
            f"{first['holder']['host']} since {first['holder']['since']}: if it is stuck, stop it (kill {holder.pid}); "
            "the next re-check does the work\n"), loud.stderr
        patient = user("recheck", "--store", "watch.gpkg", "--blocked-alert", "48")
        assert patient.returncode == 3 and "(4 runs refused in a row since" in patient.stderr, patient.output
        # a note that cannot be read (cut short, edited by hand) is no episode: the count begins again
        note.write_text('{"since": "2026-')
        garbled = user("recheck", "--store", "watch.gpkg", "--blocked-alert", "0.5")
        assert garbled.returncode == 3 and "runs refused" not in garbled.stderr, garbled.output
        assert _note(home)["runs"] == 1
        _back(home, 30)
    finally:
        _release(holder)
    got = user("recheck", "--store", "watch.gpkg")
    assert got.returncode == 0 and got.stdout.startswith("nothing new: 1 AOI checked"), got.output
    assert not note.exists()  # the episode is over
    holder = _holder(HOLD_LOCK, home / "watch.gpkg")
    try:  # a new episode: not counted from the old one's first run
        refused = user("recheck", "--store", "watch.gpkg", "--blocked-alert", "0.5")
        assert refused.returncode == 3 and "runs refused" not in refused.stderr, refused.output
        assert _note(home)["runs"] == 1
    finally:
        _release(holder)
    assert [p.name for p in home.iterdir() if ".tmp" in p.name] == []  # written whole: no temporary file left


def test_a_qgis_edit_left_open_over_the_weekend_is_said_with_exit_6(user):
    _first_store(user)
    home = user.home
    area = drawn_aoi(home / "harbour.geojson")  # a new AOI: the run has something to record
    (home / "watch.gpkg.blocked").write_text(json.dumps({  # Friday evening's and Saturday's runs were refused
        "since": "2026-12-04T18:15:00Z", "runs": 3, "last": "2026-12-05T18:15:02Z", "held_by": "another program",
        "holder": None}))
    holder = _holder(HOLD_WRITE, home / "watch.gpkg")
    try:
        held = user("recheck", "--store", "watch.gpkg", "--aoi", str(area), "--since", "2015-08-01")
    finally:
        _release(holder)
    assert held.returncode == 6 and held.stdout == "", held.output
    assert "Traceback" not in held.stderr and len(held.stderr.splitlines()) == 1, held.stderr
    assert held.stderr.startswith("Blocked: watch.gpkg: every re-check for ") and (
        " was refused the store (4 runs in a row since 2026-12-04 18:15 UTC, nothing recorded; --blocked-alert 24 h): "
        "another program holds a write transaction on it (QGIS editing a layer of it in a transaction group, or an "
        "SQLite tool): save or end those edits (in QGIS: Save Layer Edits, or stop editing), and the next re-check does "
        "the work\n") in held.stderr, held.stderr
    note = _note(home)
    assert note["runs"] == 4 and note["since"] == "2026-12-04T18:15:00Z" and note["held_by"] == "another program"
    with sqlite3.connect(home / "watch.gpkg") as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone() == (1,)
    # the edits saved: the next run records the work, and the note is gone
    later = user("recheck", "--store", "watch.gpkg", "--aoi", str(area), "--since", "2015-08-01")
    assert later.returncode == 0 and later.stdout.startswith("run 2: "), later.output
    assert not (home / "watch.gpkg.blocked").exists()


CRASH = """
import os, sys
import geo.recheck.run as run

how = sys.argv[1]


def crash(*args, **kwargs):
    if how == "kill":
        os._exit(137)  # killed while it holds the store (the OOM killer, kill -9): no clean-up runs
    raise RuntimeError("a bug met while the store is held")

run._catch_up = crash
sys.argv = ["geo", *sys.argv[2:]]
from geo.__main__ import main
main()
"""


def _crashing(user, how: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CRASH, how, *args], capture_output=True, text=True, cwd=user.home,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300)


def test_a_run_that_got_the_store_and_crashed_ends_the_episode(user):
    """It left the note: the next refused run counted from the old episode's first run, and the one after a day of
    runs that got the store (and crashed, exit 2) said "Blocked:" (exit 6) on its first refusal."""
    _first_store(user)
    home, note = user.home, user.home / "watch.gpkg.blocked"
    holder = _holder(HOLD_LOCK, home / "watch.gpkg")
    try:
        assert user("recheck", "--store", "watch.gpkg").returncode == 3
    finally:
        _release(holder)
    _back(home, 25)
    crashed = _crashing(user, "raise", "recheck", "--store", "watch.gpkg")
    assert crashed.returncode == 2 and "internal error" in crashed.stderr, crashed.stdout + crashed.stderr
    assert not note.exists()  # the run got the store: not refused, the episode is over
    holder = _holder(HOLD_LOCK, home / "watch.gpkg")
    try:
        refused = user("recheck", "--store", "watch.gpkg")
        assert refused.returncode == 3 and refused.stderr.startswith("Locked: "), refused.output
        assert "runs refused" not in refused.stderr and _note(home)["runs"] == 1
        _back(home, 25)
    finally:
        _release(holder)
    killed = _crashing(user, "kill", "recheck", "--store", "watch.gpkg")
    assert killed.returncode == 137, killed.stdout + killed.stderr
    assert not note.exists()  # gone as soon as the run held the lock: a kill leaves nothing to clean


def test_a_run_that_crashed_while_qgis_edited_ends_the_episode(user):
    """An episode of another program's write transaction goes on past a run that gets the lock and is refused by
    SQLite (the test above); one that gets the lock and crashes was not refused: the episode is over."""
    _first_store(user)
    home = user.home
    (home / "watch.gpkg.blocked").write_text(json.dumps({
        "since": "2026-12-04T18:15:00Z", "runs": 3, "last": "2026-12-05T18:15:02Z", "held_by": "another program",
        "holder": None}))
    crashed = _crashing(user, "raise", "recheck", "--store", "watch.gpkg")
    assert crashed.returncode == 2 and "internal error" in crashed.stderr, crashed.stdout + crashed.stderr
    assert not (home / "watch.gpkg.blocked").exists()
