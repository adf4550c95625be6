"""The vessel tests' shared run: ``geo vessels`` over the synthetic port's Sentinel-1 series (local catalog)."""

from __future__ import annotations

import pytest

from tests.conftest import run_geo

S1_PERIOD = ("--from", "2021-03-25", "--to", "2021-06-30")


@pytest.fixture(scope="session")
def s1_run(port_project, tmp_path_factory):
    out = tmp_path_factory.mktemp("vessels") / "out"
    result = run_geo("vessels", "--aoi", "test-port", *S1_PERIOD, "--sensor", "s1",
                     "--source", str(port_project.catalog), "--aoi-dir", str(port_project.aoi_dir),
                     "--seeds-dir", str(port_project.seeds_dir), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out, result
