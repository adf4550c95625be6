"""``geo vessels`` output opened in QGIS through ``vessels.qlr``: every layer a lon/lat polygon layer, styled by
sensor and on the time slider as soon as it is added -- also when no ship was found, where ``vessels.geojson``
alone opens as a table without geometry or CRS, and without *Restore default style*, which ``vessels.qml``'s
time settings need in QGIS 3.22."""

from __future__ import annotations

import functools
import json

import numpy as np
import pyogrio
import pytest
from pyproj import Transformer

from tests.flows.test_readme import SHIP_CLAIM
from tests.outputs.test_qgis import FROM_EXPRESSIONS, _qgis_missing, probe, render

INSTANT = 'to_datetime("datetime")'
QVARIANT_DATE = 14


@pytest.fixture()
def qgis():
    if _qgis_missing():
        pytest.skip(_qgis_missing())


def _vessels(user, name: str, start: str, end: str):
    result = user("vessels", "--aoi", "demo-nantes-port", "--from", start, "--to", end, "--source", "demo",
                  "--out", name)
    assert result.returncode == 0, result.output
    assert f"QGIS: {name}/vessels.qlr (" in " ".join(result.stdout.split())  # where to start, as geo run says
    return user.home / name


def test_no_ship_found_opens_as_typed_styled_layers(user, qgis):
    out = _vessels(user, "quiet", "2015-01-01", "2016-01-01")  # the 2015 scene alone: no ship
    files = sorted(out.glob("*.geojson"))
    assert [p.name for p in files] == ["detections-S2A_30TXT_20150821_L1C_nantes.geojson", "vessels.geojson"]
    assert all(pyogrio.read_info(p)["features"] == 0 for p in files)
    seen = probe({"vectors": [{"key": "geojson", "uri": str(out / "vessels.geojson")}],
                  "definitions": [{"key": "qlr", "path": str(out / "vessels.qlr")}], "ranges": []})
    assert seen["vectors"]["geojson"]["geometry"] == "NoGeometry"  # QGIS's own reading of the file
    assert seen["definitions"]["qlr"]["read"], seen["definitions"]["qlr"]["error"]
    layers = seen["definitions"]["qlr"]["layers"]
    assert sorted(layers) == ["detections S2A_30TXT_20150821_L1C_nantes", "vessel detections"]
    for name, layer in layers.items():
        assert layer["valid"] and layer["count"] == 0, name
        assert layer["geometry"] == "Polygon" and layer["crs"] == "EPSG:4326", name
        assert layer["renderer"] == "categorizedSymbol" and layer["class_attribute"] == "sensor", name
        assert layer["category_colours"] == {"s1": "#1f5fa8", "s2": "#c2571a"}
        assert layer["temporal"]["active"] and layer["temporal"]["start_expression"] == INSTANT
    assert layers["vessel detections"]["checked"] and not layers["detections S2A_30TXT_20150821_L1C_nantes"]["checked"]
    # the columns of a file with ships, typed as QGIS reads them there (OGR knows none of an empty file's)
    busy = _vessels(user, "ships", "2015-01-01", "2018-01-01")
    with_ships = probe({"definitions": [{"key": "qlr", "path": str(busy / "vessels.qlr")}], "ranges": []})
    expected = with_ships["definitions"]["qlr"]["layers"]["vessel detections"]
    assert expected["count"] == 3
    typed = {name: kind for name, kind in expected["variant_types"].items() if name != "id"}  # the Feature's id
    assert set(typed) >= {"sensor", "datetime", "date", "length_m", "pixels", "at_berth"}
    for name, layer in layers.items():
        assert layer["variant_types"] == typed, name
        assert layer["fields"]["datetime"] == "DateTime" and layer["fields"]["pixels"] == "Integer", name


def test_ships_are_on_the_time_slider_when_added_and_drawn_at_their_instant(user, qgis, tmp_path):
    out = _vessels(user, "ships", "2015-01-01", "2018-01-01")
    features = json.loads((out / "vessels.geojson").read_text())["features"]
    [instant] = sorted({f["properties"]["datetime"] for f in features})  # the demo's 2017 scene: three ships
    assert len(features) == 3
    seen = probe({"definitions": [{"key": "qlr", "path": str(out / "vessels.qlr")}],
                  "ranges": [[instant, instant], ["2015-08-21T00:00:00Z", "2015-08-22T00:00:00Z"]]})
    layer = seen["definitions"]["qlr"]["layers"]["vessel detections"]
    assert layer["valid"] and layer["count"] == 3 and layer["geometry"] == "Polygon"
    # on load, without "Restore default style": the style's time settings, each ship at its scene's instant
    assert {k: layer["temporal"][k] for k in ("active", "mode", "start_expression", "end_expression")} == {
        "active": True, "mode": FROM_EXPRESSIONS, "start_expression": INSTANT, "end_expression": INSTANT}
    assert layer["temporal_counts"] == [3, 0]
    # drawn as QGIS draws it: a mark under each ship at its instant, none a day before
    size = (400, 400)
    facts, images = render(out / "vessels.qlr", [
        {"key": "at", "layers": ["vessel detections"], "at": [instant, instant]},
        {"key": "before", "layers": ["vessel detections"], "at": ["2017-10-13T00:00:00Z", "2017-10-13T23:59:59Z"]},
    ], size, tmp_path)
    assert facts["read"] and not facts["renders"]["at"]["errors"]
    xmin, _, _, ymax = facts["renders"]["at"]["extent"]
    step = facts["renders"]["at"]["map_units_per_pixel"]
    crs = facts["crs"]["authid"] or "EPSG:4326"
    to_map = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    marked = {key: 0 for key in images}
    for feature in features:
        x, y = to_map.transform(feature["properties"]["lon"], feature["properties"]["lat"])
        row, col = int((ymax - y) / step), int((x - xmin) / step)
        for key, image in images.items():
            marked[key] += bool(np.abs(image[row, col] - 255).max() > 25)
    assert marked == {"at": 3, "before": 0}


