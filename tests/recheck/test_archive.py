"""Re-checks against the loopback archive (a real STAC API and COG host on 127.0.0.1, tests/archive_server.py)
instead of a local catalog: a scene published on the archive between two re-checks adds only the new pair,
and a re-check with nothing new makes no COG request at all (the server counts every request)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import rasterio

from tests import archive_data
from tests.archive_server import ArchiveServer
from tests.recheck.conftest import SCENE_IDS, Series, build_series, dump_store, imported_modules
from tests.scenes.conftest import FAST_NETWORK

SITES = ("site-a", "site-d")  # two of the series' four AOIs keep the test short


@pytest.fixture
def archive_series(tmp_path):
    """The re-check series served as Sentinel-2 L2A items and COGs; the items are published by the test."""
    series = build_series(tmp_path / "project")
    server = ArchiveServer(page_size=2).start()
    items = {scene_id: archive_item(server, series, scene_id, tmp_path / "cogs") for scene_id in SCENE_IDS}
    yield server, series, items
    server.stop()


def archive_item(server: ArchiveServer, series: Series, scene_id: str, cogs: Path) -> dict:
    """A scene of the series as a Sentinel-2 L2A item of the archive, its bands COGs served under
    ``files/<scene id>/`` (not yet published: ``server.add_item``)."""
    item = series.item(scene_id).to_dict(include_self_link=False)
    for band, asset in item["assets"].items():
        with rasterio.open(asset["href"]) as src:
            data, crs, transform, nodata = src.read(1), src.crs, src.transform, src.nodata
        cog = archive_data.write_cog(cogs / scene_id / f"{band}.tif", data, crs, transform, nodata)
        asset["href"] = server.add_file(f"files/{scene_id}/{band}.tif", cog)
    item.update(collection="sentinel-2-l2a", links=[])
    return item


def fetched_ranges(records) -> dict[str, list[tuple[int, int]]]:
    """Per file, the byte ranges sent (first, last), in order."""
    out: dict[str, list[tuple[int, int]]] = {}
    for record in records:
        if record.method == "GET" and record.bytes_sent:
            first = int(re.match(r"bytes=(\d+)-", record.range).group(1)) if record.range else 0
            out.setdefault(record.path, []).append((first, first + record.bytes_sent - 1))
    return {path: sorted(ranges) for path, ranges in out.items()}


def test_new_scene_on_the_archive_only_the_new_pair_is_read(archive_series, tmp_path, geo_cli):
    server, series, items = archive_series
    env = {**FAST_NETWORK, "GEO_SCENE_CACHE": str(tmp_path / "cache")}
    store = tmp_path / "s.gpkg"
    args = ["recheck", "--store", str(store), "--source", server.url, "--aoi-dir", str(series.aoi_dir),
            "--seeds-dir", str(series.seeds_dir), "--since", "2021-03-01", "--json"]
    for scene_id in SCENE_IDS[:3]:
        server.add_item(items[scene_id])
    first = geo_cli(*args, *[a for s in SITES for a in ("--aoi", s)], env=env)
    assert first.returncode == 0, first.stderr
    first_reads = server.records("/files/")
    assert {r.path.split("/")[2] for r in first_reads} == set(SCENE_IDS[:3])

    # A fourth scene appears on the archive: the next re-check (the store's AOIs, as cron runs it) reads
    # only the new scene and records only the new pair. The head scene, read by the first run as an after
    # scene (onto the grid moved by its co-registration) and kept in the scene cache on the AOI grid then,
    # is not fetched again to be the before scene; no older scene is touched.
    server.clear()
    server.add_item(items[SCENE_IDS[3]])
    second = geo_cli(*args, env=env)
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)
    assert summary["run_id"] == 2 and summary["failed_aois"] == []
    for entry in summary["aois"]:
        assert [(p["before_scene"], p["after_scene"], p["status"]) for p in entry["pairs"]] == [
            (SCENE_IDS[2], SCENE_IDS[3], "done")]
        assert entry["new_scenes"] == [SCENE_IDS[3]]
    assert {e["aoi_id"]: e["n_new_changes"] for e in summary["aois"]} == {"site-a": 0, "site-d": 1}
    cog = server.records("/files/")
    assert cog and {r.path.split("/")[2] for r in cog} == {SCENE_IDS[3]}
    assert all(r.status in (200, 206) for r in cog)
    # Over both runs, every byte of every file was fetched once: S1, before and after scene of the first
    # run's two pairs, and the head S2 included.
    for path, fetched in fetched_ranges([*first_reads, *cog]).items():
        assert all(a[1] < b[0] for a, b in zip(fetched, fetched[1:])), (path, fetched)

    # Nothing new: the archive is asked which scenes exist, no pixel is read, the store is unchanged.
    rows = dump_store(store)
    server.clear()
    third = geo_cli(*args, env={**env, "PYTHONPROFILEIMPORTTIME": "1"})
    assert third.returncode == 0, third.stderr[-3000:]
    assert json.loads(third.stdout)["run_id"] is None
    assert server.records("/search") and server.records("/files/") == []
    assert dump_store(store) == rows
    # nor is any of the processing path imported (the STAC client is), nor the pixel readers of the scene cache
    modules = imported_modules(third.stderr)
    assert "pystac_client" in modules
    assert [m for m in modules if m.split(".")[0] in ("scipy", "rasterio")
            or m.startswith(("geo.jobs", "geo.align", "geo.scenes.cache", "geo.scenes.read"))] == []
