"""``geo coreg`` on files as a user has them: a multi-band target against a one-band reference, bands named by
their descriptions, and ``--apply`` keeping what says what each band is. Real Sentinel-2 pixels (a crop of the
co-registration pair's REF) moved by a known shift; the command runs from a temporary folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.enums import ColorInterp, Resampling

from tests.align.crops import COREG_PAIR_512, COREG_PAIR_768, fourier_shift, shifted_pair
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.skipif(not (SHARED_DATA / "coreg-pair").exists(), reason="../shared/data not present")

TRANSFORM = rasterio.Affine(10, 0, 338000, 0, -10, 5850000)
NAMES = ("B02", "B03", "B04", "B08")
COLOURS = [ColorInterp.blue, ColorInterp.green, ColorInterp.red, ColorInterp.undefined]


def _write(path: Path, bands: list[np.ndarray], names: tuple[str, ...] = ()) -> str:
    with rasterio.open(path, "w", driver="GTiff", width=bands[0].shape[1], height=bands[0].shape[0],
                       count=len(bands), dtype="uint16", crs="EPSG:32633", transform=TRANSFORM, nodata=0) as dst:
        dst.write(np.stack([np.clip(np.rint(b), 1, 65535) for b in bands]).astype(np.uint16))
        for band, name in enumerate(names, 1):
            dst.set_band_description(band, name)
        if names:
            dst.colorinterp = COLOURS
            dst.scales, dst.offsets = [1e-4] * len(bands), [-0.1] * len(bands)
    return path.name


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ref.tif: one band; tgt4.tif: four bands named B02..B08, the real image moved by the crop's shift in
    band 3 (B04) only, unrelated noise in the others (a wrong band cannot pass for the right one)."""
    folder = tmp_path_factory.mktemp("user-files")
    ref, tgt = shifted_pair(SHARED_DATA, COREG_PAIR_512)
    noise = np.random.default_rng(5)
    others = [noise.uniform(500, 3000, tgt.shape) for _ in range(3)]
    _write(folder / "ref.tif", [ref])
    _write(folder / "tgt.tif", [tgt])
    _write(folder / "ref4.tif", [ref] * 4, NAMES)
    _write(folder / "tgt4.tif", [others[0], others[1], tgt, others[2]], NAMES)
    with rasterio.open(folder / "tgt4.tif", "r+") as dst:
        dst.build_overviews([2, 4], Resampling.average)
    return folder


def _shift(result) -> tuple[float, float]:
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    return report["dx_px"], report["dy_px"]


@pytest.mark.parametrize("tgt_band", ["3", "B04", "b04"])
def test_one_band_reference_against_the_third_band_of_a_target(files, geo_cli, tgt_band):
    """Before: ``--band`` was one number for both files, so a one-band REF could not meet a four-band TGT."""
    result = geo_cli("coreg", "ref.tif", "tgt4.tif", "--tgt-band", tgt_band, "--json", cwd=files)
    assert _shift(result) == pytest.approx(COREG_PAIR_512.shift, abs=0.02)


def test_band_by_description_in_both_files(files, geo_cli):
    result = geo_cli("coreg", "ref4.tif", "tgt4.tif", "--band", "B04", "--json", cwd=files)
    assert _shift(result) == pytest.approx(COREG_PAIR_512.shift, abs=0.02)


def test_a_band_name_the_file_lacks_is_one_line_naming_the_file_and_its_bands(files, geo_cli):
    result = geo_cli("coreg", "ref4.tif", "tgt4.tif", "--band", "B05", cwd=files)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "Error: ref4.tif: no band named 'B05' (its bands: 1 'B02', 2 'B03', 3 'B04', 4 'B08'); give the band's number"]
    unnamed = geo_cli("coreg", "ref.tif", "tgt4.tif", "--band", "B04", cwd=files)
    assert unnamed.returncode == 1 and "Traceback" not in unnamed.stderr
    assert unnamed.stderr.strip() == ("Error: ref.tif: no band named 'B04' (its 1 band(s) have no descriptions); "
                                      "give the band's number")
    beyond = geo_cli("coreg", "ref.tif", "tgt4.tif", "--tgt-band", "7", cwd=files)
    assert beyond.returncode == 1 and beyond.stderr.strip() == "Error: tgt4.tif: has 4 band(s), band 7 requested"


