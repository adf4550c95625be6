"""Small images (a 1.5-2.5 km AOI at 10 m, a city at 40 m) get a shift with an honest error, or a reason.

Known shifts on real Sentinel-2 crops (tests/align/crops.py). Three of them (bordeaux and paris at 40 m in
B04, nantes at 40 m in B02: bright roofs) failed before the cloud mask was sized in metres and limited to
one-date bright regions: it grew every bright roof by >= 10 px and left no window.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from affine import Affine
from scipy import ndimage as ndi

from geo.align.coreg import estimate_shift
from geo.align.windows import global_window_size
from geo.errors import CoregError
from tests.align.crops import CROPS, shifted_pair
from tests.conftest import SHARED_DATA

needs_data = pytest.mark.skipif(not (SHARED_DATA / "oscd").exists(), reason="../shared/data not present")


@needs_data
@pytest.mark.parametrize("crop", CROPS, ids=[c.name for c in CROPS])
def test_known_shift_on_small_real_crop(crop):
    ref, tgt = shifted_pair(SHARED_DATA, crop)
    assert 64 <= min(ref.shape) and max(ref.shape) <= 250
    shift = estimate_shift(ref, tgt, pixel_m=crop.pixel_m)
    error = np.hypot(shift.dx_px - crop.shift[0], shift.dy_px - crop.shift[1])
    assert error <= 0.01
    assert shift.n_windows >= 3  # separate windows: their spread is part of the stated error
    assert error / np.sqrt(2) <= 3 * shift.sigma_px  # the stated error is not optimistic


def test_window_size_follows_the_overlap():
    assert global_window_size(3000, 3000, 128, 9) == 128
    assert global_window_size(135, 175, 128, 9) == 64  # 2 x 2 windows, a multiple of the 8-px texture block
    assert global_window_size(64, 64, 128, 9) == 32
    assert global_window_size(300, 300, 128, 1) == 128  # one window asked for: no need to shrink


@pytest.fixture(scope="module")
def texture():
    rng = np.random.default_rng(7)
    return ndi.gaussian_filter(rng.normal(size=(96, 96)), 1.5)


def test_a_64_px_overlap_gets_a_shift(texture):
    """Only 64 x 64 pixels of a larger image are valid in both: still a shift, from several windows."""
    from tests.align.crops import fourier_shift

    tgt = fourier_shift(texture, 0.37, -1.21)
    valid = np.zeros(texture.shape, bool)
    valid[16:80, 16:80] = True
    shift = estimate_shift(texture, tgt, valid, valid)
    assert (shift.dx_px, shift.dy_px) == pytest.approx((0.37, -1.21), abs=0.02)
    assert shift.n_windows >= 3 and 0 < shift.sigma_px < 0.05


def test_textureless_overlap_is_refused_with_the_reason():
    flat = np.full((120, 120), 1000.0)
    with pytest.raises(CoregError, match="enough valid, textured pixels"):
        estimate_shift(flat, flat.copy())


@needs_data
def test_cli_on_small_40m_files(tmp_path, geo_cli):
    """``geo coreg`` on two 40 m GeoTIFFs of Bordeaux (113 x 99 px, bright roofs) with a known shift."""
    crop = next(c for c in CROPS if c.name == "bordeaux-40m-B04")
    ref, tgt = shifted_pair(SHARED_DATA, crop)
    transform = Affine(40, 0, 500000, 0, -40, 5000000)
    for name, image in (("ref.tif", ref), ("tgt.tif", tgt)):
        with rasterio.open(tmp_path / name, "w", driver="GTiff", width=image.shape[1], height=image.shape[0],
                           count=1, dtype="float32", crs="EPSG:32630", transform=transform) as dst:
            dst.write(image.astype(np.float32), 1)
    result = geo_cli("coreg", "ref.tif", "tgt.tif", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["dx_px"], out["dy_px"]) == pytest.approx(crop.shift, abs=0.01)
    assert out["dy_m"] == pytest.approx(-40 * crop.shift[1], abs=0.4)
    assert out["n_windows"] >= 3 and out["sigma_px"] >= 0.002


@needs_data
def test_tie_points_on_a_bright_urban_city():
    """Paris at 10 m in B04 (bright roofs): tie points everywhere, all reliable (the metre-less mask left
    18 windows placeable and 9 reliable)."""
    from geo.align.local import measure_tie_points
    from tests.align.crops import Crop

    crop = Crop("paris-10m-B04", "oscd/paris", (0, 0, 0, 0), "B04", 1, (0.8, -1.3), 10.0)
    ref, tgt = shifted_pair(SHARED_DATA, crop)
    valid = np.ones(ref.shape, bool)
    start = estimate_shift(ref, tgt, pixel_m=10.0)
    points = measure_tie_points(ref, tgt, valid, valid, start, 64, 64, pixel_m=10.0)
    assert len(points) >= 25 and points.reliable.all()
    errors = np.hypot(points.dx - 0.8, points.dy + 1.3)
    assert errors.max() <= 0.01
