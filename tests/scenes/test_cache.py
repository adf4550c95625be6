"""The scene cache: a rerun reads nothing remote, entries are whole or absent, bad entries heal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from geo.errors import ArchiveError
from geo.scenes.cache import CacheKey, SceneCache
from geo.scenes.read import read_stack
from geo.scenes.source import StacApi
from tests import archive_data
from tests.archive_data import S2_BANDS, S2Spec, utc
from tests.conftest import REPO


@pytest.fixture
def fresh_scene(loopback, archive):
    """A new item (new URLs, so nothing of it sits in GDAL's in-process cache)."""
    def make(name: str):
        spec = S2Spec(f"S2A_CACHE_{name}_{time.monotonic_ns()}", utc(2016, 5, 1), 8, "2015",
                      archive_data.CLOUD_OVER_AOI)
        item = archive_data.s2_item(loopback, archive.folder, spec, collection="cache-tests")
        return StacApi(loopback.url, ["cache-tests"]).get(item["id"])
    return make


def test_rerun_reads_nothing_remote(loopback, fresh_scene, nantes_aoi, tmp_path):
    scene = fresh_scene("rerun")
    grid = nantes_aoi.utm_grid(10.0, 300.0)
    cache = SceneCache(tmp_path / "cache")
    first = read_stack(scene, S2_BANDS, grid, cache=cache)
    assert loopback.records("/files/") and cache.misses == 7
    loopback.clear()
    again = read_stack(scene, S2_BANDS, grid, cache=SceneCache(tmp_path / "cache"))
    assert loopback.records() == []  # zero requests
    assert np.array_equal(first.valid, again.valid)
    assert np.array_equal(first.data, again.data, equal_nan=True)
    entries = cache.entries()
    assert sorted(e.asset for e in entries) == sorted([*S2_BANDS, "scl"])
    assert {e.item_id for e in entries} == {scene.id}
    assert {e.shape for e in entries if e.asset != "scl"} == {grid.shape}
    # the SCL over the grid and 40 m around it (a cloud just outside masks the pixels near it: geo.scenes.read)
    assert [e.shape for e in entries if e.asset == "scl"] == [(grid.height + 8, grid.width + 8)]
    assert cache.load_item(scene.id, loopback.url) == dict(scene.stac)  # kept beside its windows, per archive


def test_another_grid_is_another_entry(loopback, fresh_scene, nantes_aoi, tmp_path):
    scene = fresh_scene("grids")
    cache = SceneCache(tmp_path / "cache")
    grid = nantes_aoi.utm_grid(10.0)
    read_stack(scene, ["red"], grid, cloud_mask=False, cache=cache)
    read_stack(scene, ["red"], grid.shifted(0.5, 0.0), cloud_mask=False, cache=cache)
    assert cache.hits == 0 and len(cache.entries()) == 2
    read_stack(scene, ["red"], grid.shifted(0.5, 0.0), cloud_mask=False, cache=cache)
    assert cache.hits == 1


def test_failed_download_leaves_no_entry(loopback, fresh_scene, nantes_aoi, tmp_path):
    scene = fresh_scene("failed")
    cache = SceneCache(tmp_path / "cache")
    grid = nantes_aoi.utm_grid(10.0)
    loopback.inject("corrupt", match=f"{scene.id}/nir.tif", times=-1, min_offset=1)
    with pytest.raises(ArchiveError, match=f"scene {scene.id} asset 'nir'"):
        read_stack(scene, S2_BANDS, grid, cache=cache)
    assert "nir" not in {e.asset for e in cache.entries()}
    assert not [p for p in (tmp_path / "cache").rglob("*") if ".tmp" in p.name]
    loopback.clear()  # the archive recovers: the next run fills the gap and serves the rest from cache
    stack = read_stack(scene, S2_BANDS, grid, cache=cache)
    assert [r.path.rsplit("/", 1)[-1] for r in loopback.records("/files/") if r.method == "GET"] and \
        {r.path.rsplit("/", 1)[-1] for r in loopback.records("/files/")} == {"nir.tif"}
    assert stack.valid.any()


def test_leftover_of_a_crashed_write_is_never_read(loopback, fresh_scene, nantes_aoi, tmp_path):
    scene = fresh_scene("crash")
    cache = SceneCache(tmp_path / "cache")
    grid = nantes_aoi.utm_grid(10.0)
    key = CacheKey(scene.id, "red", grid, "cubic", href=scene.asset("red").href)
    final = cache.path_for(key)
    final.parent.mkdir(parents=True)
    leftover = final.with_name(f".{final.stem}.4242-x1y2z3.tmp.tif")
    leftover.write_bytes(b"II*\x00half a tiff")  # what a process killed mid-write leaves
    assert cache.entries() == [] and cache.load(key) is None
    stack = read_stack(scene, ["red"], grid, cloud_mask=False, cache=cache)
    assert stack.valid.any() and final.exists()
    files, _ = cache.clear()
    assert files >= 3 and not leftover.exists() and cache.entries() == []


def test_damaged_entry_is_dropped_and_read_again(loopback, fresh_scene, nantes_aoi, tmp_path):
    scene = fresh_scene("damaged")
    cache = SceneCache(tmp_path / "cache")
    grid = nantes_aoi.utm_grid(10.0)
    first = read_stack(scene, ["red"], grid, cloud_mask=False, cache=cache)
    path = cache.path_for(CacheKey(scene.id, "red", grid, "cubic", href=scene.asset("red").href))
    path.write_bytes(path.read_bytes()[:300])
    misses = cache.misses
    again = read_stack(scene, ["red"], grid, cloud_mask=False, cache=cache)
    assert cache.misses == misses + 1 and cache.hits == 0  # read again (from GDAL's in-process cache here)
    assert np.array_equal(first.data, again.data, equal_nan=True)
    assert [e.asset for e in cache.entries()] == ["red"]


def test_killed_download_leaves_nothing_behind(loopback, fresh_scene, nantes_aoi, tmp_path):
    """A real crash: the reading process is SIGKILLed while a tile is in flight."""
    scene = fresh_scene("killed")
    cache_dir = tmp_path / "cache"
    loopback.inject("slow", match=f"{scene.id}/red.tif", delay=20, min_offset=1)
    code = (
        "import sys; from geo.aoi import load_aoi; from geo.scenes.source import StacApi;"
        "from geo.scenes.cache import SceneCache; from geo.scenes.read import read_stack;"
        f"aoi = load_aoi({str(REPO / 'aoi' / 'demo-nantes-port.geojson')!r});"
        f"s = StacApi({loopback.url!r}, ['cache-tests']).get({scene.id!r});"
        f"read_stack(s, ['red'], aoi.utm_grid(10.0), cloud_mask=False, cache=SceneCache({str(cache_dir)!r}))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "GDAL_HTTP_TIMEOUT": "60"}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 30
        while not loopback.records(f"/files/s2/{scene.id}/red.tif") and time.monotonic() < deadline:
            time.sleep(0.1)  # the header was read: the tile request is now stalled
        time.sleep(0.5)
        assert proc.poll() is None
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert SceneCache(cache_dir).entries() == []
    assert not [p for p in cache_dir.rglob("*.tif")] if cache_dir.exists() else True


def test_reads_through_a_coregistration_model_are_cached_by_its_values(loopback, fresh_scene, nantes_aoi, tmp_path):
    from geo.align.resample import translation

    scene = fresh_scene("displaced")
    cache = SceneCache(tmp_path / "cache")
    grid = nantes_aoi.utm_grid(10.0)
    moved = read_stack(scene, ["red"], grid, cloud_mask=False, cache=cache, displacement=translation(0.5, -0.25))
    local = read_stack(scene_with_local_files(scene), ["red"], grid, cloud_mask=False,
                       displacement=translation(0.5, -0.25))
    assert np.array_equal(moved.data, local.data, equal_nan=True)
    loopback.clear()
    again = read_stack(scene, ["red"], grid, cloud_mask=False, cache=cache, displacement=translation(0.5, -0.25))
    assert cache.hits == 1 and loopback.records() == []
    assert np.array_equal(moved.data, again.data, equal_nan=True)
    read_stack(scene, ["red"], grid, cloud_mask=False, cache=cache, displacement=translation(0.5, -0.5))
    assert cache.hits == 1 and len(cache.entries()) == 2  # another model, another entry


def scene_with_local_files(scene):
    from dataclasses import replace
    from types import MappingProxyType

    from tests.archive_data import DEMO_SCENES

    assets = {k: replace(a, href=str(DEMO_SCENES["2015"] / f"{k}.tif")) for k, a in scene.assets.items() if k != "scl"}
    return replace(scene, assets=MappingProxyType(assets))


def test_reads_without_a_scene_id_never_share_an_entry(loopback, fresh_scene, nantes_aoi, tmp_path):
    from geo.scenes.read import read_asset

    first, second = fresh_scene("anon1"), fresh_scene("anon2")
    second_asset = second.asset("red").__class__("red", second.asset("red").href.replace("/red.tif", "/nir.tif"),
                                                  1e-4, 0.0, 0)
    cache = SceneCache(tmp_path / "cache")
    grid = nantes_aoi.utm_grid(10.0)
    red, _ = read_asset(first.asset("red"), grid, cache=cache)
    nir, _ = read_asset(second_asset, grid, cache=cache)
    assert cache.hits == 0 and len(cache.entries()) == 2
    assert not np.allclose(red, nir, equal_nan=True)
