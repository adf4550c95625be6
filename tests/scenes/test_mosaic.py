"""Which tiles of a pass stand for it (geo.scenes.mosaic.passes), on footprints alone: the AOI is 2 x 2 km across
132°E (its grid in UTM zone 53); tiles are lon/lat boxes with the orbit, platform and CRS their items say."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from shapely.geometry import box, mapping

from geo.aoi import aoi_from_geojson
from geo.errors import SceneError
from geo.scenes.model import Scene
from geo.scenes.mosaic import mosaic, passes

AOI = aoi_from_geojson({"type": "Feature", "properties": {"id": "across", "kind": "port"},
                        "geometry": mapping(box(131.99, 43.09, 132.014, 43.108))}, "across")
WEST_HALF, EAST_HALF, ALL = (131.5, 43.0, 132.0, 43.2), (132.0, 43.0, 132.5, 43.2), (131.5, 43.0, 132.5, 43.2)


def tile(item_id: str, bounds: tuple[float, float, float, float], epsg: int = 32653, day: int = 1,
         orbit: int | None = 32, platform: str = "sentinel-2a") -> Scene:
    properties = {"proj:epsg": epsg, **({"sat:relative_orbit": orbit} if orbit is not None else {})}
    return Scene(item_id, datetime(2021, 6, day, 2, tzinfo=timezone.utc), box(*bounds), {}, "sentinel-2-l2a",
                 platform, properties)


def ids(scenes: list[Scene]) -> list[str]:
    return [s.id for s in scenes]


def test_a_tile_showing_all_of_the_aoi_stands_for_its_pass_on_the_aoi_grid_first():
    west, east = tile("a-52", ALL, 32652), tile("b-53", ALL, 32653)
    assert ids(passes([west, east], AOI)) == ["b-53"]
    # a tile showing more wins over one on the grid: one tile read, not two
    assert ids(passes([tile("a-52", ALL, 32652), tile("b-53", EAST_HALF, 32653)], AOI)) == ["a-52"]


def test_tiles_each_showing_part_of_the_aoi_are_one_scene():
    # c-53 shows the east half too, but is another tile (on the same ground, it would be b-53 published again)
    west, east, spare = tile("a-52", WEST_HALF, 32652), tile("b-53", EAST_HALF), tile("c-53", (132.0, 43.0, 132.6, 43.25))
    later = tile("d-53", ALL, day=11)
    (pass_, after) = passes([west, east, spare, later], AOI)
    assert pass_.id == "b-53+a-52" and [t.id for t in pass_.parts] == ["b-53", "a-52"]  # c-53 adds nothing
    assert pass_.geometry.covers(AOI.geometry) and pass_.summary()["tiles"] == ["b-53", "a-52"]
    assert after is later


@pytest.mark.parametrize("other", [
    tile("b-53", EAST_HALF, orbit=75),  # another pass of the same day (high latitudes see two)
    tile("b-53", EAST_HALF, platform="sentinel-2b"),
    tile("b-53", EAST_HALF, day=2),
    tile("b-53", EAST_HALF, orbit=None),
])
def test_only_tiles_of_one_pass_are_merged(other):
    west = tile("a-52", WEST_HALF, 32652)
    assert ids(passes([west, other], AOI)) == ["a-52", "b-53"]


def test_pieces_sensed_together_without_an_orbit_are_one_pass():
    """A user's catalog (rio-stac, pystac) says no orbit: pieces of one product sensed together by one platform
    are one observation, read as one scene; sensed apart, by another platform or into another collection, not."""
    west, east = tile("x", WEST_HALF, orbit=None), tile("y", EAST_HALF, orbit=None)
    (pass_,) = passes([west, east], AOI)
    assert pass_.id == "y+x" and [t.id for t in pass_.parts] == ["y", "x"]  # the piece showing more first
    # a piece showing all of the AOI stands alone; the other is left out, and said so
    left_out: list[Scene] = []
    assert ids(passes([west, tile("z", ALL, orbit=None)], AOI, left_out)) == ["z"] and ids(left_out) == ["x"]
    for other in (replace(east, datetime=east.datetime + timedelta(minutes=5)), replace(east, platform="sentinel-2b"),
                  replace(east, collection="sentinel-2-l1c")):
        assert ids(passes([west, other], AOI)) == ["x", "y"]


def test_a_mosaic_needs_two_tiles():
    with pytest.raises(SceneError, match="two tiles"):
        mosaic([tile("a-52", ALL)])


@pytest.mark.parametrize("orbit", [32, None], ids=["orbit", "no-orbit"])
def test_an_id_naming_no_tile_published_again_is_read_once_from_its_newest_publication(orbit):
    """Sentinel-1 ids name no tile: an item over the same ground sensed at the same time is the product
    published again (a GRD reprocessed, an RTC item made again), read from the newest; a slice of the pass over
    other ground is not."""
    old, again = tile("S1A_IW_GRDH_20210601_AB12", ALL, orbit=orbit), tile("S1A_IW_GRDH_20210601_CD34", ALL, orbit=orbit)
    left_out: list[Scene] = []
    (kept,) = passes([old, again], AOI, left_out)
    assert kept.id == again.id and kept.supersedes == (old.id,) and ids(left_out) == [old.id]
    # its time rounded otherwise, the search giving the newest first
    (kept,) = passes([replace(again, datetime=again.datetime + timedelta(seconds=1)), old], AOI)
    assert kept.id == again.id and kept.supersedes == (old.id,)
    halves = [tile("S1A_SLICE_N", WEST_HALF, orbit=orbit), tile("S1A_SLICE_S", EAST_HALF, orbit=orbit)]
    assert sorted(t.id for s in passes(halves, AOI) for t in (s.parts or (s,))) == ["S1A_SLICE_N", "S1A_SLICE_S"]
