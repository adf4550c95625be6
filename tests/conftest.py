"""Shared fixtures: a synthetic project (AOI, claims, scene catalog with planted truth) and a CLI runner
that runs the real ``geo`` console entry point in a subprocess (exit codes, stderr, no traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from geo import paths
from tests import synthetic

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = paths.shared_data()

CLAIMS_TOML = """
[document]
title = "synthetic test document"

[[claim]]
id = "test-construction"
claimant = "test"
statement = "New roofs appeared in the window."
date_stated = 2021-01-01
stance = "assert"
aoi_ids = ["test-site"]
window = {{ start = {start}, end = {end} }}
signatures = ["new_construction"]

[[claim]]
id = "test-denial"
claimant = "test"
statement = "Nothing was built."
date_stated = 2021-01-02
stance = "deny"
denies = ["test-construction"]
aoi_ids = ["test-site"]
window = {{ start = {start}, end = {end} }}
signatures = ["new_construction"]

[[claim]]
id = "test-later"
claimant = "test"
statement = "Something happens after the after scene."
date_stated = 2021-01-03
stance = "assert"
aoi_ids = ["test-site"]
window = {{ start = 2020-09-01, end = 2020-10-01 }}
signatures = ["new_construction"]
"""


@dataclass(frozen=True)
class SyntheticProject:
    root: Path
    catalog: Path
    aoi_dir: Path
    seeds_dir: Path
    shift: tuple[float, float]
    rects: tuple[synthetic.Rect, ...]
    shape: tuple[int, int]


@pytest.fixture(scope="session")
def synthetic_project(tmp_path_factory: pytest.TempPathFactory) -> SyntheticProject:
    root = tmp_path_factory.mktemp("project")
    shape, shift = (320, 320), (0.37, -0.62)
    rects = (synthetic.Rect(60, 70, 30, 40), synthetic.Rect(180, 200, 35, 25), synthetic.Rect(230, 60, 28, 50))
    before, after = synthetic.make_pair(shape, shift, rects)
    items = [
        synthetic.write_scene(root / "scenes" / "before", "S2A_TEST_20200301", synthetic.utc(2020, 3, 1), before),
        synthetic.write_scene(root / "scenes" / "after", "S2A_TEST_20200801", synthetic.utc(2020, 8, 1), after),
    ]
    catalog = synthetic.write_catalog(root / "scenes", items)
    (root / "aoi").mkdir()
    synthetic.write_aoi(root / "aoi" / "test-site.geojson", "test-site", synthetic.grid_bounds_lonlat(shape, 30))
    (root / "seeds").mkdir()
    (root / "seeds" / "test.toml").write_text(CLAIMS_TOML.format(start="2020-04-01", end="2020-06-30"))
    return SyntheticProject(root, catalog, root / "aoi", root / "seeds", shift, rects, shape)


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_geo(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> CliResult:
    """Run ``python -m geo ARGS`` (the console script's entry point) and capture everything."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    full_env.pop("GEO_DEBUG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "geo", *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=600
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def geo_cli():
    return run_geo


@pytest.fixture(scope="session")
def port_project(tmp_path_factory: pytest.TempPathFactory):
    """A synthetic port with planted ships (Sentinel-1 and -2 series) and vessel claims: tests/vessels/port.py."""
    from tests.vessels import port

    return port.build(tmp_path_factory.mktemp("port"))


@pytest.fixture(scope="session")
def port_run_output(tmp_path_factory: pytest.TempPathFactory, port_project) -> Path:
    """``geo run`` on the synthetic port: the change job on two Sentinel-2 dates and, for its vessel claims,
    the vessel job on every Sentinel-1 and -2 scene around their windows."""
    out = tmp_path_factory.mktemp("port-run") / "out"
    result = run_geo(
        "run", "--aoi", "test-port", "--source", str(port_project.catalog), "--out", str(out),
        "--before", "2021-05-01", "--after", "2021-06-12",
        "--aoi-dir", str(port_project.aoi_dir), "--seeds-dir", str(port_project.seeds_dir),
    )
    assert result.returncode == 0, result.stderr
    return out
