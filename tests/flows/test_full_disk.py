"""``geo recheck`` from cron with its store, or its outputs folder, on a disk that has filled up (a small tmpfs).
A full disk said "not a results store" (exit 1: as if the store were broken) or "internal error: OperationalError:
database or disk is full" / "OSError: [Errno 28]" (exit 2: a bug). It is now said as what it is, with what the
run recorded, and the run after space is freed does the work: nothing lost, nothing done twice."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.archive_server import ArchiveServer
from tests.flows.conftest import drawn_aoi
from tests.scenes.test_broken_items import BEFORE, BROKEN, LATER, broken_archive


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 2 MiB tmpfs (root may mount one; elsewhere the test is skipped, saying why)."""
    yield from _tmpfs(tmp_path / "disk", "2m")


@pytest.fixture
def disk_16m(tmp_path) -> Iterator[Path]:
    """A 16 MiB tmpfs: room for a demo run's folder, filled to leave less."""
    yield from _tmpfs(tmp_path / "disk", "16m")


def _tmpfs(disk: Path, size: str) -> Iterator[Path]:
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path, leave: int) -> Path:
    stat = os.statvfs(disk)
    filler = disk / "filler"
    filler.write_bytes(b"\0" * max(0, stat.f_bavail * stat.f_frsize - leave))
    return filler


@pytest.fixture
def archive(tmp_path) -> Iterator[ArchiveServer]:
    server = broken_archive(tmp_path / "archive", lambda item: None)
    yield server
    server.stop()


def _first_run(user, archive: ArchiveServer, store: Path, *out: str) -> list[dict]:
    """A first re-check that finds the baseline only; the two later scenes are published after it."""
    held = [archive.items["sentinel-2-l2a"].pop() for _ in range(2)]
    drawn_aoi(user.home / "harbour.geojson")
    first = user("recheck", "--store", str(store), *out, "--aoi", "harbour.geojson", "--source", archive.url,
                 "--since", "2015-12-01")
    assert first.returncode == 0 and "run 1:" in first.stdout, first.output
    return held


def _runs(store: Path) -> list[int]:
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return [r for (r,) in db.execute("SELECT run_id FROM runs ORDER BY run_id")]


@pytest.mark.parametrize("leave", [4096, 40_000])  # too little to open the store's WAL index; to commit the run
def test_a_store_on_a_full_disk_is_said_so_and_the_next_run_does_the_work(user, archive, small_disk, leave):
    store = small_disk / "store.gpkg"
    held = _first_run(user, archive, store, "--out", "outputs")
    archive.items["sentinel-2-l2a"] += reversed(held)
    filler = fill(small_disk, leave)
    full = user("recheck", "--store", str(store), "--out", "outputs", "--source", archive.url)
    assert full.returncode == 1, full.output
    (line,) = full.stderr.splitlines()
    assert line.startswith(f"Error: {store}: cannot ") and f"no space left on the device of {small_disk} (" in line
    assert "the store is as it was" in line and "not a results store" not in line, line
    assert full.stdout == ""
    filler.unlink()
    assert _runs(store) == [1]  # (reading it takes room for its WAL index too)
    again = user("recheck", "--store", str(store), "--out", "outputs", "--source", archive.url)
    assert again.returncode == 0, again.output
    summary = json.loads((user.home / "outputs" / "runs" / "000002" / "summary.json").read_text())
    assert [(p["before_scene"], p["after_scene"], p["status"]) for p in summary["aois"][0]["pairs"]] == [
        (BEFORE, BROKEN, "done"), (BROKEN, LATER, "done")]
    assert _runs(store) == [1, 2]


def test_outputs_on_a_full_disk_say_the_run_is_recorded_and_the_next_run_writes_them(user, archive, small_disk):
    store = user.home / "store.gpkg"
    out = small_disk / "outputs"
    held = _first_run(user, archive, store, "--out", str(out))
    archive.items["sentinel-2-l2a"] += reversed(held)
    filler = fill(small_disk, 8192)
    full = user("recheck", "--store", str(store), "--out", str(out), "--source", archive.url)
    assert full.returncode == 1, full.output
    assert full.stderr == (f"Error: run 2 is recorded in {store}, but its files could not be written into {out}: "
                           f"no space left on the device of {out} (") + full.stderr.split(" (", 1)[1], full.stderr
    assert full.stderr.endswith(" bytes free); the next re-check writes them\n"), full.stderr
    assert _runs(store) == [1, 2] and not (out / "runs" / "000002").exists()
    assert [p.name for p in (out / "runs").iterdir()] == ["000001"]  # no staging folder left behind
    filler.unlink()
    again = user("recheck", "--store", str(store), "--out", str(out), "--source", archive.url)
    assert again.returncode == 0 and "nothing new" in again.stdout, again.output
    assert "wrote the missing files of run(s) [2]" in again.stderr
    summary = json.loads((out / "runs" / "000002" / "summary.json").read_text())
    assert summary["n_pairs"] == 2 and summary["n_new_changes"] > 0
    assert _runs(store) == [1, 2]


