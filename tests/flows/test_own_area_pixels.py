"""An analyst's own area at the scale of a pixel: a strip a few metres wide (a quay's edge, a road, a pier drawn
as a thin polygon) above the minimum area. Its pixels are those whose centres fall in it, so a strip lying
between two rows of centres held none: "only 0% of the AOI was seen on both dates (outside the scenes, no data
or cloud)" over clear scenes covering it, and the change across it was not found. Driven through ``geo run``
against a loopback archive of synthetic tiles whose pixels are a function of lon/lat (tests/flows/tiles.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pyproj import Transformer
from shapely.geometry import box, mapping, shape

from tests.archive_data import utc
from tests.archive_server import ArchiveServer
from tests.flows.tiles import Tile, tile_item, utm_box

EPSG = 32631
CHANGE = (4.99, 51.998, 5.01, 52.002)  # 1,373 x 445 m at 52°N, across the strip
TO_LON_LAT = Transformer.from_crs(EPSG, 4326, always_xy=True)


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Iterator[ArchiveServer]:
    server = ArchiveServer(page_size=3).start()
    folder = tmp_path_factory.mktemp("pixels")
    for day, changed in ((1, None), (11, CHANGE)):
        tile_item(server, folder, Tile(f"S2A_31UFU_202106{day:02d}", utc(2021, 6, day), EPSG,
                                       utm_box(EPSG, 5.0, 52.0, 3000, 1200), changed=changed))
    yield server
    server.stop()


def strip(bottom_m: float, top_m: float) -> tuple[dict, float]:
    """A 2 km strip along a row of the 10 m grid, from ``bottom_m`` to ``top_m`` metres north of a pixel edge
    (the job's grid is snapped to 10 m in UTM: pixel centres lie 5 m north of a multiple of 10); its geometry
    and the metres of it inside ``CHANGE``."""
    x0, y0 = Transformer.from_crs(4326, EPSG, always_xy=True).transform(5.0, 52.0)
    x0, y0 = round(x0, -1) - 1000, round(y0, -1)
    corners = [(x0, y0 + bottom_m), (x0 + 2000, y0 + bottom_m), (x0 + 2000, y0 + top_m), (x0, y0 + top_m)]
    ring = [list(TO_LON_LAT.transform(x, y)) for x, y in corners]
    area = shape({"type": "Polygon", "coordinates": [ring + ring[:1]]})
    crossed = area.intersection(box(*CHANGE)).bounds
    return mapping(area), (crossed[2] - crossed[0]) / (area.bounds[2] - area.bounds[0]) * 2000


@pytest.mark.parametrize("bottom_m, top_m", [(6.0, 11.0), (5.5, 14.5)], ids=["5 m", "9 m"])
def test_a_strip_narrower_than_a_pixel_between_rows_of_centres_is_seen_and_its_change_found(
        user, archive, bottom_m, top_m):
    geometry, length_m = strip(bottom_m, top_m)  # no pixel centre inside: 5 and 15 m north of the edge
    (user.home / "quay edge.geojson").write_text(json.dumps({"type": "Feature", "properties": {},
                                                              "geometry": geometry}))
    result = user("run", "--aoi", "quay edge.geojson", "--source", archive.url, "--before", "2021-06-01",
                  "--after", "2021-06-11", "--out", "out")
    assert result.returncode == 0, result.output
    assert "of the AOI was seen" not in result.stderr, result.output  # was "only 0% ... seen on both dates"
    # its grid was 62 px high (no tie-point window fitted: said so); a small AOI's grid is now 3 km a side
    assert "narrower than one tie-point window" not in result.stderr and "too little texture" not in result.stderr
    assert json.loads((user.home / "out" / "manifest.json").read_text())["grid"]["shape"][0] in (300, 301)
    manifest = json.loads((user.home / "out" / "manifest.json").read_text())
    assert manifest["clear_fraction"] == 1.0
    found = json.loads((user.home / "out" / "changes.geojson").read_text())["features"]
    assert len(found) == 1, found
    # the change polygon is clipped to the strip: its length across the change times the strip's width
    expected = length_m * (top_m - bottom_m)
    assert expected * 0.95 < found[0]["properties"]["area_m2"] < expected * 1.05
