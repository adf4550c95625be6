"""Reading through a displacement model: the bands of one pixel grid share their source positions (worked
out once per block of rows, across the threads reading them) and get the values of reads of their own."""

from __future__ import annotations

import gc
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS

from geo.grid import Grid
from geo.scenes.displace import SharedDisplacement, warp_band

UTM = CRS.from_epsg(32630)


def _field(rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A smooth, non-affine displacement (px): what a thin-plate spline model gives."""
    return 0.4 * np.sin(cols / 90.0) + 0.002 * rows, -0.3 * np.cos(rows / 70.0) + 0.001 * cols


def _source(path, res: float, shape: tuple[int, int], seed: int) -> str:
    rng = np.random.default_rng(seed)
    data = (1000 + 3000 * rng.random((3, *shape))).astype(np.uint16)
    data[1, 50:54, 60:64] = 0  # nodata under the grid in band 2: its support test runs too
    with rasterio.open(path, "w", driver="GTiff", width=shape[1], height=shape[0], count=3, dtype="uint16",
                       crs=UTM, transform=Affine(res, 0, 500_000.0, 0, -res, 4_800_000.0), nodata=0) as dst:
        dst.write(data)
    return str(path)


def test_bands_read_in_threads_through_one_model_keep_their_values(tmp_path):
    grid = Grid(UTM, Affine(10.0, 0, 500_300.0, 0, -10.0, 4_799_700.0), (700, 240))  # two blocks of rows
    sources = [_source(tmp_path / "10m.tif", 10.0, (780, 320), 1), _source(tmp_path / "20m.tif", 20.0, (390, 160), 2)]
    reads = [(path, band) for path in sources for band in (1, 2, 3)]

    def read(path: str, band: int, displacement) -> tuple[np.ndarray, np.ndarray]:
        with rasterio.open(path) as src:
            return warp_band(src, band, grid, displacement, 0.0)

    alone = [read(path, band, _field) for path, band in reads]
    shared = SharedDisplacement(_field)
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda request: read(*request, shared), reads))
    for (values, valid), (values_alone, valid_alone) in zip(together, alone):
        assert np.array_equal(values, values_alone) and np.array_equal(valid, valid_alone)
    assert [valid.all() for _, valid in together] == [True, False, True] * 2


def _warp_band_before(src, band: int, grid: Grid, displacement, nodata: float) -> tuple[np.ndarray, np.ndarray]:
    """``warp_band`` as it was before its blocks' window and offsets were shared by the bands (order 3)."""
    from rasterio.windows import Window
    from scipy import ndimage as ndi

    from geo.scenes.displace import BLOCK_ROWS, source_positions
    from geo.scenes.warp import read_filled

    values, valid = np.zeros(grid.shape, np.float32), np.zeros(grid.shape, bool)
    factor = max(grid.res[0] / abs(src.transform.a), 1.0)
    for start in range(0, grid.height, BLOCK_ROWS):
        n = min(BLOCK_ROWS, grid.height - start)
        pos_r, pos_c = source_positions(src, grid, displacement, start, n)
        margin = 4 + int(np.ceil(2 * factor))
        r0, c0 = int(np.floor(np.nanmin(pos_r))) - margin, int(np.floor(np.nanmin(pos_c))) - margin
        r1, c1 = int(np.ceil(np.nanmax(pos_r))) + margin + 1, int(np.ceil(np.nanmax(pos_c))) + margin + 1
        raw = read_filled(src, band, Window(c0, r0, c1 - c0, r1 - r0), nodata)
        ok = raw != nodata
        data = np.where(ok, raw, 0).astype(np.float32)
        if factor >= 1.5:
            data = ndi.gaussian_filter(data, 0.5 * factor)
        at = [pos_r - r0, pos_c - c0]
        sampled = ndi.map_coordinates(data, at, order=3, mode="nearest", output=np.float32)
        support = ndi.minimum_filter(ok.astype(np.uint8), size=4, mode="constant", cval=0)
        block_valid = ndi.map_coordinates(support, at, order=0, mode="constant", cval=0) > 0
        values[start:start + n] = np.where(block_valid, sampled, 0.0)
        valid[start:start + n] = block_valid
    return values, valid


def test_a_read_through_a_model_gives_the_values_it_gave_before_the_bands_shared_their_windows(tmp_path):
    grid = Grid(UTM, Affine(10.0, 0, 500_300.0, 0, -10.0, 4_799_700.0), (700, 240))
    shared = SharedDisplacement(_field)
    for res, seed in ((10.0, 3), (20.0, 4)):
        shape = (780, 320) if res == 10.0 else (390, 160)
        with rasterio.open(_source(tmp_path / f"{seed}.tif", res, shape, seed)) as src:
            for band in (1, 2, 3):
                before = _warp_band_before(src, band, grid, _field, 0.0)
                for model in (_field, shared):
                    values, valid = warp_band(src, band, grid, model, 0.0)
                    assert np.array_equal(values, before[0]) and np.array_equal(valid, before[1])
                    assert valid.all() == (band != 2)


def test_positions_are_computed_once_for_the_threads_asking_together():
    """Four threads ask for the same block's positions while the first works them out: one computation,
    the same (read-only) arrays for all; another key is another computation."""
    shared = SharedDisplacement(_field)
    asked = threading.Barrier(4)
    computed = []

    def compute() -> tuple[np.ndarray, np.ndarray]:
        computed.append(1)
        time.sleep(0.2)  # the other threads ask meanwhile
        return np.arange(3.0), np.ones(3)

    def ask(key: str) -> tuple[np.ndarray, np.ndarray]:
        asked.wait()
        return shared.positions(key, compute)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(ask, ["a"] * 4))
    assert len(computed) == 1
    assert all(answer[0] is answers[0][0] and answer[1] is answers[0][1] for answer in answers)
    assert not answers[0][0].flags.writeable
    assert shared.positions("b", compute)[0] is not answers[0][0] and len(computed) == 2


