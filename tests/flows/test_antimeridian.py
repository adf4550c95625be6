"""An AOI across the antimeridian (a harbour of Chukotka cut by 180°), drawn as RFC 7946 (3.1.9) wants it and
geojson.io or QGIS write it: a MultiPolygon of one part on each side of 180. It was refused ("polygon spans
360.0 degrees of longitude ... split it into one AOI on each side"); one drawn beyond 180 (179.94..180.04) was
"out of lon/lat range". Driven through ``geo`` against a loopback archive of synthetic tiles (tests/flows/tiles.py)
whose footprints are cut at 180 as Earth Search's are, with a planted change straddling 180."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pystac
import pytest
from shapely.geometry import MultiPolygon, box, mapping, shape

from geo.aoi import geodesic_area_m2
from tests.archive_data import utc
from tests.archive_server import ArchiveServer
from tests.flows.tiles import Tile, split_at_antimeridian, tile_item, utm_box
from tests.stac_offline import offline_validation

SOUTH, NORTH = 68.9, 68.93
# 4.0 x 3.3 km: 0.06 degrees east of 180, 0.04 west of it; its centre (179.99) in zone 60, as the tiles
SPLIT = MultiPolygon([box(179.94, SOUTH, 180.0, NORTH), box(-180.0, SOUTH, -179.96, NORTH)])
CHANGE = (179.98, 68.905, -179.98, 68.925)  # 1.6 x 2.2 km  # RFC 7946 bbox order: across 180, its west over its east
CHANGE_KM2 = geodesic_area_m2(MultiPolygon([box(179.98, 68.905, 180, 68.925), box(-180, 68.905, -179.98, 68.925)])) / 1e6
REFUSAL = "split it into one AOI on each side"


def write(path, geometry: dict) -> str:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Chukotka harbour"}, "geometry": geometry}]}))
    return path.name


def lons(geometry: dict) -> list[float]:
    return re.findall(r"-?\d+\.?\d*", json.dumps(geometry["coordinates"]))[::2]


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Iterator[ArchiveServer]:
    """One zone 60 tile a pass, 12 x 12 km across 180, its footprint cut there (as Earth Search writes it)."""
    server = ArchiveServer(page_size=3).start()
    folder = tmp_path_factory.mktemp("antimeridian")
    bounds = utm_box(32660, 179.99, 68.915, 6000, 6000)
    for day, changed in ((1, None), (11, CHANGE)):
        tile_item(server, folder, Tile(f"S2A_01WCV_202106{day:02d}", utc(2021, 6, day), 32660, bounds,
                                       changed=changed, footprint=split_at_antimeridian(32660, bounds)))
    yield server
    server.stop()


def test_an_aoi_cut_at_180_runs_as_one_area_and_finds_a_change_across_it(user, archive):
    aoi = write(user.home / "split.geojson", mapping(SPLIT))
    result = user("run", "--aoi", aoi, "--source", archive.url, "--before", "2021-06-01", "--after", "2021-06-11",
                  "--out", "out")
    assert result.returncode == 0, result.output
    assert REFUSAL not in result.output
    out = user.home / "out"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["grid"]["crs"] == "EPSG:32660" and manifest["clear_fraction"] == 1.0
    # one grid of the area's width (4.0 km and a margin), not of 360 degrees
    assert manifest["grid"]["shape"][1] * 10 < 6000, manifest["grid"]
    assert 12.5 < manifest["aoi"]["area_km2"] < 14.0, manifest["aoi"]

    # the planted change is ONE polygon, cut at 180 (RFC 7946), of the planted area
    found = json.loads((out / "changes.geojson").read_text())["features"]
    assert len(found) == 1, found
    geometry = found[0]["geometry"]
    assert geometry["type"] == "MultiPolygon" and all(-180 <= float(x) <= 180 for x in lons(geometry))
    east, west = sorted(shape(geometry).geoms, key=lambda p: -p.bounds[0])
    assert east.bounds[2] == 180 and west.bounds[0] == -180
    assert east.bounds[0] < 179.9805 and west.bounds[2] > -179.9805, (east.bounds, west.bounds)
    assert CHANGE_KM2 < found[0]["properties"]["area_m2"] / 1e6 < CHANGE_KM2 * 1.5

    # the area as run: the same two parts, in range
    ran = json.loads((out / "aoi.geojson").read_text())["features"][0]["geometry"]
    assert all(-180 <= float(x) <= 180 for x in lons(ran)) and shape(ran).equals(SPLIT)
    # the GeoPackage (what QGIS opens) holds the same cut polygons
    import pyogrio

    for layer, geometry in (("changes", geometry), ("aois", mapping(SPLIT))):
        frame = pyogrio.read_dataframe(out / "changes.gpkg", layer=layer)
        assert len(frame) == 1 and frame.crs.to_epsg() == 4326 and frame.geometry[0].equals(shape(geometry)), layer
    # the KML's coordinates are in range too; the item's bbox crosses 180 (west over east, RFC 7946 5.2)
    kml = (out / "changes.kml").read_text()
    assert all(-180 <= float(c.split(",")[0]) <= 180 for c in re.findall(r"-?\d+\.\d+,-?\d+\.\d+", kml))
    item = json.loads((out / "item.json").read_text())
    assert item["bbox"][0] > 179.9 and -180 < item["bbox"][2] < -179.9, item["bbox"]
    # the report's map link opens beside 180, not at lon 0 (the split parts' plain centroid)
    report = (out / "report.html").read_text()
    link = re.search(r"mlat=([-\d.]+)&(?:amp;)?mlon=([-\d.]+)", report)
    assert link and abs(abs(float(link.group(2))) - 180) < 0.01, link

    # QGIS opens the project on the zone 60 grid, every layer valid, the change one valid feature
    from tests.outputs.test_qgis import _qgis_missing, probe

    if _qgis_missing():
        pytest.skip(_qgis_missing())
    seen = probe({"vectors": [], "rasters": [], "ranges": [],
                  "projects": [{"key": "run", "path": str(out / "project.qgz")}]})["projects"]["run"]
    assert seen["read"] and seen["crs"] == {"valid": True, "authid": "EPSG:32660"}
    assert all(layer["valid"] for layer in seen["layers"].values()), seen["layers"]
    changes = seen["layers"]["changes"]
    assert changes["count"] == 1 and changes["invalid_geometries"] == 0, changes


def test_an_aoi_drawn_beyond_180_is_cut_there(user, archive):
    """Longitudes past 180 (179.94..180.04, as some tools write an area across it): the same area, searched and
    listed as the split one."""
    ring = [[179.94, SOUTH], [180.04, SOUTH], [180.04, NORTH], [179.94, NORTH], [179.94, SOUTH]]
    aoi = write(user.home / "beyond.geojson", {"type": "Polygon", "coordinates": [ring]})
    result = user("scenes", "search", "--aoi", aoi, "--from", "2021-05-25", "--to", "2021-06-20",
                  "--source", archive.url, "--json")
    assert result.returncode == 0, result.output
    rows = json.loads(result.stdout)["scenes"]
    assert [r["id"] for r in rows] == ["S2A_01WCV_20210601", "S2A_01WCV_20210611"]
    assert all(r["clear_fraction"] == 1.0 for r in rows), rows
    # what the archive was asked: the area cut at 180, RFC 7946 (a STAC API refuses longitudes past 180)
    asked = [json.loads(r.received) for r in archive.records("/search") if r.method == "POST"]
    assert asked and all(shape(a["intersects"]).equals(SPLIT) for a in asked), asked
    # a period the archive holds nothing for names where the area is: across 180, not -180..180
    empty = user("scenes", "search", "--aoi", aoi, "--from", "2020-01-01", "--to", "2020-06-01", "--source", archive.url)
    assert empty.returncode == 0, empty.output
    assert "seems not to image the AOI's place (lon 179.9400..-179.9600, lat 68.9000..68.9300" in " ".join(
        empty.stdout.split()), empty.output
    # as validated: the cut area, its bbox across 180 (RFC 7946 5.2), its area the 4.0 x 3.3 km drawn
    shown = user("aoi", "show", aoi)
    assert shown.returncode == 0, shown.output
    data = json.loads(shown.stdout)
    assert shape(data["geometry"]).equals(SPLIT) and data["bounds"] == [179.94, SOUTH, -179.96, NORTH]
    assert data["area_km2"] == round(geodesic_area_m2(SPLIT) / 1e6, 3)


def test_a_recheck_of_an_aoi_cut_at_180_finds_the_change(user, archive):
    aoi = write(user.home / "split.geojson", mapping(SPLIT))
    receiver = ArchiveServer(webhooks={"/hook"}).start()
    try:
        result = user("recheck", "--store", "store.gpkg", "--aoi", aoi, "--source", archive.url, "--since",
                      "2021-05-25", "--notify", receiver.url + "/hook", "--json")
        posts = [json.loads(r.received) for r in receiver.log if r.method == "POST"]
    finally:
        receiver.stop()
    assert result.returncode == 0, result.output
    assert REFUSAL not in result.output
    summary = json.loads(result.stdout)
    entry, = summary["aois"]
    assert entry["aoi_id"] == "split" and entry["head_scene"] == "S2A_01WCV_20210611", entry
    changes = json.loads(next((user.home / "store-outputs").rglob("changes.geojson")).read_text())["features"]
    assert len(changes) == 1 and CHANGE_KM2 < changes[0]["properties"]["area_m2"] / 1e6 < CHANGE_KM2 * 1.5
    assert all(-180 <= float(x) <= 180 for x in lons(changes[0]["geometry"]))
    # the webhook's centroid is on the change, beside 180 (the cut parts' plain centroid is at lon 0)
    centroid = posts[0]["new_changes"][0]["centroid"]
    assert abs(abs(centroid["lon"]) - 180) < 0.005 and 68.905 < centroid["lat"] < 68.925, centroid


def test_vessels_count_an_aoi_cut_at_180_as_one_area(user, archive):
    aoi = write(user.home / "split.geojson", mapping(SPLIT))
    result = user("vessels", "--aoi", aoi, "--from", "2021-05-25", "--to", "2021-06-20", "--sensor", "s2",
                  "--source", archive.url, "--out", "ves")
    assert result.returncode == 0, result.output
    out = user.home / "ves"
    manifest = json.loads((out / "vessels-manifest.json").read_text())
    assert manifest["grid"]["crs"] == "EPSG:32660" and manifest["grid"]["shape"][1] * 10 < 4300 + 2 * 500
    assert 12.5 < manifest["aoi"]["area_km2"] < 14.0
    rows = json.loads((out / "timeseries.json").read_text())["rows"]
    assert [r["scene"] for r in rows] == ["S2A_01WCV_20210601", "S2A_01WCV_20210611"]
    item = json.loads((out / "item.json").read_text())
    assert item["bbox"] == [179.94, 68.9, -179.96, 68.93] and shape(item["geometry"]).equals(SPLIT)


def test_a_stac_export_of_aois_on_both_sides_of_180_has_its_extent_across_it(user, archive):
    """Two harbours 0.5 degrees either side of 180 (at 179.5 E and 179.5 W): the collection's extent was
    -180..180, the whole globe; it is the 1.2 degrees across 180, west over east (STAC, RFC 7946 5.2)."""
    write(user.home / "east.geojson", mapping(box(179.4, SOUTH, 179.6, NORTH)))
    write(user.home / "west.geojson", mapping(box(-179.6, SOUTH, -179.4, NORTH)))
    result = user("recheck", "--store", "store.gpkg", "--aoi", "east.geojson", "--aoi", "west.geojson", "--source",
                  archive.url, "--since", "2021-05-25", "--export-stac", "stac")
    assert result.returncode == 0, result.output
    collection = json.loads((user.home / "stac" / "collection.json").read_text())
    with offline_validation() as validator:
        pystac.validation.validate_dict(collection, href=str(user.home / "stac" / "collection.json"))
    assert validator.fetched == []
    [[west, south, east, north]] = collection["extent"]["spatial"]["bbox"]
    assert (west, south, east, north) == pytest.approx((179.4, SOUTH, -179.4, NORTH)), collection["extent"]
