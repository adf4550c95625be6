"""A ``geo run`` killed with SIGKILL (the OOM killer, ``kill -9``, a power cut) while it writes a window into the
scene cache leaves the temporary file it was writing (``.<entry>.<pid>-<token>.tmp.tif``; ``.tmp.json`` for an
item): never read, not listed, and nothing removed it but a full ``geo scenes cache clear``, so they piled up.
The next command using the cache removes those older than 6 hours; younger ones may be another run's writes."""

from __future__ import annotations

import os
import shutil
import time

from tests.flows.conftest import AFTER_ID, BEFORE_ID, drawn_aoi

HOURS = 3600


def _leftover(beside: os.PathLike, pid: int, age_s: float) -> os.PathLike:
    """A copy of the entry ``beside`` under the name a write killed by SIGKILL leaves, last written ``age_s`` ago."""
    path = beside.with_name(f".{beside.stem}.{pid}-0badc0de.tmp{beside.suffix}")
    shutil.copyfile(beside, path)
    os.utime(path, (time.time() - age_s, time.time() - age_s))
    return path


def test_a_killed_runs_temporary_files_are_removed_by_the_next_run_once_stale(user, flow_archive, tmp_path):
    aoi = drawn_aoi(user.home / "area.geojson")
    args = ("run", "--aoi", str(aoi), "--source", flow_archive.url, "--before", BEFORE_ID, "--after", AFTER_ID)
    assert user(*args, "--out", "first").returncode == 0
    folder = tmp_path / "scene-cache" / BEFORE_ID
    window = next(folder.glob("*.tif"))
    item = next(folder.glob("item-*.json"))
    stale = [_leftover(window, 4242, 7 * HOURS), _leftover(item, 4242, 7 * HOURS)]
    fresh = _leftover(window, 4343, 60)  # another run's write in progress, maybe
    listed = user("scenes", "cache", "list", "--json")
    entries = listed.stdout
    second = user(*args, "--out", "second")
    assert second.returncode == 0, second.output
    assert [p.exists() for p in stale] == [False, False] and fresh.exists()
    assert window.exists() and item.exists() and user("scenes", "cache", "list", "--json").stdout == entries
    assert "temporary" not in second.stderr  # said with -v only: nothing for cron's log
    cleared = user("scenes", "cache", "clear")  # clear removes the younger one too
    assert cleared.returncode == 0 and not fresh.exists() and not any((tmp_path / "scene-cache").iterdir())
