"""The areas not compared on known masks: one polygon per reason, the reason each pixel has, holes and specks of a
few pixels merged, and strips of rows (a large grid's masks on disk) giving the whole grid's polygons."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest
from affine import Affine
from rasterio.crs import CRS
from shapely.geometry import box

from geo.aoi import AOI
from geo.geometry import WGS84, reproject
from geo.grid import Grid
from geo.scenes.model import Scene
from geo.scenes.read import Stack
from geo.vector.unseen_areas import CLOUD, LEFT_OUT, NO_DATA, not_compared_regions

CRS_TEXT = "EPSG:32631"
GRID = Grid(CRS.from_epsg(32631), Affine(10, 0, 500_000, 0, -10, 5_000_000), (300, 200))
WHOLE = box(500_000, 4_997_000, 502_000, 5_000_000)  # the grid's extent
AOI_BOX = box(500_100, 4_997_100, 501_900, 4_999_900)  # 10 px inside every edge


def lonlat(geometry):
    return reproject(geometry, CRS_TEXT, WGS84)


def stack(valid: np.ndarray, footprint, cloud_masked: bool = True) -> Stack:
    scene = Scene("s", datetime(2024, 1, 1, tzinfo=timezone.utc), lonlat(footprint), {})
    return Stack(scene, GRID, ("red",), np.where(valid, 0.1, np.nan)[None].astype(np.float32), valid, cloud_masked)


def planted() -> tuple[Stack, Stack, np.ndarray]:
    """Before: its scene ends at x = 501 500 (col 150); after: a cloud at rows 50-100, cols 40-90 (and a hole of 2 x
    2 pixels seen in it, and a speck of 2 pixels); both seen, snow on one: rows 200-240, cols 20-60."""
    before_valid = np.ones(GRID.shape, bool)
    before_valid[:, 150:] = False
    after_valid = np.ones(GRID.shape, bool)
    after_valid[50:100, 40:90] = False
    after_valid[70:72, 60:62] = True  # a hole seen in the cloud
    after_valid[150, 100:102] = False  # a speck
    statistic = np.zeros(GRID.shape, np.float32)
    statistic[200:240, 20:60] = np.nan
    statistic[~(before_valid & after_valid)] = np.nan
    return (stack(before_valid, box(500_000, 4_997_000, 501_500, 5_000_000)), stack(after_valid, WHOLE), statistic)


AOI_ = AOI("t", "t", "", "", lonlat(AOI_BOX), "test")


def test_each_reason_is_its_planted_ground_cut_to_the_area():
    before, after, statistic = planted()
    regions = not_compared_regions(before, after, statistic, AOI_)
    assert set(regions) == {NO_DATA, CLOUD, LEFT_OUT}
    expected = {NO_DATA: box(501_500, 4_997_100, 501_900, 4_999_900),  # east of the scene, inside the area
                CLOUD: box(500_400, 4_999_000, 500_900, 4_999_500),  # the hole and speck merged away
                LEFT_OUT: box(500_200, 4_997_600, 500_600, 4_998_000)}
    for code, truth in expected.items():
        assert regions[code].symmetric_difference(truth).area < 1.0, (code, regions[code].wkt)


@pytest.mark.parametrize("strip_rows", [7, 64, 101])
def test_strips_of_rows_give_the_whole_grids_polygons(strip_rows):
    before, after, statistic = planted()
    whole = not_compared_regions(before, after, statistic, AOI_)
    strips = not_compared_regions(before, after, statistic, AOI_, strip_rows=strip_rows)
    assert set(strips) == set(whole)
    for code in whole:
        assert strips[code].symmetric_difference(whole[code]).area < 1.0, code
        assert strips[code].geom_type == "Polygon"  # merged across the seams into one


def test_a_scene_without_cloud_masking_has_its_gaps_said_no_data():
    before, after, statistic = planted()
    unjudged = stack(after.valid, WHOLE, cloud_masked=False)
    regions = not_compared_regions(before, unjudged, statistic, AOI_)
    assert CLOUD not in regions and NO_DATA in regions


def test_a_pair_that_compared_all_of_it_has_none():
    seen = stack(np.ones(GRID.shape, bool), WHOLE)
    assert not_compared_regions(seen, seen, np.zeros(GRID.shape, np.float32), AOI_) == {}