def test_a_first_recheck_on_a_full_disk_says_so_and_leaves_nothing(user, small_disk):
    # Not a byte free: writing the lock's holder failed first, as "internal error: OSError: [Errno 28]" (exit 2),
    # leaving the folder it made and the lock file behind.
    filler = fill(small_disk, 0)
    drawn_aoi(user.home / "harbour.geojson")
    store = small_disk / "sites" / "store.gpkg"
    first = user("recheck", "--store", str(store), "--out", "outputs", "--aoi", "harbour.geojson", "--source",
                 "demo", "--since", "2015-12-01")
    assert first.returncode == 1, first.output
    assert first.stderr.startswith(f"Error: {store}: cannot ") and first.stderr.count("\n") == 1, first.stderr
    assert f"no space left on the device of {small_disk / 'sites'} (0 bytes free)" in first.stderr, first.stderr
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]  # no folder, store or lock file left
    filler.unlink()
    again = user("recheck", "--store", str(store), "--out", "outputs", "--aoi", "harbour.geojson", "--source",
                 "demo", "--since", "2015-12-01")
    assert again.returncode == 0 and "run 1:" in again.stdout, again.output


def test_a_scene_cache_on_a_full_disk_costs_one_warning_not_a_dozen_raw_lines(user, archive, small_disk):
    # The cache is an optimisation: the run goes on. It printed libtiff's own "_tiffWriteProc: No space left on
    # device." and "_tiffSeekProc: ..." lines (16 of them) into cron's log, then a warning whose reason read
    # "Write failed. See previous exception for details."
    cache = small_disk / "cache"
    fill(small_disk, 8192)
    drawn_aoi(user.home / "harbour.geojson")
    run = user("recheck", "--store", "store.gpkg", "--aoi", "harbour.geojson", "--source", archive.url, "--since",
               "2015-12-01", env={"GEO_SCENE_CACHE": str(cache)})
    assert run.returncode == 0 and "run 1: 2 new pairs" in run.stdout, run.output
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"warning: cannot write scene cache entry {cache}/"), line
    assert f"(no space left on the device of {cache} (8192 bytes free, the entry needs up to " in line, line
    assert line.endswith("); nothing more is cached this time (GEO_SCENE_CACHE names the cache folder)"), line
    assert not list(cache.rglob("*.tif"))


@pytest.mark.parametrize("leave", [20_000, 300_000])  # a GeoJSON's write fails; a COG's (GDAL: "Write failed")
def test_a_run_on_a_full_disk_says_so_and_leaves_nothing(user, small_disk, leave):
    # geo run's outputs on a full disk: "internal error: OSError: [Errno 28]" (exit 2, a bug to report), or a COG
    # that "cannot be written (Write failed. See previous exception for details.)".
    fill(small_disk, leave)
    drawn_aoi(user.home / "harbour.geojson")
    run = user("run", "--aoi", "harbour.geojson", "--source", "demo", "--before", "2015-08-21", "--after",
               "2017-10-14", "--out", str(small_disk / "run"))
    assert run.returncode == 1, run.output
    last = run.stderr.splitlines()[-1]
    assert last in ("Error: no space left on the device: free some space and run again",) or (
        last.startswith("Error: ") and "cannot write Cloud-Optimised GeoTIFF (no space left on its device: " in last), last
    assert "internal error" not in run.stderr and "Write failed" not in run.stderr
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]  # no output folder, no staging folder


