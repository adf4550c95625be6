"""Stopping a job: Ctrl-C in the terminal (SIGINT) and QGIS's Cancel, systemd's stop or ``kill`` (SIGTERM) while
the run folder is being written leave nothing behind, not even the hidden staging folder, and say so."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.flows.conftest import DEMO_CATALOG, drawn_aoi, geo_command
from tests.scenes.conftest import FAST_NETWORK


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
    assert said in stderr and "Traceback" not in stderr
    assert sorted(p.name for p in home.iterdir()) == ["harbour.geojson"]  # no run folder, no staging folder
