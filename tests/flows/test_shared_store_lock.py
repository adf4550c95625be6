"""Several users of one store folder at once: a first re-check into a new folder is stopped (systemd's stop, a
Ctrl-C) while another re-check waits for the store (``--wait``). The stopped one removes what it created, its
lock file and folder included; the waiting one then takes the store. It must still keep the store to itself:
its lock was taken on the lock file's open descriptor, and a lock on a file no longer in the folder kept nobody
out (a third re-check took the lock file made anew, found the store blank and removed it from under the second).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.archive_server import ArchiveServer
from tests.flows.conftest import drawn_aoi, geo_command
from tests.scenes.conftest import FAST_NETWORK
from tests.scenes.test_broken_items import broken_archive

SEARCH_HELD_S = 5.0  # each search is answered this late: a re-check stays in its run while the test acts


@pytest.fixture(scope="module")
def held_archive(tmp_path_factory) -> Iterator[ArchiveServer]:
    server = broken_archive(tmp_path_factory.mktemp("held"), lambda item: None)
    server.inject("slow", match="/search", methods=("GET", "POST"), times=-1, delay=SEARCH_HELD_S)
    yield server
    server.stop()


def _opened(pid: int, path: Path) -> bool:
    """Whether process ``pid`` holds ``path`` open (it waits for the lock once it has opened the lock file)."""
    try:
        return any(os.readlink(fd) == str(path) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def _wait_for(what, job: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert job.poll() is None and time.monotonic() < deadline, job.communicate()
        time.sleep(0.01)


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="sees the processes' open files in /proc")
def test_a_waiting_recheck_keeps_the_store_to_itself_after_a_stopped_first_one_removed_its_folder(tmp_path,
                                                                                                 held_archive):
    home = tmp_path / "work"
    home.mkdir()
    aoi = drawn_aoi(home / "harbour.geojson")
    env = {**os.environ, **FAST_NETWORK, "GEO_SCENE_CACHE": str(tmp_path / "cache"), "COLUMNS": "200",
           "GEO_HTTP_TIMEOUT": "30"}  # a held search is waited for
    store = home / "watch" / "store.gpkg"
    args = ["recheck", "--store", "watch/store.gpkg", "--aoi", str(aoi), "--source", held_archive.url,
            "--since", "2015-08-01"]

    def start(*extra: str) -> subprocess.Popen:
        return subprocess.Popen([*geo_command(), *args, *extra], cwd=home, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    first = start()  # cron's first re-check into a new folder
    _wait_for(store.exists, first)  # it holds the lock: the store is made under it
    waiting = start("--wait", "300")  # an analyst's, told to wait for the store
    _wait_for(lambda: _opened(waiting.pid, home / "watch" / "store.gpkg.lock"), waiting)
    first.send_signal(signal.SIGTERM)  # systemctl stop
    out, err = first.communicate(timeout=60)
    assert first.returncode == 143, out + err
    _wait_for(store.exists, waiting)  # the waiting one has the store now, and is searching (held)
    third = subprocess.run([*geo_command(), *args], cwd=home, env=env, capture_output=True, text=True, timeout=600)
    assert third.returncode == 3, third.stdout + third.stderr
    assert "Locked:" in third.stderr and f"pid {waiting.pid}" in third.stderr
    out, err = waiting.communicate(timeout=600)
    assert waiting.returncode == 0, out + err
    assert out.startswith("run 1: 2 new pairs,"), out
    assert store.exists() and (home / "watch" / "store.gpkg.lock").exists()
