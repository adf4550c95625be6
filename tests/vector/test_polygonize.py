"""Polygonising per block: a change straddling block seams is one polygon, the one the whole grid gives."""

from __future__ import annotations

import numpy as np
import shapely
from affine import Affine
from rasterio.crs import CRS
from scipy import ndimage as ndi

from geo.grid import Grid
from geo.vector.polygonize import polygonize

GRID = Grid(CRS.from_epsg(32630), Affine(10.0, 0, 600_000.0, 0, -10.0, 5_300_040.0), (120, 130))


def _labels() -> np.ndarray:
    mask = np.zeros(GRID.shape, bool)
    mask[20:70, 25:80] = True  # a building site across the seams at row 64 and column 64 (and 32, 64 at 32 px)
    mask[40:50, 40:60] = False  # with a courtyard: a hole
    mask[70:90, 60:66] = True  # a road leaving it southwards across the row-64 seam
    mask[100:110, 100:104] = True  # within one block
    mask[5, 5] = mask[6, 6] = True  # pixels touching at a corner only, on no seam
    mask[63, 100] = mask[64, 101] = True  # ... and across a seam
    labels, _ = ndi.label(mask, structure=np.ones((3, 3), bool))
    return labels


def test_regions_across_seams_are_single_polygons_as_without_blocks():
    labels = _labels()
    whole = polygonize(labels, GRID, block_px=1000)
    for block_px in (64, 32):
        blocked = polygonize(labels, GRID, block_px=block_px)
        assert [r.label for r in blocked] == [r.label for r in whole] == list(range(1, labels.max() + 1))
        for got, want in zip(blocked, whole):
            assert got.pixels == want.pixels
            assert got.geometry.is_valid and got.geometry.geom_type == want.geometry.geom_type
            assert got.geometry.area == want.geometry.area == want.pixels * 100.0
            assert shapely.equals(got.geometry, want.geometry)
            # no vertex left on a straight edge where a seam cut it
            assert shapely.get_num_coordinates(got.geometry) == shapely.get_num_coordinates(want.geometry)
    site = whole[labels[20, 25] - 1].geometry
    assert site.geom_type == "Polygon" and len(site.interiors) == 1
