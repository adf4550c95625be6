"""Images resampled finer than their content (a 20 m band on a 10 m grid, an upsampled or pan-sharpened
product) get an honest ``sigma_px``: their interpolated pixels are not independent residuals, and their
interpolation pulls the shift towards the resampling grid. Before, a 4x-upsampled crop's sigma was as small,
in the content's pixels, as the native crop's while its error was ten times larger (|error| / sigma 6-9).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from scipy import ndimage as ndi

from geo.align import oversampling
from geo.align.coreg import estimate_shift
from tests.align.crops import MARGIN, Crop, fourier_shift, read_crop
from tests.conftest import SHARED_DATA, run_geo

needs_data = pytest.mark.skipif(not (SHARED_DATA / "oscd").exists(), reason="../shared/data not present")
SHIFT = (0.13, -0.21)  # px of the 10 m content


def _upsampled(image: np.ndarray, k: int) -> np.ndarray:
    """Cubic, on pixel centres (as GDAL resamples): d px of the content are k * d px of the result."""
    return image if k == 1 else ndi.zoom(image, k, order=3, grid_mode=True, mode="grid-mirror")


@pytest.fixture(scope="module")
def paris() -> np.ndarray:
    return read_crop(SHARED_DATA, Crop("paris", "oscd/paris", (100, 100, 200, 240), "B04", 1, (0, 0), 10.0))


@needs_data
@pytest.mark.parametrize("k", [1, 2, 4])
def test_factor_finds_how_much_finer_the_image_is_sampled(paris, k):
    found = oversampling.factor(_upsampled(paris, k), np.ones(np.array(paris.shape) * k, bool))
    assert found == 1.0 if k == 1 else found == pytest.approx(k, rel=0.15)  # native: exactly, nothing changes


@needs_data
def test_sigma_of_a_4x_upsampled_pair_covers_its_error(paris):
    inner = np.s_[MARGIN:-MARGIN, MARGIN:-MARGIN]
    ref, tgt = paris[inner], fourier_shift(paris, *SHIFT)[inner]
    native = estimate_shift(ref, tgt, pixel_m=10.0)
    fine = estimate_shift(_upsampled(ref, 4), _upsampled(tgt, 4), pixel_m=2.5)
    error = max(abs(fine.dx_px / 4 - SHIFT[0]), abs(fine.dy_px / 4 - SHIFT[1]))  # px of the content
    assert error > 0.01  # the interpolation's pull: far beyond the native crop's 0.002 px
    assert error <= 3 * fine.sigma_px / 4
    assert fine.sigma_px / 4 >= 3 * native.sigma_px  # before: about the native sigma
    assert max(abs(native.dx_px - SHIFT[0]), abs(native.dy_px - SHIFT[1])) <= 3 * native.sigma_px


@needs_data
@pytest.mark.parametrize(("k", "shift"), [(4, (-1.04, -0.66)), (3, (0.6, 0.4))])  # 2.5 m from 10 m; 30 m on 10 m
def test_upsampled_pair_a_content_pixel_off_the_resampling_grid(paris, k, shift):
    """A shift (px of the content) of about one content pixel that is no multiple of k file pixels: before, its
    integer start locked to the resampling grid and no window converged ("no reliable shift")."""
    inner = np.s_[MARGIN:-MARGIN, MARGIN:-MARGIN]
    found = estimate_shift(_upsampled(paris[inner], k), _upsampled(fourier_shift(paris, *shift)[inner], k),
                           pixel_m=10.0 / k)
    error = max(abs(found.dx_px / k - shift[0]), abs(found.dy_px / k - shift[1]))  # px of the content
    assert error <= 0.05
    assert error <= 3 * found.sigma_px / k


@needs_data
def test_geo_coreg_on_4x_upsampled_files(tmp_path):
    """``geo coreg`` on two 2.5 m GeoTIFFs upsampled from a whole 10 m OSCD city (read in windows): before,
    "no reliable shift: no window converged"."""
    shift = (-1.04, -0.66)  # px of the 10 m content
    image = read_crop(SHARED_DATA, Crop("pisa", "oscd/pisa", (0, 0, 0, 0), "B04", 1, (0, 0), 10.0))
    inner = np.s_[MARGIN:-MARGIN, MARGIN:-MARGIN]
    for name, part in (("ref.tif", image[inner]), ("tgt.tif", fourier_shift(image, *shift)[inner])):
        fine = _upsampled(part, 4).astype(np.float32)
        with rasterio.open(tmp_path / name, "w", driver="GTiff", width=fine.shape[1], height=fine.shape[0], count=1,
                           dtype="float32", crs="EPSG:32632",
                           transform=rasterio.Affine(2.5, 0, 600000, 0, -2.5, 4800000)) as dst:
            dst.write(fine, 1)
    result = run_geo("coreg", "ref.tif", "tgt.tif", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    error = max(abs(report["dx_px"] / 4 - shift[0]), abs(report["dy_px"] / 4 - shift[1]))  # px of the content
    assert error <= 0.05
    assert error <= 3 * report["sigma_px"] / 4
