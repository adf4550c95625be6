"""An analyst's own area as other tools write it: a polygon with a hole wound like its exterior, parts far apart,
an area smaller than the minimum, a file saved with a byte-order mark or in Latin-1. Each is either taken with
its true area or refused in one line naming the file and what is wrong, before any work."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from pyproj import Geod
from shapely.geometry import box, mapping, shape

from tests.conftest import REPO
from tests.flows.conftest import DEMO_CATALOG, DRAWN_RING, drawn_aoi

GEOD = Geod(ellps="WGS84")
OUTER = [[-1.565, 47.19], [-1.525, 47.19], [-1.525, 47.22], [-1.565, 47.22], [-1.565, 47.19]]
# counter-clockwise, as its exterior: geojson.io's and many scripts' output; RFC 7946 asks for clockwise holes
HOLE = [[-1.55, 47.2], [-1.54, 47.2], [-1.54, 47.21], [-1.55, 47.21], [-1.55, 47.2]]


def box_km2(ring: list[list[float]]) -> float:
    (x0, y0), (x1, y1) = ring[0], ring[2]
    return abs(GEOD.geometry_area_perimeter(box(x0, y0, x1, y1))[0]) / 1e6


def save(path, geometry: dict) -> None:
    path.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": geometry}))


def run_demo(user, aoi: str):
    return user("run", "--aoi", aoi, "--source", str(DEMO_CATALOG), "--before", "2015-08-21", "--after",
                "2017-10-14", "--out", "out")


def test_a_hole_wound_like_its_exterior_is_taken_out_of_the_area(user):
    save(user.home / "quay.geojson", {"type": "Polygon", "coordinates": [OUTER, HOLE]})
    result = user("aoi", "show", "quay.geojson")
    assert result.returncode == 0, result.output
    expected = box_km2(OUTER) - box_km2(HOLE)  # 10.11 - 0.84 km2; the hole was added before (10.95)
    assert json.loads(result.stdout)["area_km2"] == round(expected, 3)


def test_parts_drawn_far_apart_are_refused_before_any_work(user):
    """Two small areas in Nantes and Paris: 12 km2 of polygons, but a job's grid covers their 290 x 187 km
    extent; it ran for over ten minutes at 1.9 GB and was stopped."""
    paris = [[2.3, 48.85], [2.33, 48.85], [2.33, 48.87], [2.3, 48.87], [2.3, 48.85]]
    drawn_aoi(user.home / "two cities.geojson", [DRAWN_RING, paris])
    for command in (("aoi", "show", "two cities.geojson"), ("scenes", "search", "--aoi", "two cities.geojson",
                    "--source", str(DEMO_CATALOG), "--from", "2015-01-01", "--to", "2018-01-01")):
        result = user(*command)
        assert result.returncode == 1, result.output
        assert result.stderr.strip().splitlines() == [
            "Error: two cities.geojson: the area's extent is 290 x 187 km (54,249 km2), over the 15,000 km2 one "
            "job's grid covers; its parts lie far apart: give each its own AOI file"]
    result = run_demo(user, "two cities.geojson")
    assert result.returncode == 1 and "extent is 290 x 187 km" in result.stderr and "Traceback" not in result.output
    assert not (user.home / "out").exists()


def test_an_area_below_the_minimum_says_so_not_that_lon_lat_may_be_swapped(user):
    save(user.home / "one pixel.geojson", mapping(box(-1.55, 47.2, -1.5499, 47.2001)))  # 7.6 x 11.1 m
    result = run_demo(user, "one pixel.geojson")
    assert result.returncode == 1, result.output
    assert result.stderr.strip() == ("Error: one pixel.geojson: area 84 m2 is below the minimum of 10,000 m2 "
                                     "(100 pixels of 10 m, a 100 m square): draw a larger area")
    assert not (user.home / "out").exists()
    # lon/lat under a stale 'crs' member in metres (UTM): a few square centimetres, which no one draws
    drawn_aoi(user.home / "stale crs.geojson", crs="EPSG:32630")
    result = run_demo(user, "stale crs.geojson")
    assert result.returncode == 1, result.output
    assert result.stderr.strip() == ("Error: stale crs.geojson: area 0 m2 is below the minimum of 10,000 m2 (100 "
                                     "pixels of 10 m, a 100 m square): lon/lat degrees read as metres? check the "
                                     "file's CRS")
    assert not (user.home / "out").exists()


def test_a_geojson_saved_with_a_byte_order_mark_is_read(user):
    """Notepad, PowerShell's Out-File and some exports start UTF-8 with a BOM; GDAL and QGIS read such files."""
    path = drawn_aoi(user.home / "harbour.geojson", properties={"name": "Quai de la Fosse"})
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result = user("scenes", "search", "--aoi", "harbour.geojson", "--source", str(DEMO_CATALOG), "--from",
                  "2015-01-01", "--to", "2018-01-01", "--json")
    assert result.returncode == 0, result.output
    found = json.loads(result.stdout)
    assert found["aoi"] == "harbour"
    assert {scene["id"]: scene["clear_fraction"] for scene in found["scenes"]} == {
        "S2A_30TXT_20150821_L1C_nantes": 1.0, "S2_30TXT_20171014_L1C_nantes": 1.0}
    shown = user("aoi", "show", "harbour.geojson")
    assert shown.returncode == 0 and json.loads(shown.stdout)["name"] == "Quai de la Fosse"