@pytest.mark.parametrize("keep_grid", [False, True])
def test_apply_keeps_band_descriptions_colours_scales_and_overviews(files, geo_cli, tmp_path, keep_grid):
    """Before: the corrected file's bands lost their names (B02..B08), colours, reflectance scale/offset and
    the overviews QGIS draws a large file from."""
    out = tmp_path / "corrected.tif"
    extra = ["--keep-grid"] if keep_grid else []
    result = geo_cli("coreg", str(files / "ref4.tif"), str(files / "tgt4.tif"), "--band", "3", "--apply", str(out),
                     *extra, "--json", cwd=tmp_path)
    assert _shift(result) == pytest.approx(COREG_PAIR_512.shift, abs=0.02)
    with rasterio.open(out) as dst:
        assert dst.count == 4 and dst.dtypes == ("uint16",) * 4 and dst.nodata == 0
        assert dst.descriptions == NAMES
        assert list(dst.colorinterp) == COLOURS
        assert dst.scales == (1e-4,) * 4 and dst.offsets == (-0.1,) * 4
        assert dst.overviews(1) == dst.overviews(4) == [2, 4]  # as TGT has them
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrected.tif"]  # no sidecar, no temporary left
    # the corrected B04 measured again against REF: the shift is gone
    again = geo_cli("coreg", str(files / "ref4.tif"), str(out), "--band", "3", "--json", cwd=tmp_path)
    residual = _shift(again)
    assert abs(residual[0]) < 0.03 and abs(residual[1]) < 0.03


def _block_average(image: np.ndarray, factor: int) -> np.ndarray:
    rows, cols = image.shape[0] // factor * factor, image.shape[1] // factor * factor
    averaged: np.ndarray = image[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor).mean(axis=(1, 3))
    return averaged


# UTM zone 33's projection with its false easting 1 km further: another CRS, the same pixels 1 km east
SHIFTED_UTM = "+proj=tmerc +lat_0=0 +lon_0=15 +k=0.9996 +x_0=501000 +y_0=0 +datum=WGS84 +units=m +no_defs"


def _write_float(path: Path, image: np.ndarray, transform: rasterio.Affine, crs: str = "EPSG:32633") -> None:
    with rasterio.open(path, "w", driver="GTiff", width=image.shape[1], height=image.shape[0], count=1,
                       dtype="float32", crs=crs, transform=transform, nodata=0) as dst:
        dst.write(image.astype(np.float32), 1)


def _coarse_pair(folder: Path, factor: int, other_crs: bool = False) -> None:
    """ref.tif: 10 m; tgt.tif: the same ground moved by COREG_PAIR_768's shift and block-averaged ``factor``
    times (a coarser band's pixels are the ground averaged), in REF's CRS or (``other_crs``) another one."""
    ref, tgt = shifted_pair(SHARED_DATA, COREG_PAIR_768)
    _write(folder / "ref.tif", [ref])
    transform = TRANSFORM @ rasterio.Affine.scale(factor)
    if other_crs:
        _write_float(folder / "tgt.tif", _block_average(tgt, factor), rasterio.Affine.translation(1000, 0) @ transform,
                     SHIFTED_UTM)
    else:
        _write_float(folder / "tgt.tif", _block_average(tgt, factor), transform)


