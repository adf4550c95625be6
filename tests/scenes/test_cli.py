"""The archive path as a user drives it: ``geo scenes search``, ``geo scenes cache``, and ``geo run`` finding
and reading scenes from a STAC API (the loopback archive) end to end, rerun from cache, and failing cleanly."""

from __future__ import annotations

import json
import os

import pytest
from shapely.geometry import shape
from shapely.ops import unary_union

from tests import archive_data
from tests.conftest import REPO, run_geo

DEMO_RUN = ("--aoi", "demo-nantes-port", "--claim", "demo-nantes-construction")


def test_search_json_ranks_by_clear_aoi(geo, loopback):
    result = geo("scenes", "search", "--aoi", "demo-nantes-port", "--from", "2015-12-01", "--to", "2017-12-31",
                 "--source", loopback.url, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["source"] == loopback.url and data["hidden_by_max_cloud"] == 0
    rows = data["scenes"]
    assert len(rows) == 6 and rows[-1]["id"] == "S2A_T30TXT_20170702_A3"
    assert [r["clear_fraction"] for r in rows[:4]] == [1.0] * 4
    b2 = next(r for r in rows if r["id"] == "S2A_T30TXT_20151221_B2")
    assert b2 == {**b2, "date": "2015-12-21", "platform": "sentinel-2a", "relative_orbit": 51,
                  "tile_cloud_cover": 85, "cloud_fraction": 0.0, "nodata_fraction": 0.0, "cover_method": "scl"}
    # paging: 6 items at 2 per page
    assert len([r for r in loopback.records("/search") if r.method == "POST"]) == 3


def test_search_table_and_max_cloud(geo, loopback):
    result = geo("scenes", "search", "--aoi", "demo-nantes-port", "--from", "2015-12-01", "--to", "2017-12-31",
                 "--source", loopback.url, "--max-cloud", "50", "--sort", "date")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "S2A_T30TXT" in line]
    ids = [next(w for w in line.split() if w.startswith("S2A_T30TXT")) for line in lines]
    assert ids == ["S2A_T30TXT_20151216_B3", "S2A_T30TXT_20151221_B2", "S2A_T30TXT_20170701_A1",
                   "S2A_T30TXT_20170704_A2"]
    assert "2 more scenes have over 50% of the AOI under cloud" in result.stdout
    assert "85%" in result.stdout  # the tile's own figure, shown for contrast


@pytest.mark.parametrize("columns", [80, 200])
def test_search_table_fits_the_terminal_one_line_per_scene(geo, loopback, columns):
    """At 80 columns the platform (``sentinel-2a``) was folded over two lines of each scene's row: the table
    names it as the ids do (``S2A``) and fits, one line per scene; the JSON keeps the full name."""
    search = ("scenes", "search", "--aoi", "demo-nantes-port", "--from", "2015-12-01", "--to", "2017-12-31",
              "--source", loopback.url, "--sort", "date")
    result = geo(*search, COLUMNS=str(columns))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    start = next(i for i, line in enumerate(lines) if line.startswith("date "))
    rows = [line.split() for line in lines[start + 2:start + 8]]  # under the header and its rule
    assert [row[1] for row in rows] == ["S2A_T30TXT_20151216_B3", "S2A_T30TXT_20151221_B2", "S2A_T30TXT_20151228_B1",
                                        "S2A_T30TXT_20170701_A1", "S2A_T30TXT_20170702_A3", "S2A_T30TXT_20170704_A2"]
    b2 = rows[1]
    assert b2[:5] == ["2015-12-21", "S2A_T30TXT_20151221_B2", "S2A", "51", "100%"] and b2[-1] == "85%"
    assert json.loads(geo(*search, "--json").stdout)["scenes"][1]["platform"] == "sentinel-2a"


