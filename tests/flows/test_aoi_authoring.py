"""An analyst writing AOI files by hand or exporting them, with the slips people make: lat before lon, a layer
in Web Mercator, an old ``crs`` member, Notepad's UTF-16, an area larger than a job holds. Each refusal is one
line naming the file and what to do (exit 1, no traceback); what is right is taken as drawn."""

from __future__ import annotations

import json
import sys

import pytest

from tests.flows.conftest import DRAWN_RING, registry_aoi

VLADIVOSTOK = [[131.85, 43.08], [131.95, 43.08], [131.95, 43.13], [131.85, 43.13], [131.85, 43.08]]
LAT_FIRST = [[lat, lon] for lon, lat in VLADIVOSTOK]


def mercator(ring: list[list[float]]) -> list[list[float]]:
    """``ring`` in Web Mercator metres, as a QGIS project in EPSG:3857 exports it."""
    from pyproj import Transformer

    to_metres = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    return [list(to_metres.transform(lon, lat)) for lon, lat in ring]


MERCATOR = mercator(DRAWN_RING)  # Nantes


def refusal(result, path: str) -> str:
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output and result.stdout == ""
    line, = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: {path}: "), line
    return line.removeprefix(f"Error: {path}: ")


def feature(ring: list[list[float]], **members: object) -> str:
    return json.dumps({"type": "Feature", "properties": {"id": "my-port", "name": "My port", "kind": "port"},
                       "geometry": {"type": "Polygon", "coordinates": [ring]}, **members})


@pytest.mark.parametrize("ring, says", [
    (LAT_FIRST, "latitude 131.95 is beyond ±90 while the longitudes are within it: lon and lat swapped? GeoJSON "
                "positions are [longitude, latitude]"),
    (MERCATOR, "these look like metres of a projected CRS (Web Mercator, UTM): save the layer in EPSG:4326 (QGIS: "
               "Export > Save Features As, CRS EPSG:4326)"),
])
def test_coordinates_beyond_lon_lat_say_what_they_look_like(user, ring, says):
    """Both were "coordinates out of lon/lat range (bounds ...)" and no more; in aoi/ and drawn alike."""
    (user.home / "aoi").mkdir()
    (user.home / "aoi" / "port.geojson").write_text(feature(ring))
    line = refusal(user("aoi", "list", "--aoi-dir", "aoi"), "aoi/port.geojson")
    assert line.startswith("coordinates out of lon/lat range (bounds (") and line.endswith(
        f"AOIs are RFC 7946 lon/lat (EPSG:4326); {says}"), line
    (user.home / "port.geojson").write_text(feature(ring))
    assert refusal(user("aoi", "show", "port.geojson"), "port.geojson") == line


def test_a_crs_member_is_refused_in_aoi_and_honoured_in_a_drawn_file(user):
    """An old GeoJSON (2008) export with its Web Mercator coordinates: aoi/'s AOIs are lon/lat as the store
    keeps them, so the file is refused naming the CRS it declares; the same file given to --aoi is reprojected.
    A 'crs' member naming lon/lat (CRS84) is taken in aoi/."""
    (user.home / "aoi").mkdir()
    mercator = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    (user.home / "aoi" / "port.geojson").write_text(feature(MERCATOR, crs=mercator))
    assert refusal(user("aoi", "list", "--aoi-dir", "aoi"), "aoi/port.geojson") == (
        "its 'crs' member names 'urn:ogc:def:crs:EPSG::3857'; the AOIs of aoi/ are lon/lat (RFC 7946): save it in "
        "EPSG:4326 (QGIS: Export > Save Features As), or give the file to --aoi as it is (a drawn area's CRS is "
        "honoured)")
    (user.home / "port.geojson").write_text(feature(MERCATOR, crs=mercator))
    drawn = user("aoi", "show", "port.geojson")
    assert drawn.returncode == 0, drawn.output
    lon_lat = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    (user.home / "aoi" / "port.geojson").write_text(feature(DRAWN_RING, crs=lon_lat))
    listed = user("aoi", "show", "my-port", "--aoi-dir", "aoi")
    assert listed.returncode == 0, listed.output
    assert json.loads(listed.stdout)["area_km2"] == json.loads(drawn.stdout)["area_km2"] == 6.318


