"""`geo run` and `geo scenes search` on archives answering as real ones do, not as the tidy loopback archive: one
that ignores the dates asked, one keeping Sentinel-2 under another collection, a proxy's HTML page where JSON was
expected, an older API declaring its conformance only at /conformance, next links that are GET URLs (relative
ones too), and Planetary Computer items saved signed,
whose SAS token has since expired. Each either gives the tidy archive's result on the same pixels or stops in one
line naming the archive and what is wrong. Synthetic tiles over Vladivostok (tests/flows/tiles.py)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import numpy as np
import pytest
import rasterio

from tests.archive_data import utc
from tests.archive_server import ArchiveServer
from tests.flows.tiles import Tile, lon_lat_aoi, tile_item, utm_box

VLADIVOSTOK = (131.88, 43.1)
AREA = (131.865, 43.09, 131.895, 43.11)
CHANGED = (131.875, 43.097, 131.885, 43.103)
TILE = utm_box(32652, *VLADIVOSTOK, 3000, 3000)
BEFORE, AFTER = "S2B_52TGM_20240601_0_L2A", "S2A_52TGM_20240611_0_L2A"
PAIR = ((BEFORE, utc(2024, 6, 1), None), (AFTER, utc(2024, 6, 11), CHANGED))
# Planetary Computer's keys and eo:bands; its items say the baseline but no raster:bands scaling
PC_KEYS = {"blue": "B02", "green": "B03", "red": "B04", "nir": "B08", "swir16": "B11", "swir22": "B12", "scl": "SCL"}
EXPIRED_SAS = "st=2024-01-01T00%3A00%3A00Z&se=2024-01-02T00%3A00%3A00Z&sp=rl&sv=2021-06-08&sr=c&skoid=x&sig=expired"
PORTAL = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"


@pytest.fixture(scope="module")
def archives(tmp_path_factory) -> Iterator[dict[str, ArchiveServer]]:
    servers = {name: ArchiveServer(page_size=3, landing_conforms=name != "old-api").start()
               for name in ("tidy", "any-date", "c1-only", "old-api", "pc")}
    servers["broken"] = ArchiveServer(page_size=3).start()  # its after scene's red band: 404, or a signature expired
    for paging in ("get", "get-relative"):  # a page an item, each next link a GET URL holding the token
        servers[paging] = ArchiveServer(page_size=1, paging=paging).start()
    folder = tmp_path_factory.mktemp("real-archives")
    for name in ("tidy", "any-date", "old-api", "get", "get-relative", "broken"):
        for item_id, when, changed in PAIR:
            tile_item(servers[name], folder / name, Tile(item_id, when, 32652, TILE, orbit=60, changed=changed))
    for year in (2019, 2029):  # what an archive ignoring the dates answers besides
        tile_item(servers["any-date"], folder / "any-date",
                  Tile(f"S2A_52TGM_{year}0606_0_L2A", utc(year, 6, 6), 32652, TILE, orbit=60, changed=CHANGED))
    servers["any-date"].inject("ignore-dates", match="/search", methods=("GET", "POST"), times=-1)
    # Earth Search's Collection 1 only: DN + 1000 (baseline 05.10), raster:bands offset -0.1, projection v2's proj:code
    c1 = servers["c1-only"]
    c1.add_collection("sentinel-2-c1-l2a")
    for item_id, when, changed in PAIR:
        item = tile_item(c1, folder / "c1", Tile(item_id, when, 32652, TILE, orbit=60, changed=changed, dn_offset=1000,
                                                properties={"s2:processing_baseline": "05.10"}))
        c1.items.pop("sentinel-2-l2a")
        c1.collections.pop("sentinel-2-l2a")
        item["collection"] = "sentinel-2-c1-l2a"
        item["properties"]["proj:code"] = f"EPSG:{item['properties'].pop('proj:epsg')}"
        for key, asset in item["assets"].items():
            if key != "scl":
                asset["raster:bands"] = [{"nodata": 0, "data_type": "uint16", "scale": 0.0001, "offset": -0.1}]
        c1.add_item(item)
    pc = servers["pc"]
    for item_id, when, changed in PAIR:
        item = tile_item(pc, folder / "pc", Tile(item_id, when, 32652, TILE, orbit=60, changed=changed, dn_offset=1000,
                                                properties={"s2:processing_baseline": "05.10"}))
        assets = {}
        for key, asset in item["assets"].items():
            path = asset["href"].removeprefix(pc.url)
            assets[PC_KEYS[key]] = {**{k: v for k, v in asset.items() if k != "raster:bands"},
                                    "href": f"http://sentinel2l2a01.blob.core.windows.net{path}?{EXPIRED_SAS}",
                                    **({} if key == "scl" else {"eo:bands": [{"name": PC_KEYS[key], "common_name": key}]})}
        item["assets"] = assets
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def area(user):
    return lon_lat_aoi(user.home / "golden-horn.geojson", AREA).name


def run(user, source: str, area: str, out: str, env: dict[str, str] | None = None):
    return user("run", "--aoi", area, "--source", source, "--before", "2024-06-01", "--after", "2024-06-11",
                "--out", out, env=env)


def changed_m2(user, out: str) -> float:
    return sum(f["properties"]["area_m2"] for f in json.loads((user.home / out / "changes.geojson").read_text())["features"])


@pytest.fixture
def tidy_run(user, archives, area):
    result = run(user, archives["tidy"].url, area, "tidy")
    assert result.returncode == 0, result.output
    assert 0.5e6 < changed_m2(user, "tidy") < 1e6  # the 0.54 km2 planted, grown by the detector's reach
    return "tidy"


def search_ids(user, source: str, area: str, *extra: str) -> list[str]:
    listed = user("scenes", "search", "--aoi", area, "--source", source, "--from", "2024-05-25", "--to", "2024-06-20",
                  "--json", *extra)
    assert listed.returncode == 0, listed.output
    return [scene["id"] for scene in json.loads(listed.stdout)["scenes"]]


@pytest.mark.parametrize("paging", ["get", "get-relative"])
def test_pages_linked_by_get_urls_are_followed_even_relative_ones(user, archives, area, tidy_run, paging):
    """A relative next link ("/search?...&token=...", as a server behind a proxy may write it) stopped the search:
    "search failed (Invalid URL '/search?limit=100&...': No scheme supplied ...)"."""
    server = archives[paging]
    assert search_ids(user, server.url, area) == [BEFORE, AFTER]
    result = run(user, server.url, area, paging)
    assert result.returncode == 0, result.output
    assert changed_m2(user, paging) == changed_m2(user, tidy_run)
    pages = [r for r in server.records("/search") if r.method == "GET"]
    assert pages and all(r.status == 200 for r in pages)  # the second page, asked for by its URL


def test_an_archive_ignoring_the_dates_asked_is_taken_for_the_dates_asked_only(user, archives, area, tidy_run):
    """It listed 2019's and 2029's scenes in a search of June 2024, and a re-check took them as new."""
    assert search_ids(user, archives["any-date"].url, area) == [BEFORE, AFTER]
    result = run(user, archives["any-date"].url, area, "any-date")
    assert result.returncode == 0, result.output
    assert changed_m2(user, "any-date") == changed_m2(user, tidy_run)


def test_an_archive_without_the_collection_searched_says_which_it_holds(user, archives, area):
    """It said "no scene over AOI ...; the archive seems not to image the AOI's place (... open sea far from land
    ...)" of an archive keeping Sentinel-2 as sentinel-2-c1-l2a only."""
    source = archives["c1-only"].url
    result = run(user, source, area, "out")
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr == (f"Error: {source}: has no collection 'sentinel-2-l2a' (its collections: "
                             "sentinel-2-c1-l2a)\n")
    assert not (user.home / "out").exists()
    assert search_ids(user, source, area, "--collection", "sentinel-2-c1-l2a") == [BEFORE, AFTER]


