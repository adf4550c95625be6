"""The local-regression change statistic (``geo.change.stats.local_change``) of a grid too large to compute
at once: two phases, as every blocked detector (``geo.change.detectors.base``).

1. **Fit** the global quantities on a sample: per direction (after from before, before from after) and per
   iteration of the residual, the fallback line (where a neighbourhood has too little weight) and the robust
   centre and scale of the residual. They are measured on windows spread evenly over the grid, together a
   million core pixels or more (``SAMPLE_WINDOWS`` of ``SAMPLE_CORE_PX``², each with its own halo): the
   scale of a tile's residual is pinned as well by them as by the whole tile.
2. **Apply** them block by block (``geo.change.tiling``, a halo of the fits' and the footprint's reach), on
   one process or on a Dask cluster. With the whole-image quantities given, a block's core is the
   whole-image statistic (tested); only the sampled quantities differ, by their sampling error.

A grid of one block is computed whole, as before: small jobs are unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from geo.change import tiling
from geo.change.gross import SCREEN_REACH_PX, Offset, Screen, fit_weights
from geo.change.local import (
    BLOCK_PX, PRECISION, Line, Pixels, both_moment_sums, line_from_sums, line_sums, local_linear_fit, masked_gaussian,
    robust_scale, scaled, valid_weight,
)
from geo.change.tiling import Block, BlockRunner, iter_windows, layout, run_serial, spread
from geo.scenes.scratch import is_scratch, release, scratch_array

SAMPLE_CORE_PX = 256
BATCH_BLOCKS = 4  # blocks of a grid on disk given to the runner at once (a few per worker of a small cluster)
SAMPLE_WINDOWS = 16
ITERATIONS, CLIP = 2, 3.0  # two fits; the second leaves out residuals beyond 3 robust deviations


@dataclass(frozen=True)
class ResidualFit:
    """The global quantities of one direction's residual, per iteration."""

    lines: tuple[Line | None, ...]
    centres: tuple[tuple[float, float], ...]  # (median, scale) of each iteration's residual


@dataclass(frozen=True)
class LocalFit:
    forward: ResidualFit  # after predicted from before
    backward: ResidualFit  # before predicted from after
    window_px: int
    sigma_px: float
    # Other footprints: the statistic is then the per-pixel minimum over all of them (``local-fusion``).
    min_over_sigmas_px: tuple[float, ...] = ()
    screen: Screen | None = None  # changes wider than the window kept out of the fits (``geo.change.gross``)

    @property
    def footprints_px(self) -> tuple[float, ...]:
        return (self.sigma_px, *self.min_over_sigmas_px)


