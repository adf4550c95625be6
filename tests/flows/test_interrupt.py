"""Stopping a job: Ctrl-C in the terminal (SIGINT) and QGIS's Cancel, systemd's stop or ``kill`` (SIGTERM) while
the run folder is being written leave nothing behind, not even the hidden staging folder, and say so."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from collections.abc import Iterator

import pytest

from tests.archive_server import ArchiveServer
from tests.flows.conftest import DEMO_CATALOG, drawn_aoi, geo_command
from tests.scenes.conftest import FAST_NETWORK
from tests.scenes.test_broken_items import broken_archive

SEARCH_HELD_S = 4.0  # the loopback archive answers each search this late: the re-check is stopped while it waits


@pytest.mark.parametrize("sig, code, said", [(signal.SIGINT, 130, "Interrupted."), (signal.SIGTERM, 143, "Terminated.")])
def test_a_job_stopped_while_writing_its_folder_leaves_nothing(tmp_path, sig, code, said):
    home = tmp_path / "work"
    home.mkdir()
    aoi = drawn_aoi(home / "harbour.geojson")
    env = {**os.environ, **FAST_NETWORK, "GEO_SCENE_CACHE": str(tmp_path / "cache")}
    job = subprocess.Popen([*geo_command(), "run", "--aoi", str(aoi), "--source", str(DEMO_CATALOG), "--before",
                            "2015-08-21", "--after", "2017-10-14", "--out", "harbour run"],
                           cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(p.name.endswith(".partial") for p in home.iterdir()):  # the outputs are being written
        assert job.poll() is None and time.monotonic() < deadline, job.communicate()
        time.sleep(0.005)
    job.send_signal(sig)
    stdout, stderr = job.communicate(timeout=60)
    assert job.returncode == code, stdout + stderr
    assert stderr == said + "\n", stderr  # one line: no traceback, no blank line before it (click printed one)
    assert sorted(p.name for p in home.iterdir()) == ["harbour.geojson"]  # no run folder, no staging folder


@pytest.fixture(scope="module")
def slow_archive(tmp_path_factory) -> Iterator[ArchiveServer]:
    """Clear scenes over Nantes on a loopback archive whose searches are answered ``SEARCH_HELD_S`` late."""
    server = broken_archive(tmp_path_factory.mktemp("slow"), lambda item: None)
    server.inject("slow", match="/search", methods=("GET", "POST"), times=-1, delay=SEARCH_HELD_S)
    yield server
    server.stop()


def _first_recheck_stopped_mid_run(home, env, sig, source: str, after_s: float = 0.5, store: str = "store.gpkg",
                                   ) -> subprocess.Popen:
    """The first-ever ``geo recheck`` of a drawn area over ``source`` (``slow_archive``'s URL), sent ``sig``
    ``after_s`` seconds after its store file appeared: 0, while its schema is being written; 0.5, while it waits
    for its search (held for seconds: on the demo catalog the whole run took ~1.3 s after the store appeared, so
    a busy machine's late wake-up could miss it)."""
    aoi = drawn_aoi(home / "harbour.geojson")
    job = subprocess.Popen([*geo_command(), "recheck", "--store", store, "--aoi", str(aoi), "--source",
                            source, "--since", "2015-08-01"],
                           cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (home / store).exists():
        assert job.poll() is None and time.monotonic() < deadline, job.communicate()
        time.sleep(0.002)
    time.sleep(after_s)
    job.send_signal(sig)
    return job


@pytest.mark.parametrize("after_s", [0.0, 0.5])
@pytest.mark.parametrize("sig, code, said", [(signal.SIGINT, 130, "Interrupted."), (signal.SIGTERM, 143, "Terminated.")])
def test_a_first_recheck_stopped_mid_run_leaves_no_store_and_the_next_one_starts_afresh(tmp_path, sig, code, said,
                                                                                        after_s, slow_archive):
    home = tmp_path / "work"
    home.mkdir()
    env = {**os.environ, **FAST_NETWORK, "GEO_SCENE_CACHE": str(tmp_path / "cache")}
    job = _first_recheck_stopped_mid_run(home, env, sig, slow_archive.url, after_s)
    stdout, stderr = job.communicate(timeout=60)
    assert job.returncode == code, stdout + stderr
    assert said in stderr and "Traceback" not in stderr and "run 1" not in stdout
    # No store that looks made and holds nothing (the lock file stays: a waiter may hold it open).
    assert sorted(p.name for p in home.iterdir()) == ["harbour.geojson", "store.gpkg.lock"]
    again = subprocess.run([*geo_command(), "recheck", "--store", "store.gpkg", "--aoi", "harbour.geojson",
                            "--source", str(DEMO_CATALOG), "--since", "2015-08-01"],
                           cwd=home, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "run 1: 1 new pair," in again.stdout and "harbour: baseline S2A_30TXT_20150821_L1C_nantes" in again.stdout


@pytest.mark.parametrize("after_s", [0.0, 0.5])
def test_a_first_recheck_stopped_mid_run_removes_the_store_folder_it_created(tmp_path, after_s, slow_archive):
    # --store naming a new folder: the run creates it (and its parent) for the store and its lock file. Stopped
    # before it records anything, it leaves no empty folder behind holding a lock file.
    home = tmp_path / "work"
    home.mkdir()
    env = {**os.environ, **FAST_NETWORK, "GEO_SCENE_CACHE": str(tmp_path / "cache")}
    job = _first_recheck_stopped_mid_run(home, env, signal.SIGTERM, slow_archive.url, after_s,
                                         store="watch/harbour/store.gpkg")
    stdout, stderr = job.communicate(timeout=60)
    assert job.returncode == 143 and "Terminated." in stderr and "Traceback" not in stderr, stdout + stderr
    assert sorted(p.name for p in home.iterdir()) == ["harbour.geojson"]
    # a folder that was there before is kept: only what the run created goes
    (home / "watch").mkdir()
    job = _first_recheck_stopped_mid_run(home, env, signal.SIGTERM, slow_archive.url, after_s,
                                         store="watch/harbour/store.gpkg")
    job.communicate(timeout=60)
    assert job.returncode == 143
    assert [p.relative_to(home).as_posix() for p in sorted(home.rglob("*"))] == ["harbour.geojson", "watch"]


def test_a_blank_store_left_by_a_killed_first_recheck_is_removed_not_taken_for_a_store(tmp_path, slow_archive):
    # SIGKILL (or a power cut) runs no clean-up: the store file stays, holding no run. The next re-check without
    # --aoi is told the store has no AOIs and the blank file goes; one naming its AOI runs as a first re-check.
    home = tmp_path / "work"
    home.mkdir()
    env = {**os.environ, **FAST_NETWORK, "GEO_SCENE_CACHE": str(tmp_path / "cache")}
    job = _first_recheck_stopped_mid_run(home, env, signal.SIGKILL, slow_archive.url)
    job.communicate(timeout=60)
    assert job.returncode == -signal.SIGKILL and (home / "store.gpkg").exists()
    cron = subprocess.run([*geo_command(), "recheck", "--store", "store.gpkg", "--source", str(DEMO_CATALOG)],
                          cwd=home, env=env, capture_output=True, text=True, timeout=600)
    assert cron.returncode == 1 and "Traceback" not in cron.stderr
    assert cron.stderr.count("\n") == 1 and "store.gpkg: the store has no AOIs yet" in cron.stderr
    assert not (home / "store.gpkg").exists() and not (home / "store-outputs").exists()
    named = subprocess.run([*geo_command(), "recheck", "--store", "store.gpkg", "--aoi", "harbour.geojson",
                            "--source", str(DEMO_CATALOG), "--since", "2015-08-01"],
                           cwd=home, env=env, capture_output=True, text=True, timeout=600)
    assert named.returncode == 0 and "run 1: 1 new pair," in named.stdout, named.stdout + named.stderr


def _sigint_caught(pid: int) -> bool | None:
    """Whether process ``pid`` catches SIGINT (Python's KeyboardInterrupt handler); None once it has ended."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    caught = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
    return bool(caught & (1 << (signal.SIGINT - 1)))


def _set_up(worker: int) -> bool:
    """Whether a worker process has run geo's start (``geo.jobs.worker_start``): Ctrl-C ignored, in place of
    Python's KeyboardInterrupt handler."""
    try:
        status = Path(f"/proc/{worker}/status").read_text()
    except OSError:
        return False
    ignored = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:")), 16)
    return bool(ignored & (1 << (signal.SIGINT - 1))) and _sigint_caught(worker) is False


def _workers(pid: int) -> list[int]:
    """The dask worker processes of the job ``pid`` (its children started by multiprocessing's spawn; not its
    resource tracker, a child started by multiprocessing too)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and f"PPid:\t{pid}\n" in (entry / "status").read_text() \
                    and b"spawn_main" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the processes' state from /proc")
def test_ctrl_c_in_a_terminal_stops_a_recheck_with_workers_in_one_line(tmp_path, slow_archive):
    # Ctrl-C goes to every process of the terminal's foreground job: the workers of --workers 2 each printed their
    # KeyboardInterrupt traceback (30 lines apiece), and the cluster's closing its INFO log, around "Interrupted.".
    home = tmp_path / "work"
    home.mkdir()
    aoi = drawn_aoi(home / "harbour.geojson")
    env = {**os.environ, **FAST_NETWORK, "GEO_SCENE_CACHE": str(tmp_path / "cache")}
    job = subprocess.Popen([*geo_command(), "recheck", "--store", "store.gpkg", "--aoi", str(aoi), "--source",
                            slow_archive.url, "--since", "2015-08-01", "--workers", "2"], cwd=home, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    # the workers are up once they have set their Ctrl-C (on a machine where they never do, after the deadline)
    while time.monotonic() < deadline and not ((workers := _workers(job.pid)) and len(workers) == 2 and all(
            _set_up(worker) for worker in workers)):
        assert job.poll() is None, job.communicate()
        time.sleep(0.05)
    os.killpg(job.pid, signal.SIGINT)  # as the terminal does
    stdout, stderr = job.communicate(timeout=60)
    assert job.returncode == 130, stdout + stderr
    assert stderr == "Interrupted.\n", stderr  # (click printed a blank line before it)
