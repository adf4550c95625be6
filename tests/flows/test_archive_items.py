"""STAC items as real archives write them, driven through ``geo scenes search`` and ``geo run`` against a
loopback archive of synthetic tiles over Vladivostok (UTM 52N, tests/flows/tiles.py): a tile cloud cover that
is no number, band assets keyed B04/B08 without eo:bands, a recent product that says neither its baseline nor
its scaling, a band file truncated on the server, a date in the future."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest
import rasterio

from tests.archive_data import utc
from tests.archive_server import ArchiveServer
from tests.flows.conftest import DEMO_CATALOG
from tests.flows.tiles import Tile, lon_lat_aoi, tile_item, utm_box

VLADIVOSTOK = (131.88, 43.1)
AREA = (131.865, 43.09, 131.895, 43.11)  # 2.4 x 2.2 km inside the tiles
CHANGED = (131.875, 43.097, 131.885, 43.103)  # 0.8 x 0.67 km made bright in the "changed" tiles
TILE = utm_box(32652, *VLADIVOSTOK, 3000, 3000)
PC_KEYS = {"blue": "B02", "green": "B03", "red": "B04", "nir": "B08", "swir16": "B11", "swir22": "B12", "scl": "SCL"}
ODD_CLOUD_COVER = {"S2A_52TGM_20210602_NULL": None, "S2A_52TGM_20210603_TEXT": "n/a",
                   "S2A_52TGM_20210604_NEG": -1, "S2A_52TGM_20210605_BIG": 250}


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Iterator[ArchiveServer]:
    server = ArchiveServer(page_size=3).start()
    folder = tmp_path_factory.mktemp("vladivostok")

    def add(item_id: str, when, **kwargs) -> dict:
        return tile_item(server, folder, Tile(item_id, when, 32652, TILE, **kwargs))

    add("S2A_52TGM_20210601_BEFORE", utc(2021, 6, 1))
    for item_id, cover in ODD_CLOUD_COVER.items():
        add(item_id, utc(2021, 6, int(item_id[16:18])))["properties"]["eo:cloud_cover"] = cover
    add("S2A_52TGM_20210610_CHANGED", utc(2021, 6, 10), changed=CHANGED)
    pc = add("S2A_52TGM_20210611_PCKEYS", utc(2021, 6, 11), changed=CHANGED)
    pc["assets"] = {PC_KEYS[key]: asset for key, asset in pc["assets"].items()}
    # baseline 05.09's pixels (DN + 1000), from an archive that says neither the baseline nor the scaling
    bare = add("S2B_52TGM_20230601_BARE", utc(2023, 6, 1), dn_offset=1000)
    del bare["properties"]["s2:processing_baseline"]
    for asset in bare["assets"].values():
        del asset["raster:bands"]
    truncated = add("S2A_52TGM_20210612_TRUNCATED", utc(2021, 6, 12))
    whole = folder / "S2A_52TGM_20210612_TRUNCATED" / "red.tif"
    half = folder / "red-truncated.tif"
    half.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    truncated["assets"]["red"]["href"] = server.add_file("files/truncated/red.tif", half)
    bad_scl = add("S2A_52TGM_20210613_BADSCL", utc(2021, 6, 13))
    whole = folder / "S2A_52TGM_20210613_BADSCL" / "scl.tif"
    (folder / "scl-truncated.tif").write_bytes(whole.read_bytes()[:1000])
    bad_scl["assets"]["scl"]["href"] = server.add_file("files/truncated/scl.tif", folder / "scl-truncated.tif")
    add("S2A_52TGM_20210614_LATER", utc(2021, 6, 14))
    empty = add("S2A_52TGM_20210615_EMPTY", utc(2021, 6, 15))
    (folder / "empty.tif").write_bytes(b"")
    empty["assets"]["red"]["href"] = server.add_file("files/empty/red.tif", folder / "empty.tif")
    yield server
    server.stop()


@pytest.fixture
def area(user):
    return lon_lat_aoi(user.home / "golden-horn.geojson", AREA).name


def run_pair(user, archive, area, before: str, after: str, out: str = "out"):
    return user("run", "--aoi", area, "--source", archive.url, "--before", before, "--after", after, "--out", out)


def test_a_tile_cloud_cover_that_is_no_number_shows_blank_not_a_crash(user, archive, area):
    """It was ``internal error: ValueError: could not convert string to float: 'n/a'``, exit 2."""
    table = user("scenes", "search", "--aoi", area, "--source", archive.url, "--from", "2021-06-01",
                 "--to", "2021-06-05")
    assert table.returncode == 0, table.output
    rows = {line.split()[1]: line.split() for line in table.stdout.splitlines() if line.startswith("2021-")}
    assert set(rows) == {"S2A_52TGM_20210601_BEFORE", *ODD_CLOUD_COVER}
    assert rows["S2A_52TGM_20210601_BEFORE"][-1] == "1%"
    for item_id in ODD_CLOUD_COVER:  # clear, cloud, nodata, snow counted from the SCL; the tile's figure left blank
        assert rows[item_id][4:] == ["100%", "0%", "0%", "0%"], rows[item_id]
    listed = user("scenes", "search", "--aoi", area, "--source", archive.url, "--from", "2021-06-01",
                  "--to", "2021-06-05", "--json")
    assert listed.returncode == 0, listed.output
    covers = {s["id"]: s["tile_cloud_cover"] for s in json.loads(listed.stdout)["scenes"]}
    assert covers == {"S2A_52TGM_20210601_BEFORE": 1.0, **dict.fromkeys(ODD_CLOUD_COVER)}


def changed_km2(user, out: str) -> float:
    features = json.loads((user.home / out / "changes.geojson").read_text())["features"]
    return sum(f["properties"]["area_m2"] for f in features) / 1e6


def test_band_assets_keyed_b04_without_eo_bands_are_read_by_their_band_names(user, archive, area):
    """An archive keying assets B02...B12, SCL and saying no eo:bands: it was ``no asset 'red' (has B02, B03,
    ...)``, exit 1. Now the same change is found as in the same pixels keyed red, nir, ..."""
    earth_search = run_pair(user, archive, area, "S2A_52TGM_20210601_BEFORE", "S2A_52TGM_20210610_CHANGED", "es")
    assert earth_search.returncode == 0, earth_search.output
    by_band = run_pair(user, archive, area, "S2A_52TGM_20210601_BEFORE", "S2A_52TGM_20210611_PCKEYS", "pc")
    assert by_band.returncode == 0, by_band.output
    assert changed_km2(user, "pc") == pytest.approx(changed_km2(user, "es"))
    assert 0.5 < changed_km2(user, "pc") < 1.0  # the 0.54 km2 planted, grown by the detector's reach
    manifest = json.loads((user.home / "pc" / "manifest.json").read_text())
    assert manifest["clear_fraction"] == 1.0  # its SCL masked nothing and was found as "scl"


def test_a_recent_product_without_baseline_or_scaling_is_read_with_the_baseline_offset(user, archive, area):
    """Baseline 04.00 (since 25 Jan 2022) added 1000 to every DN. An item of 2023 that says neither its
    baseline nor its raster:bands was read without the offset: the after image 0.1 brighter than the same
    ground in 2021. It is read as every product of its date is."""
    result = run_pair(user, archive, area, "S2A_52TGM_20210601_BEFORE", "S2B_52TGM_20230601_BARE")
    assert result.returncode == 0, result.output
    with rasterio.open(user.home / "out" / "before_rgb.tif") as before, \
            rasterio.open(user.home / "out" / "after_rgb.tif") as after:
        difference = after.read() - before.read()  # reflectance of the same ground
    assert np.abs(np.nanmedian(difference, axis=(1, 2))).max() < 0.002, np.nanmedian(difference, axis=(1, 2))
    assert changed_km2(user, "out") == 0


def test_a_band_file_truncated_on_the_server_fails_in_one_line(user, archive, area):
    """GDAL's "Request for A-B failed with response_code=416" was shown 18 times (6 per attempt)."""
    result = run_pair(user, archive, area, "S2A_52TGM_20210601_BEFORE", "S2A_52TGM_20210612_TRUNCATED")
    assert result.returncode == 1
    assert result.stderr.count("\n") <= 1 and "response_code" not in result.stderr, result.stderr
    assert result.stderr.startswith("Error: scene S2A_52TGM_20210612_TRUNCATED asset 'red'")
    assert "failed after 3 attempts" in result.stderr and not (user.home / "out").exists()


