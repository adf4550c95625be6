"""An archive that rate-limits (HTTP 429 with Retry-After) during a scheduled re-check of several AOIs: each AOI
searched in turn waited out every retry's Retry-After again (3 attempts, 2 waits per AOI: with Earth Search's
minutes, a cron run of ten AOIs took most of an hour to fail). Once the retries are spent on one search, the
run's later searches of that archive fail at once, for the same reason; they are retried by the next run."""

from __future__ import annotations

import json
import time

import pytest

from tests.archive_server import ArchiveServer
from tests.recheck.conftest import SCENE_IDS, build_series
from tests.recheck.test_archive import archive_item
from tests.scenes.conftest import FAST_NETWORK

SITES = ("site-a", "site-b", "site-c", "site-d")
RETRY_AFTER_S = 2


@pytest.fixture
def archive(tmp_path):
    """The four AOIs' series served by the loopback archive, its items not yet published."""
    series = build_series(tmp_path / "project")
    server = ArchiveServer(page_size=2).start()
    yield server, series, {scene_id: archive_item(server, series, scene_id, tmp_path / "cogs") for scene_id in SCENE_IDS}
    server.stop()


def test_a_rate_limited_archive_is_waited_out_once_per_run_not_once_per_aoi(archive, tmp_path, geo_cli):
    server, series, items = archive
    env = {**FAST_NETWORK, "GEO_SCENE_CACHE": str(tmp_path / "cache"), "GEO_HTTP_MAX_WAIT": "10"}
    args = ["recheck", "--store", str(tmp_path / "s.gpkg"), "--source", server.url, "--aoi-dir", str(series.aoi_dir),
            "--seeds-dir", str(series.seeds_dir), "--json"]
    # the AOIs are registered by a first run that finds no scene yet
    first = geo_cli(*args, "--since", "2021-03-01", *[a for s in SITES for a in ("--aoi", s)], env=env)
    assert first.returncode == 0, first.stderr
    for scene_id in SCENE_IDS[:2]:
        server.add_item(items[scene_id])
    server.clear()
    server.inject("status", match="/search", methods=("POST",), times=-1, status=429, retry_after=str(RETRY_AFTER_S))
    started = time.monotonic()
    cron = geo_cli(*args, env=env)
    elapsed = time.monotonic() - started
    assert cron.returncode == 4, cron.stderr
    failed = {f["aoi_id"]: f["error"] for f in json.loads(cron.stdout)["failed_aois"]}
    said = f"search failed: {server.url}: search failed (HTTP 429: fault injected)"
    assert failed == {"site-a": said, **{s: f"{said}; not asked again in this run" for s in SITES[1:]}}
    assert len(server.records("/search")) == 3  # one search's 3 attempts, not 4 AOIs x 3
    # the 2 waits of the one search (4 s; measured 7 s in all), not 2 per AOI (16 s of waits; measured 19 s)
    assert 2 * RETRY_AFTER_S <= elapsed < 4 * 2 * RETRY_AFTER_S - 4, elapsed
    server.clear()
    again = geo_cli(*args, env=env)  # the next run, the archive answering again: every AOI searched
    assert again.returncode == 0 and json.loads(again.stdout)["failed_aois"] == [], again.stderr
