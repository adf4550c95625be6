"""``geo coreg --apply`` on a floating-point TGT (an index, a difference, a DEM, sigma0: values where 0.0 is a real
value). Without a nodata value it was written with nodata 0, so its 0.0 pixels read as nodata in QGIS and rasterio,
and they were taken as invalid while resampling, holing the pixels around them; the output now has nodata NaN, as
float rasters do, and 0.0 stays a value. A TGT declaring nodata NaN came out all NaN: NaN was not recognised as
invalid (``x != nan`` is always true) and the spline spread it over the whole image."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from tests.align.fields import texture
from tests.synthetic import fourier_shift

LAKE = (slice(200, 260), slice(200, 260))  # TGT's own rows and columns of exact 0.0 values
# the lake on the output's grid (REF's over the overlap: from REF's row 20, column 30), the shift undone, 5 px in
INSIDE_LAKE = (slice(207, 257), slice(204, 252))


def _write(path: Path, array: np.ndarray, col0: int, row0: int, nodata: float | None) -> str:
    transform = Affine(10, 0, 500000 + 10 * col0, 0, -10, 5000000 - 10 * row0)
    with rasterio.open(path, "w", driver="GTiff", width=array.shape[1], height=array.shape[0], count=1,
                       dtype="float32", crs="EPSG:32633", transform=transform, nodata=nodata) as dst:
        dst.write(array.astype("float32"), 1)
    return str(path)


@pytest.mark.parametrize("tgt_nodata", [None, math.nan], ids=["no-nodata", "nodata-nan"])
def test_a_float_target_keeps_its_zeros_and_gets_nodata_nan(tmp_path, geo_cli, tgt_nodata):
    scene = 2 * texture((560, 560), seed=11) - 1
    ref = _write(tmp_path / "ref.tif", scene[:400, :420], 0, 0, None)
    moved = fourier_shift(scene, 1.37, -2.21)[20:540, 30:540]
    moved[LAKE] = 0.0
    tgt = _write(tmp_path / "tgt.tif", moved, 30, 20, tgt_nodata)
    result = geo_cli("coreg", ref, tgt, "--apply", str(tmp_path / "out.tif"))
    assert result.returncode == 0, result.stderr
    with rasterio.open(tmp_path / "out.tif") as out:
        values, mask = out.read(1), out.read_masks(1)
        assert out.nodata is not None and math.isnan(out.nodata)
    assert (mask[INSIDE_LAKE] == 255).all() and np.abs(values[INSIDE_LAKE]).max() < 1e-3  # 0.0 is a value
    assert (mask[:3] == 0).all() and np.isnan(values[:3]).all()  # rows TGT's content does not reach (dy -2.21)
    assert (mask[6:-6, 6:-6] == 255).all() and np.isfinite(values[6:-6, 6:-6]).all()  # the rest is there
