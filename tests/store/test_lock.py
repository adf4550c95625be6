"""The writer lock: one holder at a time across processes, a clear refusal, waiting, release on SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from geo.errors import StoreLockedError
from geo.store import lock_path, writer_lock

HOLD = """
import sys, time
from pathlib import Path
from geo.store import writer_lock
with writer_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holder(store, seconds):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(store), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_second_writer_is_refused_with_the_holder_named(tmp_path):
    store = tmp_path / "s.gpkg"
    holder = _holder(store, 30)
    try:
        start = time.monotonic()
        with pytest.raises(StoreLockedError) as info, writer_lock(store, wait_s=0):
            pass
        assert time.monotonic() - start < 1
        assert f"pid {holder.pid}" in str(info.value) and "s.gpkg" in str(info.value)
        assert "--wait" in str(info.value)
        assert info.value.by_recheck and info.value.holder["pid"] == holder.pid  # for geo.recheck.blocked's line
    finally:
        holder.kill()
        holder.wait()


def test_waiting_writer_gets_the_lock_when_released(tmp_path):
    store = tmp_path / "s.gpkg"
    holder = _holder(store, 1.5)
    start = time.monotonic()
    with writer_lock(store, wait_s=30):
        waited = time.monotonic() - start
    holder.wait()
    assert 0.5 < waited < 30


def test_waiting_writer_gives_up_after_its_timeout(tmp_path):
    store = tmp_path / "s.gpkg"
    holder = _holder(store, 30)
    try:
        start = time.monotonic()
        with pytest.raises(StoreLockedError, match="waited 0.5 s"), writer_lock(store, wait_s=0.5):
            pass
        assert 0.4 < time.monotonic() - start < 5
    finally:
        holder.kill()
        holder.wait()


def test_sigkilled_holder_leaves_no_stale_lock(tmp_path):
    store = tmp_path / "s.gpkg"
    holder = _holder(store, 60)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert lock_path(store).exists()
    with writer_lock(store, wait_s=0):
        pass


def test_a_stopped_first_writer_removes_its_folder_with_the_note_of_a_run_refused_meanwhile(tmp_path):
    # a re-check refused the new store meanwhile noted it beside it (geo.recheck.blocked): the folder held more than
    # the lock file, so it stayed, with a note of a store that is no more
    store = tmp_path / "new" / "deeper" / "s.gpkg"
    with pytest.raises(KeyboardInterrupt), writer_lock(store):
        (store.parent / "s.gpkg.blocked").write_text('{"since": "2026-12-05T06:15:00Z", "runs": 1}')
        raise KeyboardInterrupt
    assert not (tmp_path / "new").exists()
    with pytest.raises(KeyboardInterrupt), writer_lock(store):
        (store.parent / "mine.txt").write_text("the user's")
        raise KeyboardInterrupt
    assert sorted(p.name for p in store.parent.iterdir()) == ["mine.txt", "s.gpkg.lock"]