def test_a_latin_1_geojson_is_named_as_not_utf_8_and_a_binary_one_as_not_text(user):
    path = user.home / "quai.geojson"  # as an old export in the system's code page writes it
    text = json.dumps({"type": "Feature", "properties": {"name": "Quai été"},
                       "geometry": {"type": "Polygon", "coordinates": [DRAWN_RING]}}, ensure_ascii=False)
    path.write_bytes(text.encode("latin-1"))
    (user.home / "scene.geojson").write_bytes(b"II*\x00\x08\x00\x00\x00" + bytes(range(256)))  # a TIFF renamed
    at = path.read_bytes().index(b"\xe9") + 1
    for name, message in (("quai.geojson", f"not UTF-8 text (byte {at}); GeoJSON is UTF-8: save the file again "
                           "as UTF-8"), ("scene.geojson", "not a text file (GeoJSON is UTF-8 text)")):
        result = user("aoi", "show", name)
        assert result.returncode == 1, result.output
        assert result.stderr.strip() == f"Error: {name}: {message}"


def test_a_search_that_finds_nothing_in_a_catalog_says_where_its_scenes_are(user):
    """An area drawn 40 km east of the demo scenes, and dates after them: the empty table says why."""
    save(user.home / "east.geojson", mapping(box(-1.0, 47.19, -0.97, 47.215)))
    drawn_aoi(user.home / "harbour.geojson")
    for aoi, period, note in (
            ("east.geojson", ("2015-01-01", "2018-01-01"), "no scene of the catalog touches the AOI on any date (the "
             "AOI: lon -1.0000..-0.9700, lat 47.1900..47.2150; the catalog's 2 scenes: lon -1.5774..-1.5122, lat "
             "47.1756..47.2341)"),
            ("harbour.geojson", ("2030-01-01", "2031-01-01"),
             f"2030-01-01 is in the future (today is {datetime.now(timezone.utc).date()}); the catalog's 2 dates "
             "over the AOI: 2015-08-21, 2017-10-14")):
        result = user("scenes", "search", "--aoi", aoi, "--source", str(DEMO_CATALOG), "--from", period[0], "--to",
                      period[1], columns=400)
        assert result.returncode == 0, result.output
        assert result.stdout.startswith(f"0 scenes over {aoi.removesuffix('.geojson')}")
        assert f"none between {period[0]} and {period[1]}; {note}" in result.stdout


def test_an_area_with_lon_and_lat_swapped_is_said_to_be_so(user):
    save(user.home / "swapped.geojson", {"type": "Polygon", "coordinates": [[[lat, lon] for lon, lat in DRAWN_RING]]})
    result = run_demo(user, "swapped.geojson")  # off Somalia: a valid lon/lat area, nowhere near the scenes
    assert result.returncode == 1, result.output
    assert result.stderr.strip().endswith(
        "no scene of the catalog touches the AOI on any date (the AOI: lon 47.1900..47.2150, lat -1.5650..-1.5350; "
        "the catalog's 2 scenes: lon -1.5774..-1.5122, lat 47.1756..47.2341; with its lon and lat swapped the AOI "
        "would lie over them)")
    assert not (user.home / "out").exists()


BOW_TIE = [[-1.565, 47.19], [-1.525, 47.22], [-1.525, 47.19], [-1.565, 47.22], [-1.565, 47.19]]
SQUARE = [[-1.56, 47.2], [-1.55, 47.2], [-1.55, 47.21], [-1.56, 47.21], [-1.56, 47.2]]
OVERLAPPING = [[-1.555, 47.205], [-1.54, 47.205], [-1.54, 47.215], [-1.555, 47.215], [-1.555, 47.205]]


def test_a_ring_crossing_itself_among_several_features_is_named_not_an_internal_error(user):
    drawn_aoi(user.home / "sketch.geojson", [BOW_TIE, SQUARE])  # GEOS could not union it: exit 2 before
    result = run_demo(user, "sketch.geojson")
    assert result.returncode == 1, result.output
    assert result.stderr.strip() == ("Error: sketch.geojson: feature 1: invalid polygon "
                                     "(Self-intersection[-1.545 47.205]): its edges cross (a bow-tie): move the "
                                     "corners so they do not, or let QGIS split it (Vector > Geometry Tools > Fix "
                                     "Geometries)")
    assert not (user.home / "out").exists()