@pytest.mark.parametrize("factor", [2, 3])
def test_coarser_target_measured_on_its_own_lattice(tmp_path, geo_cli, factor):
    """A 20 m (30 m) TGT against a 10 m REF: TGT's pixels are REF's ground averaged. Before: TGT was upsampled
    onto REF's grid and the shift came out ~0.04 px off with a sigma of ~0.01 (off by 4 sigma)."""
    _coarse_pair(tmp_path, factor)
    result = geo_cli("coreg", "ref.tif", "tgt.tif", "--json", cwd=tmp_path)
    report = json.loads(result.stdout)
    error = np.hypot(report["dx_px"] - COREG_PAIR_768.shift[0], report["dy_px"] - COREG_PAIR_768.shift[1])
    assert _shift(result) == pytest.approx(COREG_PAIR_768.shift, abs=0.015)
    assert error <= 3 * report["sigma_px"]  # the stated error covers the real one
    assert report["dx_m"] == pytest.approx(10 * report["dx_px"]) and report["dy_m"] == pytest.approx(-10 * report["dy_px"])


# Bounds from benchmarks/coreg_coarse_local.py (defaults, 8 pairs a resolution with known shifts): the model's
# mean was at worst 0.010 px off at 20 m and 0.104 at 60 m (main: 0.073, 0.40), the correction re-measured at
# worst 0.014 and 0.104 from zero (main: 0.072, 0.40); the model anywhere at worst 0.030 and 0.32 off (main:
# 0.093, 0.46), though a grid of 25 points or more may take a smooth field whose corners stray further.
COARSE_LOCAL_BOUNDS = {2: (0.015, 0.1, 0.02), 6: (0.12, 0.35, 0.12)}  # mean, anywhere, re-measured