def halo_px(window_px: int, sigma_px: float, iterations: int = ITERATIONS) -> int:
    """How far a pixel's statistic reads: per fit half the window plus one moment block (bilinear
    interpolation between block centres) and the screen's square around each pixel it weighs
    (``geo.change.gross``), then the Gaussian footprint (scipy truncates it at 4σ). The tests find the cores
    exact with this halo and not with one moment block less."""
    reach = iterations * (window_px // 2 + BLOCK_PX) + SCREEN_REACH_PX + math.ceil(4 * sigma_px) + 1
    return -(-reach // BLOCK_PX) * BLOCK_PX


class SharedSums:
    """What the fits of one block have in common, whatever their window and direction, worked out once over
    the block's widest window: the first iteration's moment block sums (weighted by ``fit_valid``, the valid
    pixels a fit may weigh: ``geo.change.gross``) and the footprints' weights of the valid pixels. A narrower
    window (``within``) reads its own part of them: both are local (a block sum is its block's pixels'; a
    Gaussian weight its reach's), the numbers its own would be wherever its core is read."""

    def __init__(self, x: np.ndarray, y: np.ndarray, valid: np.ndarray,
                 part: tuple[slice, slice] | None = None, parent: SharedSums | None = None,
                 fit_valid: np.ndarray | None = None) -> None:
        self._images = (x, y, valid)
        self.fit_valid = valid if fit_valid is None else fit_valid
        self._part = part
        self._parent = parent
        self._moments: tuple[list[np.ndarray], list[np.ndarray]] | None = None
        self._weights: dict[float, np.ndarray] = {}

    def within(self, part: tuple[slice, slice]) -> SharedSums:
        """The sums of the window ``part`` of this one (its start on the moment lattice)."""
        x, y, valid = self._images
        return SharedSums(x[part], y[part], valid[part], part, self, self.fit_valid[part])

    def moments(self, forward: bool) -> list[np.ndarray]:
        """``moment_sums`` of the first iteration: y from x (``forward``) or x from y."""
        if self._parent is not None and self._part is not None:
            rows, cols = self._part
            assert rows.start % BLOCK_PX == 0 and cols.start % BLOCK_PX == 0, "a part starts on the lattice"
            lattice = (slice(rows.start // BLOCK_PX, -(-rows.stop // BLOCK_PX)),
                       slice(cols.start // BLOCK_PX, -(-cols.stop // BLOCK_PX)))
            return [v[lattice] for v in self._parent.moments(forward)]
        if self._moments is None:
            self._moments = both_moment_sums(self._images[0], self._images[1], self.fit_valid)
        return self._moments[0 if forward else 1]

    def weight(self, sigma: float) -> np.ndarray:
        """``valid_weight`` of the footprint ``sigma`` (exact within the part's reach of its edges only)."""
        if self._parent is not None and self._part is not None:
            return self._parent.weight(sigma)[self._part]
        if sigma not in self._weights:
            self._weights[sigma] = valid_weight(self._images[2], sigma)
        return self._weights[sigma]


def step(x: np.ndarray, y: np.ndarray, valid: np.ndarray, window_px: int, line: Line | None,
         previous: tuple[np.ndarray, tuple[float, float]] | None = None,
         block_moments: list[np.ndarray] | None = None, pixels: Pixels | None = None,
         fit_valid: np.ndarray | None = None) -> np.ndarray:
    """One iteration of the residual: y minus its local prediction from x, NaN where invalid. The fit leaves
    out pixels whose ``previous`` residual (with its centre and scale) is beyond ``CLIP`` deviations.
    ``block_moments``: the fit's moment sums when known (a first iteration's, ``SharedSums``); ``pixels``:
    the residual of those only (the fit over the whole window). ``fit_valid``: the valid pixels a fit may
    weigh (by default all)."""
    fit_valid = valid if fit_valid is None else fit_valid
    weights = fit_valid if previous is None else _kept(fit_valid, *previous)
    gain, offset = local_linear_fit(x, y, weights, window_px, line=line, block_moments=block_moments, pixels=pixels)
    at = pixels or (slice(None), slice(None))
    # (x is finite where valid; elsewhere the prediction is not kept): y − (gain·x + offset), in place
    gain *= x[at]
    gain += offset
    np.subtract(y[at], gain, out=gain)
    gain[~valid[at]] = np.nan
    return gain


def _kept(valid: np.ndarray, previous: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    """The valid pixels whose ``previous`` residual lies within ``CLIP`` deviations (bool)."""
    z = np.nan_to_num(scaled(previous, valid, centre), copy=False)
    kept: np.ndarray = valid & (np.abs(z, out=z) < CLIP)
    return kept


def residual(x: np.ndarray, y: np.ndarray, valid: np.ndarray, window_px: int, fit: ResidualFit,
             first_moments: list[np.ndarray] | None = None, pixels: Pixels | None = None,
             fit_valid: np.ndarray | None = None) -> np.ndarray:
    """y minus its local prediction from x after every iteration of ``fit`` (at ``pixels`` only: the last
    iteration's residual is computed there, the earlier ones, which weigh its fit, everywhere)."""
    last = len(fit.lines) - 1
    out = step(x, y, valid, window_px, fit.lines[0], block_moments=first_moments, pixels=None if last else pixels,
               fit_valid=fit_valid)
    for i in range(1, len(fit.lines)):
        out = step(x, y, valid, window_px, fit.lines[i], (out, fit.centres[i - 1]), pixels=pixels if i == last else None,
                   fit_valid=fit_valid)
    return out


def footprint_reach(fit: LocalFit) -> int:
    """How far the widest Gaussian footprint reads (scipy's radius at its default truncation, 4σ)."""
    return int(4.0 * max(max(fit.footprints_px), 0.0) + 0.5)


def score(x: np.ndarray, y: np.ndarray, valid: np.ndarray, fit: LocalFit, shared: SharedSums | None = None,
          core: Pixels | None = None) -> np.ndarray:
    """The statistic over one window (on its ``core`` only, by default all of it): mean |z| of both
    directions' residuals over a Gaussian footprint. ``shared``: what it has in common with other windows'
    statistics of the same pixels. The last residuals and the footprints are worked out on the core and the
    footprint's reach around it only: the same numbers there as over the whole window."""
    shared = SharedSums(x, y, valid, fit_valid=fit_weights(x, y, valid, fit.screen)) if shared is None else shared
    rows, cols = core or (slice(0, valid.shape[0]), slice(0, valid.shape[1]))
    reach = footprint_reach(fit)
    crop = (slice(max(rows.start - reach, 0), min(rows.stop + reach, valid.shape[0])),
            slice(max(cols.start - reach, 0), min(cols.stop + reach, valid.shape[1])))
    inner = (slice(rows.start - crop[0].start, rows.stop - crop[0].start),
             slice(cols.start - crop[1].start, cols.stop - crop[1].start))
    return _combine(residual(x, y, valid, fit.window_px, fit.forward, shared.moments(True), crop, shared.fit_valid),
                    residual(y, x, valid, fit.window_px, fit.backward, shared.moments(False), crop, shared.fit_valid),
                    valid[crop], fit, shared, crop)[inner]


def _combine(forward: np.ndarray, backward: np.ndarray, valid: np.ndarray, fit: LocalFit,
             shared: SharedSums | None = None, crop: Pixels | None = None) -> np.ndarray:
    """The statistic from both directions' last residuals (and ``valid``) over the window's ``crop``: exact
    there but within the footprint's reach of its edges (unless they are the window's)."""
    z_forward, z_backward = (scaled(r, valid, f.centres[-1]) for r, f in ((forward, fit.forward), (backward, fit.backward)))
    np.abs(z_forward, out=z_forward)
    np.abs(z_backward, out=z_backward)
    # ½ (forward + backward) filtered once, not each direction: the filter is linear, so this is the mean of
    # the two directions' footprints to rounding (half the Gaussian filterings of the statistic)
    both_directions = np.add(z_forward, z_backward, out=z_forward)
    out: np.ndarray | None = None
    for sigma in fit.footprints_px:
        den = valid_weight(valid, sigma) if shared is None else shared.weight(sigma)[crop or (slice(None), slice(None))]
        mean = masked_gaussian(both_directions, valid, sigma, den)
        mean *= 0.5
        both = mean.astype(np.float32)
        out = both if out is None else np.fmin(out, both, out=out)
    assert out is not None  # footprints_px holds sigma_px at least
    return out


def _windows_of(windows: Sequence[Block], x: np.ndarray, y: np.ndarray,
                valid: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, tuple[slice, slice]]]:
    """Each window's (x, y, valid, core), one at a time: a scratch band's pages are handed back after each
    (the sample windows of a tile's two bands held at once were ~700 MB of the process)."""
    for b in windows:
        yield x[b.window], y[b.window], valid[b.window], b.core_in_window
        release()


def _fit_direction(x: np.ndarray, y: np.ndarray, valid: np.ndarray, window_px: int, windows: Sequence[Block],
                   first_moments: list[np.ndarray] | None = None, screen: Screen | None = None,
                   fit_valid: np.ndarray | None = None) -> tuple[ResidualFit, list[np.ndarray]]:
    """Each iteration's line from the sample windows' cores (weighted as that iteration weighs them), then
    the centre and scale of its residual there; each window's last residual is kept for the next, and the
    final ones are returned with the fit. ``first_moments``: the first iteration's moment sums of the one
    window (``SharedSums``), when known. ``screen``: what no fit weighs (``geo.change.gross``), for x and y;
    ``fit_valid``: the one window's pixels it leaves to the fits, when known."""
    assert first_moments is None or len(windows) == 1, "first moments are one window's"
    assert fit_valid is None or len(windows) == 1, "fit_valid is one window's"
    lines: list[Line | None] = []
    centres: list[tuple[float, float]] = []
    previous: list[np.ndarray] = []  # each window's residual of the last iteration
    fit_valids: list[np.ndarray] = [] if fit_valid is None else [fit_valid]  # each window's, worked out once
    for i in range(ITERATIONS):
        sums = np.zeros(5)
        for index, (xs, ys, ok, core) in enumerate(_windows_of(windows, x, y, valid)):
            if index == len(fit_valids):
                fit_valids.append(fit_weights(xs, ys, ok, screen))
            fit_ok = fit_valids[index]
            w = (_kept(fit_ok, previous[index], centres[-1]) if i else fit_ok).astype(np.float64)[core]
            sums += line_sums(np.where(w > 0, xs[core], 0.0), np.where(w > 0, ys[core], 0.0), w)
        lines.append(line_from_sums(sums))
        previous = [step(xs, ys, ok, window_px, lines[-1], (previous[index], centres[-1]) if i else None,
                         None if i else first_moments, fit_valid=fit_valids[index])
                    for index, (xs, ys, ok, _) in enumerate(_windows_of(windows, x, y, valid))]
        values = np.concatenate([r[b.core_in_window][valid[b.window][b.core_in_window]]
                                 for r, b in zip(previous, windows)])
        centres.append(robust_scale(values, PRECISION if i == ITERATIONS - 1 else 0.0))
    return ResidualFit(tuple(lines), tuple(centres)), previous


def sample_windows(valid: np.ndarray, halo: int) -> list[Block]:
    """``SAMPLE_WINDOWS`` windows spread among those whose core holds valid pixels: an AOI half over no-data
    (outside the scenes, cloud) still gets its whole sample where there is data."""
    candidates = [b for b in layout(valid.shape, halo, SAMPLE_CORE_PX, BLOCK_PX) if valid[b.core].any()]
    return spread(candidates, SAMPLE_WINDOWS)


def fit_screen(x: np.ndarray, y: np.ndarray, valid: np.ndarray, windows: Sequence[Block]) -> Screen:
    """The screen's global quantities (``geo.change.gross``) from the ``windows``' cores: each direction's
    line over the valid pixels and the robust centre and scale of its residual."""
    offsets: list[Offset | None] = []
    for a, b in ((x, y), (y, x)):
        sums = np.zeros(5)
        for xs, ys, ok, core in _windows_of(windows, a, b, valid):
            w = ok[core].astype(np.float64)
            sums += line_sums(np.where(ok[core], xs[core], 0.0), np.where(ok[core], ys[core], 0.0), w)
        line = line_from_sums(sums)
        if line is None:
            offsets.append(None)
            continue
        gain, intercept = line
        values = np.concatenate([(ys[core] - (gain * xs[core] + intercept))[ok[core]]
                                 for xs, ys, ok, core in _windows_of(windows, a, b, valid)])
        offsets.append((line, robust_scale(values)))
    return Screen(*offsets)


def fit_local(x: np.ndarray, y: np.ndarray, valid: np.ndarray, window_px: int, sigma_px: float,
              windows: Sequence[Block] | None = None, min_over_sigmas_px: tuple[float, ...] = (),
              screen: Screen | None = None) -> LocalFit:
    """Phase 1: the global quantities from sample ``windows`` (by default ``sample_windows``); the
    ``screen``'s from them too unless given (several windows' fits share one)."""
    if windows is None:
        windows = sample_windows(valid, halo_px(window_px, max((sigma_px, *min_over_sigmas_px))))
    screen = fit_screen(x, y, valid, windows) if screen is None else screen
    return LocalFit(_fit_direction(x, y, valid, window_px, windows, screen=screen)[0],
                    _fit_direction(y, x, valid, window_px, windows, screen=screen.swapped())[0], window_px, sigma_px,
                    min_over_sigmas_px, screen)


Part = tuple[tuple[slice, slice], tuple[slice, slice]]  # a fit's window in the block's, and its core in that


def _block_score(x: np.ndarray, y: np.ndarray, valid: np.ndarray, fits: Sequence[LocalFit],
                 parts: Sequence[Part]) -> np.ndarray:
    """The per-pixel minimum over ``fits`` of their statistics on one block's core, each computed on its own
    window (``parts``, within the block's widest), what they have in common worked out once."""
    shared = SharedSums(x, y, valid, fit_valid=fit_weights(x, y, valid, fits[0].screen))  # one screen for all
    out: np.ndarray | None = None
    for fit, (window, core) in zip(fits, parts):
        values = score(x[window], y[window], valid[window], fit, shared.within(window), core)
        out = values if out is None else np.fmin(out, values, out=out)
    assert out is not None, "fits is never empty"
    return out


def _parts(shape: tuple[int, int], halos: Sequence[int], core_px: int) -> tuple[list[Block], list[list[Part]]]:
    """The blocks of the widest halo, and per block each halo's window within it and core within that: the
    windows a fit with that halo alone would read (the same numbers on its core)."""
    layouts = [layout(shape, h, core_px, BLOCK_PX) for h in halos]
    blocks = layouts[halos.index(max(halos))]
    parts = [[((slice(b.win_row0 - big.win_row0, b.win_row1 - big.win_row0),
                slice(b.win_col0 - big.win_col0, b.win_col1 - big.win_col0)), b.core_in_window) for b in own]
             for big, *own in zip(blocks, *layouts)]
    return blocks, parts


def apply_local(x: np.ndarray, y: np.ndarray, valid: np.ndarray, fit: LocalFit | Sequence[LocalFit],
                runner: BlockRunner = run_serial, core_px: int | None = None, halo: int | None = None) -> np.ndarray:
    """Phase 2: the statistic of the whole grid, block by block (``runner``: here or on a cluster) with a
    halo of the statistic's reach (``halo_px``) unless told otherwise. Several fits (windows): the per-pixel
    minimum of their statistics, in one pass over the blocks (each block read once, the fits' common sums
    worked out once, each fit on the window its own halo gives: the same numbers as a pass of its own)."""
    fits = [fit] if isinstance(fit, LocalFit) else list(fit)
    halos = [halo_px(f.window_px, max(f.footprints_px)) if halo is None else halo for f in fits]
    blocks, parts = _parts(valid.shape, halos, core_px or tiling.CORE_PX)
    on_disk = is_scratch(x) or is_scratch(y)
    out = scratch_array(valid.shape, np.float32) if on_disk else np.empty(valid.shape, np.float32)
    # Scratch inputs: a batch of blocks at a time, their windows copied out and the pages handed back after
    # each batch, so memory is a batch's (a runner's workers get the windows' own arrays either way).
    batch = BATCH_BLOCKS if on_disk else len(blocks)
    for start in range(0, len(blocks), batch):
        part = blocks[start:start + batch]
        windows = iter_windows(part, x, y, valid)
        arguments = [(*(np.array(w) if on_disk else w for w in images), fits, own)
                     for own, images in zip(parts[start:start + batch], windows)]
        for block, values in zip(part, runner(_block_score, arguments)):
            out[block.core] = values
        del arguments
        release()
    return out


def whole(shape: tuple[int, int]) -> list[Block]:
    """The grid as one block, its own window."""
    return layout(shape, 0, max(shape))


def local_statistic(x: np.ndarray, y: np.ndarray, valid: np.ndarray, window_px: int, sigma_px: float,
                    runner: BlockRunner = run_serial, core_px: int | None = None,
                    min_over_sigmas_px: tuple[float, ...] = (),
                    min_over_windows_px: tuple[int, ...] = ()) -> tuple[np.ndarray, LocalFit]:
    """The statistic and the global quantities it used (``window_px``'s): a grid of one block fitted and
    computed whole in one pass (exactly as ever); a larger one in two phases, block by block.
    ``min_over_sigmas_px``, ``min_over_windows_px``: other footprints and windows, the statistic the
    per-pixel minimum over all (each window's residuals computed once, for all footprints)."""
    core_px = core_px or tiling.CORE_PX
    windows_px = (window_px, *min_over_windows_px)
    widest = max((sigma_px, *min_over_sigmas_px))
    if len(layout(valid.shape, halo_px(window_px, widest), core_px, BLOCK_PX)) > 1:
        screen = fit_screen(x, y, valid, sample_windows(valid, halo_px(max(windows_px), widest)))
        fits = [fit_local(x, y, valid, w, sigma_px, min_over_sigmas_px=min_over_sigmas_px, screen=screen)
                for w in windows_px]
        return apply_local(x, y, valid, fits, runner, core_px), fits[0]
    screen = fit_screen(x, y, valid, whole(valid.shape))
    shared = SharedSums(x, y, valid, fit_valid=fit_weights(x, y, valid, screen))
    out: np.ndarray | None = None
    fits = []
    for w in windows_px:
        forward, [forward_residual] = _fit_direction(x, y, valid, w, whole(valid.shape), shared.moments(True), screen,
                                                     shared.fit_valid)
        backward, [backward_residual] = _fit_direction(y, x, valid, w, whole(valid.shape), shared.moments(False),
                                                       screen.swapped(), shared.fit_valid)
        fits.append(LocalFit(forward, backward, w, sigma_px, min_over_sigmas_px, screen))
        values = _combine(forward_residual, backward_residual, valid, fits[-1], shared)
        out = values if out is None else np.fmin(out, values, out=out)
    assert out is not None
    return out, fits[0]


def local_regression_residual(x: np.ndarray, y: np.ndarray, valid: np.ndarray, window_px: int) -> np.ndarray:
    """y minus its local linear prediction from x over the whole image, after both iterations; NaN where
    invalid. After the first fit, pixels whose residual is beyond ``CLIP`` robust standard deviations are
    left out of the next one, so the changes themselves do not bend the fit."""
    _, [last] = _fit_direction(x, y, valid, window_px, whole(valid.shape))
    return last
