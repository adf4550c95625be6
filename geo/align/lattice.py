"""A TGT of coarser pixels than REF's (a 20 or 60 m band against a 10 m one) is measured on its own lattice with
the roles swapped: REF averaged onto TGT's pixels, as TGT's pixels were formed from finer ground detail.
Upsampling TGT's aliased pixels onto REF's grid instead biases every shift by a few hundredths of a REF pixel
(0.3 at 60 m), which no stated sigma shows (README, "Co-registration figures"). What is measured there is
turned back into REF's pixels here: the global shift and the tie points alike."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from affine import Affine
from rasterio.warp import transform as transform_points

from geo.grid import Grid
from geo.scenes.warp import source_resolution

if TYPE_CHECKING:
    from rasterio.io import DatasetReader

    from geo.align.coreg import Shift
    from geo.align.tie_points import TiePoints

COARSER = 1.5  # TGT pixels this many times REF's (per side): measured on TGT's lattice


def coarser_target(ref: DatasetReader, tgt: DatasetReader) -> float | None:
    """How many of REF's pixels one of TGT's spans (per side), when that is ``COARSER`` or more; else None."""
    size = source_resolution(tgt, Grid(ref.crs, ref.transform, (ref.height, ref.width)))
    ratio = size / math.sqrt(abs(ref.transform.a * ref.transform.e)) if size else 1.0
    return ratio if ratio >= COARSER else None


def _apply(transform: Affine, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``transform`` of arrays of points."""
    return transform.a * x + transform.b * y + transform.c, transform.d * x + transform.e * y + transform.f


@dataclass(frozen=True)
class Swapped:
    """TGT's lattice over the overlap, where a coarser TGT was measured as the reference, and REF's grid over
    the overlap, where what was measured is reported."""

    lattice: Grid
    grid: Grid
    ratio: float  # REF pixels per TGT pixel (per side)

    def pixels(self, ref_pixels: int, least: int = 1) -> int:
        """A length given in REF's pixels (a tie-point window, a spacing) in TGT's, at least ``least``."""
        return max(least, round(ref_pixels / self.ratio))

    def positions(self, cols: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-index positions (a pixel's centre at its index) of the lattice, on REF's grid."""
        xs, ys = _apply(self.lattice.transform, np.asarray(cols, float) + 0.5, np.asarray(rows, float) + 0.5)
        if self.lattice.crs != self.grid.crs:
            xs, ys = (np.asarray(v) for v in transform_points(self.lattice.crs, self.grid.crs, xs, ys))
        c, r = _apply(~self.grid.transform, xs, ys)
        return c - 0.5, r - 0.5

    def _on_grid(self, cols: np.ndarray, rows: np.ndarray, dx: np.ndarray, dy: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """A feature at (cols, rows) of TGT is at (+dx, +dy) in REF (on the lattice, roles swapped): where REF
        has it (on REF's grid), and how far TGT has it from there (REF's pixels, a feature of REF at (c, r)
        is at (c + dx, r + dy) in TGT)."""
        c0, r0 = self.positions(cols, rows)
        c1, r1 = self.positions(np.asarray(cols) + dx, np.asarray(rows) + dy)
        return c1, r1, c0 - c1, r0 - r1

    def shift(self, swapped: Shift) -> Shift:
        """The global shift measured with the roles swapped, in REF's pixels (taken at the lattice's centre)."""
        centre = (np.array([(self.lattice.width - 1) / 2]), np.array([(self.lattice.height - 1) / 2]))
        _, _, dx, dy = self._on_grid(*centre, np.array([swapped.dx_px]), np.array([swapped.dy_px]))
        return replace(swapped, dx_px=float(dx[0]), dy_px=float(dy[0]), sigma_px=swapped.sigma_px * self.ratio,
                       spread_px=swapped.spread_px * self.ratio)

    def points(self, swapped: TiePoints) -> TiePoints:
        """Tie points measured with the roles swapped, placed where REF has their feature and given in REF's
        pixels (their sigmas too); which are reliable and inliers is as measured."""
        col, row, dx, dy = self._on_grid(swapped.col, swapped.row, swapped.dx, swapped.dy)
        return replace(swapped, row=row, col=col, dx=dx, dy=dy, sigma=swapped.sigma * self.ratio)