def test_an_area_over_the_limit_says_to_split_it_not_that_lon_lat_may_be_swapped(user):
    """Swapped lon/lat or metres read as degrees make no area larger: the hint misled."""
    (user.home / "region.geojson").write_text(feature([[-2.0, 47.0], [0.0, 47.0], [0.0, 48.5], [-2.0, 48.5],
                                                       [-2.0, 47.0]]))
    assert refusal(user("aoi", "show", "region.geojson"), "region.geojson") == (
        "area 25,009 km2 is over the 15,000 km2 one job's grid covers (a whole Sentinel-2 tile is ~12,000 km2); split "
        "it into smaller AOIs")


def test_a_utf16_aoi_file_says_so(user):
    """Notepad's 'Unicode' is UTF-16: it was "not a text file"."""
    (user.home / "aoi").mkdir()
    registry_aoi(user.home / "aoi" / "port.geojson", "my-port", "Mon port")
    path = user.home / "aoi" / "port.geojson"
    path.write_bytes(path.read_text().encode("utf-16"))
    assert refusal(user("aoi", "list", "--aoi-dir", "aoi"), "aoi/port.geojson") == (
        "UTF-16 text (Notepad's 'Unicode'); GeoJSON is UTF-8: save the file again as UTF-8 (Notepad: Save As, "
        "Encoding UTF-8)")


def test_winding_repeated_vertices_and_heights_leave_the_area_as_drawn(user):
    """These were right already: a clockwise ring (older tools), a vertex clicked twice and z values (a GPS
    track or Google Earth) give the same AOI as the plain ring."""
    clockwise = DRAWN_RING[::-1]
    doubled = [DRAWN_RING[0], *[v for v in DRAWN_RING[1:] for _ in (0, 1)]]
    heights = [[lon, lat, 12.5] for lon, lat in DRAWN_RING]
    areas = set()
    for name, ring in (("plain", DRAWN_RING), ("clockwise", clockwise), ("doubled", doubled), ("heights", heights)):
        (user.home / f"{name}.geojson").write_text(feature(ring))
        shown = user("aoi", "show", f"{name}.geojson")
        assert shown.returncode == 0, shown.output
        areas.add(json.loads(shown.stdout)["area_km2"])
    assert areas == {6.318}


def test_an_aoi_file_saved_as_txt_or_in_capitals_is_named_not_ignored(user):
    """'port.geojson.txt' (Notepad) or 'PORT.GEOJSON' (an old export) in aoi/ were skipped unseen: the AOI was
    'unknown'. The listing names them; another command warns and goes on."""
    (user.home / "aoi").mkdir()
    registry_aoi(user.home / "aoi" / "port.geojson.txt", "my-port", "Mon port")
    assert refusal(user("aoi", "list", "--aoi-dir", "aoi"), "aoi/port.geojson.txt") == (
        "not read: an AOI file's name ends in .geojson (rename it port.geojson)")
    (user.home / "aoi" / "port.geojson.txt").rename(user.home / "aoi" / "PORT.GEOJSON")
    registry_aoi(user.home / "aoi" / "quay.geojson", "my-quay", "Mon quai")
    shown = user("aoi", "show", "my-quay", "--aoi-dir", "aoi")
    assert shown.returncode == 0 and json.loads(shown.stdout)["id"] == "my-quay", shown.output
    assert shown.stderr.startswith("warning: aoi/PORT.GEOJSON: not read: an AOI file's name ends in .geojson (rename "
                                   "it PORT.geojson)")


