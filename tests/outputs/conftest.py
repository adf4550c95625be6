"""Run folders the output tests read: the demo (real Sentinel-2 pixels) and the synthetic project
(planted roofs: known changes, known verdicts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_geo
from tests.outputs import browser


@pytest.fixture(scope="session")
def demo_output(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo-run") / "out"
    result = run_geo("demo", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="session")
def synthetic_output(tmp_path_factory, synthetic_project) -> Path:
    out = tmp_path_factory.mktemp("synthetic-run") / "out"
    result = run_geo(
        "run", "--aoi", "test-site", "--source", str(synthetic_project.catalog), "--out", str(out),
        "--before", "2020-03-01", "--after", "2020-08-01",
        "--aoi-dir", str(synthetic_project.aoi_dir), "--seeds-dir", str(synthetic_project.seeds_dir),
    )
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def driver():
    """Headless Chromium (skipped, saying why, without it)."""
    reason = browser.missing()
    if reason:
        pytest.skip(reason)
    with browser.chromium() as chrome:
        yield chrome
