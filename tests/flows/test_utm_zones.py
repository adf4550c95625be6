"""AOIs where Sentinel-2's tiling shows: across the 132°E boundary of UTM zones 52 and 53 (east of Vladivostok),
seen by tiles of one pass in two CRSs; at 69°N, south of the equator (a 327xx zone), beside the antimeridian.
Driven through ``geo run`` against loopback archives of synthetic tiles (tests/flows/tiles.py) whose pixels
are a function of lon/lat, with a planted change of known size."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest
import rasterio

from tests.archive_data import utc
from tests.archive_server import ArchiveServer
from tests.flows.tiles import Tile, lon_lat_aoi, tile_item, utm_box

LAT = 43.1
AREA = (131.975, 43.09, 132.025, 43.11)  # 4.1 x 2.2 km across 132°E (its centre in zone 53)
SEAM_CHANGE = (131.99, 43.097, 132.01, 43.103)  # 1.6 x 0.67 km, half in each zone
SEAM_CHANGE_KM2 = 0.02 * 81.2 * 0.006 * 111.1
WEST, EAST = "S2A_52TGM", "S2A_53TKG"  # the zone 52 tile's id sorts first


def changes(user, out: str) -> list[dict]:
    return json.loads((user.home / out / "changes.geojson").read_text())["features"]


def seam_change(user, out: str) -> dict:
    """The change polygon over the planted change, which must reach its both ends (either side of 132°E)."""
    from shapely.geometry import shape

    west, south, east, north = SEAM_CHANGE
    over = [f for f in changes(user, out) if shape(f["geometry"]).contains(shape(
        {"type": "Point", "coordinates": [(west + east) / 2 + 0.001, (south + north) / 2]}))]
    assert len(over) == 1, changes(user, out)
    left, _, right, _ = shape(over[0]["geometry"]).bounds
    assert left < west + 0.0005 and right > east - 0.0005, (left, right)
    return over[0]


@pytest.fixture(scope="module")
def halves(tmp_path_factory) -> Iterator[ArchiveServer]:
    """Each tile of the pass shows half of the AOI: zone 52's ends at ~132.002°E, zone 53's starts at ~131.998°E."""
    server = ArchiveServer(page_size=3).start()
    folder = tmp_path_factory.mktemp("halves")
    for day, changed in ((1, None), (11, SEAM_CHANGE)):
        when = utc(2021, 6, day)
        tile_item(server, folder, Tile(f"{WEST}_202106{day:02d}", when, 32652, utm_box(32652, 131.965, LAT, 3000, 3000),
                                       changed=changed))
        tile_item(server, folder, Tile(f"{EAST}_202106{day:02d}", when, 32653, utm_box(32653, 132.035, LAT, 3000, 3000),
                                       changed=changed))
    yield server
    server.stop()


def test_an_aoi_seen_half_by_each_tile_of_a_pass_is_read_from_both(user, halves):
    """It was read from one tile: "only 56% of the AOI is clear", "44% outside the scenes", and half of a change
    across the seam. The pass's two tiles are now one scene: all of the AOI seen, the whole change found."""
    lon_lat_aoi(user.home / "across.geojson", AREA)
    result = user("run", "--aoi", "across.geojson", "--source", halves.url, "--before", "2021-06-01",
                  "--after", "2021-06-11", "--out", "out")
    assert result.returncode == 0, result.output
    assert "outside the scenes" not in result.output and "of the AOI is clear" not in result.stderr, result.output
    manifest = json.loads((user.home / "out" / "manifest.json").read_text())
    assert manifest["clear_fraction"] == 1.0
    before = manifest["scenes"]["before"]
    assert before["id"] == f"{WEST}_20210601+{EAST}_20210601"
    assert before["tiles"] == [f"{WEST}_20210601", f"{EAST}_20210601"]
    assert manifest["scenes"]["selection"]["before"]["clear_fraction"] == 1.0
    assert "tiles_left_out" not in manifest["scenes"]["selection"]["before"]  # both tiles read
    change = seam_change(user, "out")  # one polygon across the seam, not the half in one tile
    assert SEAM_CHANGE_KM2 < change["properties"]["area_m2"] / 1e6 < SEAM_CHANGE_KM2 * 1.2
    assert change["properties"]["before_scene"] == before["id"]
    # the pixels of the two tiles meet without a seam: the before image is the same ground on both sides
    with rasterio.open(user.home / "out" / "before_rgb.tif") as rgb:
        assert np.isfinite(rgb.read()).mean() == 1.0

    links = [link["href"] for link in json.loads((user.home / "out" / "item.json").read_text())["links"]
             if link["rel"] == "derived_from"]  # one per tile, not one to an item "A+B" no archive holds
    assert [href.rsplit("/", 1)[1] for href in links] == [*before["tiles"], *manifest["scenes"]["after"]["tiles"]]
    assert all(href.startswith(f"{halves.url}/collections/sentinel-2-l2a/items/") for href in links)
    # an archive's items name their collection: the report's scene table shows it for both scenes
    report = " ".join((user.home / "out" / "report.html").read_text().split())
    assert "<th>Collection</th>" in report and report.count("<td>sentinel-2-l2a</td>") == 2

    # the pass named by its id reads the same again, from the scene cache: no request at all
    halves.clear()
    named = user("run", "--aoi", "across.geojson", "--source", halves.url, "--before", before["id"],
                 "--after", manifest["scenes"]["after"]["id"], "--out", "named")
    assert named.returncode == 0, named.output
    assert halves.records() == []
    assert seam_change(user, "named")["properties"]["area_m2"] == change["properties"]["area_m2"]


