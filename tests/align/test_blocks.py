"""The global shift's windows are chosen within a block-decoding budget: the block lattice is mapped onto
the overlap grid, the blocks the planner counts are the blocks GDAL reads (checked byte range by byte
range through a logging file opener), and the shift stays exact."""

from __future__ import annotations

import io

import numpy as np
import pytest
import rasterio
import rasterio.warp
from affine import Affine
from rasterio.crs import CRS

from geo.align.blocks import BlockLayout, layout, plan_windows, read_cost, touched
from geo.align.pair import estimate_shift_from_datasets
from geo.grid import Grid
from tests.align.fields import texture
from tests.synthetic import CRS_UTM, ORIGIN, fourier_shift

BLOCK = 256
SHIFT = (-1.37, 0.58)
TGT_OFFSET = (40, 70)  # TGT starts 40 rows south and 70 columns east of REF


def _utm(row0=0, col0=0, res=10.0):
    return Affine(res, 0, ORIGIN[0] + 10 * col0, 0, -res, ORIGIN[1] - 10 * row0)


def _write(path, array, transform, block=BLOCK):
    with rasterio.open(path, "w", driver="GTiff", width=array.shape[1], height=array.shape[0], count=1,
                       dtype="uint16", crs=CRS_UTM, transform=transform, nodata=0, tiled=True,
                       blockxsize=block, blockysize=block, compress="deflate") as dst:
        dst.write(np.clip(np.rint(array), 1, 65535).astype(np.uint16), 1)
        dst.build_overviews([2, 4, 8])  # as COGs and JPEG2000 have: the coarse look reads these
    return str(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("blocks")
    scene = 1500 + 4000 * texture((1100, 1100), seed=8)
    ref = _write(root / "ref.tif", scene[:1024, :1024], _utm())
    r, c = TGT_OFFSET
    tgt = _write(root / "tgt.tif", fourier_shift(scene, *SHIFT)[r:r + 1024, c:c + 1000], _utm(r, c))
    return ref, tgt


class _LoggedFile(io.RawIOBase):
    """A local file whose reads are logged as (offset, bytes): what GDAL actually fetched."""

    def __init__(self, path: str, log: list[tuple[int, int]]):
        self._file = open(path, "rb")
        self._log = log

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def readinto(self, buffer) -> int:
        start = self._file.tell()
        n = self._file.readinto(buffer)
        self._log.append((start, n))
        return n

    def close(self) -> None:
        if hasattr(self, "_file"):  # not when opening failed (rasterio 1.5's opener asks for side-car files too)
            self._file.close()
        super().close()


def _open_logged(path: str):
    log: list[tuple[int, int]] = []
    return rasterio.open(path, opener=lambda name, mode="rb": _LoggedFile(name, log)), log


def _full_resolution_blocks_read(src, log) -> set[tuple[int, int]]:
    """Full-resolution blocks of ``src`` whose compressed bytes were all read: decoded. (Overview blocks
    are elsewhere in the file; the header reads on opening may graze a block's first bytes.)"""
    out = set()
    for (i, j), _ in src.block_windows(1):
        start = int(src.get_tag_item(f"BLOCK_OFFSET_{j}_{i}", "TIFF", bidx=1))
        size = int(src.get_tag_item(f"BLOCK_SIZE_{j}_{i}", "TIFF", bidx=1))
        got = np.zeros(size, bool)
        for at, n in log:
            got[max(at - start, 0):max(min(at + n - start, size), 0)] = True
        if got.all():
            out.add((i, j))
    return out


def test_layout_maps_the_block_lattice_onto_the_overlap_grid(files):
    ref_path, tgt_path = files
    with rasterio.open(ref_path) as ref, rasterio.open(tgt_path) as tgt:
        grid = Grid(CRS_UTM, _utm(40, 70), (984, 954))  # the overlap: REF's lattice from TGT's corner
        ref_lay, tgt_lay = layout(ref, grid), layout(tgt, grid)
    assert list(ref_lay.row_edges) == [-40, 216, 472, 728, 984]
    assert list(ref_lay.col_edges) == [-70, 186, 442, 698, 954]
    assert list(tgt_lay.row_edges) == [0, 256, 512, 768, 1024]
    assert list(tgt_lay.col_edges) == [0, 256, 512, 768, 1000]
    assert tgt_lay.pixels[0, 3] == 256 * 232  # the last column of blocks is clipped to the raster


def test_layout_of_a_coarser_raster_in_another_crs_is_scaled():
    """A 20 m raster in the neighbouring UTM zone: its 256-px blocks span ~512 px of a 10 m grid."""
    from rasterio.io import MemoryFile

    other = CRS.from_epsg(32630)
    with MemoryFile() as memory:
        with memory.open(driver="GTiff", width=600, height=600, count=1, dtype="uint16", crs=other,
                         transform=Affine(20, 0, 700000, 0, -20, 5000000), tiled=True, blockxsize=256,
                         blockysize=256) as src:
            x, y = rasterio.warp.transform(other, CRS_UTM, [706000], [4994000])
            grid = Grid(CRS_UTM, Affine(10, 0, x[0], 0, -10, y[0]), (1000, 1000))
            lay = layout(src, grid)
    assert np.diff(lay.col_edges)[:2] == pytest.approx([512, 512], rel=0.01)
    assert np.diff(lay.row_edges)[:2] == pytest.approx([512, 512], rel=0.01)
    assert lay.col_edges[1] == pytest.approx(256 * 2 - 300 * 2, abs=15)  # block edge at src col 256


def test_touched_blocks_are_counted_once():
    lay = BlockLayout(np.array([0.0, 100, 200]), np.array([0.0, 100, 200]), np.full((2, 2), 100 * 100))
    assert touched(lay, [(10, 10, 90, 90)]).sum() == 1
    assert touched(lay, [(10, 90, 90, 110)]).sum() == 2
    assert touched(lay, [(90, 90, 110, 110)]).sum() == 4
    assert touched(lay, [(10, 10, 90, 90), (20, 20, 80, 80), (-50, -50, -10, -10)]).sum() == 1
    cost = read_cost([lay, lay], [touched(lay, [(10, 10, 90, 90)]), touched(lay, [(10, 90, 90, 110)])])
    assert (cost.blocks, cost.pixels) == (3, 30_000)


def test_plan_stays_within_the_budget_and_fills_decoded_blocks_first():
    """Uniform texture: after the first window, windows that need no new block come first; the budget
    caps the decoded pixels; without a budget the windows spread over more blocks."""
    sums = np.ones((60, 60))  # a window's top-left every 16 px over a 1000-px overlap
    ref_lay = BlockLayout(np.arange(0.0, 1025, 256), np.arange(0.0, 1025, 256), np.full((4, 4), 256 * 256))
    tgt_lay = BlockLayout(np.arange(-40.0, 1000, 256), np.arange(-70.0, 1000, 256), np.full((4, 4), 256 * 256))
    tight = plan_windows(sums, 16, 64, 20, [ref_lay, tgt_lay], budget=4 * 256 * 256, n_windows=9)
    loose = plan_windows(sums, 16, 64, 20, [ref_lay, tgt_lay], budget=10**9, n_windows=9)
    assert tight.cost.pixels <= 4 * 256 * 256 and len(tight.origins) >= 2
    assert tight.cost.blocks == sum(int(b.sum()) for b in tight.blocks)
    assert len(loose.origins) == 9 and loose.cost.blocks > tight.cost.blocks
    origins = np.array(tight.origins)  # windows do not overlap
    gaps = np.maximum(*np.abs(origins[:, None, :] - origins[None, :, :]).transpose(2, 0, 1))
    assert (gaps[~np.eye(len(origins), dtype=bool)] >= 64).all()


@pytest.mark.parametrize("budget", [4 * BLOCK * BLOCK, 10**9])
def test_gdal_reads_no_more_blocks_than_planned_and_the_shift_is_exact(files, budget):
    ref_path, tgt_path = files
    (ref, ref_log), (tgt, tgt_log) = _open_logged(ref_path), _open_logged(tgt_path)
    with ref, tgt:
        measured = estimate_shift_from_datasets(ref, tgt, read_budget=budget)
        read = len(_full_resolution_blocks_read(ref, ref_log)) + len(_full_resolution_blocks_read(tgt, tgt_log))
    assert (measured.shift.dx_px, measured.shift.dy_px) == pytest.approx(SHIFT, abs=0.05)
    assert read == measured.read.blocks  # the cost model counts exactly the blocks GDAL decodes
    if budget < 10**9:
        assert measured.read.pixels <= budget and read <= 4
    else:  # unbudgeted, nine windows spread over the overlap touch most of its 32 blocks
        assert measured.shift.n_windows == 9 and read > 8
