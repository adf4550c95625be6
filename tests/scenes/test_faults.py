"""Faults of a COG host while reading a window: transient ones heal, persistent ones end in one clear error
naming the item and the asset, after retries that back off and honour Retry-After; nothing is cached."""

from __future__ import annotations

import re
import time

import numpy as np
import pystac
import pytest
import rasterio

from geo.errors import ArchiveError, UnusableSceneError
from geo.scenes.cache import SceneCache
from geo.scenes.item_assets import scene_from_item
from geo.scenes.model import Asset
from geo.scenes.read import read_stack, read_window
from tests.archive_data import aoi_around, big_item, utc
from tests.scenes.test_read import BIG_WINDOW


@pytest.fixture
def window(loopback, big_cog, tmp_path):
    """A fresh item over the big COG (new URL: nothing of it in GDAL's in-process cache), the grid of a
    small AOI, the truth read from the local file, and a private cache."""
    item_id = f"S2A_FAULT_{time.monotonic_ns()}"
    scene = scene_from_item(pystac.Item.from_dict(big_item(loopback, big_cog, item_id, utc(2016, 6, 8))))
    with rasterio.open(big_cog) as src:
        grid = aoi_around(src.crs, BIG_WINDOW).utm_grid(10.0, 300.0)
    truth = read_window("local", Asset("red", str(big_cog), 1e-4, 0.0, 0), grid).filled(0) * np.float32(1e-4)
    path = scene.asset("red").href.removeprefix(loopback.url)
    return scene, grid, truth, SceneCache(tmp_path / "cache"), path


def gets(loopback, path):
    return [r for r in loopback.records(path) if r.method == "GET"]


def read(scene, grid, cache):
    return read_stack(scene, ["red"], grid, cloud_mask=False, cache=cache).band("red")


def assert_failed_cleanly(excinfo, scene, cache):
    message = str(excinfo.value)
    assert re.search(rf"scene {scene.id}:? asset 'red'", message) and "http://127.0.0.1" in message
    assert cache.entries() == []
    assert not [p for p in cache.root.rglob("*") if p.is_file() and p.suffix in (".tif", ".tmp")]


@pytest.mark.parametrize("kind", ["status", "truncate", "drop", "corrupt"])
def test_transient_fault_on_a_tile_heals(loopback, window, kind):
    scene, grid, truth, cache, path = window
    loopback.inject(kind, match=path, status=503, times=1, min_offset=1)
    assert np.array_equal(read(scene, grid, cache), truth)
    faulted = [r for r in gets(loopback, path) if r.fault == kind or r.status == 503]
    assert len(faulted) == 1
    assert len(cache.entries()) == 1


def test_timeout_on_a_tile_heals(loopback, window, monkeypatch):
    scene, grid, truth, cache, path = window
    monkeypatch.setenv("GDAL_HTTP_TIMEOUT", "1")
    loopback.inject("slow", match=path, delay=3, min_offset=1)
    start = time.perf_counter()
    assert np.array_equal(read(scene, grid, cache), truth)
    assert time.perf_counter() - start < 3


def test_a_host_too_slow_at_every_attempt_is_named_as_such(loopback, window, monkeypatch):
    """The header came in time, then the host slowed down: it said GDAL's words, "failed after 3 attempts (CURL
    error: Operation timed out after 1001 milliseconds ...)" here, and in a run "(red.tif, band 1: IReadBlock failed
    at X offset 0, Y offset 0: ...; TIFFFillTile:Read error at row 4294967295, ...)", naming no timeout or knob."""
    scene, grid, truth, cache, path = window
    monkeypatch.setenv("GDAL_HTTP_TIMEOUT", "1")
    monkeypatch.setenv("GEO_HTTP_TIMEOUT", "1")
    loopback.inject("slow", match=path, delay=2, min_offset=1, times=-1)  # the tiles, after the header
    loopback.inject("slow", match=path, methods=("HEAD",), delay=2, times=-1)
    with pytest.raises(ArchiveError) as excinfo:
        read(scene, grid, cache)
    assert str(excinfo.value).endswith("): the host did not answer in time at each of 3 attempts (a read timeout: "
                                       "GDAL_HTTP_TIMEOUT s)"), excinfo.value
    assert_failed_cleanly(excinfo, scene, cache)


@pytest.mark.parametrize("tiles_only", [False, True])
def test_persistent_503_backs_off_honouring_retry_after(loopback, window, monkeypatch, tiles_only):
    scene, grid, _, cache, path = window
    monkeypatch.setenv("GDAL_HTTP_MAX_RETRY", "1")
    loopback.inject("status", match=path, methods=("GET", "HEAD"), status=503, retry_after="1", times=-1,
                    min_offset=1 if tiles_only else 0)
    if tiles_only:  # GDAL opens the file; its tile reads, and our probe of the host, get 503
        loopback.inject("status", match=path, methods=("HEAD",), status=503, retry_after="1", times=-1,
                        agent="python-requests")
    start = time.perf_counter()
    with pytest.raises(ArchiveError, match="failed after 3 attempts.*503") as excinfo:
        read(scene, grid, cache)
    elapsed = time.perf_counter() - start
    assert_failed_cleanly(excinfo, scene, cache)
    # our backoff is 0.05 s then 0.1 s; the server asked for 1 s, twice
    assert elapsed >= 2.0
    assert len([r for r in loopback.records(path) if r.status == 503]) >= 3 * 2


def test_persistent_429_without_retry_after_uses_backoff(loopback, window, monkeypatch):
    scene, grid, _, cache, path = window
    monkeypatch.setenv("GDAL_HTTP_MAX_RETRY", "0")
    loopback.inject("status", match=path, status=429, times=-1, min_offset=1)
    with pytest.raises(ArchiveError, match="429") as excinfo:
        read(scene, grid, cache)
    assert_failed_cleanly(excinfo, scene, cache)
    tiles = [r for r in gets(loopback, path) if r.range and not r.range.startswith("bytes=0-")]
    assert len(tiles) >= 3 and all(r.status == 429 for r in tiles)


@pytest.mark.parametrize("kind", ["truncate", "corrupt"])
def test_persistently_broken_body_is_a_clear_error(loopback, window, kind):
    scene, grid, _, cache, path = window
    loopback.inject(kind, match=path, times=-1, min_offset=1)
    with pytest.raises(ArchiveError, match="failed after 3 attempts") as excinfo:
        read(scene, grid, cache)
    assert_failed_cleanly(excinfo, scene, cache)
    # every attempt of ours fetched the tile again (GDAL's in-process cache was bypassed)
    assert len([r for r in gets(loopback, path) if r.fault == kind]) >= 3


def test_missing_file_is_not_retried(loopback, window):
    scene, grid, _, cache, path = window
    loopback.inject("status", match=path, methods=("GET", "HEAD"), status=404, times=-1)
    start = time.perf_counter()
    with pytest.raises(UnusableSceneError, match="404") as excinfo:  # the scene's fault: a re-check goes around it
        read(scene, grid, cache)
    assert_failed_cleanly(excinfo, scene, cache)
    assert time.perf_counter() - start < 1.0
