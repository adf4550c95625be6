"""Every ``python benchmarks/<name>.py`` on a fresh clone without the shared data: one line saying which data it
needs, where it looked and how to give it, exit 1, no traceback (most ended in a FileNotFoundError, IndexError,
StopIteration or RasterioIOError traceback; the modules the benchmarks import, run on their own, in an import
error). Each script fails before any heavy work (benchmarks/needs.py checks first), so the whole file takes
seconds of imports; the scripts that need no data (synthetic scenes) are only asked for ``--help``."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPTS = sorted(path.name for path in (REPO / "benchmarks").glob("*.py") if path.name != "needs.py")
# synthetic scenes only (vessels.py: its real table is skipped, said on the terminal and in the JSON)
WITHOUT_DATA = {"large_changes.py", "recheck.py", "vessels.py"}
# imported by the benchmarks, nothing of their own to run
PARTS = {"coreg_crops.py", "coreg_grid.py", "oscd_band_agreement.py", "oscd_candidates.py", "oscd_clouds.py",
         "oscd_directions.py", "oscd_fusion_variants.py", "oscd_multivariate.py", "oscd_noise_model.py",
         "oscd_red_edge.py", "vessel_context.py", "vessel_ports.py", "vessel_sar_port.py"}


def _env(shared: Path, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GEO_SHARED_DATA", "GEO_SEN2SHIPS", "PYTHONPATH")}
    nowhere = "http://127.0.0.1:9"  # no network: any request fails at once
    # TMPDIR: scale.py keeps its built scenes in the temp folder; a cache of an earlier run would start the benchmark
    return {**env, "GEO_SHARED_DATA": str(shared), "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1",
            "TMPDIR": str(tmp), "http_proxy": nowhere, "https_proxy": nowhere, "HTTP_PROXY": nowhere,
            "HTTPS_PROXY": nowhere}


def _run(script: str, args: list[str], shared: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "benchmarks" / script), *args], capture_output=True, text=True,
                          cwd=cwd, env=_env(shared, cwd), timeout=120)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, subprocess.CompletedProcess[str]]]:
    """Each script run once from an empty folder with $GEO_SHARED_DATA an empty folder (two at a time: the
    imports are the cost)."""
    tmp = tmp_path_factory.mktemp("without-data")
    shared = tmp / "shared-data"
    shared.mkdir()
    cwd = tmp / "user"
    cwd.mkdir()

    def one(script: str) -> subprocess.CompletedProcess[str]:
        return _run(script, ["--help"] if script in WITHOUT_DATA else [], shared, cwd)

    with ThreadPoolExecutor(2) as pool:
        return shared, dict(zip(SCRIPTS, pool.map(one, SCRIPTS)))


def test_the_scripts_are_all_sorted():
    # a new script is one of the three kinds: it is then run below
    assert set(SCRIPTS) >= WITHOUT_DATA | PARTS
    assert len(SCRIPTS) > len(WITHOUT_DATA | PARTS)


@pytest.mark.parametrize("script", [s for s in SCRIPTS if s not in WITHOUT_DATA | PARTS])
def test_a_benchmark_without_its_data_says_which_where_and_how_to_give_it(runs, script):
    shared, results = runs
    result = results[script]
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: no "), line
    assert re.search(rf"{re.escape(str(shared))}/(coreg-pair|oscd|sen2ships)\b", line), line
    assert "$GEO_SHARED_DATA" in line


@pytest.mark.parametrize("script", sorted(PARTS))
def test_a_module_of_the_benchmarks_run_on_its_own_names_the_script_to_run(runs, script):
    result = runs[1][script]
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    [line] = result.stderr.strip().splitlines()
    ran = re.fullmatch(rf"error: benchmarks/{script} is a part of other benchmarks, not one to run: run python "
                       r"(benchmarks/\w+\.py)", line)
    assert ran and (REPO / ran.group(1)).is_file() and ran.group(1) not in {f"benchmarks/{p}" for p in PARTS}, line


@pytest.mark.parametrize("script", sorted(WITHOUT_DATA))
def test_a_benchmark_needing_no_data_starts(runs, script):
    result = runs[1][script]
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.startswith("usage:")


def test_a_root_given_without_the_data_is_one_line(tmp_path):
    result = _run("oscd.py", ["--root", str(tmp_path / "mine")], tmp_path / "nowhere", tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: OSCD root {tmp_path / 'mine'} is not a folder"
    # scale.py's --oscd: it stopped in an IndexError, leaving the scenes' cache half made
    (tmp_path / "mine").mkdir()
    result = _run("scale.py", ["--oscd", str(tmp_path / "mine"), "--scenes", str(tmp_path / "scenes")],
                  tmp_path / "nowhere", tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (f"error: no OSCD Nantes band B02 in {tmp_path}/mine/nantes/imgs_1 (the shared "
                                     "data's oscd: shared/data beside or above the checkout, or $GEO_SHARED_DATA); "
                                     "give the OSCD folder with --oscd DIR, or set $GEO_SHARED_DATA")
    assert not list((tmp_path / "scenes").rglob("*.tif"))


@pytest.mark.skipif(importlib.util.find_spec("arosics") is not None, reason="AROSICS is installed")
def test_a_missing_package_names_its_extra(tmp_path):
    for part in ("coreg-pair", "oscd"):
        (tmp_path / part).mkdir()
    result = _run("coreg.py", [], tmp_path, tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == ("error: arosics is not installed: this benchmark needs it "
                                     "(pip install -e '.[bench-arosics]')")
