from __future__ import annotations

import json

import pytest
from shapely.geometry import box, mapping

from geo.aoi import aoi_from_geojson, load_aoi, load_aois, resolve_aoi
from geo.errors import AOIError
from tests.conftest import REPO

REAL_AOIS = {
    "chongjin-port", "hungnam-port", "musudan", "vladivostok-port", "ussuriysk", "khabarovsk",
    "blagoveshchensk", "sergeevka-training-ground", "pokrovsk", "demo-nantes-port",
}


def feature(geometry, **props):
    return {"type": "Feature", "properties": {"id": "x", "name": "x", **props}, "geometry": geometry}


def test_project_aois_are_all_valid_and_in_place():
    aois = load_aois(REPO / "aoi")
    assert set(aois) == REAL_AOIS
    vladivostok = aois["vladivostok-port"]
    assert vladivostok.geometry.contains(box(131.88, 43.10, 131.90, 43.11))  # Golden Horn Bay
    assert 5 < vladivostok.area_km2 < 50
    assert all(a.approximate and a.source for a in aois.values() if a.kind != "demo")


def test_utm_grid_snaps_to_resolution_and_covers_aoi():
    aoi = load_aoi(REPO / "aoi" / "vladivostok-port.geojson")
    grid = aoi.utm_grid(10.0, margin_m=300)
    assert grid.crs.to_epsg() == 32652  # 131.9 E -> UTM zone 52N
    assert grid.transform.c % 10 == 0 and grid.transform.f % 10 == 0
    left, bottom, right, top = aoi.projected(grid.crs.to_string()).bounds
    g_left, g_bottom, g_right, g_top = grid.bounds
    assert g_left <= left - 300 and g_right >= right + 300 and g_bottom <= bottom - 300 and g_top >= top + 300


@pytest.mark.parametrize("lon, lat, epsg", [
    (5.33, 60.39, 32632), (2.9, 60.0, 32631), (12.1, 60.0, 32633), (5.33, 64.1, 32631),  # 32V spans 3-12°E
    (8.9, 78.0, 32631), (9.1, 78.0, 32633), (20.9, 78.0, 32633), (21.1, 78.0, 32635), (32.9, 78.0, 32635),
    (33.1, 78.0, 32637), (42.1, 78.0, 32638), (10.0, 71.9, 32632),  # Svalbard's band X, and just south of it
    (18.4, -33.9, 32734), (-179.99, 10.0, 32601), (180.0, 10.0, 32660),
])
def test_the_grid_zone_is_the_mgrs_one_sentinel2_tiles_use(lon, lat, epsg):
    from geo.grid import utm_crs_for

    assert utm_crs_for(lon, lat).to_epsg() == epsg


@pytest.mark.parametrize(
    "geometry, message",
    [
        (mapping(box(179.9, 10, 400.5, 10.1)), "out of lon/lat range"),  # past 180 is cut there; past 360 is not lon
        ({"type": "Polygon", "coordinates": [[[0, 80], [100, 80], [200, 80], [200, 80.01], [100, 80.01], [0, 80.01],
                                              [0, 80]]]}, "spans 200.0 degrees of longitude, over half the globe"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [0.05, 0.05], [0.05, 0], [0, 0.05], [0, 0]]]}, "invalid polygon"),
        (mapping(box(10, 10, 10.0001, 10.0001)), "below the minimum of 10,000 m2"),
        (mapping(box(0, 0, 5, 5)), "area 307,542 km2 is over the 15,000 km2 one job's grid covers"),
        ({"type": "Point", "coordinates": [1, 2]}, "Polygon or MultiPolygon"),
        ({"type": "Polygon", "coordinates": "nonsense"}, "malformed Polygon: its coordinates are a list of rings"),
    ],
)
def test_bad_geometries_are_refused_with_a_reason(geometry, message):
    with pytest.raises(AOIError, match=message):
        aoi_from_geojson(feature(geometry), "bad.geojson")


def test_malformed_json_names_file_and_position(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "Feature", "properties": {"id": "a"')
    with pytest.raises(AOIError, match=r"broken.geojson: malformed GeoJSON .* line 1"):
        load_aoi(path)


def test_a_line_break_inside_a_string_is_said_once_where(tmp_path):
    """json's message for it ends in "at" ("Invalid control character at"): it read "... at at line 1 column 15"."""
    path = tmp_path / "half.geojson"
    path.write_text('{"type": "Feat\n')
    with pytest.raises(AOIError) as caught:
        load_aoi(path)
    assert f"{path}: malformed GeoJSON (Invalid control character at line 1 column 15)" in str(caught.value)


def test_bad_id_and_kind_refused():
    with pytest.raises(AOIError, match="slug"):
        aoi_from_geojson(feature(mapping(box(0, 0, 0.05, 0.05)), id="Bad Id"), "f")
    with pytest.raises(AOIError, match="kind"):
        aoi_from_geojson(feature(mapping(box(0, 0, 0.05, 0.05)), kind="castle"), "f")


def test_duplicate_ids_and_unknown_reference(tmp_path):
    for name in ("a.geojson", "b.geojson"):
        (tmp_path / name).write_text(json.dumps(feature(mapping(box(0, 0, 0.05, 0.05)))))
    with pytest.raises(AOIError, match="already defined"):
        load_aois(tmp_path)
    with pytest.raises(AOIError, match="unknown AOI id 'nowhere'"):
        resolve_aoi("nowhere", REPO / "aoi")


def test_a_whole_sentinel2_tile_is_taken_and_a_larger_area_refused():
    """The limit is 15,000 km²: a whole tile (110 km square, ~12,000 km²) runs out of core in 2 GiB."""
    tile = aoi_from_geojson(feature(mapping(box(-1.6, 46.8, -0.16, 47.8))), "tile.geojson")
    assert 11_500 < tile.area_km2 < 12_500
    with pytest.raises(AOIError, match=r"area 15,\d\d\d km2 is over the 15,000 km2 one job's grid covers \(a whole Sentinel-2 tile is ~12,000 km2\); split it into smaller AOIs"):
        aoi_from_geojson(feature(mapping(box(-1.6, 46.8, 0.25, 47.8))), "wide.geojson")
