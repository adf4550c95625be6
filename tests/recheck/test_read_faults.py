"""A scheduled re-check whose band reads fail: the log a cron user reads gets one line per failed read naming
the scene, the band and why (after the retries), not GDAL's retry chatter."""

from __future__ import annotations

from tests.recheck.conftest import SCENE_IDS
from tests.recheck.test_archive import SITES, archive_series  # noqa: F401  (fixture)
from tests.scenes.conftest import FAST_NETWORK


def recheck_args(server, series, store, *extra: str) -> list[str]:
    return ["recheck", "--store", str(store), "--source", server.url, "--aoi-dir", str(series.aoi_dir),
            "--seeds-dir", str(series.seeds_dir), "--since", "2021-03-01", "--aoi", SITES[0], *extra]


def test_a_cog_answering_503_gives_one_line_per_failed_read(archive_series, tmp_path, geo_cli):
    server, series, items = archive_series
    for scene_id in SCENE_IDS[:2]:
        server.add_item(items[scene_id])
    red = f"/files/{SCENE_IDS[1]}/red.tif"
    server.inject("status", match=red, status=503, times=-1, methods=("GET", "HEAD"))
    env = {**FAST_NETWORK, "GEO_SCENE_CACHE": str(tmp_path / "cache")}
    result = geo_cli(*recheck_args(server, series, tmp_path / "s.gpkg"), env=env)
    assert result.returncode == 4, result.stderr  # an AOI failed
    # the red band was asked for, again and again (GDAL's retries within ours), and every time refused
    assert len(server.records(red)) >= 6 and {r.status for r in server.records(red)} == {503}
    log = (result.stderr + result.stdout).splitlines()  # what cron mails / appends to the log file
    assert [line for line in log if "Retrying" in line or "CPLE_" in line or "retry" in line] == []
    failed = [line for line in log if red in line]
    assert failed == [f"  failed {SITES[0]}: {SCENE_IDS[1]}: scene {SCENE_IDS[1]} asset 'red' "
                      f"({server.url}{red}): failed after 3 attempts (HTTP response code: 503)"]

    # asked for them, the retries are there (-v: each of ours; -vv: GDAL's too)
    verbose = geo_cli("-v", *recheck_args(server, series, tmp_path / "v.gpkg"), env=env)
    assert len([line for line in verbose.stderr.splitlines() if "; retry " in line]) == 2
    assert not [line for line in verbose.stderr.splitlines() if "Retrying again" in line]
