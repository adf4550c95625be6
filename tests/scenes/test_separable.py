"""Cubic resampling by separable convolution (``geo.scenes.separable``) gives GDAL's warper's values bit for
bit where it applies, and declines (None: GDAL warps) where GDAL would treat pixels differently."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.warp import reproject

from geo.grid import Grid
from geo.scenes.separable import cubic_onto
from geo.scenes.warp import read_onto

UTM = CRS.from_epsg(32630)
SOURCE = Affine(20.0, 0.0, 600_000.0, 0.0, -20.0, 5_000_000.0)


def gdal_cubic(data: np.ndarray, transform: Affine, grid: Affine, shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape, data.dtype)
    reproject(data, out, src_transform=transform, src_crs=UTM, src_nodata=0, dst_transform=grid, dst_crs=UTM,
              dst_nodata=0, resampling=Resampling.cubic)
    return out


def texture(shape: tuple[int, int], seed: int = 1) -> np.ndarray:
    """Reflectance-like DN with the extremes that make cubic overshoot: clamped at 0 (then nudged off
    nodata, as GDAL does) and at 65535."""
    rng = np.random.default_rng(seed)
    smooth = rng.integers(500, 4000, shape)
    plateaus = np.kron(rng.choice(np.array([1, 65_535]), (shape[0] // 4 + 1, shape[1] // 4 + 1)), np.ones((4, 4)))
    return np.where(rng.random(shape) < 0.5, plateaus[:shape[0], :shape[1]], smooth).astype(np.uint16)


@pytest.mark.parametrize("factor", [1, 2, 4])
@pytest.mark.parametrize("dx, dy", [(0.0, 0.0), (-0.001, 0.0166), (0.37, -0.61), (-0.5, 0.5), (0.25, 0.75)])
def test_equals_gdal_bit_for_bit(factor: int, dx: float, dy: float) -> None:
    data = texture((120, 130))
    res = 20.0 / factor
    n = (100 * factor, 110 * factor)
    grid = Affine(res, 0.0, SOURCE.c + 5 * 20 + dx * res, 0.0, -res, SOURCE.f - 6 * 20 + dy * res)
    ours = cubic_onto(data, SOURCE, grid, n, 0)
    assert ours is not None
    expected = gdal_cubic(data, SOURCE, grid, n)
    assert np.array_equal(ours, expected)
    assert (ours == 1).sum() > 0 and (ours == 65_535).sum() > 0  # the clamping and the nudge were exercised


def test_declines_where_gdal_treats_pixels_differently() -> None:
    data = texture((60, 60))
    grid = Affine(10.0, 0.0, SOURCE.c + 3 * 20 + 3.7, 0.0, -10.0, SOURCE.f - 3 * 20 - 1.2)
    assert cubic_onto(data, SOURCE, grid, (100, 100), 0) is not None
    holed = data.copy()
    holed[30, 30] = 0  # nodata within the kernel's reach: GDAL renormalises the weights
    assert cubic_onto(holed, SOURCE, grid, (100, 100), 0) is None
    assert cubic_onto(data, SOURCE, grid, (120, 100), 0) is None  # the kernel reaches past the array
    assert cubic_onto(data, SOURCE, Affine(7.0, 0.0, grid.c, 0.0, -7.0, grid.f), (100, 100), 0) is None
    assert cubic_onto(data.astype(np.float32), SOURCE, grid, (100, 100), 0) is None
    third = Affine(20 / 3, 0.0, grid.c, 0.0, -20 / 3, grid.f)  # positions rounded: ties would go GDAL's way or not
    assert cubic_onto(data, SOURCE, third, (100, 100), 0) is None


def test_equals_gdal_at_random_offsets() -> None:
    """Sub-pixel shifts as co-registration finds them (any value), 10 m and 20 m sources onto 10 m."""
    rng = np.random.default_rng(7)
    data = texture((300, 300), seed=3)
    for factor in (1, 2):
        res = 20.0 / factor
        for dx, dy in rng.uniform(-1.5, 1.5, (10, 2)):
            grid = Affine(res, 0.0, SOURCE.c + 10 * 20 + dx * res, 0.0, -res, SOURCE.f - 10 * 20 + dy * res)
            n = (250 * factor, 260 * factor)
            assert np.array_equal(cubic_onto(data, SOURCE, grid, n, 0), gdal_cubic(data, SOURCE, grid, n)), (dx, dy)


def test_read_onto_matches_gdal_with_and_without_nodata(tmp_path: Path) -> None:
    """Through ``read_onto`` (the reader of every optical band): a 20 m file onto shifted 10 m grids, one
    clear of the file's nodata hole (resampled here), one over it (GDAL), both GDAL's values."""
    data = texture((200, 200), seed=2)
    data[150:170, 150:170] = 0
    path = tmp_path / "band.tif"
    with rasterio.open(path, "w", driver="GTiff", width=200, height=200, count=1, dtype="uint16", crs=UTM,
                       transform=SOURCE, nodata=0) as out:
        out.write(data, 1)
    for top_left in ((20, 20), (130, 130)):
        origin = Affine(10.0, 0.0, SOURCE.c + top_left[1] * 20 + 2.3, 0.0, -10.0, SOURCE.f - top_left[0] * 20 - 4.1)
        grid = Grid(UTM, origin, (80, 90))
        values, nodata = read_onto(str(path), grid, Resampling.cubic, None, {})
        expected = gdal_cubic(data, SOURCE, origin, grid.shape)
        assert nodata == 0
        assert np.array_equal(values.filled(0), expected)
        assert np.array_equal(np.ma.getmaskarray(values), expected == 0)
