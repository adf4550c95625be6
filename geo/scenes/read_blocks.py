"""A scene onto a grid too large to hold, block by block: each block's window of the grid read as
``read_stack`` reads a whole grid, into a scratch stack and validity mask on disk (``geo.scenes.scratch``).
The values are those of a whole read wherever the reading is exact per pixel (GDAL's warp onto a grid of
the source's CRS; a displacement model read in rows of 512 from block origins that are multiples of
512), and within float rounding otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from geo.errors import EmptyReadError
from geo.grid import Grid
from geo.scenes.model import Scene
from geo.scenes.read import OffsetDisplacement, Stack, check_overlap, nothing_seen, read_bands
from geo.scenes.reflectance_check import check_reflectance
from geo.scenes.scratch import release, scratch_array

if TYPE_CHECKING:
    from geo.scenes.displace import Displacement

log = logging.getLogger(__name__)

READ_BLOCK_PX = 2048  # a block of 6 bands and SCL: ~120 MB while read


def grid_windows(shape: tuple[int, int], block_px: int) -> Iterator[tuple[int, int, int, int]]:
    """(row0, col0, rows, cols) of blocks of ``block_px`` tiling ``shape``, row by row."""
    height, width = shape
    for row0 in range(0, height, block_px):
        for col0 in range(0, width, block_px):
            yield row0, col0, min(block_px, height - row0), min(block_px, width - col0)


def read_stack_blocks(scene: Scene, bands: Sequence[str], grid: Grid, block_px: int = READ_BLOCK_PX,
                      read_grid: Grid | None = None, displacement: Displacement | None = None) -> Stack:
    """``read_stack(scene, bands, grid)`` block by block into a scratch stack. ``read_grid``: read from this
    grid's pixels instead (the grid moved by a shift), the stack still on ``grid``; ``displacement``: read
    through a co-registration model of ``grid``."""
    check_overlap(scene, grid)
    source = read_grid or grid
    data = scratch_array((len(bands), *grid.shape), np.float32)
    valid = scratch_array(grid.shape, bool)  # on disk too: a whole tile's is 120 MB a date
    masked = False
    for row0, col0, rows, cols in grid_windows(grid.shape, block_px):
        moved = None
        if displacement is not None:  # each block's own: its bands share their source positions
            from geo.scenes.displace import SharedDisplacement  # scipy: only reads through a model need it

            moved = SharedDisplacement(OffsetDisplacement(displacement, row0, col0))
        values, ok, masked = read_bands(scene, bands, source.window(row0, col0, rows, cols),
                                        displacement=moved)
        data[:, row0:row0 + rows, col0:col0 + cols] = values
        valid[row0:row0 + rows, col0:col0 + cols] = ok
        release()
    fraction = float(valid.mean())
    release()
    if not fraction:
        raise EmptyReadError(f"scene {scene.id}: no valid pixels over the area ({nothing_seen(masked)})")
    check_reflectance(scene, bands, data, valid)
    log.debug("read %s by blocks of %d px: %d bands, %.1f%% valid", scene.id, block_px, len(bands), 100 * fraction)
    return Stack(scene, grid, tuple(bands), data, valid, masked)