def test_a_run_searches_the_collection_named(user, archives, area, tidy_run):
    """Only `geo scenes search` took --collection: no job could run on Earth Search's Collection 1 (DN + 1000,
    raster:bands offset -0.1, proj:code), though the archive said which collection it holds."""
    result = user("run", "--aoi", area, "--source", archives["c1-only"].url, "--collection", "sentinel-2-c1-l2a",
                  "--before", "2024-06-01", "--after", "2024-06-11", "--out", "c1")
    assert result.returncode == 0, result.output
    assert changed_m2(user, "c1") == pytest.approx(changed_m2(user, tidy_run), rel=0.02)
    manifest = json.loads((user.home / "c1" / "manifest.json").read_text())
    assert {manifest["scenes"][role]["collection"] for role in ("before", "after")} == {"sentinel-2-c1-l2a"}


@pytest.mark.parametrize("status", [200, 502])
def test_a_web_page_where_the_search_wanted_json_is_named_by_its_title(user, archives, area, status):
    """A proxy's error page was "search failed (unexpected character: line 1 column 1 (char 0))" when sent as
    200, and its whole markup when sent as 502."""
    server = archives["tidy"]
    server.inject("status", match="/search", methods=("GET", "POST"), times=-1, status=status, body=PORTAL)
    try:
        result = run(user, server.url, area, "out")
    finally:
        server.clear()
    said = {200: "the server answered with an HTML page ('502 Bad Gateway'), not STAC JSON",
            502: "HTTP 502: the server answered with an HTML page ('502 Bad Gateway')"}[status]
    assert result.returncode == 1 and result.stderr == f"Error: {server.url}: search failed ({said})\n", result.stderr
    assert not (user.home / "out").exists()