def test_a_date_in_the_future_is_named_as_such(user, archive, area):
    result = run_pair(user, archive, area, "2021-06-01", "2099-01-01")
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert "no scene over AOI 'golden-horn' on or after 2099-01-01 within 365 days" in result.stderr
    assert "2099-01-01 is in the future (today is " in result.stderr


def test_a_candidate_whose_scl_cannot_be_read_is_named_once(user, archive, area):
    """Its failure was logged twice: "cannot judge cloud over the AOI for ..." and "candidate ... skipped: ..."."""
    result = run_pair(user, archive, area, "2021-06-01", "2021-06-13")
    assert result.returncode == 0, result.output
    manifest = json.loads((user.home / "out" / "manifest.json").read_text())
    assert manifest["scenes"]["after"]["id"] == "S2A_52TGM_20210614_LATER"
    named = [line for line in result.stderr.splitlines() if "S2A_52TGM_20210613_BADSCL" in line]
    assert len(named) == 1 and named[0].startswith("warning: candidate S2A_52TGM_20210613_BADSCL skipped: "), named
    assert "asset 'scl'" in named[0]


def test_an_empty_band_file_is_named_as_such_at_once(user, archive, area):
    """A 0-byte COG was fetched three times, then "failed after 3 attempts ('/vsicurl/...' not recognized as being
    in a supported file format.)"."""
    result = run_pair(user, archive, area, "S2A_52TGM_20210601_BEFORE", "S2A_52TGM_20210615_EMPTY")
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("Error: scene S2A_52TGM_20210615_EMPTY")
    assert f"asset 'red' ({archive.url}/files/empty/red.tif): an empty file (0 bytes), not a raster" in result.stderr
    assert "attempts" not in result.stderr and not (user.home / "out").exists()