def test_overlapping_parts_of_one_multipart_feature_are_one_area_as_two_features_are(user):
    """QGIS keeps a multi-part feature whose parts overlap; as two features they were merged, as one refused."""
    save(user.home / "multipart.geojson", {"type": "MultiPolygon", "coordinates": [[SQUARE], [OVERLAPPING]]})
    drawn_aoi(user.home / "two features.geojson", [SQUARE, OVERLAPPING])
    union = box(-1.56, 47.2, -1.55, 47.21).union(box(-1.555, 47.205, -1.54, 47.215))
    expected = abs(GEOD.geometry_area_perimeter(union)[0]) / 1e6
    for name in ("multipart.geojson", "two features.geojson"):
        result = user("aoi", "show", name)
        assert result.returncode == 0, result.output
        shown = json.loads(result.stdout)
        assert shown["area_km2"] == round(expected, 3)
        assert shape(shown["geometry"]).symmetric_difference(union).area < 1e-12


def test_an_area_named_after_a_registry_aoi_elsewhere_is_refused_a_redrawn_one_is_taken(user):
    """'musudan.geojson' drawn over Nantes took the id of the registry's Musudan (North Korea), and the claims naming
    it would have been judged on Nantes; an outline of the same place redrawn keeps its claims."""
    drawn_aoi(user.home / "Musudan.geojson")
    result = run_demo(user, "Musudan.geojson")
    assert result.returncode == 1, result.output
    line, = result.stderr.strip().splitlines()
    assert line.startswith("Error: Musudan.geojson: its id 'musudan' is that of the AOI ")
    assert line.endswith("aoi/musudan.geojson, 9,128 km away, so the claims naming 'musudan' would be judged on "
                         "this area; rename the file or give it another 'id' property")
    assert not (user.home / "out").exists()
    registry = json.loads((REPO / "aoi" / "demo-nantes-port.geojson").read_text())
    registry["geometry"]["coordinates"][0][1] = [-1.515, 47.184]  # a corner moved 400 m east
    (user.home / "port.geojson").write_text(json.dumps(registry))
    result = run_demo(user, "port.geojson")
    assert result.returncode == 0, result.output
    verdicts = json.loads((user.home / "out" / "claims.json").read_text())
    assert [(v["claim_id"], v["aoi_id"]) for v in verdicts] == [("demo-nantes-construction", "demo-nantes-port")]


def recheck_demo(user, aoi: str):
    return user("recheck", "--store", "store.gpkg", "--aoi", aoi, "--source", str(DEMO_CATALOG))


def store_state(home) -> dict[str, bytes]:
    """Every file of the store: the GeoPackage, its lock, its outputs folder."""
    return {str(p.relative_to(home)): p.read_bytes() for p in home.rglob("*")
            if p.is_file() and p.relative_to(home).parts[0].startswith("store")}


def test_a_recheck_of_an_area_named_after_a_registry_aoi_elsewhere_is_refused_a_redrawn_one_is_taken(user):
    """As by ``geo run``: 'musudan.geojson' drawn over Nantes would have started a chain of Musudan's claims on
    Nantes. Refused before the store is created, and with a store, nothing of it or its outputs changes."""
    drawn_aoi(user.home / "musudan.geojson")
    expected = [f"Error: musudan.geojson: its id 'musudan' is that of the AOI {REPO / 'aoi' / 'musudan.geojson'}, "
                "9,128 km away, so the claims naming 'musudan' would be judged on this area; rename the file or give "
                "it another 'id' property"]
    result = recheck_demo(user, "musudan.geojson")
    assert result.returncode == 1, result.output
    assert result.stderr.strip().splitlines() == expected
    assert sorted(p.name for p in user.home.iterdir()) == ["musudan.geojson"]  # no store, lock or outputs
    registry = json.loads((REPO / "aoi" / "demo-nantes-port.geojson").read_text())
    registry["geometry"]["coordinates"][0][1] = [-1.515, 47.184]  # a corner moved 400 m east: the same place
    (user.home / "port.geojson").write_text(json.dumps(registry))
    result = recheck_demo(user, "port.geojson")
    assert result.returncode == 0, result.output
    assert "claim demo-nantes-construction on demo-nantes-port: consistent with the claim" in result.stdout
    before = store_state(user.home)
    assert "store.gpkg" in before and "store-outputs/runs/000001/summary.json" in before
    result = recheck_demo(user, "musudan.geojson")
    assert result.returncode == 1, result.output
    assert result.stderr.strip().splitlines() == expected
    assert store_state(user.home) == before


