"""geo.grid.polygon_mask: the pixels of an area, its centres' rule kept for areas of many pixels."""

from __future__ import annotations

import numpy as np
from affine import Affine
from rasterio.crs import CRS
from shapely.geometry import MultiPolygon, box

from geo.grid import Grid, polygon_mask

GRID = Grid(CRS.from_epsg(32631), Affine(10.0, 0.0, 0.0, 0.0, -10.0, 200.0), (20, 20))  # 200 x 200 m


def test_an_area_of_many_pixels_takes_those_whose_centres_fall_in_it():
    mask = polygon_mask(box(12.0, 12.0, 108.0, 108.0), GRID)  # centres at 15..105: 10 x 10, not the 11 x 11 touched
    assert mask.sum() == 100 and mask[9:19, 1:11].all()


def test_a_fleck_of_a_multipolygon_between_centres_takes_the_pixels_it_touches():
    fleck = box(150.5, 150.5, 154.5, 154.5)  # 16 m2 between the centres at 145 and 155
    mask = polygon_mask(MultiPolygon([box(12.0, 12.0, 108.0, 108.0), fleck]), GRID)
    assert mask.sum() == 101 and mask[4, 15]  # the fleck's pixel: x 150..160, y 150..160
    strip = box(0.0, 106.0, 200.0, 111.0)  # 5 m wide, between the rows of centres at 105 and 115
    assert np.argwhere(polygon_mask(strip, GRID))[:, 0].tolist() == [8] * 20 + [9] * 20  # the two rows it touches