@pytest.mark.parametrize("option, date, message", [
    ("--before", "2017-10-14", "--before 2017-10-14 is after the claims' window end 2017-06-30, from which the after "
                               "scene is looked for: give --after too, or a --before on or before it"),
    ("--after", "2015-08-21", "--after 2015-08-21 is before the claims' window start 2016-01-01, from which the before "
                              "scene is looked for: give --before too, or an --after on or after it"),
])
def test_one_date_that_crosses_the_claim_window_is_named(user, option, date, message):
    """The demo claim's window is 2016-01-01..2017-06-30. It was "after scene S2_30TXT_20171014_L1C_nantes (2017-10-14)
    is not later than before scene S2_30TXT_20171014_L1C_nantes (2017-10-14)": one scene on both sides."""
    result = user("run", "--aoi", "demo-nantes-port", "--source", str(DEMO_CATALOG.parent), option, date, "--out", "out")
    assert result.returncode == 1 and result.stderr == f"Error: {message}\n", result.stderr
    assert not (user.home / "out").exists()


def test_one_date_for_both_sides_says_a_pair_needs_two_scenes(user):
    """``--before 2017-10-14 --after 2017-10-14`` said "after scene S2_30TXT_20171014_L1C_nantes (2017-10-14) is not
    later than before scene S2_30TXT_20171014_L1C_nantes (2017-10-14)", naming neither option."""
    result = user("run", "--aoi", "demo-nantes-port", "--source", str(DEMO_CATALOG.parent), "--before", "2017-10-14",
                  "--after", "2017-10-14", "--out", "out")
    assert result.returncode == 1 and result.stderr == (
        "Error: the before and the after scene are the same scene, S2_30TXT_20171014_L1C_nantes (2017-10-14) (--before "
        "2017-10-14 and --after 2017-10-14): a pair needs two; give an --after later than 2017-10-14\n"), result.stderr
    assert not (user.home / "out").exists()
