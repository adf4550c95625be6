"""``changes.kml`` beside ``changes.geojson``: one Placemark per change, the same attributes and geometry,
styled by change type in the report's colours; read back as XML and by GDAL's own KML reader."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pyogrio
import pytest
from shapely.geometry import shape

from geo.outputs.kml import kml_document

NS = {"k": "http://www.opengis.net/kml/2.2"}
# KML colours are aabbggrr: new_bright_surface is #e6194b in the palette, vegetation loss #f58231.
NEW_BRIGHT_SURFACE_LINE, NEW_BRIGHT_SURFACE_FILL = "ff4b19e6", "464b19e6"


def _placemarks(folder):
    root = ET.parse(folder / "changes.kml").getroot()
    styles = {s.get("id"): s for s in root.iterfind(".//k:Style", NS)}
    out = {}
    for placemark in root.iterfind(".//k:Placemark", NS):
        data = {d.get("name"): d.text or "" for d in placemark.iterfind("k:ExtendedData/k:SchemaData/k:SimpleData", NS)}
        style = styles[placemark.findtext("k:styleUrl", namespaces=NS).lstrip("#")]
        rings = [[tuple(map(float, xy.split(","))) for xy in c.text.split()]
                 for c in placemark.iterfind(".//k:outerBoundaryIs/k:LinearRing/k:coordinates", NS)]
        out[data["change_id"]] = {
            "data": data, "name": placemark.findtext("k:name", namespaces=NS), "rings": rings,
            "begin": placemark.findtext("k:TimeSpan/k:begin", namespaces=NS),
            "line": style.findtext("k:LineStyle/k:color", namespaces=NS),
            "fill": style.findtext("k:PolyStyle/k:color", namespaces=NS),
        }
    return out


def _expected(props):
    """The attributes as SimpleData text: lists as JSON text (``claim_ids``: as changes.gpkg and the re-check store
    hold them), a missing value left out (a null)."""
    return {k: json.dumps(v) if isinstance(v, list) else str(v) for k, v in props.items() if v is not None}


@pytest.mark.parametrize("run", ["synthetic_output", "demo_output"])
def test_one_placemark_per_change_with_its_attributes_and_style(run, request):
    folder = request.getfixturevalue(run)
    features = json.loads((folder / "changes.geojson").read_text())["features"]
    placemarks = _placemarks(folder)
    assert len(placemarks) == len(features) > 0
    for feature in features:
        props = feature["properties"]
        mark = placemarks[props["change_id"]]
        assert mark["data"] == _expected(props)
        assert mark["name"] == f"{props['change_type'].replace('_', ' ')}, {props['area_m2']:,.0f} m²"
        geometry = feature["geometry"]
        exteriors = [geometry["coordinates"][0]] if geometry["type"] == "Polygon" else [
            polygon[0] for polygon in geometry["coordinates"]]
        assert mark["rings"] == [[tuple(xy) for xy in ring] for ring in exteriors]
        assert mark["begin"] == props["after_date"]  # Google Earth's time slider shows it from its after scene on
        if props["change_type"] == "new_bright_surface":
            assert (mark["line"], mark["fill"]) == (NEW_BRIGHT_SURFACE_LINE, NEW_BRIGHT_SURFACE_FILL)
    kinds = {p["data"]["change_type"]: p["line"] for p in placemarks.values()}
    assert kinds.get("vegetation_loss", "ff3182f5") == "ff3182f5"  # each kind its own colour


def test_gdal_reads_the_kml_as_the_geojson(synthetic_output):
    kml = pyogrio.read_dataframe(synthetic_output / "changes.kml").set_index("change_id")
    features = json.loads((synthetic_output / "changes.geojson").read_text())["features"]
    assert sorted(kml.index) == sorted(f["properties"]["change_id"] for f in features) and len(kml) == 3
    for feature in features:
        props, row = feature["properties"], kml.loc[feature["properties"]["change_id"]]
        assert row["geometry"].equals_exact(shape(feature["geometry"]), 1e-9)
        assert row["area_m2"] == props["area_m2"] and row["claim_ids"] == json.dumps(props["claim_ids"])
    aoi = shape(json.loads((synthetic_output / "aoi.geojson").read_text())["features"][0]["geometry"])
    assert aoi.buffer(1e-6).contains(kml.geometry.union_all())


@pytest.mark.parametrize("run", ["synthetic_output", "demo_output"])
def test_gdal_and_qgis_read_the_attributes_typed(run, request):
    """The attributes are declared in a KML ``Schema`` (SimpleField types), so GDAL (QGIS, geopandas, ogr2ogr)
    reads numbers as numbers: as untyped ``Data`` every attribute was text, ``area_m2`` sorted as "1000.0" <
    "200.0" and an ogr2ogr to GeoPackage or Shapefile wrote text columns."""
    folder = request.getfixturevalue(run)
    kml = pyogrio.read_dataframe(folder / "changes.kml")
    geojson = pyogrio.read_dataframe(folder / "changes.geojson")
    for column in ("area_m2", "score", "confidence", "type_confidence"):
        assert kml[column].dtype == "float64", column
        assert sorted(kml[column]) == pytest.approx(sorted(geojson[column]))
    assert kml["pixels"].dtype.kind == "i" and sorted(kml["pixels"]) == sorted(geojson["pixels"])
    for column in ("change_id", "change_type", "claim_ids", "before_date"):
        assert kml[column].dtype.kind in "OT" or str(kml[column].dtype) == "str", column


def test_a_kml_of_no_change_is_an_empty_layer_gdal_and_qgis_open(tmp_path):
    """A run that found nothing: the Document held only styles, which GDAL reads as a file of no layer, so
    QGIS called it an invalid layer and geopandas.read_file raised IndexError. An empty Folder named as the
    Document is the layer, of no feature."""
    path = tmp_path / "changes.kml"
    path.write_text(kml_document([], "Changes in quiet river: 2015-08-21 to 2017-10-14"))
    assert [name for name, _ in pyogrio.list_layers(path)] == ["Changes in quiet river: 2015-08-21 to 2017-10-14"]
    assert len(pyogrio.read_dataframe(path)) == 0


def test_a_change_linked_to_many_claims_lists_them_in_words_a_balloon_can_wrap(tmp_path):
    """A change on an area named by 74 claims had 'claims: claim-0000,claim-0012,...' in its description, 800
    characters without a space that Google Earth's balloon cannot wrap; the ids are separated by ', ' there
    (its ExtendedData keeps the JSON text the GeoPackage has)."""
    from shapely.geometry import box

    ids = [f"claim-{i:04d}" for i in range(74)]
    props = {"change_id": "c1", "change_type": "new_bright_surface", "area_m2": 900.0, "confidence": 0.5,
             "before_date": "2015-08-21", "after_date": "2017-10-14", "claim_ids": ids}
    path = tmp_path / "changes.kml"
    path.write_text(kml_document([(box(-1.56, 47.19, -1.55, 47.20), props)], "Changes"))
    placemark = ET.parse(path).getroot().find(".//k:Placemark", NS)
    description = placemark.findtext("k:description", namespaces=NS)
    assert description.endswith("claims: " + ", ".join(ids)), description
    data = {d.get("name"): d.text for d in placemark.iterfind("k:ExtendedData/k:SchemaData/k:SimpleData", NS)}
    assert data["claim_ids"] == json.dumps(ids)


def test_claim_ids_read_by_gdal_are_the_json_text_of_changes_gpkg_and_the_store(tmp_path):
    """A QGIS or ogr2ogr user filtering changes.kml met claim_ids as comma text ('a,a-2') where changes.gpkg and the
    re-check store hold JSON text ('["a", "a-2"]'): the one exact filter, "claim_ids" LIKE '%"a"%', found nothing
    here. The KML's ExtendedData holds the same JSON text; the description keeps the ids in words."""
    from shapely.geometry import box

    props = {"change_id": "c1", "change_type": "new_bright_surface", "area_m2": 900.0, "confidence": 0.5,
             "before_date": "2015-08-21", "after_date": "2017-10-14", "claim_ids": ["a", "a-2"]}
    other = {**props, "change_id": "c2", "claim_ids": ["a-2"]}
    path = tmp_path / "changes.kml"
    path.write_text(kml_document([(box(-1.56, 47.19, -1.55, 47.20), props), (box(-1.54, 47.19, -1.53, 47.20), other)],
                                 "Changes"))
    found = pyogrio.read_dataframe(path, where="claim_ids LIKE '%\"a\"%'")
    assert found["change_id"].tolist() == ["c1"] and found["claim_ids"].tolist() == ['["a", "a-2"]']


def test_the_kml_credits_the_data_as_the_licence_asks(demo_output, tmp_path):
    """Handed on alone (a mail to a colleague with Google Earth), the KML was the one layer of a run that did not
    say it was made of Copernicus Sentinel data: the Document's description, which Google Earth shows under its
    name in *Places*, now says so with the scenes' years, also for a run that found no change; GDAL still reads
    one layer of it."""
    root = ET.parse(demo_output / "changes.kml").getroot()
    assert root.findtext("k:Document/k:description", namespaces=NS) == \
        "Contains modified Copernicus Sentinel data 2015–2017"
    assert len(pyogrio.list_layers(demo_output / "changes.kml")) == 1
    path = tmp_path / "changes.kml"
    path.write_text(kml_document([], "Changes in quiet river", "Contains modified Copernicus Sentinel data 2017"))
    assert ET.parse(path).getroot().findtext("k:Document/k:description", namespaces=NS) == \
        "Contains modified Copernicus Sentinel data 2017"
    assert [name for name, _ in pyogrio.list_layers(path)] == ["Changes in quiet river"]