def test_an_aoi_swapped_into_open_sea_is_said_to_be_unseen_with_where_it_would_be(user, flow_archive):
    """Nantes drawn lat first is valid lon/lat, in the Indian Ocean off Somalia, where no mission images: an
    archive (not a local catalog, which already says where its scenes are) found nothing and said only that."""
    (user.home / "quay.geojson").write_text(feature([[lat, lon] for lon, lat in DRAWN_RING]))
    searched = user("scenes", "search", "--aoi", "quay.geojson", "--from", "2015-01-01", "--to", "2018-01-01",
                    "--source", flow_archive.url)
    assert searched.returncode == 0, searched.output
    hint = ("the archive seems not to image the AOI's place (lon 47.1900..47.2150, lat "
            "-1.5650..-1.5350: open sea far from land, or beyond the mission's latitudes); with lon and lat swapped "
            "it would be at lon -1.5650..-1.5350, lat 47.1900..47.2150: GeoJSON positions are [longitude, latitude]")
    assert f"none between 2015-01-01 and 2018-01-01; {hint}" in " ".join(searched.stdout.split())
    ran = user("run", "--aoi", "quay.geojson", "--source", flow_archive.url, "--before", "2016-01-01", "--after",
               "2017-07-01", "--out", "out")
    assert ran.returncode == 1 and "Traceback" not in ran.output, ran.output
    line, = ran.stderr.strip().splitlines()
    assert line.startswith("Error: no scene over AOI 'my-port' on or before 2016-01-01 within 365 days in "), line
    assert line.endswith(f"; {hint}"), line
    assert not (user.home / "out").exists()


@pytest.mark.parametrize("text, says", [
    ('{"type": "Feature", "properties": {"id": "a",}, "geometry": null}',
     "(Expecting property name enclosed in double quotes at line 1 column 46); JSON allows no comma after the last "
     "member of an object or list" if sys.version_info < (3, 13) else  # 3.13's parser names the rule itself
     "(Illegal trailing comma before end of object at line 1 column 45)"),
    ("{'type': 'Feature'}", "(Expecting property name enclosed in double quotes at line 1 column 2); JSON strings "
                            'take double quotes "..."'),
    ('{"type": "Feature", // drawn by hand\n "properties": {}}',
     "(Expecting property name enclosed in double quotes at line 1 column 21); JSON allows no comments"),
    ('{"type": “Feature”}', '(Expecting value at line 1 column 10); typographic quotes (“ ” ‘ ’) do not quote a JSON '
                            'string: use straight ones "..."'),
    ("", "(Expecting value at line 1 column 1); the file is empty"),
])
def test_json_written_by_hand_says_what_json_wants(user, text, says):
    """A GeoJSON edited in a text editor: the parser's words name a position, not the rule broken there."""
    (user.home / "quay.geojson").write_text(text, encoding="utf-8")
    assert refusal(user("aoi", "show", "quay.geojson"), "quay.geojson") == f"malformed GeoJSON {says}"


def test_a_catalog_of_the_other_mission_is_said_to_hold_none_of_the_sensor_asked(user):
    """``--sensor s1`` over the demo catalog (Sentinel-2 only) said the archive seems not to image the place and
    that lon and lat may be swapped."""
    (user.home / "quay.geojson").write_text(feature(DRAWN_RING))
    searched = user("scenes", "search", "--aoi", "quay.geojson", "--from", "2015-01-01", "--to", "2018-01-01",
                    "--sensor", "s1", "--source", "demo")
    assert searched.returncode == 0, searched.output
    said = " ".join(searched.stdout.split())
    assert ("none between 2015-01-01 and 2018-01-01; the catalog holds no Sentinel-1 scene (it holds 2 Sentinel-2 "
            "scenes)") in said, said
    assert "swapped" not in said
    assert "date" not in searched.stdout.split("\n")[1]  # no header of an empty table under the title
    # the change job too: it said only "no Sentinel-1 scene ... in .../catalog.json"
    ran = user("run", "--aoi", "quay.geojson", "--sensor", "s1", "--source", "demo", "--before", "2015-09-01",
               "--after", "2017-10-20", "--out", "s1")
    assert ran.returncode == 1 and ran.stderr.rstrip().endswith(
        "; the catalog holds no Sentinel-1 scene (it holds 2 Sentinel-2 scenes)"), ran.stderr
    assert not (user.home / "s1").exists()