def test_a_web_page_given_as_the_archive_is_named_by_its_title(user, archives, area, tmp_path):
    page = tmp_path / "portal.html"
    page.write_bytes(PORTAL.replace(b"502 Bad Gateway", b"Copernicus Browser"))
    url = archives["tidy"].add_file("portal/index.html", page)
    result = user("scenes", "search", "--aoi", area, "--source", url, "--from", "2024-06-01", "--to", "2024-06-11")
    assert result.returncode == 1, result.output
    assert result.stderr == (f"Error: {url}: cannot open STAC API (the server answered with an HTML page "
                             "('Copernicus Browser'), not STAC JSON)\n")


def test_an_api_declaring_item_search_only_at_its_conformance_page_is_searched(user, archives, area, tidy_run):
    """It was refused as "a STAC catalog without item search (a static catalog ...)"."""
    result = run(user, archives["old-api"].url, area, "old-api")
    assert result.returncode == 0, result.output
    assert changed_m2(user, "old-api") == changed_m2(user, tidy_run)


def test_planetary_computer_items_saved_signed_are_signed_anew_when_their_token_expired(user, archives, area,
                                                                                        tidy_run):
    """Items saved from a signed search carry a SAS token in each href; read after it expired, every SCL was
    refused (403): "no scene over AOI ... (all 1 candidates failed to read)". The same pixels, keyed B04 ...,
    give the tidy change."""
    pc = archives["pc"]
    saved = user.home / "pc-search.json"
    saved.write_text(json.dumps({"type": "FeatureCollection", "features": pc.items["sentinel-2-l2a"]}))
    env = {"PC_SDK_SAS_URL": f"{pc.url}/api/sas/v1/token", "GDAL_HTTP_PROXY": pc.url.removeprefix("http://")}
    result = run(user, saved.name, area, "pc", env=env)
    assert result.returncode == 0, result.output
    assert changed_m2(user, "pc") == changed_m2(user, tidy_run)
    for name in ("before_rgb.tif", "after_rgb.tif"):  # DN + 1000 read by baseline 05.10: the same reflectance
        with rasterio.open(user.home / "pc" / name) as ours, rasterio.open(user.home / tidy_run / name) as tidy:
            assert np.nanmax(np.abs(ours.read() - tidy.read())) < 1e-4
    blob = [r for r in pc.records("/files/") if r.host.endswith(".blob.core.windows.net")]
    assert blob and all(r.status in (200, 206) for r in blob)
    assert pc.records("/api/sas/v1/token/sentinel2l2a01/")