# Room left for `geo demo`'s folder (~7 MB; it wrote 11.7 MB at its peak): its first COG cannot be written ("internal
# error: CPLE_AppDefinedError: TIFFWriteDirectoryTagData:IO error writing tag data", exit 2), or its last one came
# out garbled with no error from GDAL (only libtiff's "_tiffWriteProc: No space left on device") and the report
# failed reading it: "Error: .../.run.<pid>-<token>.partial/after_rgb.tif: cannot read raster (...Unknown frame
# descriptor)", naming the hidden staging folder.
@pytest.mark.parametrize("leave_kib", [3_000, 11_200, 11_500, 12_500])
def test_the_demo_on_a_nearly_full_disk_writes_a_whole_folder_or_says_there_is_no_space(user, disk_16m, leave_kib):
    fill(disk_16m, leave_kib << 10)
    out = disk_16m / "run"
    demo = user("demo", "--out", str(out))
    if demo.returncode == 0:  # every tile of every raster can be read
        import rasterio

        for raster in sorted(out.glob("*.tif")):
            with rasterio.open(raster) as dataset:
                assert dataset.read().shape[0] == dataset.count
        assert (out / "report.html").is_file()
        return
    assert demo.returncode == 1, demo.output
    last = demo.stderr.splitlines()[-1]
    assert last.startswith(f"Error: {out}/") and "cannot write Cloud-Optimised GeoTIFF (no space left on its device: " \
        in last, last
    assert "internal error" not in demo.stderr and ".partial" not in demo.stderr
    assert sorted(p.name for p in disk_16m.iterdir()) == ["filler"]  # no output folder, no staging folder


def test_a_demo_under_a_file_size_limit_says_so_and_writes_no_raster_with_tiles_missing(tmp_path):
    # `ulimit -f 2000` (a shell's, or systemd's LimitFSIZE=): GDAL's COG driver met EFBIG past 2 MB, said nothing
    # (libtiff printed "_tiffWriteProc: File too large."), and the demo ended "ok" with after_rgb.tif's last
    # tiles reading as nodata (345,408 NaN pixels of 689,472).
    import resource

    from tests.flows.conftest import geo_command

    limit = 2000 * 1024
    demo = subprocess.run([*geo_command(), "demo", "--out", "run"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "GEO_SCENE_CACHE": str(tmp_path / "cache")},
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
    assert demo.returncode == 1, demo.stdout + demo.stderr
    assert demo.stderr.strip() == (f"Error: {tmp_path / 'run' / 'before_rgb.tif'}: cannot write Cloud-Optimised "
                                   f"GeoTIFF (it may take 3677184 bytes, more than the largest file this process may "
                                   f"write: {limit} bytes, ulimit -f or LimitFSIZE=)"), demo.stderr
    assert not [p.name for p in tmp_path.iterdir() if "run" in p.name]  # no output folder, no staging folder



def test_a_recheck_under_a_file_size_limit_says_so_and_the_next_run_does_the_work(user, archive):
    """A cron job or a systemd unit with a file-size limit (`ulimit -f`, LimitFSIZE=) the store and the scene cache
    outgrew: SQLite met EFBIG, said as "internal error: OperationalError: disk I/O error" (exit 2), after libtiff
    printed "_tiffWriteProc: File too large." a dozen times into cron's log beside the cache's warning."""
    import resource

    from tests.flows.conftest import FAST_NETWORK, geo_command

    store = user.home / "store.gpkg"
    held = _first_run(user, archive, store, "--out", "outputs")
    archive.items["sentinel-2-l2a"] += reversed(held)
    limit = 64 * 1024
    limited = subprocess.run(
        [*geo_command(), "recheck", "--store", str(store), "--out", "outputs", "--source", archive.url],
        cwd=user.home, capture_output=True, text=True, timeout=600,
        env={**os.environ, **FAST_NETWORK, "GEO_SCENE_CACHE": str(user.home / "cache")},
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
    assert limited.returncode == 1 and limited.stdout == "", limited.stdout + limited.stderr
    cache, error = limited.stderr.splitlines()
    assert cache.startswith(f"warning: cannot write scene cache entry {user.home / 'cache'}/") and cache.endswith(
        f"more than the largest file this process may write: {limit} bytes, ulimit -f or LimitFSIZE=); nothing more "
        "is cached this time (GEO_SCENE_CACHE names the cache folder)"), cache
    assert error.startswith(f"Error: {store}: cannot write the store: the largest file this process may write is "
                            f"{limit} bytes (ulimit -f or LimitFSIZE=), and store.gpkg") and "reached it" in error, error
    assert "nothing of this write was recorded" in error, error
    assert not [p for p in (user.home / "cache").rglob("*.tif")]
    assert _runs(store) == [1]
    again = user("recheck", "--store", str(store), "--out", "outputs", "--source", archive.url)
    assert again.returncode == 0 and again.stdout.startswith("run 2: 2 new pairs, "), again.output
    assert _runs(store) == [1, 2]