@pytest.fixture(scope="module")
def overlapping(tmp_path_factory) -> Iterator[ArchiveServer]:
    """Both tiles of each pass show all of the AOI, in zones 52 and 53."""
    server = ArchiveServer(page_size=3).start()
    folder = tmp_path_factory.mktemp("overlapping")
    for day, changed in ((1, None), (11, SEAM_CHANGE)):
        for name, epsg in ((WEST, 32652), (EAST, 32653)):
            tile_item(server, folder, Tile(f"{name}_202106{day:02d}", utc(2021, 6, day), epsg,
                                           utm_box(epsg, 132.0, LAT, 4000, 3000), changed=changed))
    yield server
    server.stop()


def test_of_two_tiles_showing_all_of_the_aoi_the_one_on_its_grid_is_read(user, overlapping):
    """The AOI's grid is in zone 53 (its centre is east of 132°E): the zone 53 tile is read as it is; the zone 52
    tile, whose id sorts first, was taken and resampled, and only its id said so."""
    lon_lat_aoi(user.home / "across.geojson", AREA)
    result = user("run", "--aoi", "across.geojson", "--source", overlapping.url, "--before", "2021-06-01",
                  "--after", "2021-06-11", "--out", "out")
    assert result.returncode == 0, result.output
    manifest = json.loads((user.home / "out" / "manifest.json").read_text())
    assert manifest["grid"]["crs"] == "EPSG:32653"
    assert (manifest["scenes"]["before"]["id"], manifest["scenes"]["after"]["id"]) == (
        f"{EAST}_20210601", f"{EAST}_20210611")
    assert "tiles" not in manifest["scenes"]["before"]  # one tile: no mosaic
    assert [c["id"] for c in manifest["scenes"]["selection"]["candidates"]["before"]] == [f"{EAST}_20210601"]
    # the pass's other tile, not read, is named beside the one read (the manifest did not say it existed)
    for role, day in (("before", "01"), ("after", "11")):
        assert manifest["scenes"]["selection"][role]["tiles_left_out"] == [f"{WEST}_202106{day}"]
    assert SEAM_CHANGE_KM2 < seam_change(user, "out")["properties"]["area_m2"] / 1e6 < SEAM_CHANGE_KM2 * 1.2