@pytest.mark.parametrize(("factor", "other_crs"), [(2, False), (6, False), (6, True)])
def test_local_model_of_a_coarser_target_and_its_correction(tmp_path, geo_cli, factor, other_crs):
    """A 20 m (60 m) TGT against a 10 m REF with ``--local --apply``; at 60 m also in another CRS (its tie points
    taken into REF's). Before: the tie points were measured on TGT upsampled onto REF's grid: the model 0.03 px
    (0.24 px) off, the global shift it reports 0.05 (0.62) px off, and the corrected file still moved by as much."""
    _coarse_pair(tmp_path, factor, other_crs)
    result = geo_cli("coreg", "ref.tif", "tgt.tif", "--local", "--apply", "out.tif", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    true_dx, true_dy = COREG_PAIR_768.shift
    mean, anywhere, again = COARSE_LOCAL_BOUNDS[factor]
    local = report["local"]
    assert report["applied_model"] == local["model"] and local["n_inliers"] >= 8
    assert (local["mean_dx_px"], local["mean_dy_px"]) == pytest.approx((true_dx, true_dy), abs=mean)
    for low, high in (np.array(local["range_dx_px"]) - true_dx, np.array(local["range_dy_px"]) - true_dy):
        assert -anywhere <= low <= high <= anywhere
    assert _shift(result) == pytest.approx((true_dx, true_dy), abs=mean)  # the global shift it reports too
    assert local["mean_dy_m"] == pytest.approx(-10 * local["mean_dy_px"], abs=0.001)
    # the correction, averaged back onto TGT's lattice (measured on REF's grid, its upsampled pixels would bias
    # the measurement as they did the tie points) and measured again: no shift left
    with rasterio.open(tmp_path / "out.tif") as src:
        assert (src.crs, src.transform) == ("EPSG:32633", TRANSFORM)  # REF's grid
        rows, cols = src.height // factor, src.width // factor
        back = src.read(1, window=rasterio.windows.Window(0, 0, cols * factor, rows * factor), out_shape=(rows, cols),
                        resampling=Resampling.average)
    _write_float(tmp_path / "back.tif", back, TRANSFORM @ rasterio.Affine.scale(factor))
    residual = _shift(geo_cli("coreg", "ref.tif", "back.tif", "--json", cwd=tmp_path))
    assert abs(residual[0]) <= again and abs(residual[1]) <= again


def test_a_constant_shift_with_many_tie_points_is_not_taken_for_a_smooth_field(tmp_path, geo_cli):
    """A 60 m TGT moved by a constant shift, tie points every 64 px (62 of them): a pair of
    benchmarks/coreg_cv_folds.py. Before: cross-validation on random folds kept a neighbour of each left-out
    point in training (their errors alike), chose a smooth field, and bent it 0.30 px at a corner."""
    dx, dy = 0.0709, 2.7028
    with rasterio.open(SHARED_DATA / "coreg-pair" / "ref_S2A_20160608T153121_T33UUU_sub.jp2") as src:
        image = src.read(1, window=rasterio.windows.Window(700, 900, 660, 660)).astype(float)
    inner = np.s_[24:-24, 24:-24]
    _write_float(tmp_path / "ref.tif", image[inner], TRANSFORM)
    _write_float(tmp_path / "tgt.tif", _block_average(fourier_shift(image, dx, dy)[inner], 6),
                 TRANSFORM @ rasterio.Affine.scale(6))
    result = geo_cli("coreg", "ref.tif", "tgt.tif", "--local", "--spacing", "64", "--json", cwd=tmp_path)
    local = json.loads(result.stdout)["local"]
    assert local["model"] == "affine" and local["n_inliers"] >= 50
    for low, high in (np.array(local["range_dx_px"]) - dx, np.array(local["range_dy_px"]) - dy):
        assert -0.06 <= low <= high <= 0.06  # blocked folds: 0.036 at worst (random folds: 0.30)


@pytest.mark.parametrize("size", [400, 900])  # read whole; read in windows (which fail, then the whole overlap)
def test_a_shift_of_tens_of_pixels_beyond_the_windows_reach(tmp_path, geo_cli, size):
    """Before: a shift over ~64 px (half a 128-px window) was refused as "no reliable shift … not the same
    place", though the images are the same place."""
    dx, dy = 70.4, -12.6
    pad = 120
    with rasterio.open(SHARED_DATA / "coreg-pair" / "ref_S2A_20160608T153121_T33UUU_sub.jp2") as src:
        image = src.read(1, window=rasterio.windows.Window(800 - pad, 1200 - pad, size + 2 * pad, size + 2 * pad))
    image = image.astype(float)
    moved = np.roll(fourier_shift(image, dx % 1, dy % 1), (int(dy // 1), int(dx // 1)), axis=(0, 1))
    inner = np.s_[pad:-pad, pad:-pad]
    _write(tmp_path / "ref.tif", [image[inner]])
    _write(tmp_path / "tgt.tif", [moved[inner]])
    result = geo_cli("coreg", "ref.tif", "tgt.tif", "--json", cwd=tmp_path)
    assert _shift(result) == pytest.approx((dx, dy), abs=0.01)
    assert json.loads(result.stdout)["sigma_px"] < 0.01


def test_metres_of_a_web_mercator_reference_are_ground_metres(files, geo_cli, tmp_path):
    """REF in EPSG:3857 (whose metres are 1/cos(latitude) of the ground's, 1.65 here) and in EPSG:4326, the
    same TGT (UTM): both give the shift in metres on the ground, east and north. Before: 3857's were 1.65x."""
    from rasterio.warp import calculate_default_transform, reproject

    reports = {}
    for crs in ("EPSG:3857", "EPSG:4326"):
        with rasterio.open(files / "ref.tif") as src:
            transform, width, height = calculate_default_transform(src.crs, crs, src.width, src.height, *src.bounds)
            out = np.zeros((height, width), np.uint16)
            reproject(src.read(1), out, src_transform=src.transform, src_crs=src.crs, dst_transform=transform,
                      dst_crs=crs, resampling=Resampling.cubic, src_nodata=0, dst_nodata=0)
        name = f"ref-{crs[5:]}.tif"
        with rasterio.open(tmp_path / name, "w", driver="GTiff", width=width, height=height, count=1,
                           dtype="uint16", crs=crs, transform=transform, nodata=0) as dst:
            dst.write(out, 1)
        result = geo_cli("coreg", name, str(files / "tgt.tif"), "--json", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        reports[crs] = json.loads(result.stdout)
    ground = np.hypot(COREG_PAIR_512.shift[0], COREG_PAIR_512.shift[1]) * 10  # metres, whatever the north
    for report in reports.values():
        assert np.hypot(report["dx_m"], report["dy_m"]) == pytest.approx(ground, rel=0.01)
    assert reports["EPSG:3857"]["dx_m"] == pytest.approx(reports["EPSG:4326"]["dx_m"], abs=0.15)
    assert reports["EPSG:3857"]["dy_m"] == pytest.approx(reports["EPSG:4326"]["dy_m"], abs=0.15)



def test_unusable_georeference_or_source_is_one_line_naming_the_file(files, geo_cli, tmp_path):
    """A TGT georeferenced by ground control points only (before: "internal error: CRSError"), and a VRT
    whose source file is gone (before: "Read failed. See previous exception for details."): exit 1, the file
    named with what is wrong, nothing written."""
    import shutil

    from rasterio.control import GroundControlPoint
    from rasterio.shutil import copy as copy_raster

    with rasterio.open(files / "tgt.tif") as src:
        values, profile, transform, crs = src.read(1), src.profile, src.transform, src.crs
    for key in ("transform", "crs"):
        profile.pop(key)
    with rasterio.open(tmp_path / "gcps.tif", "w", **profile) as dst:
        dst.write(values, 1)
        corners = [(0, 0), (0, values.shape[1]), (values.shape[0], 0), values.shape]
        dst.gcps = ([GroundControlPoint(r, c, *(transform @ (c, r))) for r, c in corners], crs)
    shutil.copy(files / "tgt.tif", tmp_path / "source.tif")
    copy_raster(str(tmp_path / "source.tif"), str(tmp_path / "mosaic.vrt"), driver="VRT")
    (tmp_path / "source.tif").unlink()
    expected = {
        "gcps.tif": "Error: gcps.tif: georeferenced by ground control points only, not on a map grid; warp it "
                    "first (gdalwarp gcps.tif warped.tif)",
        "mosaic.vrt": "Error: mosaic.vrt: cannot read raster (",
    }
    for name, line in expected.items():
        result = geo_cli("coreg", str(files / "ref.tif"), name, "--apply", "out.tif", cwd=tmp_path)
        assert (result.returncode, result.stdout) == (1, "") and len(result.stderr.strip().splitlines()) == 1
        assert result.stderr.startswith(line), result.stderr
        assert "See previous exception" not in result.stderr and "source.tif" in result.stderr or name != "mosaic.vrt"
    assert not (tmp_path / "out.tif").exists()


def test_untagged_fill_around_a_swath_is_not_measured(files, geo_cli, tmp_path):
    """REF: float32 reflectance (DN / 10000) in a rotated swath, -9999 around it and no nodata set, as some
    exports write it. Before: the fill's edge was measured ("no reliable shift: correlation 0.05")."""
    with rasterio.open(files / "ref.tif") as src:
        values, profile = src.read(1).astype(float), src.profile
    rows, cols = np.mgrid[: values.shape[0], : values.shape[1]]
    swath = np.abs((cols - values.shape[1] / 2) * np.cos(0.3) + (rows - values.shape[0] / 2) * np.sin(0.3)) < 150
    profile.update(dtype="float32", nodata=None)
    with rasterio.open(tmp_path / "ref.tif", "w", **profile) as dst:
        dst.write(np.where(swath, values / 1e4, -9999).astype(np.float32), 1)
    for ref, tgt in (("ref.tif", str(files / "tgt.tif")), (str(files / "tgt.tif"), "ref.tif")):
        result = geo_cli("coreg", ref, tgt, "--json", cwd=tmp_path)
        sign = 1 if ref == "ref.tif" else -1
        assert _shift(result) == pytest.approx((sign * COREG_PAIR_512.shift[0], sign * COREG_PAIR_512.shift[1]),
                                               abs=0.01)