PRESIGNED = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600&X-Amz-Signature=0a1b"


@pytest.mark.parametrize("href_tail, status, said", [
    (".missing", None, ": asset 'red' ({href}): the host has no such file (HTTP 404)\n"),
    (f"?{PRESIGNED}", 403, " asset 'red' ({href}): the host refused access: the signature in the href expired at "
                           "2024-01-01T01:00:00Z (search the archive again) (HTTP response code: 403"),
])
def test_a_band_the_host_does_not_serve_is_one_line_naming_scene_band_and_why(user, archives, area, href_tail,
                                                                              status, said):
    """A 404 said GDAL's "'/vsicurl/http://...' does not exist in the file system, and is not recognized as a supported
    dataset name."; a presigned URL past its expiry only that the host "wants credentials this request did not
    carry"."""
    server = archives["broken"]
    red = next(i for i in server.items["sentinel-2-l2a"] if i["id"] == AFTER)["assets"]["red"]
    whole = red["href"]
    red["href"] = whole + href_tail
    if status is not None:
        server.inject("status", match=f"/{AFTER}/red.tif", methods=("GET", "HEAD"), times=-1, status=status,
                      body=b"<?xml version='1.0'?><Error><Code>AccessDenied</Code><Message>Request has expired"
                           b"</Message></Error>")
    try:
        result = run(user, server.url, area, "out")
    finally:
        red["href"] = whole
        server.clear()
    assert result.returncode == 1, result.output
    assert result.stderr.startswith(f"Error: scene {AFTER}" + said.format(href=whole + href_tail)), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert not (user.home / "out").exists()


def test_vessels_over_an_api_without_sentinel_1_count_its_sentinel_2_scenes(user, archives, area):
    """`geo vessels` searches every sensor the source may have: an API holding Sentinel-2 alone ended the count
    with "has no collection 'sentinel-1-rtc'" once a missing collection was an error."""
    result = user("vessels", "--aoi", area, "--source", archives["tidy"].url, "--from", "2024-05-25", "--to",
                  "2024-06-20", "--out", "ships")
    assert result.returncode == 0, result.output
    rows = json.loads((user.home / "ships" / "timeseries.json").read_text())["rows"]
    assert sorted((r["date"], r["sensor"]) for r in rows) == [("2024-06-01", "s2"), ("2024-06-11", "s2")]


SHIPS_CLAIM = """[document]
title = "My port watch"

[[claim]]
id = "ships-in"
claimant = "A report"
statement = "Transport ships berthed in the Golden Horn."
date_stated = 2024-06-20
aoi_ids = ["golden-horn"]
window = { start = 2024-06-05, end = 2024-06-08 }
signatures = ["large_vessels_at_berth"]
"""


@pytest.fixture
def port_watch(user):
    """The user's own registry: the Golden Horn area and a claim that ships berthed there."""
    from tests.flows.conftest import registry_aoi

    (user.home / "aoi").mkdir()
    (user.home / "seeds").mkdir()
    west, south, east, north = AREA
    registry_aoi(user.home / "aoi" / "golden-horn.geojson", "golden-horn", "Golden Horn",
                 [[west, south], [east, south], [east, north], [west, north], [west, south]])
    (user.home / "seeds" / "ships.toml").write_text(SHIPS_CLAIM, encoding="utf-8")
    return ("--aoi-dir", str(user.home / "aoi"), "--seeds-dir", str(user.home / "seeds"))


