"""The cloud mask: bright ground seen on both dates is texture; a one-date bright region (a cloud) goes,
with a halo of ``HALO_M`` metres whatever the pixel size."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from geo.align.masks import HALO_M, clean_masks

SHAPE = (200, 200)


@pytest.fixture(scope="module")
def scene():
    rng = np.random.default_rng(11)
    ground = 1000 + 100 * ndi.gaussian_filter(rng.normal(size=SHAPE), 2)
    roofs = rng.random(SHAPE) < 0.03  # 3 % bright roofs, scattered (a small town)
    return np.where(roofs, 4000.0, ground), roofs


def test_bright_roofs_on_both_dates_are_kept(scene):
    image, roofs = scene
    valid = np.ones(SHAPE, bool)
    ref_ok, tgt_ok = clean_masks(image, np.roll(image, 1, axis=1), valid, valid, pixel_m=40.0)
    assert ref_ok.mean() > 0.99 and tgt_ok.mean() > 0.99


@pytest.mark.parametrize("pixel_m", [10.0, 40.0])
def test_one_date_cloud_is_masked_with_a_halo_in_metres(scene, pixel_m):
    image, _ = scene
    rows, cols = np.mgrid[: SHAPE[0], : SHAPE[1]]
    distance_px = np.hypot(rows - 100, cols - 100) - 20  # from the edge of a 20-px-radius cloud
    cloudy = np.where(distance_px <= 0, 9000.0, image)
    valid = np.ones(SHAPE, bool)
    ref_ok, tgt_ok = clean_masks(image, cloudy, valid, valid, pixel_m)
    halo_px = HALO_M / pixel_m
    assert not tgt_ok[distance_px <= halo_px].any()  # the cloud and its halo
    far = distance_px > halo_px + 4 + 2  # beyond the halo (grown on cells of up to 4 px), plus a roof
    assert tgt_ok[far].mean() > 0.99
    assert ref_ok.mean() > 0.99  # the clear date keeps its pixels


def test_pixel_size_in_metres_for_projected_and_geographic_grids():
    import pyproj
    from affine import Affine
    from rasterio.crs import CRS

    from geo.align.masks import pixel_size_m
    from geo.grid import Grid

    assert pixel_size_m(Grid(CRS.from_epsg(32633), Affine(40, 0, 5e5, 0, -40, 5e6), (10, 10))) == pytest.approx(40)
    # OSCD Paris: 1.164e-4 deg at 48.87 N is 8.5 m east-west by 12.9 m north-south
    paris = Grid(CRS.from_epsg(4326), Affine(1.1642e-4, 0, 2.3, 0, -1.1635e-4, 48.9), (408, 390))
    geod = pyproj.Geod(ellps="WGS84")  # the pixel's sides on the ellipsoid at the grid's centre latitude
    lat = 48.9 - 408 * 1.1635e-4 / 2
    east = geod.inv(2.3, lat, 2.3 + 1.1642e-4, lat)[2]
    north = geod.inv(2.3, lat - 1.1635e-4 / 2, 2.3, lat + 1.1635e-4 / 2)[2]
    assert pixel_size_m(paris) == pytest.approx(np.sqrt(east * north), rel=1e-4)
    assert 10 < pixel_size_m(paris) < 11


@pytest.mark.parametrize("match_px", [2, 3, 9])
def test_labels_within_reach_read_at_few_pixels_equal_the_filtered_ones(match_px):
    """The cloud mask reads the regions within reach of a few bright pixels of the other date from their
    own squares (mirrored at the edges, as the maximum filter is), not by filtering the whole image:
    the same labels, edges and corners included."""
    from geo.align import filters
    from geo.align.masks import _reach_at, _reach_filtered

    rng = np.random.default_rng(match_px)
    bright = ndi.gaussian_filter(rng.normal(size=(61, 47)), 1.5) > 0.25
    labels, n = filters.label(bright)
    counted = rng.random(bright.shape) < 0.05
    counted[0, 0] = counted[-1, -1] = counted[0, -1] = counted[-1, 0] = True
    valid = rng.random(bright.shape) < 0.9
    highest, lowest, seen = _reach_filtered(labels, n, counted, valid, match_px)
    at_highest, at_lowest = _reach_at(labels, n, counted, match_px)
    assert n > 5 and 0 < (highest > 0).sum() < counted.sum()  # some pixels in reach of a region, some not
    np.testing.assert_array_equal(at_highest, highest)
    np.testing.assert_array_equal(at_lowest, lowest)
    np.testing.assert_array_equal(np.bincount(labels[valid], minlength=n + 1), seen)


def test_regions_when_the_other_date_has_no_light_pixel_are_all_one_date():
    """The other date shows nothing bright: every region is one date's (masked), the large one a cloud, and
    reading zero neighbourhoods is no error (it raised on a synthetic city: numpy cannot size the rows of an
    empty selection)."""
    from geo.align.masks import _reach_at, one_date_bright

    bright = np.zeros((40, 40), bool)
    bright[2:4, 2:4] = True  # 4 px
    bright[20:30, 20:30] = True  # 100 px
    none = np.zeros_like(bright)
    alone, cloud = one_date_bright(bright, none, ~none, 3, 50)
    np.testing.assert_array_equal(alone, bright)
    assert cloud.sum() == 100 and cloud[20:30, 20:30].all()
    highest, lowest = _reach_at(bright.astype(np.int32), 1, none, 3)
    assert highest.shape == lowest.shape == (0,)