def test_an_aoi_file_saved_as_json_is_named_not_ignored(user):
    """Mapshaper, overpass and many scripts save GeoJSON as 'port.json': in aoi/ it was skipped unseen, so its
    claims' AOI was 'unknown' and `geo aoi list` listed the others, exit 0."""
    (user.home / "aoi").mkdir()
    registry_aoi(user.home / "aoi" / "port.json", "my-port", "Mon port")
    assert refusal(user("aoi", "list", "--aoi-dir", "aoi"), "aoi/port.json") == (
        "not read: an AOI file's name ends in .geojson (rename it port.geojson)")
    registry_aoi(user.home / "aoi" / "quay.geojson", "my-quay", "Mon quai")
    shown = user("aoi", "show", "my-quay", "--aoi-dir", "aoi")
    assert shown.returncode == 0 and json.loads(shown.stdout)["id"] == "my-quay", shown.output
    assert shown.stderr.startswith("warning: aoi/port.json: not read: an AOI file's name ends in .geojson (rename it "
                                   "port.geojson)")


@pytest.mark.parametrize("kind, hint", [("Port", " (did you mean 'port'?)"),
                                        ("training-ground", " (did you mean 'training_ground'?)"), ("castle", "")])
def test_a_kind_a_slip_away_from_a_known_one_is_suggested(user, kind, hint):
    """An aoi/ file's kind 'Port' was refused naming the kinds, with no hint where other registered values give
    one; a drawn area's was read as 'other' in silence."""
    (user.home / "aoi").mkdir()
    text = feature(DRAWN_RING).replace('"kind": "port"', f'"kind": "{kind}"')
    (user.home / "aoi" / "port.geojson").write_text(text)
    kinds = "port, base, city, training_ground, mine, demo, other"
    assert refusal(user("aoi", "list", "--aoi-dir", "aoi"), "aoi/port.geojson") == (
        f"property 'kind' must be one of {kinds}, got {kind!r}{hint}")
    (user.home / "port.geojson").write_text(text)
    drawn = user("aoi", "show", "port.geojson")
    assert drawn.returncode == 0 and json.loads(drawn.stdout)["kind"] == "other", drawn.output
    assert drawn.stderr.strip() == (f"warning: port.geojson: property 'kind' {kind!r} is not one of {kinds}: read as "
                                    f"'other'{hint}")


def test_an_aoi_file_in_a_subfolder_is_named_not_ignored(user):
    """An analyst keeping AOIs by country ('aoi/korea/port.geojson'): only aoi/ itself is read, so the file was
    skipped unseen, its AOI 'unknown' and `geo aoi list` exit 0. The listing names it; a command asking for
    another AOI warns and goes on; hidden folders (.git) are not the user's."""
    (user.home / "aoi" / "korea").mkdir(parents=True)
    (user.home / "aoi" / ".git").mkdir()
    registry_aoi(user.home / "aoi" / "korea" / "port.geojson", "my-port", "Mon port")
    registry_aoi(user.home / "aoi" / ".git" / "old.geojson", "my-port", "Mon port")
    assert refusal(user("aoi", "list", "--aoi-dir", "aoi"), "aoi/korea/port.geojson") == (
        "not read: AOI files are read from aoi itself, not its subfolders (move it to aoi)")
    asked = user("aoi", "show", "my-port", "--aoi-dir", "aoi")
    assert refusal(asked, "aoi/korea/port.geojson").startswith("not read: AOI files are read from aoi itself")
    registry_aoi(user.home / "aoi" / "quay.geojson", "my-quay", "Mon quai")
    shown = user("aoi", "show", "my-quay", "--aoi-dir", "aoi")
    assert shown.returncode == 0 and json.loads(shown.stdout)["id"] == "my-quay", shown.output
    assert shown.stderr.startswith("warning: aoi/korea/port.geojson: not read: AOI files are read from aoi itself, "
                                   "not its subfolders (move it to aoi)"), shown.stderr
    (user.home / "aoi" / "korea" / "port.geojson").rename(user.home / "aoi" / "port.geojson")
    listed = user("aoi", "list", "--json", "--aoi-dir", "aoi")
    assert listed.returncode == 0 and listed.stderr == "", listed.output
    assert sorted(aoi["id"] for aoi in json.loads(listed.stdout)) == ["my-port", "my-quay"]


