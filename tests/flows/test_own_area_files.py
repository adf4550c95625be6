"""An analyst's own area saved from a GIS as something other than GeoJSON: a GeoPackage or shapefile from QGIS
(in the project's CRS), a KML from Google Earth. Read by GDAL, reprojected to lon/lat, as a GeoJSON one is."""

from __future__ import annotations

import json
import warnings
import zipfile

import geopandas as gpd
import pytest
from shapely.geometry import Point, Polygon, mapping, shape

from tests.flows.conftest import DEMO_CATALOG, DRAWN_RING

DRAWN = Polygon(DRAWN_RING)


def save_layer(path, crs: str = "EPSG:4326", layer: str | None = None, name: str | None = "Quai Wilson",
               geometry=DRAWN, write_crs: bool = True) -> None:
    frame = gpd.GeoDataFrame({"name": [name]}, geometry=[geometry], crs="EPSG:4326").to_crs(crs)
    if not write_crs:
        frame = frame.set_crs(None, allow_override=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'crs' was not provided")  # written without one on purpose
        frame.to_file(path, layer=layer, driver="KML" if path.suffix == ".kml" else None)


@pytest.mark.parametrize(("file_name", "crs"), [("harbour.gpkg", "EPSG:3857"), ("harbour.shp", "EPSG:2154"),
                                                ("harbour.kml", "EPSG:4326"), ("harbour.fgb", "EPSG:32630")])
def test_a_polygon_layer_in_any_crs_is_the_drawn_area(user, file_name, crs):
    save_layer(user.home / file_name, crs)
    result = user("aoi", "show", file_name)
    assert result.returncode == 0, result.output
    shown = json.loads(result.stdout)
    assert (shown["id"], shown["name"], shown["kind"]) == ("harbour", "Quai Wilson", "other")
    assert shown["source"] == f"drawn area ({file_name}, 1 feature(s))"
    area = shape(shown["geometry"])
    # Reprojected back to lon/lat: the drawn ring to within a millimetre's worth of degrees.
    assert area.geom_type == "Polygon" and area.symmetric_difference(DRAWN).area < 1e-12


def test_a_scene_search_takes_a_geopackage_area(user):
    save_layer(user.home / "harbour.gpkg", "EPSG:2154")
    result = user("scenes", "search", "--aoi", "harbour.gpkg", "--source", str(DEMO_CATALOG), "--from",
                  "2015-01-01", "--to", "2018-01-01", "--json")
    assert result.returncode == 0, result.output
    found = {scene["id"] for scene in json.loads(result.stdout)["scenes"]}
    assert found == {"S2A_30TXT_20150821_L1C_nantes", "S2_30TXT_20171014_L1C_nantes"}


def test_the_one_polygon_layer_of_a_package_is_taken_beside_point_layers(user):
    save_layer(user.home / "project.gpkg", layer="area")
    save_layer(user.home / "project.gpkg", layer="sightings", geometry=Point(-1.55, 47.2))
    result = user("aoi", "show", "project.gpkg")
    assert result.returncode == 0, result.output
    assert shape(json.loads(result.stdout)["geometry"]).symmetric_difference(DRAWN).area < 1e-12


def bad_files(home):
    save_layer(home / "two.gpkg", layer="east")
    save_layer(home / "two.gpkg", layer="west")
    save_layer(home / "points.gpkg", geometry=Point(-1.55, 47.2))
    save_layer(home / "noprj.shp", write_crs=False)
    gpd.GeoDataFrame({"name": []}, geometry=gpd.GeoSeries([], crs="EPSG:4326")).to_file(home / "new.gpkg", layer="area")
    (home / "junk.gpkg").write_bytes(b"\x00\x01 not a package")
    (home / "areas").mkdir()
    return [("two.gpkg", "two.gpkg: holds 2 polygon layers (east, west), expected 1"),
            ("points.gpkg", "points.gpkg: geometry must be a Polygon or MultiPolygon, got Point"),
            ("noprj.shp", "noprj.shp: layer 'noprj' declares no CRS (a shapefile needs its .prj beside it)"),
            ("junk.gpkg", "junk.gpkg: not a GeoJSON file nor a vector file GDAL can read"),
            # a layer created in QGIS and saved before the area was drawn in it (was "the FeatureCollection ...")
            ("new.gpkg", "new.gpkg: layer 'area' holds no features (draw the area in it and save the edits)"),
            ("missing.gpkg", "missing.gpkg: AOI file does not exist"),
            ("areas", "areas: is a folder; --aoi takes an AOI id or a polygon file")]


def test_files_that_are_no_single_polygon_layer_are_refused_naming_why(user):
    for file_name, message in bad_files(user.home):
        result = user("run", "--aoi", file_name, "--source", str(DEMO_CATALOG), "--before", "2015-08-21",
                      "--after", "2017-10-14", "--out", "out")
        assert result.returncode == 1, (file_name, result.output)
        assert message in result.stderr and "Traceback" not in result.stderr
        assert not (user.home / "out").exists()


KML_FOLDERS = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Survey</name>
<Folder><name>Pins</name><Placemark><name>Gate</name><Point><coordinates>-1.55,47.2,0</coordinates></Point></Placemark>
</Folder>
<Folder><name>Areas</name><Placemark><name>Quai Wilson</name><Polygon><outerBoundaryIs><LinearRing><coordinates>
{ring}</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></Folder>
</Document></kml>"""


def test_a_google_earth_kml_with_a_folder_of_pins_beside_the_area_is_the_area(user):
    """Google Earth saves each folder as a KML layer of no declared geometry type ("Unknown"): the one holding
    polygons is the area (it was refused as "holds 0 polygon layers")."""
    ring = " ".join(f"{lon},{lat},0" for lon, lat in DRAWN_RING)
    (user.home / "survey.kml").write_text(KML_FOLDERS.format(ring=ring))
    result = user("run", "--aoi", "survey.kml", "--source", str(DEMO_CATALOG), "--before", "2015-08-21",
                  "--after", "2017-10-14", "--out", "out")
    assert result.returncode == 0, result.output
    aoi = json.loads((user.home / "out" / "aoi.geojson").read_text())["features"][0]
    assert (aoi["properties"]["id"], aoi["properties"]["name"]) == ("survey", "Quai Wilson")
    assert shape(aoi["geometry"]).symmetric_difference(DRAWN).area < 1e-12
    second = KML_FOLDERS.format(ring=ring).replace("</Document>", "<Folder><name>Quay 2</name><Placemark><Polygon>"
                                                   f"<outerBoundaryIs><LinearRing><coordinates>{ring}</coordinates>"
                                                   "</LinearRing></outerBoundaryIs></Polygon></Placemark></Folder>"
                                                   "</Document>")
    (user.home / "two areas.kml").write_text(second)
    result = user("aoi", "show", "two areas.kml")
    assert result.returncode == 1
    assert "two areas.kml: holds 2 polygon layers (Areas, Quay 2), expected 1" in result.stderr


@pytest.mark.parametrize("typed", ["harbour.kmz", "harbour.zip", "areas/harbour", "./harbour"])
def test_a_mistyped_file_name_is_said_to_be_missing_not_an_unknown_aoi_id(user, typed):
    """No AOI id has a suffix or a folder in it: Google Earth's .kmz and a zipped shapefile were taken for ids."""
    result = user("run", "--aoi", typed, "--source", str(DEMO_CATALOG), "--before", "2015-08-21", "--after",
                  "2017-10-14", "--out", "out")
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: {typed}: AOI file does not exist"
    assert not (user.home / "out").exists()


def test_google_earths_kmz_and_a_zipped_shapefile_are_read(user):
    save_layer(user.home / "harbour.kml")
    with zipfile.ZipFile(user.home / "harbour.kmz", "w") as kmz:
        kmz.write(user.home / "harbour.kml", "doc.kml")
    save_layer(user.home / "quay.shp", "EPSG:2154")
    with zipfile.ZipFile(user.home / "quay.zip", "w") as archive:
        for part in user.home.glob("quay.*"):
            if part.suffix != ".zip":
                archive.write(part, part.name)
    for name in ("harbour.kmz", "quay.zip"):
        result = user("aoi", "show", name)
        assert result.returncode == 0, result.output
        shown = json.loads(result.stdout)
        assert (shown["id"], shown["name"]) == (name.split(".")[0], "Quai Wilson")
        assert shape(shown["geometry"]).symmetric_difference(DRAWN).area < 1e-12


def test_a_pin_beside_the_area_in_one_file_is_ignored_with_a_warning(user):
    """A marker dropped in geojson.io, a pin in the same Google Earth folder: the area is the polygon (both were
    refused as 'feature 1: geometry must be a Polygon or MultiPolygon, got Point')."""
    pin = {"type": "Feature", "properties": {"name": "Gate"}, "geometry": {"type": "Point", "coordinates": [-1.55, 47.2]}}
    area = {"type": "Feature", "properties": {"name": "Quai Wilson"}, "geometry": mapping(DRAWN)}
    (user.home / "marked.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [pin, area]}))
    ring = " ".join(f"{lon},{lat},0" for lon, lat in DRAWN_RING)
    (user.home / "pinned.kml").write_text(KML_FOLDERS.format(ring=ring).replace("</Folder>\n<Folder><name>Areas</name>",
                                                                                  ""))
    for name in ("marked.geojson", "pinned.kml"):
        result = user("run", "--aoi", name, "--source", str(DEMO_CATALOG), "--before", "2015-08-21", "--after",
                      "2017-10-14", "--out", name.split(".")[0])
        assert result.returncode == 0, result.output
        assert f"warning: {name}: 1 feature(s) of no area ignored (Point): the AOI is the polygons'" in result.stderr
        aoi = json.loads((user.home / name.split(".")[0] / "aoi.geojson").read_text())["features"][0]
        assert (aoi["properties"]["name"], aoi["properties"]["source"]) == ("Quai Wilson",
                                                                            f"drawn area ({name}, 1 feature(s))")
        assert shape(aoi["geometry"]).symmetric_difference(DRAWN).area < 1e-12


def test_a_placemark_holding_its_area_and_a_pin_together_is_the_area(user):
    """A KML placemark of a MultiGeometry (a polygon with its point, as ArcGIS, My Maps and scripts write it) was
    refused: 'geometry must be a Polygon or MultiPolygon, got GeometryCollection'."""
    ring = " ".join(f"{lon},{lat},12" for lon, lat in DRAWN_RING)
    (user.home / "quay.kml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark>'
        "<name>Quai Wilson</name><MultiGeometry><Point><coordinates>-1.55,47.2,0</coordinates></Point><Polygon>"
        f"<outerBoundaryIs><LinearRing><coordinates>{ring}</coordinates></LinearRing></outerBoundaryIs></Polygon>"
        "</MultiGeometry></Placemark></Document></kml>")
    result = user("run", "--aoi", "quay.kml", "--source", str(DEMO_CATALOG), "--before", "2015-08-21", "--after",
                  "2017-10-14", "--out", "quay")
    assert result.returncode == 0, result.output
    assert "warning: quay.kml: part(s) of no area ignored (Point): the AOI is the polygons'" in result.stderr
    aoi = json.loads((user.home / "quay" / "aoi.geojson").read_text())["features"][0]
    assert aoi["properties"]["name"] == "Quai Wilson"
    assert shape(aoi["geometry"]).symmetric_difference(DRAWN).area < 1e-12
