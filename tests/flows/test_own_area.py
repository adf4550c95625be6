"""An analyst's own area: a polygon drawn elsewhere (no id, no claim), dates as people type them."""

from __future__ import annotations

import json
import re
import zipfile

import pyogrio
import pytest
from shapely.geometry import shape

from tests.flows.conftest import AFTER_ID, BEFORE_ID, DEMO_CATALOG, DRAWN_RING, drawn_aoi

RUN_FILES = {"changes.geojson", "claims.json", "manifest.json", "report.html", "changes.gpkg", "project.qgz",
             "before_rgb.tif", "after_rgb.tif", "change_statistic.tif", "aoi.geojson"}


def assert_claim_free_run(out, aoi_id: str, name: str, before: str, after: str) -> list[dict]:
    assert RUN_FILES <= {p.name for p in out.iterdir()}
    collection = json.loads((out / "changes.geojson").read_text())
    features = collection["features"]
    assert features, "the Nantes port changed between the scenes: polygons expected"
    drawn = shape({"type": "Polygon", "coordinates": [DRAWN_RING]})
    for feature in features:
        props = feature["properties"]
        assert props["aoi_id"] == aoi_id and props["claim_ids"] == []
        assert (props["before_scene"], props["after_scene"]) == (before, after)
        assert shape(feature["geometry"]).buffer(1e-6).within(drawn.buffer(1e-4))  # clipped to the drawn area
    assert json.loads((out / "claims.json").read_text()) == []
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["aoi"]["id"] == aoi_id and manifest["aoi"]["name"] == name and manifest["claims"] == []
    layers = dict(pyogrio.list_layers(out / "changes.gpkg"))
    assert len(pyogrio.read_dataframe(out / "changes.gpkg", layer="changes")) == len(features)
    assert "aois" in layers
    with zipfile.ZipFile(out / "project.qgz") as project:
        qgs = next(n for n in project.namelist() if n.endswith(".qgs"))
        assert "changes" in project.read(qgs).decode("utf-8")
    report = (out / "report.html").read_text()
    assert name in report and before in report and after in report
    assert "No claim names these areas." in report
    assert "How to read the verdicts" not in report  # no verdict to read: the guide was shown all the same
    # Without claim cards the area's own changes are listed, largest first, each with its place.
    assert "Changes in the area" in report
    areas = sorted((f["properties"]["area_m2"] for f in features), reverse=True)[:15]
    rows = re.findall(r'<tr data-change-id="([0-9a-f]+)">.*?<td class="num">([\d,]+)</td>', report)
    assert [float(area.replace(",", "")) for _, area in rows] == [round(a) for a in areas]
    assert report.count("https://www.openstreetmap.org/?mlat=") >= len(rows)
    # no claim, no minimum evidence rule: no evidence score; the total in the tables' m² (not "0.004 km²")
    assert "Evidence score" not in report and "data-evidence-score" not in report
    total = sum(f["properties"]["area_m2"] for f in features)
    assert total < 1e6 and f"{len(features)} change polygons, {total:,.0f} m² in all;" in report
    return features


def test_claim_free_job_on_a_drawn_area_with_the_demo_catalog(user):
    aoi = drawn_aoi(user.home / "My harbour area.geojson")
    result = user("run", "--aoi", str(aoi), "--source", str(DEMO_CATALOG), "--before", "2015-08-21",
                  "--after", "2017-10-14", "--out", "out")
    assert result.returncode == 0, result.output
    features = assert_claim_free_run(user.home / "out", "my-harbour-area", "My harbour area",
                                     "S2A_30TXT_20150821_L1C_nantes", "S2_30TXT_20171014_L1C_nantes")
    assert f"{len(features)} change polygons" in result.stdout
    assert "no claims touch this AOI" in result.stdout
    report = (user.home / "out" / "report.html").read_text()
    assert '<h2 id="aoi-my-harbour-area:title">My harbour area <span class="id">my-harbour-area</span></h2>' in report


def test_claim_free_job_on_a_drawn_area_against_a_stac_api(user, flow_archive):
    aoi = drawn_aoi(user.home / "area.geojson", properties={"name": "Quai Wilson"})
    result = user("run", "--aoi", str(aoi), "--source", flow_archive.url, "--before", "2015-12-20",
                  "--after", "2017-06-25", "--out", "out")
    assert result.returncode == 0, result.output
    assert_claim_free_run(user.home / "out", "area", "Quai Wilson", BEFORE_ID, AFTER_ID)


def test_qgis_export_of_two_features_in_web_mercator_is_their_union(user):
    from pyproj import Transformer

    to_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    west = [[-1.565, 47.19], [-1.55, 47.19], [-1.55, 47.215], [-1.565, 47.215], [-1.565, 47.19]]
    east = [[-1.55, 47.19], [-1.535, 47.19], [-1.535, 47.215], [-1.55, 47.215], [-1.55, 47.19]]
    rings = [[list(to_mercator.transform(x, y)) for x, y in ring] for ring in (west, east)]
    aoi = drawn_aoi(user.home / "export.geojson", rings, {"name": "half"}, crs="urn:ogc:def:crs:EPSG::3857")
    result = user("aoi", "show", str(aoi))
    assert result.returncode == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["id"] == "export" and shown["name"] == "half" and shown["kind"] == "other"
    union = shape(shown["geometry"])
    assert union.geom_type == "Polygon"  # the two halves share an edge: one polygon
    assert union.symmetric_difference(shape({"type": "Polygon", "coordinates": [DRAWN_RING]})).area < 1e-9


