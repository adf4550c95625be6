"""A stop (Ctrl-C's SIGINT, systemd's SIGTERM) that arrives while the command imports its libraries ends it as any
other stop does: one line, exit 130 or 143, nothing left behind. It said "internal error: ImportError:
numpy._core.multiarray failed to import" (exit 2) after numpy's printed traceback: a compiled module importing
numpy (shapely's, GDAL's) turns the exception into that ImportError. Each case drives the real entry point
(``geo.cli.main``) in a fresh interpreter that sends itself the signal as the named library starts importing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.flows.conftest import DEMO_CATALOG

ENTRY = """
import os, signal, sys
library, by, signum = sys.argv[1], sys.argv[2], int(sys.argv[3])
def stop_while_importing(event, args):  # the signal comes as `library` starts importing (for `by`)
    if event == "import" and args[0] == library and by in sys.modules and not stop_while_importing.sent:
        stop_while_importing.sent = True
        os.kill(os.getpid(), signum)
stop_while_importing.sent = False
sys.addaudithook(stop_while_importing)
from geo.cli import main
main(sys.argv[4:])
"""


def _stopped_while_importing(home: Path, library: str, by: str, signum: int, *args: str,
                             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", ENTRY, library, by, str(int(signum)), *args], cwd=home,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO), "GEO_SCENE_CACHE": str(home / "cache")})


@pytest.mark.parametrize("signum, said", [(signal.SIGINT, "Interrupted."), (signal.SIGTERM, "Terminated.")])
def test_a_recheck_stopped_while_numpy_imports_for_shapely_says_so_and_leaves_no_store(tmp_path, signum, said):
    recheck = ("recheck", "--store", "store.gpkg", "--aoi", "demo-nantes-port", "--source", str(DEMO_CATALOG),
               "--since", "2015-06-01")
    stopped = _stopped_while_importing(tmp_path, "numpy", "shapely", signum, *recheck)
    assert stopped.returncode == 128 + signum, stopped.stdout + stopped.stderr
    assert stopped.stderr.strip() == said and stopped.stdout == ""  # no traceback, no "internal error"
    assert not (tmp_path / "store.gpkg").exists() and not (tmp_path / "store-outputs").exists()
    again = subprocess.run([sys.executable, "-m", "geo", *recheck], cwd=tmp_path, capture_output=True, text=True,
                           timeout=300, env={**os.environ, "PYTHONPATH": str(REPO),
                                             "GEO_SCENE_CACHE": str(tmp_path / "cache")})
    assert again.returncode == 0 and "run 1: 1 new pair," in again.stdout, again.stdout + again.stderr
