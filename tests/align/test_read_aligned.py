"""TGT on REF's own lattice (same CRS and pixel size, a whole-pixel offset: the common Sentinel-2 case) is read
as stored, not warped: the values must be what the cubic warp onto that lattice gives, nodata and the outside
of the file included."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.windows import Window

from geo.align import pair
from geo.grid import Grid
from tests.synthetic import CRS_UTM


def _write(path, array, col0, row0, dtype, nodata, mask=None):
    transform = Affine(10.0, 0, 500000.0 + 10 * col0, 0, -10.0, 5000000.0 - 10 * row0)
    with rasterio.open(path, "w", driver="GTiff", width=array.shape[1], height=array.shape[0], count=1,
                       dtype=dtype, crs=CRS_UTM, transform=transform, nodata=nodata) as dst:
        dst.write(array.astype(dtype), 1)
        if mask is not None:  # a mask band instead of a nodata value
            dst.write_mask(mask)
    return str(path)


@pytest.mark.parametrize("dtype, nodata", [("uint16", 0), ("int16", -9999), ("float32", float("nan")),
                                           ("float32", None), ("uint16", "mask")])
def test_tgt_on_refs_lattice_reads_what_the_warp_gives(tmp_path, dtype, nodata, monkeypatch):
    rng = np.random.default_rng(3)
    image = rng.uniform(100, 3000, (90, 110))
    hole = np.zeros(image.shape, bool)
    hole[30:42, 50:61] = True  # nodata inside, next to valid pixels the cubic kernel would reach
    if nodata == "mask":  # invalid by a mask band, the values left as they are: the warp is kept
        path = _write(tmp_path / "tgt.tif", image, 7, 5, dtype, None, mask=np.where(hole, 0, 255).astype(np.uint8))
    else:
        image[hole] = 0 if nodata is None else nodata
        path = _write(tmp_path / "tgt.tif", image, 7, 5, dtype, nodata)
    grid = Grid(CRS_UTM, Affine(10.0, 0, 500000.0, 0, -10.0, 5000000.0), (80, 100))  # TGT starts inside it
    with rasterio.open(path) as tgt:
        assert pair.aligned_window(tgt, grid) == Window(-7, -5, 100, 80)
        read = pair._warped(tgt, 1, [grid], 1)[0]
        monkeypatch.setattr(pair, "aligned_window", lambda src, grid: None)
        monkeypatch.setattr(pair, "read_offset", lambda src, band, grid: None)  # the warp itself
        warped = pair._warped(tgt, 1, [grid], 1)[0]
    assert (read[:5] == 0).all() and (read[:, :7] == 0).all() and (read[5 + 30:5 + 42, 7 + 50:7 + 61] == 0).all()
    assert (read > 0).mean() > 0.8
    np.testing.assert_array_equal(read, warped)
