"""What reading windows costs in tiled rasters, and windows chosen so that few blocks are decoded.

A raster is decoded a block at a time: a GeoTIFF/COG tile or strip, or for JPEG2000 the block GDAL
exposes (1024-px squares of a single-tile codestream, each decoded from the codestream on first use and
then kept in GDAL's block cache). Reading a window therefore costs the pixels of every block it touches,
once per file. The global shift needs only a few windows of clear, textured overlap: spread over the
scene they touch most blocks of both files (on the real JPEG2000 pair that was ~4.5 s of a 5.4 s run);
chosen with the block layout in view they touch a few.

Positions are pixel indices of the overlap grid (REF's lattice over the overlap).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from affine import Affine
from numpy.typing import ArrayLike
from rasterio.io import DatasetReader
from rasterio.warp import transform as transform_points

from geo.align.quantiles import percentile
from geo.grid import Grid

WARP_SUPPORT = 4  # px: the warper reads this far beyond a window (resampling kernel and rounding)
MIN_TEXTURE_SHARE = 0.5  # candidates have at least this share of a top window's texture (95th percentile)


@dataclass(frozen=True)
class BlockLayout:
    """A raster's block lattice in overlap-grid pixel coordinates: block (i, j) spans rows
    ``row_edges[i]..row_edges[i+1]`` and columns ``col_edges[j]..col_edges[j+1]``; decoding it costs
    ``pixels[i, j]`` of the raster's own pixels."""

    row_edges: np.ndarray
    col_edges: np.ndarray
    pixels: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.pixels.shape

    def ranges(self, top: ArrayLike, left: ArrayLike, bottom: ArrayLike, right: ArrayLike) -> tuple[np.ndarray, ...]:
        """Block index ranges [i0, i1) x [j0, j1) that rectangles [top, bottom) x [left, right) touch
        (array arguments, one rectangle each); empty where a rectangle misses the raster."""
        n_rows, n_cols = self.shape

        def span(edges: np.ndarray, lo: np.ndarray, hi: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
            first = np.clip(np.searchsorted(edges, lo, side="right") - 1, 0, n)
            last = np.clip(np.searchsorted(edges, hi, side="left"), 0, n)
            return first, np.maximum(last, first)

        i0, i1 = span(self.row_edges, np.asarray(top, float), np.asarray(bottom, float), n_rows)
        j0, j1 = span(self.col_edges, np.asarray(left, float), np.asarray(right, float), n_cols)
        return i0, i1, j0, j1


@dataclass(frozen=True)
class ReadCost:
    """Distinct blocks (and their pixels) a set of windows decodes, over both files."""

    blocks: int
    pixels: int

    def to_dict(self) -> dict[str, int]:
        return {"blocks_decoded": self.blocks, "pixels_decoded": self.pixels}


def layout(src: DatasetReader, grid: Grid) -> BlockLayout:
    """The block lattice of ``src`` (band 1) in pixel coordinates of ``grid``.

    The mapping from ``src`` pixels to ``grid`` pixels is exact for a shared CRS and north-up grids;
    otherwise it is the local affine mapping at the raster's centre without its rotation terms, close
    enough for a cost estimate."""
    height, width = src.block_shapes[0]
    rows = np.append(np.arange(0, src.height, height), src.height).astype(float)
    cols = np.append(np.arange(0, src.width, width), src.width).astype(float)
    pixels = np.outer(np.diff(rows), np.diff(cols)).astype(np.int64)
    to_grid = _pixel_mapping(src, grid)
    row_edges = to_grid.e * rows + to_grid.f
    col_edges = to_grid.a * cols + to_grid.c
    if row_edges[0] > row_edges[-1]:  # a south-up raster
        row_edges, pixels = row_edges[::-1], pixels[::-1]
    if col_edges[0] > col_edges[-1]:
        col_edges, pixels = col_edges[::-1], pixels[:, ::-1]
    return BlockLayout(row_edges, col_edges, np.ascontiguousarray(pixels))


def _pixel_mapping(src: DatasetReader, grid: Grid) -> Affine:
    """(col, row) of ``src`` -> (col, row) of ``grid``, as an affine transform."""
    if src.crs == grid.crs:
        mapping: Affine = ~grid.transform @ src.transform  # unannotated: affine's ``~``, rasterio
        return mapping
    col, row, step = src.width / 2, src.height / 2, max(1.0, min(src.width, src.height) / 4)
    xs, ys = zip(*(src.transform @ p for p in ((col, row), (col + step, row), (col, row + step))))
    gx, gy = transform_points(src.crs, grid.crs, list(xs), list(ys))
    (c0, c1, c2), (r0, r1, r2) = zip(*(~grid.transform @ p for p in zip(gx, gy)))
    a, e = (c1 - c0) / step, (r2 - r0) / step
    return Affine(a, 0.0, c0 - a * col, 0.0, e, r0 - e * row)


def touched(lay: BlockLayout, rects: list[tuple[float, float, float, float]]) -> np.ndarray:
    """Which blocks of ``lay`` the (top, left, bottom, right) rectangles touch."""
    used = np.zeros(lay.shape, bool)
    for rect in rects:
        i0, i1, j0, j1 = (int(v) for v in lay.ranges(*rect))
        used[i0:i1, j0:j1] = True
    return used


def read_cost(layouts: list[BlockLayout], used: list[np.ndarray]) -> ReadCost:
    """Blocks (and their pixels) marked in ``used``, one mask per layout."""
    return ReadCost(int(sum(u.sum() for u in used)),
                    int(sum(lay.pixels[u].sum() for lay, u in zip(layouts, used))))


@dataclass(frozen=True)
class WindowPlan:
    origins: list[tuple[int, int]]  # top-left (row, col) of each window, best first
    blocks: list[np.ndarray]  # per layout: the blocks the windows' reads touch
    cost: ReadCost


def plan_windows(
    sums: np.ndarray,
    cell: int,
    window: int,
    margin: int,
    layouts: list[BlockLayout],
    budget: int,
    n_windows: int,
) -> WindowPlan:
    """Top-left pixels of up to ``n_windows`` non-overlapping ``window``-square windows.

    ``sums[i, j]`` is the texture score of the window whose top-left is (i * cell, j * cell) (0 where it
    is unusable); each window is read with ``margin`` px around it. Candidates have at least
    ``MIN_TEXTURE_SHARE`` of a top window's texture (the 95th percentile: the very best may be a town or
    a cloud edge the masks missed).

    1. Blocks: candidates are grouped by the blocks their reads touch (inside one block of each file, or
       straddling a few). Groups are taken greedily by their best window's texture per pixel of blocks
       not yet decoded, while the decoded pixels stay within ``budget`` (the first group always); a
       group whose blocks are all decoded by then comes free.
    2. Windows: the best window of each group in turn (best group first), round after round, skipping
       windows that overlap those chosen: the windows spread over the decoded blocks.
    """
    decoded = [np.zeros(lay.shape, bool) for lay in layouts]
    usable = sums[sums > 0]
    if usable.size == 0:
        return WindowPlan([], decoded, ReadCost(0, 0))
    ii, jj = np.nonzero(sums >= MIN_TEXTURE_SHARE * percentile(usable, 95))
    score = sums[ii, jj]
    top, left = ii * cell, jj * cell
    spans = [lay.ranges(*footprint(top, left, window, margin)) for lay in layouts]
    keys, group = np.unique(np.column_stack([a for span in spans for a in span]), axis=0, return_inverse=True)
    group = group.ravel()
    best = np.zeros(len(keys))
    np.maximum.at(best, group, score)
    selected = np.zeros(len(keys), bool)
    spent = 0
    while True:
        extra = np.sum([_rect_sums(np.where(done, 0, lay.pixels), *keys[:, 4 * n:4 * n + 4].T)
                        for n, (lay, done) in enumerate(zip(layouts, decoded))], axis=0)
        selected |= extra == 0
        open_ = ~selected & ((spent + extra <= budget) | (spent == 0))
        if not open_.any():
            break
        g = int(np.argmax(np.where(open_, best / np.maximum(extra, 1), -1.0)))
        for n, done in enumerate(decoded):
            i0, i1, j0, j1 = keys[g, 4 * n:4 * n + 4]
            done[i0:i1, j0:j1] = True
        spent += int(extra[g])
        selected[g] = True
    chosen = _round_robin(score, group, top, left, window, np.flatnonzero(selected)[np.argsort(-best[selected])],
                          n_windows)
    used = [touched(lay, [footprint(top[k], left[k], window, margin) for k in chosen]) for lay in layouts]
    return WindowPlan([(int(top[k]), int(left[k])) for k in chosen], used, read_cost(layouts, used))


def _round_robin(score: np.ndarray, group: np.ndarray, top: np.ndarray, left: np.ndarray, window: int,
                 order: np.ndarray, n_windows: int) -> list[int]:
    """Candidate indices: the best free one of each group in ``order``, round after round."""
    free = np.isin(group, order)
    chosen: list[int] = []
    while len(chosen) < n_windows and free.any():
        for g in order:
            members = free & (group == g)
            if not members.any():
                continue
            k = int(np.argmax(np.where(members, score, -np.inf)))
            chosen.append(k)
            free &= (np.abs(top - top[k]) >= window) | (np.abs(left - left[k]) >= window)
            if len(chosen) == n_windows:
                break
    return chosen


Coordinate = TypeVar("Coordinate", np.ndarray, int)  # one rectangle, or an array of them


def footprint(top: Coordinate, left: Coordinate, window: int, margin: int) -> tuple[Coordinate, ...]:
    """(top, left, bottom, right) that reading a window with ``margin`` around it touches."""
    pad = margin + WARP_SUPPORT
    return (top - pad, left - pad, top + window + pad, left + window + pad)


def _rect_sums(values: np.ndarray, i0: np.ndarray, i1: np.ndarray, j0: np.ndarray, j1: np.ndarray) -> np.ndarray:
    """Sums of ``values`` over [i0, i1) x [j0, j1), per rectangle (a summed-area table)."""
    table = np.pad(values.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums: np.ndarray = table[i1, j1] - table[i0, j1] - table[i1, j0] + table[i0, j0]
    return sums
