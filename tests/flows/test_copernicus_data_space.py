"""`geo run` and `geo scenes search` on the Copernicus Data Space Ecosystem's archive as it answers: STAC 1.1
items keyed B04_10m/B04_20m/B04_60m/SCL_20m, JPEG 2000 files in its S3 bucket at the endpoint the item names
(tests/flows/cdse.py). The same ground is served Earth Search-style by a second loopback archive: both must give
the same reflectance and the same change."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import numpy as np
import pytest
import rasterio

from tests.archive_data import utc
from tests.archive_server import ArchiveServer
from tests.flows.cdse import S3_KEYS, cdse_item
from tests.flows.tiles import Tile, lon_lat_aoi, tile_item, utm_box

VLADIVOSTOK = (131.88, 43.1)
AREA = (131.865, 43.09, 131.895, 43.11)
CHANGED = (131.875, 43.097, 131.885, 43.103)
TILE = utm_box(32652, *VLADIVOSTOK, 3000, 3000)
BEFORE = "S2A_MSIL2A_20240601T015651_N0510_R060_T52TGM_20240601T045126"
AFTER = "S2B_MSIL2A_20240611T015649_N0510_R060_T52TGM_20240611T044903"


@pytest.fixture(scope="module")
def archives(tmp_path_factory) -> Iterator[tuple[ArchiveServer, ArchiveServer]]:
    earth_search, offset_tiles, cdse = (ArchiveServer(page_size=3).start() for _ in range(3))
    folder = tmp_path_factory.mktemp("cdse")
    for product, when, changed in ((BEFORE, utc(2024, 6, 1), None), (AFTER, utc(2024, 6, 11), CHANGED)):
        tile_item(earth_search, folder / "es", Tile(product, when, 32652, TILE, orbit=60, changed=changed))
        baseline_5 = tile_item(offset_tiles, folder / "n0510", Tile(product, when, 32652, TILE, orbit=60,
                                                                    changed=changed, dn_offset=1000))
        cdse.add_item(cdse_item(cdse, folder / "n0510", baseline_5, product))
    yield earth_search, cdse
    for server in (earth_search, offset_tiles, cdse):
        server.stop()


@pytest.fixture
def area(user):
    return lon_lat_aoi(user.home / "golden-horn.geojson", AREA).name


def run(user, source: ArchiveServer, area: str, out: str, env: dict[str, str] | None = None):
    return user("run", "--aoi", area, "--source", source.url, "--before", BEFORE, "--after", AFTER, "--out", out,
                env=env)


def test_a_copernicus_data_space_pair_gives_the_same_change_as_the_same_ground_elsewhere(user, archives, area):
    """It was "scene ...: no asset 'red' (has B02_10m, B02_20m, ...)": CDSE's keys name band and resolution, its
    common names are STAC 1.1's; and its JPEG 2000 files were not read over S3 at all."""
    earth_search, cdse = archives
    reference = run(user, earth_search, area, "es")
    assert reference.returncode == 0, reference.output
    result = run(user, cdse, area, "cdse", env=S3_KEYS)
    assert result.returncode == 0, result.output
    for name in ("before_rgb.tif", "after_rgb.tif"):  # baseline 05.10's DN + 1000, offset -0.1: the same reflectance
        with rasterio.open(user.home / "es" / name) as es, rasterio.open(user.home / "cdse" / name) as ours:
            assert np.nanmax(np.abs(es.read() - ours.read())) < 1e-4
    changes = {out: json.loads((user.home / out / "changes.geojson").read_text())["features"] for out in ("es", "cdse")}
    area_m2 = {out: sum(f["properties"]["area_m2"] for f in features) for out, features in changes.items()}
    assert len(changes["cdse"]) == len(changes["es"]) >= 1 and area_m2["cdse"] == pytest.approx(area_m2["es"])
    manifest = json.loads((user.home / "cdse" / "manifest.json").read_text())
    assert manifest["clear_fraction"] == 1.0  # its SCL_20m was read as the scene classification
    # the finest copy of each band was read: the 10 m files (B04_10m), not B04_20m or B04_60m
    read = [r.path for r in cdse.records("/eodata/") if r.method == "GET"]
    assert any(path.endswith("_B04_10m.jp2") for path in read)
    assert not any(path.endswith(("_B04_20m.jp2", "_B04_60m.jp2", "_SCL_60m.jp2")) for path in read), read


@pytest.mark.skipif(bool(os.environ.get("AWS_ACCESS_KEY_ID")), reason="this machine's environment has S3 keys")
def test_without_s3_keys_the_copernicus_archive_says_what_to_give(user, archives, area, tmp_path):
    _, cdse = archives
    empty = tmp_path / "aws-empty"  # no ~/.aws of this machine either
    empty.write_text("")
    result = run(user, cdse, area, "nokeys", env={"AWS_SHARED_CREDENTIALS_FILE": str(empty),
                                                   "AWS_CONFIG_FILE": str(empty)})
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    endpoint = cdse.url.removeprefix("http://")  # the storage the item names, where the keys are wanted
    assert f"s3://eodata/Sentinel-2/MSI/L2A_N0500/2024/06/01/{BEFORE}.SAFE/" in result.stderr, result.stderr
    assert f"at {endpoint}): no credentials for this bucket: give them in the environment (AWS_ACCESS_KEY_ID" \
        in result.stderr, result.stderr
    assert not (user.home / "nokeys").exists()


