"""``geo coreg`` on files: different CRS/resolution/format, --apply (one resampling, or a geotransform
correction), --local with its fallback and --strict, checked by measuring the corrected output again."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.warp import calculate_default_transform, reproject

from geo.align.coreg import estimate_shift
from geo.align.pair import read_pair
from tests.align.fields import displace, texture
from tests.synthetic import CRS_UTM, fourier_shift

TOP_LEFT = (500000.0, 5000000.0)


@pytest.fixture(scope="module")
def scene():
    return 1500 + 4000 * texture((560, 560), seed=11)


def _write(path, array, transform, crs=CRS_UTM, driver="GTiff", **extra):
    with rasterio.open(path, "w", driver=driver, width=array.shape[1], height=array.shape[0], count=1,
                       dtype="uint16", crs=crs, transform=transform, nodata=0, **extra) as dst:
        dst.write(np.clip(np.rint(array), 1, 65535).astype(np.uint16), 1)
    return str(path)


def _utm(col0=0, row0=0, res=10.0):
    return Affine(res, 0, TOP_LEFT[0] + 10 * col0, 0, -res, TOP_LEFT[1] - 10 * row0)


def _pair(tmp_path, scene, dx, dy):
    """REF: a crop; TGT: the scene moved by (dx, dy), cropped 30 px further east and 20 px south."""
    ref = _write(tmp_path / "ref.tif", scene[:400, :420], _utm())
    tgt = _write(tmp_path / "tgt.tif", fourier_shift(scene, dx, dy)[20:540, 30:540], _utm(30, 20))
    return ref, tgt


def test_apply_resamples_onto_ref_grid_and_removes_the_shift(tmp_path, scene, geo_cli):
    ref, tgt = _pair(tmp_path, scene, 1.37, -2.21)
    out = tmp_path / "corrected.tif"
    result = geo_cli("coreg", ref, tgt, "--json", "--apply", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["dx_px"], report["dy_px"]) == pytest.approx((1.37, -2.21), abs=0.05)
    with rasterio.open(out) as dst, rasterio.open(ref) as src:
        assert dst.crs == src.crs and dst.dtypes[0] == "uint16"
        # on REF's pixel lattice
        assert ((dst.transform.c - src.transform.c) / 10) % 1 == pytest.approx(0, abs=1e-9)
    again = read_pair(ref, str(out))
    residual = estimate_shift(again.ref, again.tgt, again.ref_valid, again.tgt_valid)
    assert abs(residual.dx_px) < 0.02 and abs(residual.dy_px) < 0.02


def test_keep_grid_moves_the_geotransform_not_the_pixels(tmp_path, scene, geo_cli):
    ref, tgt = _pair(tmp_path, scene, 0.6, 1.4)
    out = tmp_path / "shifted.tif"
    result = geo_cli("coreg", ref, tgt, "--json", "--apply", str(out), "--keep-grid")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    with rasterio.open(out) as dst, rasterio.open(tgt) as src:
        assert np.array_equal(dst.read(1), src.read(1))
        assert dst.transform.c == pytest.approx(src.transform.c - report["dx_m"], abs=1e-3)
        assert dst.transform.f == pytest.approx(src.transform.f - report["dy_m"], abs=1e-3)
    again = read_pair(ref, str(out))
    residual = estimate_shift(again.ref, again.tgt, again.ref_valid, again.tgt_valid)
    assert abs(residual.dx_px) < 0.03 and abs(residual.dy_px) < 0.03


def test_other_crs_and_20m_resolution(tmp_path, scene, geo_cli):
    dx, dy = -0.83, 1.62
    ref = _write(tmp_path / "ref.tif", scene[:400, :400], _utm())
    moved = fourier_shift(scene, dx, dy)
    other = CRS.from_epsg(32632)  # the neighbouring UTM zone: grids rotated ~2 degrees
    transform, width, height = calculate_default_transform(
        CRS_UTM, other, 560, 560, *rasterio.transform.array_bounds(560, 560, _utm()), resolution=20)
    target = np.zeros((height, width), np.float32)
    reproject(moved.astype(np.float32), target, src_transform=_utm(), src_crs=CRS_UTM, dst_transform=transform,
              dst_crs=other, resampling=Resampling.average, src_nodata=None, dst_nodata=0)
    tgt = _write(tmp_path / "tgt.tif", target, transform, crs=other)
    result = geo_cli("coreg", ref, tgt, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["dx_px"], report["dy_px"]) == pytest.approx((dx, dy), abs=0.05)


def _has_jp2() -> bool:
    with rasterio.Env() as env:
        return "JP2OpenJPEG" in env.drivers()


@pytest.mark.skipif(not _has_jp2(), reason="this GDAL build has no JPEG2000 (OpenJPEG) driver")
def test_uint16_jpeg2000_inputs(tmp_path, scene, geo_cli):
    dx, dy = 2.15, 0.45
    jp2 = dict(driver="JP2OpenJPEG", QUALITY="100", REVERSIBLE="YES")
    ref = _write(tmp_path / "ref.jp2", scene[:400, :420], _utm(), **jp2)
    tgt = _write(tmp_path / "tgt.jp2", fourier_shift(scene, dx, dy)[20:540, 30:540], _utm(30, 20), **jp2)
    result = geo_cli("coreg", ref, tgt, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["dx_px"], report["dy_px"]) == pytest.approx((dx, dy), abs=0.05)


def test_local_model_applied_to_a_varying_shift(tmp_path, scene, geo_cli):
    def affine(r, c):
        return 0.4 + 1.0 * c / 560, -0.8 + 0.6 * r / 560

    moved, _ = displace(scene, affine)
    ref = _write(tmp_path / "ref.tif", scene, _utm())
    tgt = _write(tmp_path / "tgt.tif", moved, _utm())
    out = tmp_path / "corrected.tif"
    result = geo_cli("coreg", ref, tgt, "--json", "--local", "--window", "64", "--spacing", "64",
                     "--apply", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["applied_model"] == "affine" and report["warnings"] == []
    assert report["local"]["range_dx_px"][1] - report["local"]["range_dx_px"][0] == pytest.approx(1.0, abs=0.1)
    # the corrected file, measured again by tie points, is aligned everywhere
    from geo.align.local import measure_tie_points

    again = read_pair(ref, str(out))
    start = estimate_shift(again.ref, again.tgt, again.ref_valid, again.tgt_valid)
    points = measure_tie_points(again.ref, again.tgt, again.ref_valid, again.tgt_valid, start, 64, 80)
    assert points.inlier.sum() >= 20
    assert np.abs(points.dx[points.inlier]).max() < 0.05 and np.abs(points.dy[points.inlier]).max() < 0.05


def test_too_few_tie_points_falls_back_or_fails_with_strict(tmp_path, scene, geo_cli):
    ref = _write(tmp_path / "ref.tif", scene[:200, :200], _utm())
    tgt = _write(tmp_path / "tgt.tif", fourier_shift(scene, 0.5, 0.5)[:200, :200], _utm())
    result = geo_cli("coreg", ref, tgt, "--json", "--local", "--window", "96", "--spacing", "96")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["applied_model"] == "translation"
    assert "fell back to the global shift" in report["warnings"][0] and "reliable tie points" in report["warnings"][0]
    assert (report["dx_px"], report["dy_px"]) == pytest.approx((0.5, 0.5), abs=0.05)
    strict = geo_cli("coreg", ref, tgt, "--json", "--local", "--window", "96", "--spacing", "96", "--strict")
    assert strict.returncode == 1
    assert "reliable tie points" in strict.stderr and "Traceback" not in strict.stderr
    assert strict.stdout == ""


def test_keep_grid_with_local_is_a_usage_error(tmp_path, scene, geo_cli):
    ref, tgt = _pair(tmp_path, scene, 0.5, 0.5)
    result = geo_cli("coreg", ref, tgt, "--local", "--apply", str(tmp_path / "x.tif"), "--keep-grid")
    assert result.returncode == 1 and "--keep-grid" in result.stderr
    assert not (tmp_path / "x.tif").exists()


def test_bad_band_names_the_file(tmp_path, scene, geo_cli):
    ref, tgt = _pair(tmp_path, scene, 0.5, 0.5)
    result = geo_cli("coreg", ref, tgt, "--band", "3")
    assert result.returncode == 1 and "ref.tif" in result.stderr and "band 3" in result.stderr


def test_large_overlap_is_measured_from_windows_read_alone(tmp_path, geo_cli):
    """Past 4 windows across, the global shift reads an overview and a few windows, not the files."""
    from geo.align.pair import estimate_shift_from_files

    big = 1500 + 4000 * texture((760, 760), seed=21)
    dx, dy = -1.28, 0.64
    moved = fourier_shift(big, dx, dy)
    moved[300:420, 200:380] = 0  # nodata hole (masked cloud) in TGT
    profile = dict(tiled=True, blockxsize=256, blockysize=256)
    ref = _write(tmp_path / "ref.tif", big[:720, :740], _utm(), **profile)
    tgt = _write(tmp_path / "tgt.tif", moved[10:, 15:], _utm(15, 10), **profile)
    measured = estimate_shift_from_files(ref, tgt)
    shift, grid = measured.shift, measured.grid
    assert grid.shape == (710, 725)
    assert shift.n_windows >= 4
    assert (shift.dx_px, shift.dy_px) == pytest.approx((dx, dy), abs=0.02)
    result = geo_cli("coreg", ref, tgt, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["dx_px"], report["dy_px"]) == pytest.approx((dx, dy), abs=0.02)
    assert report["blocks_decoded"] == measured.read.blocks  # what it cost is reported
    tight = geo_cli("coreg", ref, tgt, "--json", "--read-budget", "0.2")
    assert tight.returncode == 0, tight.stderr
    tight_report = json.loads(tight.stdout)
    assert tight_report["pixels_decoded"] <= 200_000 < report["pixels_decoded"]
    assert (tight_report["dx_px"], tight_report["dy_px"]) == pytest.approx((dx, dy), abs=0.02)
    # a budget of nothing was taken and 2 M pixels read anyway: refused, naming the option
    none = geo_cli("coreg", ref, tgt, "--json", "--read-budget", "0")
    assert none.returncode == 1 and "--read-budget" in none.stderr and "x>0" in none.stderr
    assert none.stdout == ""


def test_apply_to_a_path_it_cannot_write_names_why(tmp_path, scene, geo_cli):
    ref, tgt = _pair(tmp_path, scene, 0.5, 0.5)
    out = tmp_path / "missing" / "x.tif"
    result = geo_cli("coreg", ref, tgt, "--apply", str(out))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{out}: cannot write a raster there (folder {tmp_path / 'missing'} does not exist)" in result.stderr
    assert not (tmp_path / "missing").exists()


def test_apply_under_a_file_names_the_file_not_a_missing_folder(tmp_path, scene, geo_cli):
    """`--apply notes.txt/x.tif` said 'folder notes.txt does not exist' while it sat right there, a file."""
    ref, tgt = _pair(tmp_path, scene, 0.5, 0.5)
    (tmp_path / "notes.txt").write_text("mine")
    for out in (tmp_path / "notes.txt" / "x.tif", tmp_path / "notes.txt" / "sub" / "x.tif"):
        result = geo_cli("coreg", ref, tgt, "--apply", str(out))
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert result.stderr.strip() == (f"Error: {out}: cannot write a raster there ({tmp_path / 'notes.txt'} is a "
                                         "file, not a folder)")
    assert (tmp_path / "notes.txt").read_text() == "mine"
