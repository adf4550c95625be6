"""What is measured on a coarser TGT's lattice, roles swapped, reported on REF's grid (``geo.align.lattice``)."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from rasterio.crs import CRS

from geo.align.coreg import Shift
from geo.align.lattice import Swapped
from geo.align.tie_points import TiePoints
from geo.grid import Grid

UTM = CRS.from_epsg(32633)
REF = Grid(UTM, Affine(10, 0, 500000, 0, -10, 5000000), (600, 600))
# 20 m pixels starting one REF pixel east and two south of REF's corner
LATTICE = Grid(UTM, Affine(20, 0, 500010, 0, -20, 4999980), (290, 290))
SWAPPED = Swapped(LATTICE, REF, 2.0)


def test_a_lattice_pixel_centre_is_where_it_lies_on_refs_grid():
    cols, rows = SWAPPED.positions(np.array([0.0, 10.0]), np.array([0.0, 4.5]))
    # lattice centre (0, 0) is at x = 500020, y = 4999970: REF's pixel-index position (1.5, 2.5)
    assert cols.tolist() == pytest.approx([1.5, 21.5]) and rows.tolist() == pytest.approx([2.5, 11.5])


def test_tie_points_are_placed_where_ref_has_their_feature_and_given_in_refs_pixels():
    """A feature of TGT at lattice (col 10, row 4) is at (+0.25, -0.5) lattice px in REF: REF has it at REF's
    (22.0, 9.5), and TGT has it 0.5 REF px west and 1 px south of there."""
    one = np.array([1.0])
    points = TiePoints(np.array([4.0]), np.array([10.0]), 0.25 * one, -0.5 * one, one, 0.01 * one,
                       np.array([True]), np.array([True]))
    on_grid = SWAPPED.points(points)
    assert (on_grid.col[0], on_grid.row[0]) == pytest.approx((22.0, 9.5))
    assert (on_grid.dx[0], on_grid.dy[0]) == pytest.approx((-0.5, 1.0))
    assert on_grid.sigma[0] == pytest.approx(0.02) and on_grid.inlier[0] and on_grid.reliable[0]


def test_the_global_shift_turns_round_and_scales_with_its_sigma():
    shift = SWAPPED.shift(Shift(0.1, -0.2, 0.9, 1000, sigma_px=0.01, spread_px=0.03))
    assert (shift.dx_px, shift.dy_px) == pytest.approx((-0.2, 0.4))
    assert (shift.sigma_px, shift.spread_px) == pytest.approx((0.02, 0.06)) and shift.quality == 0.9


def test_a_length_in_refs_pixels_on_the_lattice():
    assert (SWAPPED.pixels(128, 16), SWAPPED.pixels(20, 16), SWAPPED.pixels(1)) == (64, 16, 1)