def test_scenes_search_lists_copernicus_data_space_items_with_their_clear_share(user, archives, area):
    _, cdse = archives
    listed = user("scenes", "search", "--aoi", area, "--source", cdse.url, "--from", "2024-06-01", "--to",
                  "2024-06-12", "--json", env=S3_KEYS)
    assert listed.returncode == 0, listed.output
    scenes = {s["id"]: s for s in json.loads(listed.stdout)["scenes"]}
    assert set(scenes) == {BEFORE, AFTER}
    assert all(s["clear_fraction"] == 1.0 for s in scenes.values()), scenes


def test_copernicus_data_space_sentinel_1_grd_counts_the_planted_ships_once_a_pass(user, port_project, tmp_path):
    """Sentinel-1 GRD as CDSE publishes it (DN in radar geometry, ground control points, each pass as the SAFE
    product and its COG conversion, files in its S3 bucket): the planted ships of every date, one row a date."""
    from tests.flows.cdse import grd_cog_items
    from tests.flows.test_sar_archives import PERIOD, _dn, counts, planted

    server = ArchiveServer().start()
    try:
        catalog = grd_cog_items(port_project.catalog, tmp_path / "cdse-grd", server, _dn)
        result = user("vessels", "--aoi", "test-port", *PERIOD, "--source", str(catalog), "--aoi-dir",
                      str(port_project.aoi_dir), "--seeds-dir", str(port_project.seeds_dir), "--out", "out",
                      env=S3_KEYS)
        assert result.returncode == 0, result.output
        found = counts(user)
        assert all(scene.endswith("_COG") for scene in found), found  # the newest publication of each pass
        by_date = {scene[17:25]: n for scene, n in found.items()}  # S1A_IW_GRDH_1SDV_20210613T...
        assert by_date == {scene[9:17]: n for scene, n in planted(port_project).items()}  # S1A_TEST_20210613
        assert server.records("/eodata/")  # read over S3, at the endpoint the items name
    finally:
        server.stop()


S3_ACCESS_DENIED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied'
                    b'</Message><RequestId>tx0</RequestId></Error>')


@pytest.mark.parametrize("body", [b"fault injected", S3_ACCESS_DENIED], ids=["plain-body", "s3-xml-error"])
def test_s3_keys_the_storage_refuses_are_named_as_such(user, archives, area, body):
    """Keys made at the Copernicus Data Space expire; the storage then answers 403. It said only "HTTP response
    code: 403": now what to check, in one line, at once (no retries: waiting will not renew the keys). GDAL 3.12
    (rasterio 1.5) says no status: "Invalid AWS response: <body>" when the body is not S3's XML error, the S3
    error's code and message when it is; the storage is asked for the status then."""
    _, cdse = archives
    fault = cdse.inject("status", match="/eodata/", methods=("GET", "HEAD"), status=403, times=-1, body=body)
    try:
        result = run(user, cdse, area, "refused", env=S3_KEYS)
    finally:
        cdse.faults.remove(fault)
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert (": the storage refused the S3 keys given (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): wrong or expired "
            "keys?") in result.stderr and "403" in result.stderr, result.stderr
    assert "attempts" not in result.stderr and not (user.home / "refused").exists()


def test_a_storage_error_that_is_not_the_answer_to_anyone_is_retried_not_called_refused_keys(user, archives, area):
    """A gateway's 502 page to GDAL's signed reads (GDAL 3.12: "Invalid AWS response: <html>..."), while the file
    is there for an unsigned request: not the same answer, so not a refusal; retried, then one error."""
    _, cdse = archives
    fault = cdse.inject("status", match="/eodata/", methods=("GET", "HEAD"), status=502, times=-1, agent="GDAL",
                        body=b"<html><body>502 Bad Gateway</body></html>")
    try:
        result = run(user, cdse, area, "gateway", env={**S3_KEYS, "GEO_HTTP_ATTEMPTS": "2", "GEO_HTTP_BACKOFF": "0"})
    finally:
        cdse.faults.remove(fault)
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert "failed after 2 attempts" in result.stderr and "refused" not in result.stderr, result.stderr
    assert not (user.home / "gateway").exists()


def test_an_archive_whose_host_does_not_resolve_is_said_so_in_words(user):
    """Offline (no DNS), ``--source cdse`` or any STAC API said "cannot open STAC API (HTTPSConnectionPool(host=
    '…', port=443): Max retries exceeded with url: /v1 (NameResolutionError))": urllib3's words for it."""
    result = user("scenes", "search", "--source", "https://stac.invalid/v1", "--aoi", "demo-nantes-port", "--from",
                  "2024-01-01", "--to", "2024-02-01", env={"GEO_HTTP_ATTEMPTS": "1"})
    assert result.returncode == 1, result.output
    assert result.stderr.strip() == ("Error: https://stac.invalid/v1: cannot open STAC API (the host name stac.invalid "
                                     "does not resolve: no network, or a DNS or proxy problem)"), result.stderr
