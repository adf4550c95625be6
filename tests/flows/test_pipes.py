"""``geo`` in a pipe whose reader stops early (``geo claims list | head -3``, ``geo run ... | grep -m1 claim``): it
ends quietly with 141, as ``git log | head -1`` does (128 + SIGPIPE: what ``set -o pipefail`` reports), and its work
is done whole. It exited 1 without a word (rich's and click's answer), which a script reads as a user error, and a
write that failed mid-command ended it there: ``geo recheck --json --export-stac DIR | head -1`` recorded the run
but wrote no DIR. Each case gives ``geo`` a pipe whose read end is already closed, so every write fails."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.flows.conftest import DEMO_CATALOG, geo_command

READER_GONE = 141
NANTES_RUN = ("run", "--aoi", "demo-nantes-port", "--source", str(DEMO_CATALOG), "--before", "2015-08-21",
              "--after", "2017-10-14", "--out", "nantes")


def geo_into_closed_pipe(home: Path, *args: str, stderr_too: bool = False) -> subprocess.CompletedProcess[str]:
    """``geo ARGS | true`` (with ``2>&1`` when ``stderr_too``): stdout is a pipe nobody reads."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([*geo_command(), *args], cwd=home, stdout=write_end,
                              stderr=write_end if stderr_too else subprocess.PIPE, text=True, timeout=600,
                              env={**os.environ, "GEO_SCENE_CACHE": str(home / "cache")})
    finally:
        os.close(write_end)


@pytest.mark.parametrize("args", [("aoi", "list"), ("claims", "list"), ("claims", "list", "--json"),
                                  ("aoi", "show", "demo-nantes-port"), ("--help",), ("run", "--help"), ()],
                         ids=["aoi-list", "claims-list", "claims-json", "aoi-show", "help", "run-help", "no-command"])
def test_a_listing_whose_reader_stopped_ends_quietly_with_141(tmp_path, args):
    stopped = geo_into_closed_pipe(tmp_path, *args)
    assert (stopped.returncode, stopped.stderr) == (READER_GONE, "")


def test_a_user_error_keeps_its_exit_code_and_message_when_stdout_is_gone(tmp_path):
    stopped = geo_into_closed_pipe(tmp_path, "aoi", "show", "no-such-aoi")
    assert stopped.returncode == 1 and stopped.stderr.startswith("Error: unknown AOI id 'no-such-aoi'")


@pytest.mark.parametrize("stderr_too", [False, True], ids=["stdout", "stdout-and-stderr"])
def test_a_run_whose_reader_stopped_writes_its_whole_output_folder(tmp_path, stderr_too):
    stopped = geo_into_closed_pipe(tmp_path, *NANTES_RUN, stderr_too=stderr_too)
    assert stopped.returncode == READER_GONE and not stopped.stderr
    out = tmp_path / "nantes"
    assert (out / ".geo-complete.json").is_file() and (out / "report.html").is_file()
    assert json.loads((out / "changes.geojson").read_text())["features"]
    assert [p.name for p in tmp_path.iterdir() if p.name != "cache"] == ["nantes"]  # no staging folder left


def test_a_recheck_whose_reader_stopped_still_exports_its_stac_collection(tmp_path):
    recheck = ("recheck", "--store", "store.gpkg", "--aoi", "demo-nantes-port", "--source", str(DEMO_CATALOG),
               "--since", "2015-06-23", "--json", "--export-stac", "stac")
    stopped = geo_into_closed_pipe(tmp_path, *recheck)
    assert stopped.returncode == READER_GONE, stopped.stderr
    assert stopped.stderr == "STAC collection of 1 item: stac/collection.json\n"
    assert json.loads((tmp_path / "stac" / "collection.json").read_text())["type"] == "Collection"
    again = subprocess.run([*geo_command(), *recheck[:-2]], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                           env={**os.environ, "GEO_SCENE_CACHE": str(tmp_path / "cache")})
    assert again.returncode == 0 and json.loads(again.stdout)["n_pairs"] == 0, again.stderr


@pytest.mark.parametrize("closed", [">&-", "2>&-", "<&- >&- 2>&-"])
def test_a_run_with_its_standard_streams_closed_ends_0_with_its_work_done(tmp_path, closed):
    """``geo run ... >&-`` (a script or daemon closing what it does not read): it did the work, then ended with a
    traceback from its last flush and exit 1 (Python makes sys.stdout None for a closed descriptor)."""
    done = subprocess.run(["bash", "-c", f'"$@" {closed}; echo $? > exit-code', "bash", *geo_command(), *NANTES_RUN],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "GEO_SCENE_CACHE": str(tmp_path / "cache")})
    assert (tmp_path / "exit-code").read_text() == "0\n" and done.stderr == ""
    assert done.stdout.startswith("AOI demo-nantes-port") == (closed == "2>&-")
    assert (tmp_path / "nantes" / ".geo-complete.json").is_file()


@pytest.mark.parametrize("aoi", ["<(cat area.geojson)", "/dev/stdin < <(cat area.geojson)", "/dev/null"],
                         ids=["process-substitution", "stdin-pipe", "device"])
def test_an_aoi_given_as_a_pipe_or_device_is_refused_as_not_a_file(tmp_path, aoi):
    """``--aoi <(curl ...)``, ``cat area.geojson | geo run --aoi /dev/stdin``: the path exists (a pipe, a device),
    yet was said not to ("/dev/fd/63: AOI file does not exist")."""
    (tmp_path / "area.geojson").write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": {
        "type": "Polygon", "coordinates": [[[-1.565, 47.19], [-1.535, 47.19], [-1.535, 47.215], [-1.565, 47.19]]]}}))
    for command in (f"run --aoi {aoi} --source demo --before 2015-08-21 --after 2017-10-14 --out out",
                    f"recheck --store store.gpkg --aoi {aoi} --source demo"):
        done = subprocess.run(["bash", "-c", f'"$@" {command}', "bash", *geo_command()], cwd=tmp_path,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 1, done.stderr
        assert "not a regular file" in done.stderr and "does not exist" not in done.stderr, done.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["area.geojson"]
