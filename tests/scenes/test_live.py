"""Against the real archives (Earth Search, Planetary Computer): opt-in with ``pytest -m live``, never in CI.

The same code paths run offline against the loopback archive in the other tests of this folder; these
check that the real services still answer as that archive does, on the issue's own case: the
Vladivostok AOI and the NIS arrival claim (window 8-13 October 2024).
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from geo.aoi import load_aoi
from geo.scenes.read import read_sar
from geo.scenes.source import open_source
from tests.conftest import REPO, run_geo

pytestmark = pytest.mark.live


@pytest.fixture
def env(tmp_path):
    return {"GEO_SCENE_CACHE": str(tmp_path / "cache")}


def test_earth_search_lists_vladivostok_scenes_with_aoi_cloud(env):
    result = run_geo("scenes", "search", "--aoi", "vladivostok-port", "--from", "2024-09-20", "--to", "2024-10-31",
                     "--json", env=env)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["scenes"]
    assert rows, "no Sentinel-2 L2A scene over Vladivostok in 6 weeks"
    assert {r["cover_method"] for r in rows} <= {"scl", "error"}
    assert all(r["relative_orbit"] for r in rows)
    judged = [r for r in rows if r["cover_method"] == "scl"]
    assert judged and all(abs(r["clear_fraction"] + r["cloud_fraction"] + r["nodata_fraction"] - 1) < 1e-3
                          for r in judged)


def test_run_on_the_nis_arrival_claim(env, tmp_path):
    out = tmp_path / "out"
    result = run_geo("run", "--aoi", "vladivostok-port", "--claim", "nis-arrival-vladivostok", "--out", str(out),
                     env=env)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenes"]["before"]["datetime"][:10] <= "2024-10-08"
    assert manifest["scenes"]["after"]["datetime"][:10] >= "2024-10-13"
    assert manifest["scenes"]["selection"]["method"] == "automatic"
    claims = json.loads((out / "claims.json").read_text())
    assert [c["claim_id"] for c in claims] == ["nis-arrival-vladivostok"]
    rerun = run_geo("run", "--aoi", "vladivostok-port", "--claim", "nis-arrival-vladivostok",
                    "--out", str(tmp_path / "again"), env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert (tmp_path / "again" / "changes.geojson").read_text() == (out / "changes.geojson").read_text()


def test_planetary_computer_sentinel1_rtc_onto_the_aoi_grid(tmp_path):
    from geo.scenes.cache import SceneCache

    aoi = load_aoi(REPO / "aoi" / "vladivostok-port.geojson")
    source = open_source("planetary-computer", "s1", cache=SceneCache(tmp_path / "cache"))
    scenes = source.search(aoi.geometry, date(2024, 10, 1), date(2024, 10, 20))
    assert scenes and all(s.sensor == "s1" for s in scenes)
    stack = read_sar(scenes[0], aoi.utm_grid(10.0), cache=SceneCache(tmp_path / "cache"))
    assert stack.quantity == "gamma0_linear" and stack.valid_fraction > 0.5
    assert (stack.data[:, stack.valid] >= 0).all()
