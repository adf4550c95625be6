"""A job that finds nothing (a quiet area, no claims) opened in QGIS: its ``changes`` and ``claims`` layers are
still polygon layers with the full attribute table, styled, on the map and the time slider, like a run's
with changes -- not attribute-only tables without a style, which is how QGIS shows a GeoPackage layer of
unknown geometry type."""

from __future__ import annotations

import pyogrio
import pytest

from tests.flows.conftest import DEMO_CATALOG, drawn_aoi
from tests.flows.test_terminal import write_project
from tests.outputs.test_qgis import _qgis_missing, probe

# East of the demo scenes' edge: 45 % of it seen, no change found there (the demo pair at this place).
QUIET = [[-1.53, 47.20], [-1.49, 47.20], [-1.49, 47.22], [-1.53, 47.22], [-1.53, 47.20]]


def test_a_run_without_changes_or_claims_opens_in_qgis_as_polygon_layers(user):
    write_project(user.home)  # the busy run: the registry's AOI "site" with a claim
    for name, aoi in (("quiet", str(drawn_aoi(user.home / "quiet.geojson", [QUIET]))), ("busy", "site")):
        result = user("run", "--aoi", aoi, "--source", str(DEMO_CATALOG), "--before", "2015-08-21",
                      "--after", "2017-10-14", "--aoi-dir", "aoi", "--seeds-dir", "seeds", "--out", name)
        assert result.returncode == 0, result.output
    quiet, busy = user.home / "quiet" / "changes.gpkg", user.home / "busy" / "changes.gpkg"
    for layer in ("changes", "claims"):
        empty, full = pyogrio.read_info(quiet, layer=layer), pyogrio.read_info(busy, layer=layer)
        assert empty["features"] == 0 and full["features"] > 0
        assert empty["geometry_type"] == full["geometry_type"] == "MultiPolygon"
        # the same columns of the same types, in the same order, as a run that found something (merging runs'
        # layers works; the attribute tables read alike)
        assert list(zip(empty["fields"], empty["dtypes"])) == list(zip(full["fields"], full["dtypes"]))
    if _qgis_missing():
        pytest.skip(_qgis_missing())
    seen = probe({"vectors": [], "rasters": [], "ranges": [["2017-10-14T11:09:59Z", "2017-10-14T11:10:00Z"]],
                  "projects": [{"key": "quiet", "path": str(user.home / "quiet" / "project.qgz")}]})
    layers = seen["projects"]["quiet"]["layers"]
    assert layers["changes"]["geometry"] == layers["claim verdicts"]["geometry"] == "MultiPolygon"
    assert layers["changes"]["renderer"] == "categorizedSymbol" and layers["changes"]["crs"] == "EPSG:4326"
    assert layers["claim verdicts"]["renderer"] == "categorizedSymbol"


def test_a_run_without_changes_has_its_geojson_open_in_qgis_as_a_typed_layer(user):
    """``changes.geojson`` of a run that found nothing is an empty FeatureCollection, which QGIS opens as a
    table without geometry or CRS; ``changes.qlr`` beside it adds it as a lon/lat polygon layer, styled and on
    the time slider, as a run's with changes."""
    ring = str(drawn_aoi(user.home / "quiet.geojson", [QUIET]))
    result = user("run", "--aoi", ring, "--source", str(DEMO_CATALOG), "--before", "2015-08-21",
                  "--after", "2017-10-14", "--out", "quiet")
    assert result.returncode == 0, result.output
    out = user.home / "quiet"
    assert pyogrio.read_info(out / "changes.geojson")["features"] == 0
    assert len(pyogrio.read_dataframe(out / "changes.kml")) == 0  # a layer of none (it had no layer at all)
    if _qgis_missing():
        pytest.skip(_qgis_missing())
    seen = probe({"vectors": [{"key": "geojson", "uri": str(out / "changes.geojson")},
                              {"key": "kml", "uri": str(out / "changes.kml")}],
                  "definitions": [{"key": "qlr", "path": str(out / "changes.qlr")}],
                  "ranges": [["2017-10-14T11:09:59Z", "2017-10-14T11:10:00Z"]]})
    assert seen["vectors"]["geojson"]["geometry"] == "NoGeometry"  # QGIS's own reading of the file: why the .qlr
    assert seen["vectors"]["kml"]["valid"] and seen["vectors"]["kml"]["count"] == 0  # Google Earth's file too
    assert seen["definitions"]["qlr"]["read"], seen["definitions"]["qlr"]["error"]
    layer = seen["definitions"]["qlr"]["layers"]["changes"]
    assert layer["valid"] and layer["count"] == 0 and layer["checked"]
    assert layer["geometry"] == "Polygon" and layer["crs"] == "EPSG:4326"
    assert layer["renderer"] == "categorizedSymbol" and layer["class_attribute"] == "change_type"
    assert layer["temporal"]["active"]
    # the contract's columns, typed as QGIS reads them from a file with changes (an optical run adds none)
    assert layer["fields"] == {
        "change_id": "String", "aoi_id": "String", "claim_ids": "StringList", "before_scene": "String",
        "after_scene": "String", "before_date": "Date", "after_date": "Date", "area_m2": "Real", "score": "Real",
        "confidence": "Real", "change_type": "String", "type_confidence": "Real", "pixels": "Integer",
        "algorithm_version": "String"}
