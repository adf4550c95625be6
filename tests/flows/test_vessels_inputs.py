"""`geo vessels` given inputs that cannot mean what the user thinks: refused before any scene is read, one line
naming the input, exit 1, nothing written."""

from __future__ import annotations

import csv
import json

from tests.flows.conftest import DEMO_CATALOG

PERIOD = ("--aoi", "demo-nantes-port", "--from", "2015-08-21", "--to", "2017-10-14", "--source", str(DEMO_CATALOG))


def refused(user, *args: str) -> str:
    out = user.home / "ships"
    result = user("vessels", *PERIOD, *args, "--out", str(out))
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output and not result.stdout
    assert not out.exists() and not list(user.home.glob(".ships*"))
    line, = result.stderr.strip().splitlines()
    return line


def polygon_layer(path, ring):
    feature = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def test_a_land_layer_away_from_the_aoi_is_refused(user):
    # Lon/lat swapped (47.2 E, -1.55 N: off Somalia, not Nantes): it would mask no land of the AOI.
    swapped = polygon_layer(user.home / "land.geojson", [[47.19, -1.56], [47.21, -1.56], [47.21, -1.54], [47.19, -1.54],
                                                          [47.19, -1.56]])
    line = refused(user, "--land", str(swapped))
    assert line == (f"Error: {swapped}: no polygon of the land layer overlaps AOI 'demo-nantes-port' (lon -1.57..-1.52, "
                    "lat 47.185..47.225; wrong file, or a CRS it does not declare?)")


def test_a_land_file_gdal_cannot_read_gets_gdal_s_reason_only(user):
    text = user.home / "land.geojson"
    text.write_text("quay walls, hand-typed\n")
    line = refused(user, "--land", str(text))
    assert line == f"Error: {text}: cannot read land layer ('{text}' not recognized as being in a supported file format.)"


def test_a_claim_that_expects_no_vessels_is_refused(user):
    line = refused(user, "--claim", "demo-nantes-construction")
    assert line == ("Error: --claim demo-nantes-construction: expects new_construction, cleared_land, not "
                    "large_vessels_at_berth; geo vessels tests vessel claims only (geo run tests the others)")


def _layers(path, **layers):
    """A GeoPackage of one layer per keyword (name -> lon/lat geometries), as QGIS saves a project's layers."""
    import geopandas as gpd

    for name, geometries in layers.items():
        gpd.GeoDataFrame(geometry=geometries, crs="EPSG:4326").to_file(path, layer=name)
    return path


QUAY = [(-1.56, 47.19), (-1.55, 47.19), (-1.55, 47.20), (-1.56, 47.20), (-1.56, 47.19)]


def test_a_geopackage_of_several_layers_gives_its_polygon_layer(user):
    """A GeoPackage holding a coastline (lines) before the land polygons: only its first layer was read, with
    pyogrio's 'More than one layer found' warning and its source line, then 'land layer holds no polygons'."""
    from shapely.geometry import LineString, Polygon

    gpkg = _layers(user.home / "port.gpkg", coastline=[LineString(QUAY)], land=[Polygon(QUAY)])
    result = user("vessels", *PERIOD, "--land", str(gpkg), "--out", "ships")
    assert result.returncode == 0, result.output
    assert "UserWarning" not in result.stderr and "layer" not in result.stderr, result.stderr
    masks = {row["land_mask"] for row in csv.DictReader((user.home / "ships" / "timeseries.csv").open())}
    assert masks == {"water-index-single-scene+layer"}, masks  # the land layer burnt in


def test_a_geopackage_of_two_polygon_layers_is_refused_naming_them(user):
    from shapely.geometry import Polygon

    gpkg = _layers(user.home / "port.gpkg", aoi=[Polygon(QUAY)], land=[Polygon(QUAY)])
    line = refused(user, "--land", str(gpkg))
    assert line == (f"Error: {gpkg}: holds 2 polygon layers (aoi, land), expected 1 (save the land layer alone, e.g. "
                    "QGIS Export > Save Features As)")
