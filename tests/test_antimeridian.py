"""Lon/lat polygons across 180° (geo/antimeridian.py): cut there as RFC 7946 (3.1.9) wants, read as one area
(centre, extent, UTM grid) by the AOI. An AOI cut at 180 was refused ("spans 360.0 degrees ... split it")."""

from __future__ import annotations

import pytest
from shapely.geometry import MultiPolygon, Polygon, box, mapping

from geo.antimeridian import bbox, centre, cut_at_antimeridian, needs_cut, union_bbox, unwrapped
from geo.aoi import aoi_from_geojson, geodesic_area_m2

SPLIT = MultiPolygon([box(179.94, 68.9, 180.0, 68.93), box(-180.0, 68.9, -179.96, 68.93)])


def feature(geometry: dict) -> dict:
    return {"type": "Feature", "properties": {"id": "egvekinot", "kind": "port"}, "geometry": geometry}


@pytest.mark.parametrize("drawn", [
    box(179.94, 68.9, 180.04, 68.93),  # past 180, as some tools write an area across it
    box(-180.06, 68.9, -179.96, 68.93),  # past -180
    Polygon([(179.94, 68.9), (-179.96, 68.9), (-179.96, 68.93), (179.94, 68.93)]),  # uncut: read the short way
])
def test_a_polygon_across_180_is_cut_there(drawn):
    cut = cut_at_antimeridian(drawn)
    assert cut.equals(SPLIT) and not needs_cut(cut)
    west, _, east, _ = cut.bounds
    assert (west, east) == (-180.0, 180.0)


def test_a_cut_polygon_and_one_clear_of_180_are_kept_as_they_are():
    assert cut_at_antimeridian(SPLIT) is SPLIT
    assert cut_at_antimeridian(box(10, 10, 11, 11)).equals(box(10, 10, 11, 11))
    assert cut_at_antimeridian(box(190, 10, 191, 10.1)).equals(box(-170, 10, -169, 10.1))  # a turn east


def test_a_hole_past_180_stays_a_hole():
    drawn = Polygon(box(179.9, 10, 180.1, 10.1).exterior.coords, [box(179.95, 10.02, 180.05, 10.05).exterior.coords])
    cut = cut_at_antimeridian(drawn)
    assert isinstance(cut, MultiPolygon) and all(len(p.interiors) == 0 for p in cut.geoms)  # the hole is cut too
    assert cut.area == pytest.approx(0.2 * 0.1 - 0.1 * 0.03)
    assert geodesic_area_m2(cut) == pytest.approx(geodesic_area_m2(drawn), rel=1e-5)


def test_a_cut_area_reads_as_one():
    assert unwrapped(SPLIT).equals(box(179.94, 68.9, 180.04, 68.93))
    lon, lat = centre(SPLIT)
    assert lon == pytest.approx(179.99) and lat == pytest.approx(68.915)
    assert centre(box(-179.99, 0, -179.95, 1))[0] == pytest.approx(-179.97)
    assert bbox(SPLIT) == pytest.approx((179.94, 68.9, -179.96, 68.93))  # RFC 7946 5.2: west over east
    assert bbox(box(10, 10, 11, 11)) == (10, 10, 11, 11)


def test_an_aoi_cut_at_180_is_one_area_on_one_grid():
    """It was refused; its grid would have been in zone 31 (the parts' plain centroid is near 0°), 360° wide."""
    aoi = aoi_from_geojson(feature(mapping(SPLIT)), "egvekinot.geojson")
    assert aoi.geometry.equals(SPLIT)
    assert aoi.area_km2 == pytest.approx(geodesic_area_m2(box(179.94, 68.9, 180.04, 68.93)) / 1e6, rel=1e-5)
    grid = aoi.utm_grid(10.0)
    assert grid.crs.to_epsg() == 32660
    assert 4000 < grid.width * 10 < 4300 and 3300 < grid.height * 10 < 3600  # 0.1° x 0.03° at 68.9°N, not 360°
    assert aoi.pixel_mask(grid).sum() * 100 / 1e6 == pytest.approx(aoi.area_km2, rel=0.01)  # both parts, no gap


def test_an_aoi_drawn_past_180_is_the_cut_one():
    aoi = aoi_from_geojson(feature(mapping(box(179.94, 68.9, 180.04, 68.93))), "past.geojson")
    assert aoi.geometry.equals(SPLIT) and aoi.utm_grid(10.0).crs.to_epsg() == 32660