def test_an_outline_of_no_area_is_said_to_enclose_none_not_to_be_a_bow_tie(user):
    """Corners clicked along one line (a road, a quay's edge) enclose nothing: GEOS calls that a
    'Self-intersection' and the line said 'its edges cross (a bow-tie)', which sent the user looking for a crossing."""
    line = [[-1.57, 47.185], [-1.55, 47.185], [-1.52, 47.185], [-1.57, 47.185]]
    save(user.home / "quay edge.geojson", {"type": "Polygon", "coordinates": [line]})
    result = run_demo(user, "quay edge.geojson")
    assert result.returncode == 1, result.output
    assert result.stderr.strip() == ("Error: quay edge.geojson: invalid polygon: it encloses no area (its corners lie "
                                     "on one line): draw the area's outline, three corners or more around it")
    assert "bow-tie" not in result.stderr and not (user.home / "out").exists()


def test_polygon_coordinates_one_bracket_short_say_how_they_nest(user):
    """A ring typed without its outer brackets was 'malformed geometry ('float' object is not iterable)'."""
    save(user.home / "typed.geojson", {"type": "Polygon", "coordinates": OUTER})
    result = run_demo(user, "typed.geojson")
    assert result.returncode == 1, result.output
    assert result.stderr.strip() == ("Error: typed.geojson: malformed Polygon: its coordinates are a list of rings, "
                                     "each a list of [longitude, latitude] positions: [[[lon, lat], [lon, lat], ...]]")
    save(user.home / "typed.geojson", {"type": "MultiPolygon", "coordinates": [OUTER]})
    result = user("aoi", "show", "typed.geojson")
    assert result.returncode == 1 and "Traceback" not in result.output, result.output
    assert result.stderr.strip() == ("Error: typed.geojson: malformed MultiPolygon: its coordinates are a list of "
                                     "polygons, each a list of rings of [longitude, latitude] positions: "
                                     "[[[[lon, lat], [lon, lat], ...]]]")
    assert not (user.home / "out").exists()


def test_a_position_without_two_finite_numbers_is_named(user):
    """A script writing NaN or Infinity (Python's json does), or a null, into a ring: Infinity was an internal error
    (exit 2, GEOSException), NaN printed numpy's RuntimeWarning before its line, a null said 'malformed geometry
    (...)' in Python's words."""
    for value, shown in ((float("inf"), "Infinity"), (float("nan"), "NaN"), (None, "null")):
        ring = [list(p) for p in OUTER]
        ring[2] = [-1.525, value]
        save(user.home / "scripted.geojson", {"type": "Polygon", "coordinates": [ring]})
        result = run_demo(user, "scripted.geojson")
        assert (result.returncode, result.stdout) == (1, ""), result.output
        assert result.stderr.strip() == (f"Error: scripted.geojson: malformed Polygon: position [-1.525, {shown}] is "
                                         "not [longitude, latitude] (two finite numbers)")
    assert not (user.home / "out").exists()


def test_positions_with_heights_on_some_corners_or_a_measure_are_read_as_lon_lat(user):
    """Heights on some corners only (a hand-edited file) or [lon, lat, height, measure] positions stopped shapely
    ('inhomogeneous shape', 'dimension should be 2 or 3'): heights are dropped anyway."""
    mixed = [[*p, 12.5] if i % 2 else p for i, p in enumerate(OUTER[:-1])] + [OUTER[0]]
    measured = [[*p, 12.5, 7] for p in OUTER]
    for ring in (mixed, measured):
        save(user.home / "heights.geojson", {"type": "Polygon", "coordinates": [ring]})
        result = user("aoi", "show", "heights.geojson")
        assert result.returncode == 0, result.output
        assert json.loads(result.stdout)["area_km2"] == round(box_km2(OUTER), 3)


def test_a_geojson_type_missing_or_in_lower_case_says_so(user):
    """A hand-typed 'polygon', or no "type" at all, said "got type None" in Python's words."""
    for data, says in (({"type": "polygon", "coordinates": [OUTER]},
                        "got type 'polygon' (GeoJSON types are case-sensitive: 'Polygon')"),
                       ({"geometry": {"type": "Polygon", "coordinates": [OUTER]}}, "it has no 'type' member")):
        (user.home / "typed.geojson").write_text(json.dumps(data))
        result = run_demo(user, "typed.geojson")
        assert (result.returncode, result.stdout) == (1, ""), result.output
        assert result.stderr.strip() == ("Error: typed.geojson: expected a GeoJSON Feature, FeatureCollection, "
                                         f"Polygon or MultiPolygon; {says}")
    assert not (user.home / "out").exists()