def test_search_sentinel1(geo, loopback):
    footprint = archive_data.demo_footprint()
    archive_data.s1_item(loopback, "S1A_IW_RTC_NANTES_1", archive_data.utc(2017, 7, 3),
                         {"vv": f"{loopback.url}/none/vv.tif", "vh": f"{loopback.url}/none/vh.tif"},
                         "sentinel-1-rtc", footprint)
    result = geo("scenes", "search", "--aoi", "demo-nantes-port", "--from", "2017-07-01", "--to", "2017-07-31",
                 "--sensor", "s1", "--source", loopback.url, "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["scenes"]
    assert [r["id"] for r in rows] == ["S1A_IW_RTC_NANTES_1"]
    assert rows[0]["sensor"] == "s1" and rows[0]["cover_method"] == "sar" and rows[0]["clear_fraction"] == 1.0
    assert rows[0]["orbit_state"] == "ascending"


def test_search_sentinel1_says_mode_and_polarisations(geo, loopback):
    """A change pair needs one mode and a shared co-polarisation: the search says each scene's (it said neither,
    so an EW or HH+HV scene named by --before/--after was a surprise), and why a scene cannot be read."""
    footprint = archive_data.demo_footprint()
    for name, pols, mode in (("IW_VV", ("vv", "vh"), "IW"), ("EW_HH", ("hh", "hv"), "EW"), ("IW_VH", ("vh",), "IW")):
        item = archive_data.s1_item(loopback, f"S1A_{name}", archive_data.utc(2017, 8, 3 + len(pols)),
                                    {p: f"{loopback.url}/none/{p}.tif" for p in pols}, "sentinel-1-rtc", footprint)
        item["properties"]["sar:instrument_mode"] = mode
    search = ("scenes", "search", "--aoi", "demo-nantes-port", "--from", "2017-08-01", "--to", "2017-08-31",
              "--sensor", "s1", "--source", loopback.url, "--sort", "date")
    result = geo(*search, "--json")
    assert result.returncode == 0, result.stderr
    rows = {r["id"]: (r["instrument_mode"], r["polarisations"], r["unusable"])
            for r in json.loads(result.stdout)["scenes"]}
    assert rows == {"S1A_IW_VV": ("IW", ["vv", "vh"], None), "S1A_EW_HH": ("EW", ["hh", "hv"], None),
                    "S1A_IW_VH": ("IW", [], "only cross-pol vh (read in co-pol: vv or hh)")}
    table = geo(*search)
    assert table.returncode == 0, table.stderr
    lines = {line.split()[1]: line for line in table.stdout.splitlines() if "S1A_" in line}
    assert "S1A 118 asc EW" in lines["S1A_EW_HH"] and lines["S1A_EW_HH"].rstrip().endswith("HH+HV")
    assert lines["S1A_IW_VV"].rstrip().endswith("VV+VH") and "only cross-pol vh" in lines["S1A_IW_VH"]


def test_search_bad_input(geo, loopback):
    result = geo("scenes", "search", "--aoi", "demo-nantes-port", "--from", "2017-07-31", "--to", "2017-07-01",
                 "--source", loopback.url)
    assert result.returncode == 1 and "--to 2017-07-01 is before --from 2017-07-31" in result.stderr
    result = geo("scenes", "search", "--aoi", "demo-nantes-port", "--from", "2017-07-01", "--to", "2017-07-31",
                 "--sensor", "s1", "--source", "earth-search")
    assert result.returncode == 1 and "planetary-computer" in result.stderr and "Traceback" not in result.stderr
    result = geo("scenes", "search", "--aoi", "demo-nantes-port", "--from", "2017-07-01", "--to", "2017-07-31",
                 "--source", "http://127.0.0.1:9", GEO_HTTP_ATTEMPTS="1")
    assert result.returncode == 1 and "127.0.0.1:9" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("path, answers", [
    ("/collections/sentinel-2-l2a", "a STAC Collection"),  # the URL STAC Browser shows for a collection
    ("/search", "a FeatureCollection"),
    ("/collections", "JSON that is no STAC object"),
])
def test_a_url_below_the_api_root_names_the_root_to_give(geo, loopback, path, answers):
    """A collection's or the search's URL, copied from a browser, was an internal error (exit 2,
    'ClientTypeError: Could not open Client ... expected type=Catalog, found type=Collection')."""
    url = loopback.url + path
    result = geo("scenes", "search", "--aoi", "demo-nantes-port", "--from", "2017-07-01", "--to", "2017-07-31",
                 "--source", url)
    assert (result.returncode, result.stdout) == (1, ""), result.stderr
    assert result.stderr.strip() == (f"Error: {url}: answers {answers}, not a STAC API's landing page: give the API's "
                                     f"root URL, {loopback.url} (geo chooses the collection by --sensor)")


def test_a_static_catalog_over_http_is_named_as_one_not_an_internal_error(geo, loopback):
    """A static STAC catalog on a web server (S3, GitHub pages) has no item search: pystac-client warned
    'NoConformsTo' and stopped with 'internal error: DoesNotConformTo' (exit 2)."""
    url = loopback.add_file("/static/catalog.json", REPO / "scenes" / "demo" / "catalog.json")
    for command in (("scenes", "search", "--aoi", "demo-nantes-port", "--from", "2015-01-01", "--to", "2018-01-01"),
                    ("run", "--aoi", "demo-nantes-port", "--before", "2015-08-21", "--after", "2017-10-14",
                     "--out", "out")):
        result = geo(*command, "--source", url)
        assert (result.returncode, result.stdout) == (1, ""), result.stderr
        assert result.stderr.strip() == (
            f"Error: {url}: a STAC catalog without item search (a static catalog, or a server not declaring STAC API "
            "item-search conformance): give a STAC API URL, or the path of the catalog's local copy")


def _changes(out):
    data = json.loads((out / "changes.geojson").read_text())
    return unary_union([shape(f["geometry"]) for f in data["features"]]), data["features"]


@pytest.fixture(scope="module")
def demo_changes(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    result = run_geo("demo", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return _changes(out)


def test_run_finds_reads_and_reruns_from_cache(geo, loopback, tmp_path, demo_changes, fast_network):
    out = tmp_path / "out"
    result = geo("run", *DEMO_RUN, "--source", loopback.url, "--out", str(out))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    selection = manifest["scenes"]["selection"]
    assert manifest["scenes"]["before"]["id"] == "S2A_T30TXT_20151221_B2"
    assert manifest["scenes"]["after"]["id"] == "S2A_T30TXT_20170704_A2"
    assert selection["method"] == "automatic" and selection["same_relative_orbit"] is True
    assert manifest["cloud_masked"] == {"before": True, "after": True}
    # same pixels as the shipped demo pair: the same changes, now read over HTTP
    union, features = _changes(out)
    demo_union, _ = demo_changes
    iou = union.intersection(demo_union).area / union.union(demo_union).area
    assert features and iou > 0.8, iou
    first_bytes = loopback.bytes_sent("/files/")
    assert first_bytes > 0
    listing = geo("scenes", "cache", "list", "--json")
    entries = json.loads(listing.stdout)["entries"]
    assert {e["item_id"] for e in entries} >= {"S2A_T30TXT_20151221_B2", "S2A_T30TXT_20170704_A2"}

    loopback.clear()  # rerun: the search is asked again, the pixels come from the cache
    again = geo("run", *DEMO_RUN, "--source", loopback.url, "--out", str(tmp_path / "again"))
    assert again.returncode == 0, again.stderr
    assert loopback.records("/files/") == []
    assert (tmp_path / "again" / "changes.geojson").read_text() == (out / "changes.geojson").read_text()

    loopback.clear()  # with the pair named by id, nothing at all is asked of the archive
    named = geo("run", *DEMO_RUN, "--source", loopback.url, "--before", "S2A_T30TXT_20151221_B2",
                "--after", "S2A_T30TXT_20170704_A2", "--out", str(tmp_path / "named"))
    assert named.returncode == 0, named.stderr
    assert loopback.records() == []

    cleared = geo("scenes", "cache", "clear")
    assert cleared.returncode == 0 and "removed" in cleared.stdout
    assert json.loads(geo("scenes", "cache", "list", "--json").stdout)["entries"] == []


@pytest.mark.parametrize("kind", ["corrupt", "status"])
def test_run_with_a_broken_asset_fails_cleanly(geo, loopback, tmp_path, kind, fast_network):
    loopback.inject(kind, match="20170704_A2/nir.tif", methods=("GET", "HEAD"), status=503, times=-1,
                    min_offset=1 if kind == "corrupt" else 0)
    out = tmp_path / "out"
    result = geo("run", *DEMO_RUN, "--source", loopback.url, "--out", str(out), GDAL_HTTP_MAX_RETRY="1")
    assert result.returncode == 1, result.stderr
    assert "scene S2A_T30TXT_20170704_A2 asset 'nir'" in result.stderr and "after 3 attempts" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() and not list(tmp_path.glob(".out.*"))
    cached = {(p.parent.name, p.name.split("-")[0]) for p in fast_network.rglob("*.tif")}
    assert ("S2A_T30TXT_20170704_A2", "nir") not in cached
    assert not [p for p in fast_network.rglob("*.tmp*")]
    assert os.environ.get("GEO_SCENE_CACHE") == str(fast_network)


def test_a_scene_cache_that_cannot_be_written_is_warned_of_once(geo, loopback, tmp_path):
    """GEO_SCENE_CACHE naming a file: the run went on (a cache costs speed, not correctness), but printed
    "cannot write scene cache entry ..." 18 times, once per band and scene, burying the run's own warnings."""
    cache = tmp_path / "cache.txt"
    cache.write_text("not a folder")
    out = tmp_path / "out"
    result = geo("run", *DEMO_RUN, "--source", loopback.url, "--out", str(out), GEO_SCENE_CACHE=str(cache))
    assert result.returncode == 0, result.stderr
    warned = [line for line in result.stderr.splitlines() if "scene cache" in line]
    assert len(warned) == 1, warned
    assert warned[0].startswith(f"warning: cannot write scene cache entry {cache}/") and warned[0].endswith(
        "; nothing more is cached this time (GEO_SCENE_CACHE names the cache folder)"), warned[0]
    assert cache.read_text() == "not a folder" and json.loads((out / "manifest.json").read_text())["n_changes"] > 0
