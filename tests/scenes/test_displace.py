"""Reading through a displacement model: the bands of one pixel grid share their source positions (worked
out once per block of rows, across the threads reading them) and get the values of reads of their own."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS

from geo.grid import Grid
from geo.scenes import displace
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


def test_bands_read_in_threads_share_positions_and_keep_their_values(tmp_path, monkeypatch):
    grid = Grid(UTM, Affine(10.0, 0, 500_300.0, 0, -10.0, 4_799_700.0), (700, 240))  # two blocks of rows
    sources = [_source(tmp_path / "10m.tif", 10.0, (780, 320), 1), _source(tmp_path / "20m.tif", 20.0, (390, 160), 2)]
    reads = [(path, band) for path in sources for band in (1, 2, 3)]

    def read(path: str, band: int, displacement) -> tuple[np.ndarray, np.ndarray]:
        with rasterio.open(path) as src:
            return warp_band(src, band, grid, displacement, 0.0)

    alone = [read(path, band, _field) for path, band in reads]
    computed = []
    positions = displace.source_positions

    def counted(*args):
        computed.append(args[3:])
        return positions(*args)

    monkeypatch.setattr(displace, "source_positions", counted)
    shared = SharedDisplacement(_field)
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda request: read(*request, shared), reads))
    for (values, valid), (values_alone, valid_alone) in zip(together, alone):
        assert np.array_equal(values, values_alone) and np.array_equal(valid, valid_alone)
    assert [valid.all() for _, valid in together] == [True, False, True] * 2
    # two blocks of rows of two pixel grids: 4 computations, not one per band and block (12)
    assert sorted(computed) == [(0, 512), (0, 512), (512, 188), (512, 188)]


def test_positions_of_an_evicted_or_failed_block_are_computed_again():
    shared = SharedDisplacement(_field, kept=1)
    one = (np.zeros(2), np.ones(2))
    assert shared.positions("a", lambda: one) is one
    assert shared.positions("a", lambda: (np.ones(1), np.ones(1))) is one  # kept
    assert not one[0].flags.writeable  # handed to several threads: read-only
    shared.positions("b", lambda: (np.ones(1), np.ones(1)))  # evicts "a"
    again = (np.full(2, 2.0), np.ones(2))
    assert shared.positions("a", lambda: again) is again
