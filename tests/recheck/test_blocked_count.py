"""Runs refused the store at the same moment (two cron lines on one store, every ten minutes) each read the note of
the episode, added one and wrote it back: one count was lost each time. They now count one after the other."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

from geo.errors import StoreLockedError
from geo.recheck import blocked

RUNS, EACH = 6, 15


def _refused(store: str, start) -> None:
    start.wait()
    for _ in range(EACH):
        blocked.note_refused(Path(store), StoreLockedError("locked", by_recheck=True, holder=None))


def test_runs_refused_at_the_same_moment_are_each_counted(tmp_path):
    store = tmp_path / "watch.gpkg"
    context = multiprocessing.get_context("fork")
    start = context.Barrier(RUNS)
    runs = [context.Process(target=_refused, args=(str(store), start)) for _ in range(RUNS)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(60)
        assert run.exitcode == 0
    assert json.loads((tmp_path / "watch.gpkg.blocked").read_text())["runs"] == RUNS * EACH
    assert sorted(p.name for p in tmp_path.iterdir()) == ["watch.gpkg.blocked", "watch.gpkg.lock"]


def test_a_run_that_got_the_store_clears_the_count_the_refused_ones_wrote(tmp_path):
    store = tmp_path / "watch.gpkg"
    blocked.note_refused(store, StoreLockedError("locked", by_recheck=True, holder=None))
    with blocked.holding(store, 0):
        assert not (tmp_path / "watch.gpkg.blocked").exists()
    assert not (tmp_path / "watch.gpkg.blocked").exists()
