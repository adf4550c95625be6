"""``geo coreg`` ends its process without the interpreter's teardown once its result is out
(``geo.cli.start_up.want_quick_end``, ``end_now``): the output is whole, exit handlers still run, and only a
successful run ends that way. Each case drives the real entry point (``geo.cli.main``) in a fresh
interpreter, with an exit handler and a (non-daemon) thread that outlives the command: the interpreter's normal
end waits for such threads, the quick end does not (so a command asks for it only when it has none)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.align.crops import COREG_PAIR_512, write_pair
from tests.conftest import REPO, SHARED_DATA

needs_data = pytest.mark.skipif(not (SHARED_DATA / "oscd").exists(), reason="../shared/data not present")

ENTRY = """
import atexit, os, sys, threading, time
from pathlib import Path
out = Path(sys.argv[1])
atexit.register(lambda: (out / "exit-handler").write_text("ran"))
def late():  # still running when the command ends: a normal exit waits for it, a quick end does not
    time.sleep(float(os.environ.get("LATE_THREAD_S", "1.5")))  # longer than the command
    (out / "late-thread").write_text("ran")
threading.Thread(target=late).start()
from geo.cli import main
main(sys.argv[2:])
"""


def run_entry(tmp_path: Path, *args: str, late_s: float = 1.5) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    marks = tmp_path / "marks"
    marks.mkdir()
    proc = subprocess.run([sys.executable, "-c", ENTRY, str(marks), *args], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO), "LATE_THREAD_S": str(late_s)},
                          timeout=300)
    return proc, {p.name for p in marks.iterdir()}


@needs_data
def test_coreg_output_is_whole_exit_handlers_run_and_the_process_ends_at_once(tmp_path):
    write_pair(tmp_path, SHARED_DATA, COREG_PAIR_512)
    # the late thread outlasts the command on a busy machine too (1.5 s did not, with four test runs on two cores);
    # a quick end does not wait for it, so the test takes no longer
    proc, marks = run_entry(tmp_path, "coreg", "ref.tif", "tgt.tif", "--json", late_s=30)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)  # flushed before the process ended: the whole line
    assert (out["dx_px"], out["dy_px"]) == pytest.approx(COREG_PAIR_512.shift, abs=0.01)
    assert marks == {"exit-handler"}


@needs_data
def test_a_failed_coreg_and_other_commands_end_as_usual(tmp_path):
    """Control: the process ends as usual (waiting for the thread) when coreg fails and after ``--version``."""
    write_pair(tmp_path, SHARED_DATA, COREG_PAIR_512)
    proc, marks = run_entry(tmp_path, "coreg", "ref.tif", "missing.tif", "--json")
    assert proc.returncode == 1 and "missing.tif" in proc.stderr and proc.stdout == ""
    assert marks == {"exit-handler", "late-thread"}
    (tmp_path / "marks").rename(tmp_path / "marks-coreg")
    proc, marks = run_entry(tmp_path, "--version")
    assert proc.returncode == 0 and "geo" in proc.stdout
    assert marks == {"exit-handler", "late-thread"}


@pytest.mark.parametrize("command", ["run", "demo"])
def test_a_change_job_ends_at_once_once_its_run_folder_is_whole(tmp_path, command):
    """``geo run`` and ``geo demo`` end the same way once the run folder is written and the summary printed
    (their cluster, progress display and read/write threads closed: nothing of theirs is left running)."""
    args = (["run", "--aoi", "demo-nantes-port", "--source", str(REPO / "scenes" / "demo"), "--before", "2015-08-21",
             "--after", "2017-10-14"] if command == "run" else ["demo"])
    proc, marks = run_entry(tmp_path, *args, "--out", str(tmp_path / "job"), late_s=90.0)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert marks == {"exit-handler"}  # the exit handlers ran, the late thread was not waited for
    assert f"QGIS: {tmp_path / 'job' / 'project.qgz'}" in " ".join(proc.stdout.split())  # the summary's last line
    features = json.loads((tmp_path / "job" / "changes.geojson").read_text())["features"]
    manifest = json.loads((tmp_path / "job" / "manifest.json").read_text())
    assert len(features) == manifest["n_changes"] > 0 and "write stac item" in manifest["timings_s"]


def test_a_profiled_run_ends_as_usual_so_the_profile_is_written(tmp_path):
    """``python -m cProfile -o FILE -m geo run ...`` writes FILE after the command returns: under a profiler
    the process is not ended early."""
    import pstats

    profile = tmp_path / "run.prof"
    proc = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "geo", "demo", "--out",
                           str(tmp_path / "job")], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    functions = {name for _, _, name in pstats.Stats(str(profile)).stats}
    assert {"run_job", "write_run"} <= functions
