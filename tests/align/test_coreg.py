"""Known shifts are recovered; the sign convention is DESIGN's; failure paths are clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.windows import Window

from geo.align.coreg import estimate_shift
from geo.errors import CoregError
from tests.conftest import SHARED_DATA
from tests.synthetic import CRS_UTM, fourier_shift, textured_background

SHIFTS = [(0.37, -0.62), (-2.45, 1.15), (1.8, 2.6), (-0.05, -2.95)]
CORE_PAIR = SHARED_DATA / "coreg-pair" / "ref_S2A_20160608T153121_T33UUU_sub.jp2"


@pytest.fixture(scope="module")
def texture():
    return textured_background((300, 300), np.random.default_rng(3))[3]


@pytest.mark.parametrize("dx, dy", SHIFTS)
def test_known_shift_recovered(texture, dx, dy):
    tgt = fourier_shift(texture, dx, dy) * 1.2 + 0.03
    shift = estimate_shift(texture[20:-20, 20:-20], tgt[20:-20, 20:-20])
    assert shift.dx_px == pytest.approx(dx, abs=0.05)
    assert shift.dy_px == pytest.approx(dy, abs=0.05)
    assert shift.quality > 0.9


def test_sign_convention_feature_moves_by_plus_shift():
    """A bright dot at (col 50, row 40) in REF placed at (col 53, row 38) in TGT gives dx=+3, dy=-2."""
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(200, 200)) * 0.01
    from scipy import ndimage as ndi

    ref = ndi.gaussian_filter(rng.normal(size=(200, 200)), 2)
    tgt = np.roll(ref, shift=(-2, 3), axis=(0, 1))  # rows up 2 (north), cols right 3 (east)
    shift = estimate_shift(ref[10:-10, 10:-10], tgt[10:-10, 10:-10])
    assert shift.dx_px == pytest.approx(3, abs=0.01)
    assert shift.dy_px == pytest.approx(-2, abs=0.01)


@pytest.mark.parametrize("dx, dy", SHIFTS[:2])
def test_known_shift_with_clouds_and_nodata(texture, dx, dy):
    tgt = fourier_shift(texture, dx, dy)
    valid = np.ones(tgt.shape, bool)
    yy, xx = np.mgrid[: tgt.shape[0], : tgt.shape[1]]
    cloud = (yy - 120) ** 2 + (xx - 90) ** 2 < 45**2
    tgt = np.where(cloud, tgt.max() * 3, tgt)  # a bright cloud, masked as the SCL would
    valid &= ~cloud
    valid[:, :60] = False  # nodata wedge (swath edge)
    tgt[:, :60] = 0
    shift = estimate_shift(texture, tgt, np.ones_like(valid), valid)
    assert shift.dx_px == pytest.approx(dx, abs=0.05)
    assert shift.dy_px == pytest.approx(dy, abs=0.05)


def test_unmasked_bright_cloud_is_ignored(texture):
    tgt = fourier_shift(texture, 0.8, -1.3)
    yy, xx = np.mgrid[: tgt.shape[0], : tgt.shape[1]]
    tgt = np.where((yy - 150) ** 2 + (xx - 150) ** 2 < 50**2, tgt.max() * 4, tgt)
    shift = estimate_shift(texture, tgt)
    assert (shift.dx_px, shift.dy_px) == pytest.approx((0.8, -1.3), abs=0.05)


def test_unrelated_images_are_refused():
    rng = np.random.default_rng(1)
    from scipy import ndimage as ndi

    a, b = (ndi.gaussian_filter(rng.normal(size=(200, 200)), 2) for _ in range(2))
    with pytest.raises(CoregError, match="no reliable shift"):
        estimate_shift(a, b)


def test_too_little_overlap_is_refused(texture):
    valid = np.zeros(texture.shape, bool)
    valid[:20, :20] = True
    with pytest.raises(CoregError, match="overlap on only"):
        estimate_shift(texture, texture, valid, valid)


def _write(path, array, transform, crs=CRS_UTM):
    with rasterio.open(path, "w", driver="GTiff", width=array.shape[1], height=array.shape[0], count=1,
                       dtype="uint16", crs=crs, transform=transform, nodata=0) as dst:
        dst.write(np.clip(array, 1, 65535).astype(np.uint16), 1)


def test_cli_json_contract_on_files_with_different_extents(tmp_path, texture, geo_cli):
    dx, dy = 1.3, -0.7
    big = 2000 + 1500 * texture
    shifted = fourier_shift(big, dx, dy)
    _write(tmp_path / "ref.tif", big[:260, :270], Affine(10, 0, 500000, 0, -10, 5000000))
    # TGT starts 25 columns east and 12 rows south of REF: same grid, different extent
    _write(tmp_path / "tgt.tif", shifted[12:300, 25:300], Affine(10, 0, 500250, 0, -10, 4999880))
    result = geo_cli("coreg", str(tmp_path / "ref.tif"), str(tmp_path / "tgt.tif"), "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) >= {"dx_px", "dy_px", "dx_m", "dy_m", "quality"}
    assert out["dx_px"] == pytest.approx(dx, abs=0.05) and out["dy_px"] == pytest.approx(dy, abs=0.05)
    assert out["dx_m"] == pytest.approx(10 * dx, abs=0.5) and out["dy_m"] == pytest.approx(-10 * dy, abs=0.5)


def test_cli_no_overlap_is_a_user_error(tmp_path, texture, geo_cli):
    _write(tmp_path / "a.tif", 1000 + 500 * texture, Affine(10, 0, 500000, 0, -10, 5000000))
    _write(tmp_path / "b.tif", 1000 + 500 * texture, Affine(10, 0, 600000, 0, -10, 5000000))
    result = geo_cli("coreg", str(tmp_path / "a.tif"), str(tmp_path / "b.tif"), "--json")
    assert result.returncode == 1
    assert "do not overlap" in result.stderr and "a.tif" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(not CORE_PAIR.exists(), reason="../shared/data/coreg-pair not present")
def test_known_shift_on_real_sentinel2_crop():
    with rasterio.open(CORE_PAIR) as src:
        real = src.read(1, window=Window(1200, 1400, 400, 400)).astype(float)
    for dx, dy in [(0.42, -1.37), (-2.2, 0.75)]:
        tgt = fourier_shift(real, dx, dy)
        shift = estimate_shift(real[16:-16, 16:-16], tgt[16:-16, 16:-16])
        assert (shift.dx_px, shift.dy_px) == pytest.approx((dx, dy), abs=0.05)


def test_windows_fitted_as_one_stack_equal_each_fitted_alone(texture):
    """The windows of a global shift are prepared and fitted together (one pass of each filter over the
    stack); each window's fit is what it gets alone, a textureless window (a flat, masked patch) included,
    which must come out as not fitted."""
    from geo.align.coreg import fit_windows

    tgt = fourier_shift(texture, 0.37, -1.21)
    ref = texture.copy()
    ref[:90, 140:240] = ref[:90, 140:240].mean()  # no texture at all under the third window and around it
    valid = np.ones(ref.shape, bool)
    origins = np.array([(100, 20), (20, 100), (12, 160), (140, 140)])
    together, ok = fit_windows(ref, tgt, valid, valid, origins, 48, (0, -1), tolerance=2e-4)
    assert ok.tolist() == [True, True, False, True]
    for i, origin in enumerate(origins):
        alone, alone_ok = fit_windows(ref, tgt, valid, valid, origin[None], 48, (0, -1), tolerance=2e-4)
        assert alone_ok[0] == ok[i]
        for field in ("dx", "dy", "quality", "sigma", "n_pixels"):
            assert getattr(together, field)[i] == getattr(alone, field)[0], (i, field)
    assert (together.dx[ok], together.dy[ok]) == (pytest.approx([0.37] * 3, abs=0.01), pytest.approx([-1.21] * 3, abs=0.01))
