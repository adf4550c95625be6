"""A large grid as blocks with a halo, and who runs a function over them.

A block's *core* is the part of the grid it answers for; its *window* is the core grown by the halo (clipped
to the grid), the neighbourhood its computation reads. A computation whose reach is within the halo gives, on
the core, what it gives on the whole image. Cores tile the grid without overlap; block origins are multiples
of ``align`` so computations on a lattice (8 px moment blocks of ``geo.change.local``) line up with the
whole image's.

A ``BlockRunner`` maps a function over argument tuples and returns the results in order: ``run_serial``
here, or a Dask cluster's (``geo.jobs.dask_cluster``). The function must be a module-level function (a cluster
pickles it) and its arguments the block's own arrays, not the whole image's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

CORE_PX = 1536  # a block's core side: 2.4 Mpx; with a 120 px halo ~300 MB of float64 temporaries


@dataclass(frozen=True)
class Block:
    row0: int  # core, in grid pixels
    col0: int
    row1: int
    col1: int
    win_row0: int  # window (core + halo, clipped to the grid)
    win_col0: int
    win_row1: int
    win_col1: int

    @property
    def window(self) -> tuple[slice, slice]:
        return slice(self.win_row0, self.win_row1), slice(self.win_col0, self.win_col1)

    @property
    def core(self) -> tuple[slice, slice]:
        return slice(self.row0, self.row1), slice(self.col0, self.col1)

    @property
    def core_in_window(self) -> tuple[slice, slice]:
        """The core, in the coordinates of the window's array."""
        return (slice(self.row0 - self.win_row0, self.row1 - self.win_row0),
                slice(self.col0 - self.win_col0, self.col1 - self.win_col0))


def layout(shape: tuple[int, int], halo: int, core: int = CORE_PX, align: int = 1) -> list[Block]:
    """Blocks whose cores tile ``shape``; ``core`` and ``halo`` are rounded up to multiples of ``align``."""
    core = -(-core // align) * align
    halo = -(-halo // align) * align
    rows, cols = shape
    return [Block(r, c, min(r + core, rows), min(c + core, cols), max(r - halo, 0), max(c - halo, 0),
                  min(r + core + halo, rows), min(c + core + halo, cols))
            for r in range(0, rows, core) for c in range(0, cols, core)]


def spread(blocks: Sequence[Block], count: int) -> list[Block]:
    """``count`` blocks spread evenly through ``blocks`` (all of them when there are no more)."""
    if len(blocks) <= count:
        return list(blocks)
    step = len(blocks) / count
    return [blocks[int(i * step + step / 2)] for i in range(count)]


class BlockRunner(Protocol):
    def __call__(self, function: Callable[..., T], arguments: Sequence[tuple[Any, ...]]) -> list[T]:
        """``[function(*a) for a in arguments]``, however it is run."""


def run_serial(function: Callable[..., T], arguments: Sequence[tuple[Any, ...]]) -> list[T]:
    return [function(*a) for a in arguments]


def iter_windows(blocks: Sequence[Block], *images: Any) -> Iterator[tuple[Any, ...]]:
    """Each block's window of each of ``images`` (arrays of the grid's shape, or (band, row, col) stacks)."""
    for block in blocks:
        yield tuple(image[(..., *block.window)] for image in images)
