"""Crash safety and concurrency with real processes: ``geo recheck`` killed with SIGKILL at random points of
a run, then rerun, ends exactly where an uninterrupted run ends; two re-checks started at once on one store
never corrupt or duplicate anything (one waits or refuses)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

from geo.recheck.run import recheck
from geo.store import Store
from tests.conftest import run_geo
from tests.recheck.conftest import dump_store, output_files, request

# Log lines (geo -v) marking the phases of a run, and the longest random delay before the kill after one.
PHASES = (
    ("lock acquired", 0.05),  # before anything is read
    (": head ", 0.05),  # searching the archive
    ("global shift", 0.5),  # reading pixels, computing the pairs
    ("recording the run", 0.05),  # inside the write transaction
    ("run 2 committed", 0.0), ("lock acquired", 0.0),  # between the commit and the run's files (see also test_recheck's repair test)
)
SEED = 8


def geo_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "geo", "-v", *args]


def kill_after(args: list[str], marker: str, delay: float) -> bool:
    """Run ``geo -v ARGS``; SIGKILL it ``delay`` s after ``marker`` appears on stderr. True if killed."""
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.Popen(geo_command(*args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    killed = False
    for line in proc.stderr:
        if marker in line:
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            killed = True
            break
    proc.stderr.close()
    proc.wait(timeout=600)
    return killed and proc.returncode == -signal.SIGKILL


def integrity(store) -> str:
    with sqlite3.connect(store) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def reference_run(series, store, tmp_path):
    """The store and outputs after an uninterrupted run, made on a copy."""
    ref = tmp_path / "reference"
    ref.mkdir()
    shutil.copy(store, ref / store.name)
    shutil.copytree(store.with_name("s-outputs"), ref / "s-outputs")
    recheck(request(series, ref / store.name, aoi_refs=(), since=None))  # the CLI's defaults
    return dump_store(ref / store.name), output_files(ref / "s-outputs")


def test_sigkill_at_random_points_then_rerun_equals_an_uninterrupted_run(first_run, tmp_path):
    series, store = first_run
    series.publish(4)
    ref_rows, ref_files = reference_run(series, store, tmp_path)
    before_rows = dump_store(store)
    rng = random.Random(SEED)
    kills = []
    for marker, longest in PHASES:
        delay = rng.uniform(0.0, longest)
        kills.append((marker, round(delay, 3), kill_after(series.args(store), marker, delay)))
        assert integrity(store) == "ok", kills
        # the run is one transaction: the store holds none of it or all of it, never a part
        assert dump_store(store) in (before_rows, ref_rows), kills
    assert sum(killed for *_, killed in kills) >= 3, kills  # most kill points were reached
    final = run_geo(*series.args(store))
    assert final.returncode == 0, final.stderr
    assert dump_store(store) == ref_rows, kills
    assert output_files(store.with_name("s-outputs")) == ref_files, kills
    assert not list(store.parent.rglob("*.partial")) and not list(store.parent.rglob(".*.tmp"))


def test_sigkill_while_creating_a_store_leaves_it_usable(series, tmp_path):
    store = tmp_path / "new" / "s.gpkg"
    args = series.args(store, "--aoi", "site-a", "--since", "2021-03-01")
    kill_after(args, "lock acquired", 0.0)
    if store.exists():
        assert integrity(store) == "ok"
    final = run_geo(*args)
    assert final.returncode == 0, final.stderr
    with Store.open(store, create=False) as opened:
        assert opened.run_ids() == [1] and opened.count("pairs") == 2


def _start(series, store, *extra):
    return subprocess.Popen(geo_command(*series.args(store, *extra)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"})


def test_two_rechecks_at_once_one_refuses_or_finds_nothing_left(first_run, tmp_path):
    series, store = first_run
    series.publish(4)
    ref_rows, ref_files = reference_run(series, store, tmp_path)
    procs = [_start(series, store), _start(series, store)]
    results = [(p.wait(timeout=600), p.stdout.read(), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes in ([0, 0], [0, 3]), results
    if codes == [0, 3]:  # they overlapped: the second refused, naming the store
        assert any("Locked:" in err and "s.gpkg" in err for code, _, err in results if code == 3)
    else:  # one finished before the other took the lock
        assert sorted("run 2:" in out for _, out, _ in results) == [False, True], results
    assert integrity(store) == "ok"
    assert dump_store(store) == ref_rows
    assert output_files(store.with_name("s-outputs")) == ref_files


def test_two_rechecks_at_once_with_wait_both_succeed_once(first_run, tmp_path):
    series, store = first_run
    series.publish(4)
    ref_rows, _ = reference_run(series, store, tmp_path)
    procs = [_start(series, store, "--wait", "300"), _start(series, store, "--wait", "300")]
    results = [(p.wait(timeout=600), p.stdout.read(), p.stderr.read()) for p in procs]
    assert [code for code, _, _ in results] == [0, 0], results
    # exactly one of them processed the new scene; the other (having waited, or come later) found it done
    assert sorted("run 2:" in out for _, out, _ in results) == [False, True], results
    assert sorted("nothing new" in out for _, out, _ in results) == [False, True], results
    assert dump_store(store) == ref_rows