# (name, EPSG of its tiles, centre lon/lat, AOI, planted change): 69°N, a south zone, a tile across 180°
PLACES = (
    ("norilsk", 32645, (88.2, 69.35), (88.14, 69.32, 88.26, 69.38), (88.18, 69.34, 88.22, 69.36)),
    ("durban", 32736, (31.03, -29.87), (30.99, -29.9, 31.07, -29.84), (31.02, -29.88, 31.04, -29.86)),
    ("chukotka", 32660, (179.95, 65.0), (179.88, 64.97, 179.99, 65.03), (179.93, 64.99, 179.97, 65.01)),
    # across the equator (Lake Victoria's north shore), its centre just south: a 327xx tile and grid
    ("equator", 32736, (32.55, -0.01), (32.5, -0.04, 32.6, 0.02), (32.54, -0.02, 32.56, 0.005)),
    # The MGRS exceptions Sentinel-2's tiles follow: Bergen (5.3°E) is in zone 32 (32V spans 3-12°E), not 31;
    # Ny-Ålesund's neighbour at 10.8°E, 79.5°N in 33X (9-21°E), not 32
    ("bergen", 32632, (5.33, 60.39), (5.28, 60.37, 5.38, 60.41), (5.32, 60.385, 5.34, 60.395)),
    ("svalbard", 32633, (10.8, 79.55), (10.7, 79.535, 10.9, 79.565), (10.77, 79.545, 10.83, 79.555)),
    # beyond UTM's own latitudes (84°N, 80°S: UPS there), where a zone's grid still holds a small area
    ("north-of-84", 32633, (15.0, 85.0), (14.8, 84.98, 15.2, 85.02), (14.9, 84.995, 15.1, 85.005)),
    ("ross-ice-shelf", 32759, (170.0, -81.0), (169.9, -81.02, 170.1, -80.98), (169.95, -81.005, 170.05, -80.995)),
)


def km2(area: tuple[float, float, float, float]) -> float:
    from geo.aoi import geodesic_area_m2
    from shapely.geometry import box

    return geodesic_area_m2(box(*area)) / 1e6


@pytest.fixture(scope="module")
def far_places(tmp_path_factory) -> Iterator[ArchiveServer]:
    from tests.flows.tiles import split_at_antimeridian

    server = ArchiveServer(page_size=3).start()
    folder = tmp_path_factory.mktemp("far")
    for name, epsg, (lon, lat), _, change in PLACES:
        bounds = utm_box(epsg, lon, lat, 6000, 6000)
        footprint = split_at_antimeridian(epsg, bounds) if name == "chukotka" else None
        for day, changed in ((1, None), (11, change)):
            tile_item(server, folder, Tile(f"S2A_{name}_202106{day:02d}", utc(2021, 6, day), epsg, bounds,
                                           changed=changed, footprint=footprint))
    yield server
    server.stop()


@pytest.mark.parametrize("name, epsg, centre, area, change", PLACES, ids=[p[0] for p in PLACES])
def test_far_north_south_and_beside_the_antimeridian(user, far_places, name, epsg, centre, area, change):
    """The grid in the tiles' own zone, the planted change found whole. Bergen's and Svalbard's grids were in the
    plain 6-degree zone (31, 32), so their tiles were resampled onto another zone's grid."""
    lon_lat_aoi(user.home / f"{name}.geojson", area)
    result = user("run", "--aoi", f"{name}.geojson", "--source", far_places.url, "--before", "2021-06-01",
                  "--after", "2021-06-11", "--out", "out")
    assert result.returncode == 0, result.output
    manifest = json.loads((user.home / "out" / "manifest.json").read_text())
    assert manifest["grid"]["crs"] == f"EPSG:{epsg}" and manifest["clear_fraction"] == 1.0
    found = changes(user, "out")
    assert len(found) == 1 and km2(change) < found[0]["properties"]["area_m2"] / 1e6 < km2(change) * 1.5