POINT = {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [-1.55, 47.2]}}


@pytest.mark.parametrize("data, says", [
    # geojson.io's text with a marker dropped beside the area, the id added: "found 2", no more
    ({"type": "FeatureCollection", "features": [json.loads(feature(DRAWN_RING)), POINT]},
     "a FeatureCollection AOI must hold exactly 1 feature, found 2 (Polygon, Point: keep the area's feature alone)"),
    # a bare geometry pasted: "expected a GeoJSON Feature with id/name properties"
    ({"type": "Polygon", "coordinates": [DRAWN_RING]},
     'a bare Polygon has no id: an AOI of the AOI folder is a Feature, {"type": "Feature", "properties": {"id": ..., '
     '"name": ..., "kind": ...}, "geometry": ...}'),
])
def test_an_aoi_file_shaped_as_a_drawn_one_says_what_the_folder_wants(user, data, says):
    (user.home / "aoi").mkdir()
    (user.home / "aoi" / "port.geojson").write_text(json.dumps(data))
    assert refusal(user("aoi", "list", "--aoi-dir", "aoi"), "aoi/port.geojson") == says


@pytest.mark.parametrize("value, approximate", [('"false"', False), ('"no"', False), ("0", False), ("false", False),
                                                 ("null", True), ("true", True)])
def test_approximate_written_as_text_is_read_as_written(user, value, approximate):
    """'"approximate": "false"' (a spreadsheet's column, a hand edit) was read as true: bool() of a string."""
    (user.home / "aoi").mkdir()
    (user.home / "aoi" / "port.geojson").write_text(feature(DRAWN_RING).replace('"kind": "port"', f'"kind": "port", '
                                                                                f'"approximate": {value}'))
    shown = user("aoi", "show", "my-port", "--aoi-dir", "aoi")
    assert shown.returncode == 0 and json.loads(shown.stdout)["approximate"] is approximate, shown.output


def test_approximate_that_is_no_yes_or_no_is_refused(user):
    (user.home / "aoi").mkdir()
    (user.home / "aoi" / "port.geojson").write_text(feature(DRAWN_RING).replace('"kind": "port"', '"kind": "port", '
                                                                                '"approximate": "roughly"'))
    assert refusal(user("aoi", "list", "--aoi-dir", "aoi"), "aoi/port.geojson") == (
        "property 'approximate' must be true or false, got \"roughly\"")


def test_the_shipped_aois_list_at_80_columns_without_a_word_cut(user):
    """At 80 columns `geo aoi list` cut the kind 'training_ground' into 'training_gro' / 'und' and names inside
    words ('Blagoveshche' / 'nsk'): the kind is a value other tools filter on, kept whole, and the names wrap
    between words; a terminal too narrow for that gets a block per AOI."""
    from tests.conftest import REPO

    wide = user("aoi", "list", "--aoi-dir", str(REPO / "aoi"), columns=80)
    assert wide.returncode == 0, wide.output
    lines = wide.stdout.splitlines()
    assert max(map(len, lines)) <= 80, wide.stdout
    assert any("│ training_ground │" in line for line in lines), wide.stdout
    assert any("│ Blagoveshchensk │" in line for line in lines), wide.stdout  # its name's first line, whole
    narrow = user("aoi", "list", "--aoi-dir", str(REPO / "aoi"), columns=50).stdout
    assert max(map(len, narrow.splitlines())) <= 50, narrow
    assert "\nchongjin-port (port, KP, 20.0 km²)\n  Chongjin port\n" in narrow, narrow
    assert "\nsergeevka-training-ground\n  training_ground, RU, 64.0 km²\n  Sergeevka training ground\n" in narrow
