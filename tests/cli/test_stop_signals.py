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
               "--since", "2015-06-23")
    stopped = _stopped_while_importing(tmp_path, "numpy", "shapely", signum, *recheck)
    assert stopped.returncode == 128 + signum, stopped.stdout + stopped.stderr
    assert stopped.stderr == said + "\n" and stopped.stdout == ""  # no traceback, no "internal error"
    assert not (tmp_path / "store.gpkg").exists() and not (tmp_path / "store-outputs").exists()
    again = subprocess.run([sys.executable, "-m", "geo", *recheck], cwd=tmp_path, capture_output=True, text=True,
                           timeout=300, env={**os.environ, "PYTHONPATH": str(REPO),
                                             "GEO_SCENE_CACHE": str(tmp_path / "cache")})
    assert again.returncode == 0 and "run 1: 1 new pair," in again.stdout, again.stdout + again.stderr


# As the console script and `python -m geo` start: the signal comes as `library` starts importing, before geo.cli.main
# has taken Ctrl-C over (`geo.__main__` imports it) or, with `retry_s`, while the command imports its own libraries.
EARLY = """
import os, runpy, signal, sys
library, entry, retry_s = sys.argv[1], sys.argv[2], float(sys.argv[3])
def stop_while_importing(event, args):
    if event == "import" and args[0] == library and not stop_while_importing.sent:
        stop_while_importing.sent = True
        os.kill(os.getpid(), signal.SIGINT)
stop_while_importing.sent = False
if retry_s:  # a stop put off while importing is delivered again this much later: here never before the command ends
    import geo.cli
    geo.cli._RETRY_S = retry_s
sys.addaudithook(stop_while_importing)
sys.argv = ["geo", *sys.argv[4:]]
if entry == "console-script":  # what pip's `geo` script does with pyproject's [project.scripts] entry
    module, function = "{script}".split(":")
    sys.exit(getattr(__import__(module, fromlist=[function]), function)())
runpy.run_module("geo", run_name="__main__", alter_sys=True)  # python -m geo
"""


def _script_entry() -> str:
    import tomllib

    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]["geo"]


@pytest.mark.parametrize("entry", ["console-script", "python-m-geo"])
def test_ctrl_c_while_geo_cli_imports_says_interrupted_without_a_traceback(tmp_path, entry):
    """Ctrl-C in the first ~0.05 s (click importing for geo.cli) printed Python's KeyboardInterrupt traceback."""
    stopped = subprocess.run([sys.executable, "-c", EARLY.replace("{script}", _script_entry()), "click", entry, "0",
                              "aoi", "list"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    assert (stopped.returncode, stopped.stderr, stopped.stdout) == (130, "Interrupted.\n", "")


def test_ctrl_c_put_off_while_importing_is_not_lost_when_the_command_ends_first(tmp_path):
    """A stop that came while `geo aoi list` imported shapely, put off and not delivered again before the listing
    was printed, was lost: the command ended 0 as if no Ctrl-C had come."""
    stopped = subprocess.run([sys.executable, "-c", EARLY, "shapely", "python-m-geo", "60", "aoi", "list"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert stopped.returncode == 130 and stopped.stderr.endswith("Interrupted.\n"), stopped.stderr
    assert "Traceback" not in stopped.stderr
