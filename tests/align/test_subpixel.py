"""A TGT whose georeference puts it a fraction of a pixel off REF's lattice (same CRS and pixel size) is read as
stored and moved onto REF's grid by B-spline interpolation: GDAL's cubic warp pulled a known 0.37/-0.24 px offset
of a real Sentinel-2 band by 0.009/0.011 px, 4-5 sigma (``geo/align/subpixel.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.windows import Window

from geo.align.pair import estimate_shift_from_files
from geo.align.subpixel import read_offset
from geo.grid import Grid
from tests.conftest import SHARED_DATA

REF_JP2 = SHARED_DATA / "coreg-pair" / "ref_S2A_20160608T153121_T33UUU_sub.jp2"
pytestmark = pytest.mark.skipif(not REF_JP2.exists(), reason="../shared/data not present")


def _write(path: Path, values: np.ndarray, transform: Affine, crs: object) -> str:
    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
                       dtype=values.dtype, crs=crs, transform=transform) as dst:
        dst.write(values, 1)
    return str(path)


@pytest.mark.parametrize("size", [400, 1000])  # read whole, and read in windows
def test_a_sub_pixel_georeference_offset_is_measured_exactly(tmp_path: Path, size: int) -> None:
    """The same real pixels, TGT's geotransform moved 3.7 m east and 2.4 m north: a feature of REF at (c, r)
    is at (c + 0.37, r - 0.24) of TGT on REF's grid, exactly, as nothing but the georeference differs."""
    with rasterio.open(REF_JP2) as src:
        block = src.read(1, window=Window(200, 600, size + 400, size + 400))
        transform, crs = src.window_transform(Window(200, 600, size + 400, size + 400)), src.crs
    ref = _write(tmp_path / "ref.tif", block[200:200 + size, 200:200 + size], transform @ Affine.translation(200, 200),
                 crs)
    tgt = _write(tmp_path / "tgt.tif", block, Affine.translation(3.7, 2.4) @ transform, crs)
    shift = estimate_shift_from_files(ref, tgt).shift
    assert abs(shift.dx_px - 0.37) < 0.003 and abs(shift.dy_px + 0.24) < 0.003, (shift.dx_px, shift.dy_px)
    assert abs(shift.dx_px - 0.37) < 2 * shift.sigma_px + 0.001


def test_invalid_pixels_and_the_edge_stay_invalid(tmp_path: Path) -> None:
    """Pixels whose B-spline support reaches a nodata pixel or TGT's edge are 0 (invalid), the rest the
    interpolated values; a whole-pixel offset alone gives the pixels as stored."""
    values = np.arange(1, 401, dtype="float32").reshape(20, 20)
    values[10, 10] = 0
    path = _write(tmp_path / "t.tif", values, Affine(10, 0, 1000, 0, -10, 2000), "EPSG:32633")
    with rasterio.open(path) as src:
        whole = read_offset(src, 1, Grid(src.crs, Affine(10, 0, 1020, 0, -10, 1980), (5, 5)))
        moved = read_offset(src, 1, Grid(src.crs, Affine(10, 0, 1003, 0, -10, 1996), (20, 20)))
        assert read_offset(src, 1, Grid("EPSG:4326", src.transform, (5, 5))) is None
    assert whole is not None and moved is not None
    np.testing.assert_allclose(whole, values[2:7, 2:7], atol=1e-9)
    assert (moved[8:13, 8:13] == 0).all() and (moved[-2:, :] == 0).all()  # nodata's reach, beyond the edge
    # a linear ramp (20 per row, 1 per column) moved 0.3 column and 0.4 row, away from the edge and the nodata
    np.testing.assert_allclose(moved[4:7, 4:7], values[4:7, 4:7] + 0.3 + 0.4 * 20, atol=0.01)
