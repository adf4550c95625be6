"""``geo vessels --sensor s1`` against a Planetary-Computer-style archive on the loopback server: a STAC API
whose Sentinel-1 RTC items point at blob storage that refuses unsigned requests. The synthetic port's sea
clutter and planted ships are served as COGs; the CLI searches, signs (real planetary-computer package,
loopback token endpoint), reads windows through GDAL and counts the ships."""

from __future__ import annotations

import csv
import json

import pytest
import rasterio
from shapely.geometry import mapping

from geo.scenes.source import LocalCatalog
from tests import archive_data
from tests.archive_server import ArchiveServer
from tests.scenes.conftest import FAST_NETWORK
from tests.vessels.conftest import S1_PERIOD
from tests.vessels.test_cli import _inside_aoi

ACCOUNT = "sentinel1euwestrtc"  # the Planetary Computer's RTC storage account; any *.blob.core.windows.net


@pytest.fixture(scope="module")
def pc_archive(port_project, tmp_path_factory):
    """The port's Sentinel-1 series as Planetary-Computer-like items (collection sentinel-1-rtc) and COGs."""
    server = ArchiveServer(page_size=5).start()
    folder = tmp_path_factory.mktemp("pc-s1")
    for scene in LocalCatalog(port_project.catalog, "s1").all():
        hrefs = {}
        for pol in ("vv", "vh"):
            with rasterio.open(scene.asset(pol).href) as src:
                data, crs, transform = src.read(1), src.crs, src.transform
            cog = archive_data.write_cog(folder / scene.id / f"{pol}.tif", data, crs, transform, -32768.0)
            path = f"rtc/{scene.id}/{pol}.tif"
            server.add_file(path, cog)
            hrefs[pol] = f"http://{ACCOUNT}.blob.core.windows.net/{path}"
        archive_data.s1_item(server, scene.id, scene.datetime, hrefs, "sentinel-1-rtc", mapping(scene.geometry))
    yield server
    server.stop()


def _rows(folder):
    return list(csv.DictReader((folder / "timeseries.csv").open()))


def test_s1_vessels_from_a_planetary_computer_style_archive(pc_archive, port_project, s1_run, tmp_path, geo_cli):
    cache = tmp_path / "cache"
    env = {**FAST_NETWORK, "GEO_SCENE_CACHE": str(cache),
           "PC_SDK_SAS_URL": f"{pc_archive.url}/api/sas/v1/token",  # the package's own setting
           "GDAL_HTTP_PROXY": pc_archive.url.removeprefix("http://")}  # "blob storage" reached through the server
    out = tmp_path / "out"
    result = geo_cli("vessels", "--aoi", "test-port", *S1_PERIOD, "--sensor", "s1", "--source", pc_archive.url,
                     "--aoi-dir", str(port_project.aoi_dir), "--seeds-dir", str(port_project.seeds_dir),
                     "--out", str(out), env=env)
    assert result.returncode == 0, result.stderr
    rows = _rows(out)
    s1_ids = sorted(s for s in port_project.ships if s.startswith("S1"))
    assert [r["scene"] for r in rows] == s1_ids
    # Each date's count is the planted ships inside the AOI (within one) ...
    for row in rows:
        planted = [s for s in port_project.ships[row["scene"]] if _inside_aoi(s)]
        assert abs(int(row["n_vessels"]) - len(planted)) <= 1, (row, len(planted))
    # ... and exactly what the same pixels give read from local files: the archive path changes nothing.
    keys = ("date", "scene", "n_vessels", "n_large", "total_area_m2", "observed_fraction")
    assert [{k: r[k] for k in keys} for r in rows] == [{k: r[k] for k in keys} for r in _rows(s1_run[0])]
    evidence = {e["claim_id"]: e for e in json.loads((out / "evidence.json").read_text())}
    assert evidence["test-ships"]["verdict"] == "consistent with the claim"
    assert evidence["test-ships"]["p_value"] < 0.01
    # Every COG was read from "blob storage", signed: requests without the token would have been refused (403).
    blob = [r for r in pc_archive.records("/rtc/") if r.host.endswith(".blob.core.windows.net")]
    assert blob and all(r.status in (200, 206) for r in blob)
    assert {r.path for r in blob} == {f"/rtc/{i}/{p}.tif" for i in s1_ids for p in ("vv", "vh")}
    assert pc_archive.records(f"/api/sas/v1/token/{ACCOUNT}/")
    # The scene cache names each window by its item (a rerun reads them from there: tests/scenes/test_cache.py).
    assert sorted(p.name for p in cache.iterdir() if p.is_dir()) == s1_ids


def test_earth_search_has_no_sentinel1(port_project, tmp_path, geo_cli):
    result = geo_cli("vessels", "--aoi", "test-port", *S1_PERIOD, "--sensor", "s1", "--source", "earth-search",
                     "--aoi-dir", str(port_project.aoi_dir), "--seeds-dir", str(port_project.seeds_dir),
                     "--out", str(tmp_path / "out"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "earth-search" in result.stderr and "planetary-computer" in result.stderr
    assert not (tmp_path / "out").exists()