def test_a_run_counting_ships_searches_the_collection_named_for_them_too(user, archives, port_watch):
    """`geo run --collection sentinel-2-c1-l2a` with a claim predicting ships searched the vessel scenes in
    sentinel-2-l2a: the job ended on "has no collection 'sentinel-2-l2a'" after the change was computed."""
    result = user("run", "--aoi", "golden-horn", "--source", archives["c1-only"].url, "--collection",
                  "sentinel-2-c1-l2a", "--before", "2024-06-01", "--after", "2024-06-11", "--out", "c1", *port_watch)
    assert result.returncode == 0, result.output
    manifest = json.loads((user.home / "c1" / "manifest.json").read_text())
    assert manifest["vessels"]["n_scenes"] == 2
    assert not any("vessel counts not made" in w for w in manifest["warnings"])
    counted = json.loads((user.home / "c1" / "vessels-manifest.json").read_text())["scenes"]
    assert [(s["id"], s["collection"]) for s in counted] == [(BEFORE, "sentinel-2-c1-l2a"), (AFTER, "sentinel-2-c1-l2a")]


def test_vessels_search_the_collection_named(user, archives, port_watch):
    """`geo vessels` had no --collection: an archive keeping Sentinel-2 as sentinel-2-c1-l2a only could not be
    counted on."""
    source = archives["c1-only"].url
    result = user("vessels", "--aoi", "golden-horn", "--from", "2024-05-25", "--to", "2024-06-20", "--source", source,
                  "--sensor", "s2", "--collection", "sentinel-2-c1-l2a", "--out", "ships", *port_watch)
    assert result.returncode == 0, result.output
    counted = json.loads((user.home / "ships" / "vessels-manifest.json").read_text())["scenes"]
    assert [(s["id"], s["collection"]) for s in counted] == [(BEFORE, "sentinel-2-c1-l2a"), (AFTER, "sentinel-2-c1-l2a")]
    both = user("vessels", "--aoi", "golden-horn", "--from", "2024-05-25", "--to", "2024-06-20", "--source", source,
                "--collection", "sentinel-2-c1-l2a", "--out", "both", *port_watch)
    assert both.returncode == 1 and both.stderr.startswith(
        f"Error: --collection sentinel-2-c1-l2a: {source} is searched for Sentinel-1 and Sentinel-2; add --sensor s1 or "
        "--sensor s2 to say whose collection it is"), both.output
    assert not (user.home / "both").exists()


def test_a_recheck_searches_the_collection_named_and_keeps_it(user, archives, port_watch):
    """`geo recheck` had no --collection: a store could not be kept on Earth Search's Collection 1 (each run:
    "has no collection 'sentinel-2-l2a'"). Named once, it is kept with the store's source, as the source is."""
    source = archives["c1-only"].url
    first = user("recheck", "--store", "watch.gpkg", "--aoi", "golden-horn", "--source", source, "--collection",
                 "sentinel-2-c1-l2a", *port_watch)
    assert first.returncode == 0, first.output
    assert first.stdout.startswith("run 1: 1 new pair, "), first.stdout
    counted = json.loads((user.home / "watch-outputs" / "runs" / "000001" / "summary.json").read_text())
    assert counted["aois"][0]["vessels"]["new_scenes"] == [BEFORE, AFTER], counted["aois"][0]
    again = user("recheck", "--store", "watch.gpkg", *port_watch)  # a cron line: neither option
    assert again.returncode == 0 and again.stdout.startswith("nothing new: 1 AOI checked"), again.output
    refused = user("recheck", "--store", "watch.gpkg", "--collection", "sentinel-2-l2a", *port_watch)
    assert refused.returncode == 1 and refused.stderr == (
        "Error: --collection sentinel-2-l2a: watch.gpkg was re-checked in sentinel-2-c1-l2a; a "
        "chain mixing collections pairs scenes that are not comparable. Omit --collection (or give "
        "sentinel-2-c1-l2a) or add --switch-source to go on in the new one\n"), refused.output
    switched = user("recheck", "--store", "watch.gpkg", "--source", archives["tidy"].url, "--switch-source", *port_watch)
    assert switched.returncode == 0, switched.output  # another archive in its own collection, the same scenes
    assert switched.stdout.startswith("nothing new: "), switched.stdout
    with sqlite3.connect(user.home / "watch.gpkg") as conn:
        kept = dict(conn.execute("SELECT key, value FROM store_meta WHERE key IN ('source', 'collections')"))
    assert kept == {"source": archives["tidy"].url}