def test_registry_aois_stay_strict(user):
    folder = user.home / "aoi"
    folder.mkdir()
    drawn_aoi(folder / "no-id.geojson")
    result = user("aoi", "list", "--aoi-dir", str(folder))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    # a drawn file put in the folder was told "property 'id' must be a lower-case slug ..., got None"
    assert result.stderr.strip() == (f"Error: {folder / 'no-id.geojson'}: has no 'id' property: a file of the AOI "
                                     "folder is a registry AOI (properties id, name, kind); a drawn area runs as "
                                     "--aoi FILE from anywhere")


@pytest.mark.parametrize("typed", ["21/08/2015", "2015/08/21", "21.08.2015", "20150821", "21 Aug 2015",
                                   "2015-08-21T10:30:00"])
def test_dates_as_people_type_them_are_refused_naming_the_format(user, typed):
    aoi = drawn_aoi(user.home / "area.geojson")
    result = user("run", "--aoi", str(aoi), "--source", str(DEMO_CATALOG), "--before", typed,
                  "--after", "2017-10-14", "--out", "out")
    assert result.returncode == 1, result.output
    assert f"--before {typed!r}" in result.stderr and "YYYY-MM-DD" in result.stderr
    assert "no scene with id" not in result.stderr and "Traceback" not in result.stderr
    assert not (user.home / "out").exists()


def test_impossible_iso_date_is_named(user):
    aoi = drawn_aoi(user.home / "area.geojson")
    result = user("run", "--aoi", str(aoi), "--source", str(DEMO_CATALOG), "--before", "2015-08-21",
                  "--after", "2017-02-30", "--out", "out")
    assert result.returncode == 1
    assert "--after '2017-02-30': not a valid date" in result.stderr
    assert not (user.home / "out").exists()


def test_help_says_dates_are_iso_or_item_ids(user):
    result = user("run", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "--before DATE|ITEM" in text and "--after DATE|ITEM" in text
    assert text.count("ISO date YYYY-MM-DD") == 2 and text.count("scene item id") == 2


def test_a_report_over_two_runs_of_one_aoi_id_names_both_folders(user):
    for folder in ("north", "south"):
        (user.home / folder).mkdir()
        aoi = drawn_aoi(user.home / folder / "site.geojson")
        result = user("run", "--aoi", str(aoi), "--source", str(DEMO_CATALOG), "--before", "2015-08-21",
                      "--after", "2017-10-14", "--out", f"run-{folder}")
        assert result.returncode == 0, result.output
    both = user("report", "run-north", "run-south", "--out", "both.html")
    assert both.returncode == 1 and not (user.home / "both.html").exists()
    assert "run-north and run-south: runs of the same AOI 'site'" in both.stderr, both.stderr
    assert "Traceback" not in both.stderr


def test_scene_ids_of_scenes_elsewhere_are_refused_in_lon_lat(user):
    # East of the demo scenes: the ids name scenes that exist, but not over this area.
    east = [[-1.43, 47.20], [-1.39, 47.20], [-1.39, 47.22], [-1.43, 47.22], [-1.43, 47.20]]
    aoi = drawn_aoi(user.home / "east.geojson", [east])
    result = user("run", "--aoi", str(aoi), "--source", str(DEMO_CATALOG), "--before",
                  "S2A_30TXT_20150821_L1C_nantes", "--after", "S2_30TXT_20171014_L1C_nantes", "--out", "east")
    assert result.returncode == 1 and not (user.home / "east").exists()
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith("Error: scene S2A_30TXT_20150821_L1C_nantes does not cover"), line
    assert "lon -1.43" in line and "lat 47.19" in line  # the area read (the AOI and a margin), in lon/lat
    assert "the scene: lon -1.5774..-1.5122, lat 47.1756..47.2341" in line


def test_every_geojson_feature_of_a_run_has_a_string_id_as_rfc_7946_asks(user):
    aoi = drawn_aoi(user.home / "harbour.geojson")
    result = user("run", "--aoi", str(aoi), "--source", str(DEMO_CATALOG), "--before", "2015-08-21", "--after",
                  "2017-10-14", "--out", "harbour")
    assert result.returncode == 0, result.output
    area = json.loads((user.home / "harbour" / "aoi.geojson").read_text())["features"]
    assert [f["id"] for f in area] == ["harbour"]  # the AOI's id, not null
    changes = json.loads((user.home / "harbour" / "changes.geojson").read_text())["features"]
    assert changes and all(f["id"] == f["properties"]["change_id"] for f in changes)
