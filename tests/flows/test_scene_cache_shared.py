"""One scene cache shared by several users at once: a ``geo run`` whose cache another user clears while it writes
(``geo scenes cache clear`` removes each item's folder whole) loses those entries, nothing more. It warned
``cannot write scene cache entry …: No such file or directory; nothing more is cached this time (GEO_SCENE_CACHE
names the cache folder)``, as if the cache were misplaced, and cached nothing more that run."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

from tests.flows.conftest import AFTER_ID, BEFORE_ID, drawn_aoi, geo_command
from tests.scenes.conftest import FAST_NETWORK

ATTEMPTS = 3


def _clear_until(cache: Path, done: threading.Event) -> None:
    """What ``geo scenes cache clear`` does to each item folder, again and again until ``done``."""
    while not done.is_set():
        try:
            folders = [p for p in cache.iterdir() if p.is_dir()]
        except FileNotFoundError:
            continue
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


def test_a_run_whose_cache_another_user_clears_meanwhile_says_nothing_of_it(user, flow_archive, tmp_path):
    aoi = drawn_aoi(user.home / "area.geojson")
    args = ("run", "--aoi", str(aoi), "--source", flow_archive.url, "--before", BEFORE_ID, "--after", AFTER_ID)
    quiet = user(*args, "--out", "quiet")
    assert quiet.returncode == 0, quiet.output
    expected = (user.home / "quiet" / "changes.geojson").read_bytes()
    cache = tmp_path / "shared-cache"
    cache.mkdir()
    env = {**os.environ, **FAST_NETWORK, "GEO_SCENE_CACHE": str(cache), "COLUMNS": "200"}
    for attempt in range(ATTEMPTS):
        done = threading.Event()
        clearing = threading.Thread(target=_clear_until, args=(cache, done))
        clearing.start()
        try:
            ran = subprocess.run([*geo_command(), *args, "--out", f"run{attempt}"], cwd=user.home, env=env,
                                 capture_output=True, text=True, timeout=600)
        finally:
            done.set()
            clearing.join()
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert "cache" not in ran.stderr, ran.stderr  # neither 'cannot write' nor 'dropping unreadable'
        assert (user.home / f"run{attempt}" / "changes.geojson").read_bytes() == expected
    again = subprocess.run([*geo_command(), *args, "--out", "again"], cwd=user.home, env=env, capture_output=True,
                           text=True, timeout=600)  # the cache is written again as usual
    assert again.returncode == 0 and "cache" not in again.stderr, again.stderr
    assert len(list(cache.glob("*/*.tif"))) >= 14