def _port_run(user, name: str, claim: str):
    seeds = user.home / f"seeds-{name}"
    seeds.mkdir()
    (seeds / "ships.toml").write_text(claim)
    result = user("run", "--aoi", "demo-nantes-port", "--seeds-dir", str(seeds), "--source", "demo",
                  "--before", "2015-08-21", "--after", "2017-10-14", "--out", name)
    assert result.returncode == 0, result.output
    return user.home / name


def test_a_run_whose_vessel_job_found_no_ship_has_a_typed_vessels_layer(user):
    """The GeoPackage's ``vessels`` layer of a ship claim whose series holds no ship (its window in August 2015:
    the 2015 scene alone) is the table of a run with ships -- it was a layer of unknown geometry type, all
    numbers as text, which QGIS opens as a table without geometry, also in ``project.qgz``."""
    august_2015 = {"2017-10-01": "2015-08-01", "2017-10-20": "2015-08-30", "2017-10-31": "2015-08-31"}
    quiet = _port_run(user, "quiet",
                      functools.reduce(lambda text, day: text.replace(*day), august_2015.items(), SHIP_CLAIM))
    busy = _port_run(user, "busy", SHIP_CLAIM)  # its window in October 2017: the demo's three ships
    empty = pyogrio.read_info(quiet / "changes.gpkg", layer="vessels")
    full = pyogrio.read_info(busy / "changes.gpkg", layer="vessels")
    assert empty["features"] == 0 and full["features"] == 3
    assert empty["geometry_type"] == full["geometry_type"] == "MultiPolygon"
    columns = lambda info: list(zip(info["fields"], info["ogr_types"], info["ogr_subtypes"]))  # noqa: E731
    assert columns(empty) == columns(full)
    types = dict(zip(full["fields"], full["ogr_types"]))
    assert types["length_m"] == "OFTReal" and types["datetime"] == "OFTDateTime"
    assert types["date"] == "OFTDate"  # the acquisition day: a date QGIS filters as one (it was text)
    days = pyogrio.read_dataframe(busy / "changes.gpkg", layer="vessels")["date"]
    assert [d.date().isoformat() for d in days] == ["2017-10-14"] * 3
    if _qgis_missing():
        pytest.skip(_qgis_missing())
    seen = probe({"projects": [{"key": "quiet", "path": str(quiet / "project.qgz")}], "ranges": [],
                  "vectors": [{"key": "busy", "uri": f"{busy / 'changes.gpkg'}|layername=vessels"}],
                  "definitions": [{"key": "changes", "path": str(busy / "changes.qlr")}]})
    assert seen["vectors"]["busy"]["variant_types"]["date"] == QVARIANT_DATE
    # changes.qlr's layer, typed Polygon, still holds the multipolygons of changes.geojson
    changes = json.loads((busy / "changes.geojson").read_text())["features"]
    assert "MultiPolygon" in {f["geometry"]["type"] for f in changes}
    assert seen["definitions"]["changes"]["layers"]["changes"]["count"] == len(changes)
    layer = seen["projects"]["quiet"]["layers"]["vessel detections"]
    assert layer["valid"] and layer["count"] == 0 and layer["geometry"] == "MultiPolygon"
    assert layer["crs"] == "EPSG:4326" and layer["renderer"] == "categorizedSymbol"
    assert layer["class_attribute"] == "sensor" and layer["temporal"]["active"]


def test_each_vessel_layer_credits_the_copernicus_sentinel_data_of_its_scenes(user, qgis):
    """``vessels.qlr``'s layers had blank metadata; now each credits the Sentinel data with its scenes' years:
    the whole series (the demo's 2015 and 2017 scenes), each scene's own year."""
    out = _vessels(user, "ships", "2015-01-01", "2018-01-01")
    seen = probe({"definitions": [{"key": "qlr", "path": str(out / "vessels.qlr")}], "ranges": []})
    layers = seen["definitions"]["qlr"]["layers"]
    credit = "Contains modified Copernicus Sentinel data"
    assert {name: layer["metadata"]["rights"] for name, layer in layers.items()} == {
        "vessel detections": [f"{credit} 2015–2017"], "detections S2A_30TXT_20150821_L1C_nantes": [f"{credit} 2015"],
        "detections S2_30TXT_20171014_L1C_nantes": [f"{credit} 2017"]}
    assert all("demo-nantes-port" in layer["metadata"]["abstract"] for layer in layers.values())
