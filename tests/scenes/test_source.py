"""STAC search through pystac-client against the loopback archive: results, paging, lookups, and every
fault path of the STAC API (5xx/429 with Retry-After, truncated bodies, timeouts, dropped connections)."""

from __future__ import annotations

import time
from datetime import date

import pytest

from geo.errors import ArchiveError, SceneError
from geo.scenes.cache import SceneCache
from geo.scenes.remote import RetryPolicy
from geo.scenes.source import LocalCatalog, StacApi, open_source
from tests.conftest import REPO

DECEMBER = (date(2015, 12, 1), date(2015, 12, 31))
BEFORE_IDS = ["S2A_T30TXT_20151216_B3", "S2A_T30TXT_20151221_B2", "S2A_T30TXT_20151228_B1"]


def api(server, tmp_path, **policy):
    return StacApi(server.url, cache=SceneCache(tmp_path / "cache"), policy=RetryPolicy(**{"backoff_s": 0.05, **policy}))


def test_search_filters_by_aoi_and_dates_and_follows_next_links(loopback, tmp_path, nantes_aoi):
    scenes = api(loopback, tmp_path).search(nantes_aoi.geometry, *DECEMBER)
    assert [s.id for s in scenes] == BEFORE_IDS
    # 3 matches at 2 per page: two POSTs, the second one carrying the server's paging token
    posts = [r for r in loopback.records("/search") if r.method == "POST"]
    assert len(posts) == 2
    first = scenes[0]
    assert first.sensor == "s2" and first.relative_orbit == 94 and first.collection == "sentinel-2-l2a"
    assert set(first.assets) == {"blue", "green", "red", "nir", "swir16", "swir22", "scl"}
    assert first.asset("red").scale == pytest.approx(1e-4) and first.asset("scl").scale == 1.0
    assert first.asset("red").href.startswith(loopback.url)


def test_search_elsewhere_or_else_when_finds_nothing(loopback, tmp_path, nantes_aoi):
    from shapely.geometry import box

    assert api(loopback, tmp_path).search(box(20, 60, 20.1, 60.1), *DECEMBER) == []
    assert api(loopback, tmp_path).search(nantes_aoi.geometry, date(2016, 3, 1), date(2016, 4, 1)) == []


def test_get_by_id_then_from_the_cache_without_a_request(loopback, tmp_path):
    source = api(loopback, tmp_path)
    scene = source.get("S2A_T30TXT_20151221_B2")
    assert scene.relative_orbit == 51 and scene.date == date(2015, 12, 21)
    assert loopback.records("/search")
    loopback.clear()
    again = api(loopback, tmp_path).get("S2A_T30TXT_20151221_B2")  # a new process would do the same
    assert again.id == scene.id and again.asset("red").href == scene.asset("red").href
    assert loopback.records() == []


def test_unknown_id_names_it(loopback, tmp_path):
    with pytest.raises(SceneError, match="no scene with id 'S2X_NOPE'"):
        api(loopback, tmp_path).get("S2X_NOPE")


def test_sources_by_name_and_sensor(loopback):
    with pytest.raises(SceneError, match="planetary-computer"):
        open_source("earth-search", "s1")
    with pytest.raises(SceneError, match="unknown sensor 'landsat'"):
        open_source(loopback.url, "landsat")
    assert open_source("planetary-computer", "s1").collections == ("sentinel-1-rtc",)
    cdse = open_source("cdse", "s2")  # the Copernicus Data Space (its items: tests/flows/test_copernicus_data_space.py)
    assert (cdse.name, cdse.collections) == ("https://stac.dataspace.copernicus.eu/v1", ("sentinel-2-l2a",))
    assert open_source("cdse", "s1").collections == ("sentinel-1-grd",)
    assert open_source(loopback.url, "s1").collections == ("sentinel-1-rtc",)
    assert open_source(loopback.url, "s2", ["sentinel-2-c1-l2a"]).collections == ("sentinel-2-c1-l2a",)
    demo = open_source(str(REPO / "scenes" / "demo"))
    assert isinstance(demo, LocalCatalog) and len(demo.all()) == 2
    assert open_source(str(REPO / "scenes" / "demo"), "s1").all() == []


def test_503_with_retry_after_is_honoured(loopback, tmp_path, nantes_aoi):
    loopback.inject("status", match="/search", methods=("POST",), status=503, retry_after="1")
    scenes = api(loopback, tmp_path).search(nantes_aoi.geometry, *DECEMBER)
    assert [s.id for s in scenes] == BEFORE_IDS
    posts = [r for r in loopback.records("/search") if r.method == "POST"]
    assert [r.status for r in posts] == [503, 200, 200]
    # urllib3 would retry at once without the header; the server asked for 1 s
    assert posts[1].at - posts[0].at >= 0.95


def test_persistent_429_fails_with_a_clear_error_after_the_retries(loopback, tmp_path, nantes_aoi):
    loopback.inject("status", match="/search", methods=("POST",), status=429, retry_after="0", times=-1)
    with pytest.raises(ArchiveError, match=r"search failed.*429"):
        api(loopback, tmp_path, attempts=3).search(nantes_aoi.geometry, *DECEMBER)
    assert len([r for r in loopback.records("/search") if r.method == "POST"]) == 3


def test_404_is_not_retried(loopback, tmp_path, nantes_aoi):
    loopback.inject("status", match="/search", methods=("POST",), status=404, times=-1)
    with pytest.raises(ArchiveError, match="404"):
        api(loopback, tmp_path).search(nantes_aoi.geometry, *DECEMBER)
    assert len(loopback.records("/search")) == 1


@pytest.mark.parametrize("kind", ["truncate", "drop"])
def test_truncated_or_dropped_response_is_retried(loopback, tmp_path, nantes_aoi, kind):
    loopback.inject(kind, match="/search", methods=("POST",))
    scenes = api(loopback, tmp_path).search(nantes_aoi.geometry, *DECEMBER)
    assert [s.id for s in scenes] == BEFORE_IDS
    posts = [r for r in loopback.records("/search") if r.method == "POST"]
    assert [r.fault for r in posts] == [kind, None, None]


def test_slow_response_times_out_and_is_retried(loopback, tmp_path, nantes_aoi):
    loopback.inject("slow", match="/search", methods=("POST",), delay=1.5)
    source = api(loopback, tmp_path, read_timeout_s=0.5)
    start = time.perf_counter()
    scenes = source.search(nantes_aoi.geometry, *DECEMBER)
    assert time.perf_counter() - start < 1.5  # did not wait for the stalled response
    assert [s.id for s in scenes] == BEFORE_IDS
    time.sleep(1.2)  # let the stalled handler finish and log itself
    posts = sorted((r for r in loopback.records("/search") if r.method == "POST"), key=lambda r: r.fault or "")
    assert [r.fault for r in posts] == [None, None, "slow"]


def test_unreachable_api_is_an_archive_error(tmp_path, nantes_aoi):
    dead = StacApi("http://127.0.0.1:9", policy=RetryPolicy(attempts=2, backoff_s=0.01))
    with pytest.raises(ArchiveError, match="127.0.0.1:9"):
        dead.search(nantes_aoi.geometry, *DECEMBER)
