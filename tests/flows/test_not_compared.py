"""Where the pair did not look: a run over an area partly outside the before scene, partly under a cloud and partly
snowed on the after date only said "20% outside the scenes; 9% cloud or gaps inside them; 3% not compared", and no
layer showed where: in QGIS and the report the ground nobody saw read as ground without change. Now the run folder
holds the areas not compared, one polygon per reason (``not_compared.geojson``, the ``not_compared`` layer of
``changes.gpkg`` and ``project.qgz``, hatched in the report's swipe view), each the planted truth within a pixel
(the synthetic tiles of tests/flows/tiles.py)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pyogrio
import pytest
from shapely.geometry import box, shape

from geo.atomic import MARKER
from geo.geometry import WGS84, reproject
from tests.archive_server import ArchiveServer
from tests.flows.tiles import Tile, lon_lat_aoi, lon_lat_square, tile_item, utm_box
from tests.outputs.test_qgis import _qgis_missing, probe

LON, LAT, EPSG = 129.75, 41.78, 32652
UTM = f"EPSG:{EPSG}"
AREA = lon_lat_square(LON, LAT, 3000)
CLOUD = lon_lat_square(LON - 0.006, LAT + 0.004, 600)  # on the after date, inside the area
SNOW = lon_lat_square(LON - 0.008, LAT - 0.008, 500)  # on the after date only
FULL = utm_box(EPSG, LON, LAT, 5000, 4500)
CUT = (FULL[0], FULL[1], FULL[0] + 5900, FULL[3])  # the before tile ends 900 m east of the area's centre
PIXEL = 10.0
CLOUD_BUFFER_M, SNOW_EDGE_M = 40.0, 20.0  # geo.scenes.read, geo.scenes.snow: what is masked round them


def utc(month: int, day: int) -> datetime:
    return datetime(2024, month, day, 2, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Iterator[ArchiveServer]:
    server = ArchiveServer(page_size=20).start()
    folder = tmp_path_factory.mktemp("not-compared")
    for tile in (Tile("S2A_T_before", utc(9, 28), EPSG, CUT, noise_dn=20.0),
                 Tile("S2A_T_after", utc(10, 20), EPSG, FULL, noise_dn=20.0, clouds=(CLOUD,), snow=(SNOW,)),
                 Tile("S2A_T_clear", utc(10, 22), EPSG, FULL, noise_dn=20.0),
                 Tile("S2A_T_clear_later", utc(10, 24), EPSG, FULL, noise_dn=20.0)):
        tile_item(server, folder, tile)
    yield server
    server.stop()


def run(user, archive: ArchiveServer, before: str, after: str, out: str) -> Path:
    lon_lat_aoi(user.home / "area.geojson", AREA)
    shell = user("run", "--aoi", "area.geojson", "--source", archive.url, "--before", before, "--after", after,
                 "--out", out)
    assert shell.returncode == 0, shell.output
    return Path(user.home / out)


def utm(lon_lat_box: tuple[float, float, float, float]):
    return reproject(box(*lon_lat_box), WGS84, UTM)


def near(found, planted, grown_m: float) -> None:
    """``found`` (lon/lat) is ``planted`` (in UTM) grown by ``grown_m``, within a pixel along its outline."""
    found_utm, truth = reproject(found, WGS84, UTM), planted.buffer(grown_m, join_style="mitre")
    margin = truth.length * PIXEL
    assert abs(found_utm.area - truth.area) <= margin, (found_utm.area, truth.area)
    assert found_utm.symmetric_difference(truth).area <= margin, found_utm.symmetric_difference(truth).area


def test_the_areas_not_compared_are_where_the_cloud_the_snow_and_the_scene_edge_are(user, archive):
    out = run(user, archive, "S2A_T_before", "S2A_T_after", "out")
    data = json.loads((out / "not_compared.geojson").read_text())
    assert data["description"] == "Contains modified Copernicus Sentinel data 2024"
    by_reason = {f["properties"]["reason"]: f for f in data["features"]}
    assert set(by_reason) == {"cloud", "no data", "snow"}, data
    area = utm(AREA)
    near(shape(by_reason["cloud"]["geometry"]), utm(CLOUD), CLOUD_BUFFER_M)
    near(shape(by_reason["snow"]["geometry"]), utm(SNOW), SNOW_EDGE_M)
    near(shape(by_reason["no data"]["geometry"]), area.difference(box(*CUT)), 0.0)
    for feature in data["features"]:
        props = feature["properties"]
        assert props["aoi_id"] == "area" and props["before_scene"] == "S2A_T_before"
        assert props["area_m2"] == pytest.approx(reproject(shape(feature["geometry"]), WGS84, UTM).area, rel=1e-3)
        assert props["aoi_fraction"] == pytest.approx(props["area_m2"] / area.area, abs=1e-4)
    assert "snow or ice on one date only" in by_reason["snow"]["properties"]["detail"]
    # the manifest's figures are the same ground's, counted in pixels
    manifest = json.loads((out / "manifest.json").read_text())
    assert by_reason["snow"]["properties"]["aoi_fraction"] == pytest.approx(manifest["not_compared"]["fraction"], abs=0.003)
    assert by_reason["no data"]["properties"]["aoi_fraction"] == pytest.approx(
        manifest["scenes"]["selection"]["before"]["nodata_fraction"], abs=0.003)

    # the GeoPackage's layer: the same polygons, the pair's dates as DateTime (as the changes')
    layer = pyogrio.read_dataframe(out / "changes.gpkg", layer="not_compared")
    assert sorted(layer["reason"]) == ["cloud", "no data", "snow"]
    assert str(layer["before_date"].dtype).startswith("datetime64")
    info = pyogrio.read_info(out / "changes.gpkg", layer="not_compared")
    assert info["geometry_type"] == "MultiPolygon" and info["crs"] == "EPSG:4326"

    # the project: over the imagery, under the changes, named so that it does not read as "no change"
    with zipfile.ZipFile(out / "project.qgz") as archive_file:
        text = archive_file.read("project.qgs").decode()
    assert text.index('<layer id="geo_changes_layer"') < text.index('<layer id="geo_not_compared_layer"') \
        < text.index('<layer id="geo_after_rgb_layer"')

    # the report's swipe view hatches them, each with its reason
    report = (out / "report.html").read_text()
    assert report.count('<path class="not-compared"') == 3
    assert "<title>not compared: cloud, cirrus or cloud shadow on a date" in report
    assert "Hatched grey: not compared on the pair, so no change could be found there." in report
    assert "not compared, nothing known: no data (outside a scene, or a gap in it) 20%" in report

    if _qgis_missing():
        pytest.skip(_qgis_missing())
    seen = probe({"vectors": [{"key": "geojson", "uri": str(out / "not_compared.geojson")}], "rasters": [],
                  "projects": [{"key": "run", "path": str(out / "project.qgz")}], "ranges": []})
    layers = seen["projects"]["run"]["layers"]
    names = list(layers)
    not_compared = "not compared: nothing known here"
    assert names.index("changes") < names.index(not_compared) < names.index("after 2024-10-20"), names
    facts = layers[not_compared]
    assert facts["valid"] and facts["count"] == 3 and facts["invalid_geometries"] == 0, facts
    assert facts["renderer"] == "categorizedSymbol" and facts["class_attribute"] == "reason"
    assert {"cloud or cloud shadow [1]", "no data (outside a scene, or a gap in it) [1]",
            "snow or ice on one date only [1]"} <= set(facts["tree_legend"]), facts["tree_legend"]
    assert facts["aliases"]["reason"] == "Why not compared"
    geojson = seen["vectors"]["geojson"]  # opened alone: styled by not_compared.qml beside it
    assert geojson["valid"] and geojson["invalid_geometries"] == 0 and geojson["renderer"] == "categorizedSymbol"


def test_a_pair_that_compared_all_of_the_area_has_the_layer_empty(user, archive):
    """Every run folder has the layer (a script or a project reads the same tables): empty when all was compared."""
    out = run(user, archive, "S2A_T_after", "S2A_T_clear", "clear")
    data = json.loads((out / "not_compared.geojson").read_text())
    reasons = {f["properties"]["reason"] for f in data["features"]}
    assert reasons == {"cloud", "snow"}, reasons  # the cloud and snow of the before date this time
    out = run(user, archive, "S2A_T_clear", "S2A_T_clear_later", "same")
    assert json.loads((out / "not_compared.geojson").read_text())["features"] == []
    info = pyogrio.read_info(out / "changes.gpkg", layer="not_compared")
    assert info["features"] == 0 and info["geometry_type"] == "MultiPolygon"
    body = (out / "report.html").read_text().split("<body>", 1)[1].split("</svg>", 1)[1]
    assert '<path class="not-compared"' not in body and "swatch not-compared" not in body  # no hatching, no legend


def test_geo_report_reads_them_back_and_names_the_file_when_it_was_removed(user, archive):
    """``geo report RUN_DIR`` hatches them as the run's own report; a folder whose run wrote the file and lost it since
    is refused naming it (as any run file), one from a workbench before them is read without them."""
    out = run(user, archive, "S2A_T_before", "S2A_T_after", "out")
    shell = user("report", "out", "--out", "again.html")
    assert shell.returncode == 0, shell.output
    assert (user.home / "again.html").read_text().count('<path class="not-compared"') == 3
    (out / "not_compared.geojson").unlink()
    shell = user("report", "out", "--out", "again.html")
    assert shell.returncode == 1 and "not_compared.geojson: missing from the run folder" in shell.output, shell.output
    marker = out / MARKER
    listed = json.loads(marker.read_text())
    marker.write_text(json.dumps({**listed, "files": [f for f in listed["files"] if f != "not_compared.geojson"]}))
    shell = user("report", "out", "--out", "again.html")
    assert shell.returncode == 0, shell.output
    assert '<path class="not-compared"' not in (user.home / "again.html").read_text()


def test_the_shares_said_add_up_to_the_area(user, archive):
    """The terminal and the report said "71% seen clear; 20% outside the scenes; 9% cloud or gaps inside them" and
    then "3% not compared (snow ...)": the snow counted twice, as cloud too, 103% of the area. Its 3% is now said once."""
    lon_lat_aoi(user.home / "area.geojson", AREA)
    shell = user("run", "--aoi", "area.geojson", "--source", archive.url, "--before", "S2A_T_before", "--after",
                 "S2A_T_after", "--out", "out")
    assert shell.returncode == 0, shell.output
    summary, = [line for line in shell.stdout.splitlines() if "change polygon" in line]
    assert summary.endswith("; 71% of the AOI seen clear; 20% outside the scenes; 6% cloud or gaps inside them"), summary
    assert "3% of the AOI had snow or ice on one date only, a season's change, and was not compared" in shell.output
    report = (user.home / "out" / "report.html").read_text()
    assert ("71% of the area seen clear on both dates; 20% outside the scenes; 6% cloud or gaps inside them; 3% not "
            "compared (snow or ice on one date only, a season&#39;s change).") in report


def test_a_scene_partly_outside_the_area_is_not_said_to_be_clouded(user, archive):
    """The before scene holds 80% of the area, all of it clear: "only 80% of the AOI is clear" read as cloud over the
    rest; the share outside the scene is named."""
    lon_lat_aoi(user.home / "area.geojson", AREA)
    shell = user("run", "--aoi", "area.geojson", "--source", archive.url, "--before", "S2A_T_before", "--after",
                 "S2A_T_after", "--out", "out")
    assert shell.returncode == 0, shell.output
    assert ("before scene S2A_T_before: only 80% of the AOI is clear (20% outside the scene or no data; no candidate "
            "reached 80%)") in shell.output, shell.output


@pytest.mark.chromium
def test_the_pointer_over_the_hatching_names_why_that_ground_was_not_compared(user, archive):
    """The README said the swipe view gives "each polygon's reason under the pointer", but the hatching takes no
    pointer events (the picture is dragged to swipe): its hover text never showed and the readout under the picture
    said only "Pointer: 41.7…° N, …". It now names the reason there, as it names a change under the pointer."""
    from selenium.webdriver import ActionChains

    from tests.outputs import browser

    if browser.missing():
        pytest.skip(browser.missing())
    out = run(user, archive, "S2A_T_before", "S2A_T_after", "out")
    with browser.chromium() as driver:
        driver.set_window_size(1280, 2400)
        driver.get((out / "report.html").resolve().as_uri())
        stage = driver.find_element("css selector", "[data-swipe]")
        driver.execute_script("arguments[0].scrollIntoView()", stage)
        # a point inside the cloud's hatching and outside every change outline, as offsets from the picture's centre
        found = driver.execute_script("""
            const stage = arguments[0], svg = stage.querySelector('svg'), view = svg.viewBox.baseVal;
            const box = stage.getBoundingClientRect();
            const changes = [...svg.querySelectorAll('path.change')];
            for (const path of svg.querySelectorAll('path.not-compared')) {
                if (!path.querySelector('title').textContent.includes('cloud')) continue;
                const b = path.getBBox();
                for (let i = 1; i < 40; i++) for (let j = 1; j < 40; j++) {
                    const p = new DOMPoint(b.x + b.width * i / 40, b.y + b.height * j / 40);
                    if (path.isPointInFill(p) && !changes.some(c => c.isPointInFill(p) || c.isPointInStroke(p))) {
                        return [(p.x - view.x) / view.width * box.width - box.width / 2,
                                (p.y - view.y) / view.height * box.height - box.height / 2];
                    }
                }
            }
            return null;""", stage)
        assert found is not None, "no point inside the cloud's hatching"
        ActionChains(driver).move_to_element_with_offset(stage, round(found[0]), round(found[1])).perform()
        shown = driver.find_element("css selector", "[data-coords]").text
        assert shown.startswith("Pointer: ") and shown.endswith(
            " Not compared here: cloud, cirrus or cloud shadow on a date (its scene classification's, and 40 m round "
            "them)."), shown
        ActionChains(driver).click().perform()
        assert "Not compared here: cloud" in driver.find_element("css selector", "[data-coords-said]").get_attribute(
            "textContent")


def test_an_empty_layer_opens_in_qgis_as_a_styled_polygon_layer(user, archive):
    """The demo's ``not_compared.geojson`` is empty (all of its AOI compared): an empty FeatureCollection, which QGIS
    opens as a table without geometry or CRS, ``not_compared.qml`` not applied. ``not_compared.qlr`` beside it adds
    it as a lon/lat polygon layer styled by reason, with the columns, typed, QGIS reads from a file with areas."""
    full = run(user, archive, "S2A_T_before", "S2A_T_after", "out")
    empty = run(user, archive, "S2A_T_clear", "S2A_T_clear_later", "same")
    for out in (full, empty):
        assert "not_compared.qlr" in json.loads((out / MARKER).read_text())["files"]
        assert "not_compared-qlr" in json.loads((out / "item.json").read_text())["assets"]
    if _qgis_missing():
        pytest.skip(_qgis_missing())
    seen = probe({"vectors": [{"key": "empty", "uri": str(empty / "not_compared.geojson")},
                              {"key": "full", "uri": str(full / "not_compared.geojson")}],
                  "definitions": [{"key": "empty", "path": str(empty / "not_compared.qlr")},
                                  {"key": "full", "path": str(full / "not_compared.qlr")}], "rasters": [], "ranges": []})
    assert seen["vectors"]["empty"]["geometry"] == "NoGeometry"  # QGIS's own reading of the file: why the .qlr
    for key, count in (("empty", 0), ("full", 3)):
        definition = seen["definitions"][key]
        assert definition["read"], definition["error"]
        layer = definition["layers"]["not compared: nothing known here"]
        assert layer["valid"] and layer["count"] == count and layer["checked"], layer
        assert layer["geometry"] in ("Polygon", "MultiPolygon") and layer["crs"] == "EPSG:4326"
        assert layer["renderer"] == "categorizedSymbol" and layer["class_attribute"] == "reason"
        assert layer["fields"] == seen["vectors"]["full"]["fields"]
        assert layer["metadata"]["rights"] and "Copernicus Sentinel" in layer["metadata"]["rights"][0]


def test_the_reports_footer_names_the_layer_among_the_geopackages(user, archive):
    """The report's last words list what ``changes.gpkg`` holds: "the changes, areas, claim verdicts (and vessel
    detections, when counted)", without its ``not_compared`` layer."""
    out = run(user, archive, "S2A_T_before", "S2A_T_after", "out")
    footer = (out / "report.html").read_text().split("<footer>", 1)[1].split("</footer>", 1)[0]
    assert ("<code>changes.gpkg</code> holds the changes, the areas of interest, the parts of them not compared, "
            "the claim verdicts (and vessel detections, when counted) with their styles") in footer, footer