def test_positions_no_band_holds_any_more_are_computed_again():
    """Only weak references are kept: memory is what the reading threads hold; once they let go the next
    ask computes again, as does one after a failed computation."""
    shared = SharedDisplacement(_field)
    held = shared.positions("a", lambda: (np.zeros(2), np.ones(2)))
    assert shared.positions("a", lambda: (np.ones(1), np.ones(1)))[0] is held[0]
    del held
    gc.collect()
    again = (np.full(2, 2.0), np.ones(2))
    assert shared.positions("a", lambda: again) is again

    def failing() -> tuple[np.ndarray, np.ndarray]:
        raise OSError("read failed")

    with pytest.raises(OSError):
        shared.positions("c", failing)
    fresh = (np.ones(1), np.ones(1))
    assert shared.positions("c", lambda: fresh) is fresh


def test_a_class_band_read_onto_a_coarser_grid_keeps_its_classes(tmp_path):
    """Nearest (order 0) onto a grid twice as coarse as the source: the anti-alias smoothing of continuous
    bands is not applied, so an SCL-like band gives only the classes it holds (smoothed, 4 beside 8 would
    read 5.9 and round to a class that is not there)."""
    rng = np.random.default_rng(7)
    classes = rng.choice(np.array([4, 6, 8, 9], np.uint16), size=(400, 400))
    path = tmp_path / "scl.tif"
    with rasterio.open(path, "w", driver="GTiff", width=400, height=400, count=1, dtype="uint16", crs=UTM,
                       transform=Affine(10.0, 0, 500_000.0, 0, -10.0, 4_800_000.0), nodata=0) as dst:
        dst.write(classes, 1)
    grid = Grid(UTM, Affine(20.0, 0, 500_400.0, 0, -20.0, 4_799_600.0), (150, 150))
    with rasterio.open(path) as src:
        values, valid = warp_band(src, 1, grid, _field, 0.0, order=0)
    assert valid.all()
    assert set(np.unique(values).tolist()) == {4.0, 6.0, 8.0, 9.0}