def test_a_drawn_area_cut_at_180_is_named_at_its_distance_from_a_registry_aoi_of_its_id():
    """The distance was measured from the cut parts' plain centroid, near lon 0: thousands of km, not 38."""
    from geo.aoi import AOI, check_same_place
    from geo.errors import AOIError

    drawn = AOI("egvekinot", "drawn", "", "other", SPLIT, "drawn area")
    registry = {"egvekinot": AOI("egvekinot", "Egvekinot", "RU", "port", box(179.0, 68.9, 179.1, 68.93), "registry")}
    with pytest.raises(AOIError, match=r", 38 km away, "):
        check_same_place(drawn, registry)


def test_areas_together_span_the_shorter_way_round():
    either_side = [box(179.4, 60, 179.6, 61), box(-179.6, 59, -179.4, 60)]
    assert union_bbox(either_side) == (179.4, 59, -179.4, 61)  # 1.2 degrees across 180, not 359.2 across 0
    assert union_bbox([box(10, 0, 11, 1), box(-11, 0, -10, 1)]) == (-11, 0, 11, 1)  # across 0: as plain bounds
    # the widest gap (-169 to 10, 179 degrees) left out: from 10 east across 180 to -169
    assert union_bbox([box(-170, 0, -169, 1), box(10, 0, 11, 1), box(170, 0, 171, 1)]) == (10, 0, -169, 1)
    # an area cut at 180 is one arc: with one just west of it, the box runs from that one's west
    cut = MultiPolygon([box(179.94, 1, 180, 2), box(-180, 1, -179.96, 2)])
    assert union_bbox([cut, box(179.5, 1, 179.6, 2)]) == (179.5, 1, -179.96, 2)
    assert union_bbox([box(-180, 0, 180, 1)]) == (-180, 0, 180, 1)  # no gap: the whole circle
    assert union_bbox([]) == (-180, -90, 180, 90)


@pytest.mark.parametrize("drawn, pole", [
    (box(-180.0, 89.5, 180.0, 90.0), "North Pole"),  # a cap as a lon/lat box: an edge along a whole parallel
    (box(-180.0, -90.0, 180.0, -77.0), "South Pole"),
    (Polygon([(0.0, 85.0), (90.0, 85.0), (180.0, 85.0), (-90.0, 85.0)]), "North Pole"),  # a ring circling it
])
def test_an_area_around_a_pole_is_refused_naming_the_pole(drawn, pole):
    """Read as a plane such a ring encloses nothing: its area was 0 m2, 'lon/lat degrees read as metres?'."""
    from geo.errors import AOIError

    with pytest.raises(AOIError, match=f"^t: the polygon goes around the {pole} .*do not image the poles"):
        aoi_from_geojson(feature(mapping(drawn)), "t")


@pytest.mark.parametrize("rings", [
    # two areas drawn across 180 uncut, overlapping: their plain union was taken of the planar readings (each
    # spanning the globe the long way), which read the short way again lost the first's strip beside the second
    [[(179.94, 68.9), (-179.96, 68.9), (-179.96, 68.93), (179.94, 68.93)],
     [(179.96, 68.92), (-179.98, 68.92), (-179.98, 68.95), (179.96, 68.95)]],
    # an area drawn up to 180 whose last corners a reprojection wrote as -180 (QGIS from UTM 60N), and the area
    # beyond it: the first, read the long way, swallowed the second and half the area was lost
    [[(179.94, 68.9), (-180.0, 68.9), (-180.0, 68.93), (179.94, 68.93)],
     [(-180.0, 68.9), (-179.96, 68.9), (-179.96, 68.93), (-180.0, 68.93)]],
])
def test_features_across_180_are_each_cut_before_their_union(tmp_path, rings):
    from shapely import union_all

    from geo.aoi import drawn_aoi_from_geojson

    data = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": mapping(Polygon(ring))} for ring in rings]}
    aoi = drawn_aoi_from_geojson(data, tmp_path / "chukotka.geojson")
    turned = [Polygon([(x + 360 if x < 0 else x, y) for x, y in ring]) for ring in rings]
    expected = union_all(turned)
    assert aoi.area_km2 == pytest.approx(geodesic_area_m2(expected) / 1e6, rel=1e-4)
    assert unwrapped(aoi.geometry).symmetric_difference(expected).area < 1e-9
