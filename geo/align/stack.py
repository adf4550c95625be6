"""A scene pair read onto one grid with the after scene co-registered to the before scene.

The after scene's co-registration band is read first to measure its shift against the before scene (and,
optionally, a local displacement model from tie points); then all its bands are read from the source
files onto the grid moved by that shift or through that model, so its pixels are resampled only once.
Used by the change job and by the evaluation alike.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, fields, replace

import numpy as np

from geo.align.coreg import Shift, combine_shifts, estimate_shift
from geo.align.local import LocalModel, estimate_local, fit_model, measure_tie_points, sparse_spacing
from geo.align.tie_points import TiePoints
from geo.align.masks import clean_masks, pixel_size_m
from geo.errors import CoregError
from geo.grid import Grid
from geo.scenes.displace import SharedDisplacement
from geo.scenes.model import Scene
from geo.scenes.read import Stack, read_bands, read_stack
from geo.scenes.read_blocks import grid_windows, read_stack_blocks
from geo.scenes.scratch import release

log = logging.getLogger(__name__)

Step = Callable[[str], AbstractContextManager[None]]

COREG_TILE_PX = 3072  # a grid read by blocks and larger than this is co-registered tile by tile


@dataclass(frozen=True)
class LocalCoregParams:
    window: int = 64  # tie-point window, px
    spacing: int = 64  # between tie points, px
    min_departure_px: float = 0.1  # apply the local model only if it departs this far from the shift


@dataclass(frozen=True)
class AlignedPair:
    before: Stack
    after: Stack  # on the same grid as ``before``, shift or local model applied
    shift: Shift | None  # None when co-registration was unreliable (then the pair is used as read)
    model: LocalModel | None = None
    local_applied: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def applied(self) -> str | None:
        if self.local_applied and self.model is not None:
            return f"local {self.model.kind}"
        return "translation" if self.shift else None


def cleaned_masks(before: Stack, after: Stack, band: str) -> tuple[np.ndarray, np.ndarray]:
    """``clean_masks`` of the pair's ``band``: what the shift and the tie points are measured on."""
    ref, tgt = before.band(band), after.band(band)
    return clean_masks(ref, tgt, before.valid & np.isfinite(ref), after.valid & np.isfinite(tgt),
                       pixel_size_m(before.grid))


def coregister(before: Stack, after: Stack, band: str, min_quality: float,
               cleaned: tuple[np.ndarray, np.ndarray] | None = None,
               max_shift_px: float | None = None) -> tuple[Shift | None, str | None]:
    """The after scene's shift relative to the before scene, or None with a warning when unreliable or
    beyond ``max_shift_px`` (``implausible``); ``cleaned``: ``cleaned_masks`` of the pair, when the caller
    has them."""
    try:
        shift = estimate_shift(before.band(band), after.band(band), before.valid, after.valid, min_quality,
                               pixel_m=pixel_size_m(before.grid), cleaned=cleaned)
    except CoregError as exc:
        return None, _warned(f"co-registration skipped: {exc}")
    why = implausible(shift, max_shift_px, pixel_size_m(before.grid))
    return (None, _warned(f"co-registration skipped: {why}")) if why else (shift, None)


def implausible(shift: Shift, max_shift_px: float | None, pixel_m: float) -> str | None:
    """Why ``shift`` cannot be two scenes' misregistration (None when it can): beyond ``max_shift_px``, a
    false match (a repeating texture matched a period away, or a change taken for the ground) whatever its
    correlation. Two Sentinel-2 scenes on one grid are registered to well under a pixel since the 2021 GRI,
    ~1-2 px before it, so the pair is then used as read."""
    if max_shift_px is None or max(abs(shift.dx_px), abs(shift.dy_px)) <= max_shift_px:
        return None
    return (f"the shift found, dx {shift.dx_px:+.1f} dy {shift.dy_px:+.1f} px ({pixel_m * shift.dx_px:+.0f} m, "
            f"{pixel_m * shift.dy_px:+.0f} m) at quality {shift.quality:.2f}, is beyond the {max_shift_px:g} px two "
            "Sentinel-2 scenes of one grid can be apart (a false match: a repeating texture, or a wide change); "
            "the after scene is used as read")


def _warned(warning: str) -> str:
    """``warning``, logged at info level (a routine note of a pair, nothing to act on: a re-check's cron log
    stays quiet): the run's manifest records it, and ``geo run``/``geo coreg`` print the manifest's warnings."""
    log.info(warning)
    return warning


def _local_not_used(why: CoregError | str) -> str:
    return _warned(f"local co-registration not used (global shift applied): {why}")


def local_model(
    before: Stack, after: Stack, band: str, shift: Shift, p: LocalCoregParams,
    cleaned: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[LocalModel | None, bool, str | None]:
    """(model, worth applying, warning): the local model is applied only where it departs from the global
    shift by ``min_departure_px`` somewhere; a warning when the tie points did not allow one."""
    rows, cols = before.grid.shape
    if min(rows, cols) < p.window:  # a strip drawn along a quay: no window fits, so no tie point ("0 of 0")
        return None, False, _local_not_used(f"the AOI's grid ({rows} x {cols} px with its margin) is narrower than "
                                            f"one tie-point window ({p.window} px)")
    try:
        model = estimate_local(before.band(band), after.band(band), before.valid, after.valid, shift, p.window, p.spacing,
                               pixel_m=pixel_size_m(before.grid), cleaned=cleaned)
    except CoregError as exc:
        return None, False, _local_not_used(exc)
    return model, departs(model, shift, before.grid.shape, p), None


def departs(model: LocalModel, shift: Shift, shape: tuple[int, int], p: LocalCoregParams) -> bool:
    """Whether ``model`` departs from ``shift`` by ``min_departure_px`` somewhere over a grid of ``shape``."""
    summary = model.summary(shape)
    departure = max(abs(v - s) for s, pair in ((shift.dx_px, summary["range_dx_px"]),
                                               (shift.dy_px, summary["range_dy_px"])) for v in pair)
    return bool(departure >= p.min_departure_px)


def coregister_by_tiles(
    before: Stack, after_scene: Scene, band: str, min_quality: float, local: LocalCoregParams | None,
    tile_px: int = COREG_TILE_PX, max_shift_px: float | None = None,
) -> tuple[Shift | None, LocalModel | None, bool, str | None]:
    """(shift, local model, worth applying, warning) of a grid too large to co-register whole: each tile of
    ``tile_px`` measured on its own (the after scene's band read over it; its shift, and its tie points
    started from it), the tiles' shifts combined, one model fitted to all their tie points (at the spacing
    ``sparse_spacing`` widens to what a model uses). Memory is a tile's (whole, the masks and tie-point
    windows take ~35 bytes a pixel)."""
    grid, pixel_m = before.grid, pixel_size_m(before.grid)
    spacing = sparse_spacing(grid.shape, local.spacing) if local is not None else 0
    shifts: list[Shift] = []
    points: list[TiePoints] = []
    for row0, col0, rows, cols in grid_windows(grid.shape, tile_px):
        window = np.s_[row0:row0 + rows, col0:col0 + cols]
        ref, ref_valid = np.array(before.band(band)[window]), before.valid[window]
        release()
        values, tgt_valid, _ = read_bands(after_scene, (band,), grid.window(row0, col0, rows, cols))
        tgt = values[0]
        usable = ref_valid & np.isfinite(ref), tgt_valid & np.isfinite(tgt)
        cleaned = clean_masks(ref, tgt, *usable, pixel_m)  # once for the shift and the tie points alike
        try:
            shift = estimate_shift(ref, tgt, ref_valid, tgt_valid, min_quality, pixel_m=pixel_m, cleaned=cleaned)
        except CoregError as exc:
            log.debug("co-registration tile at (%d, %d) skipped: %s", row0, col0, exc)
            continue
        why = implausible(shift, max_shift_px, pixel_m)
        if why:
            log.info("co-registration tile at (%d, %d) skipped: %s", row0, col0, why)
            continue
        shifts.append(shift)
        if local is not None:
            found = measure_tie_points(ref, tgt, *usable, shift, local.window, spacing, pixel_m=pixel_m,
                                       cleaned=cleaned)
            points.append(replace(found, row=found.row + row0, col=found.col + col0))
    if not shifts:
        return None, None, False, _warned("co-registration skipped: no part of the area gave a reliable shift")
    shift = combine_shifts(shifts)
    if local is None:
        return shift, None, False, None
    joined = TiePoints(*(np.concatenate([getattr(p, f.name) for p in points]) for f in fields(TiePoints)))
    try:
        model = fit_model(joined, grid.shape)
    except CoregError as exc:
        return shift, None, False, _local_not_used(exc)
    return shift, model, departs(model, shift, grid.shape, local), None


def _no_step(name: str) -> AbstractContextManager[None]:
    return nullcontext()


def read_aligned(
    before_scene: Scene, after_scene: Scene, bands: Sequence[str], grid: Grid, coreg_band: str,
    min_quality: float, step: Step = _no_step, local: LocalCoregParams | None = None,
    block_px: int | None = None, max_shift_px: float | None = None,
) -> AlignedPair:
    """Both scenes' ``bands`` on ``grid``, the after scene shifted (or warped, ``local``) onto the before.
    ``block_px``: read both by blocks of that side into scratch stacks on disk (``geo.scenes.read_blocks``:
    a grid too large to hold); the co-registration band of the after scene is then the only one held.
    ``max_shift_px``: a larger shift is refused (``implausible``), the after scene read unmoved."""
    warnings: list[str] = []
    with step("read before scene"):
        before = (read_stack(before_scene, bands, grid) if block_px is None
                  else read_stack_blocks(before_scene, bands, grid, block_px))
    with step("co-register"):
        if block_px is not None and max(grid.shape) > COREG_TILE_PX:
            shift, model, use_local, warning = coregister_by_tiles(before, after_scene, coreg_band, min_quality,
                                                                   local, max_shift_px=max_shift_px)
        else:
            probe = read_stack(after_scene, (coreg_band,), grid)
            cleaned = cleaned_masks(before, probe, coreg_band)
            shift, warning = coregister(before, probe, coreg_band, min_quality, cleaned, max_shift_px)
            model, use_local = None, False
            if shift is not None and local is not None:
                model, use_local, local_warning = local_model(before, probe, coreg_band, shift, local, cleaned)
                warning = warning or local_warning
            del probe, cleaned
        release()
    if warning:
        warnings.append(warning)
    with step("read after scene"):
        displacement = SharedDisplacement(model.displacement) if model is not None and use_local else None
        moved = grid.shifted(shift.dx_px, shift.dy_px) if shift is not None and displacement is None else grid
        if block_px is not None:
            after = read_stack_blocks(after_scene, bands, grid, block_px, moved, displacement)
        else:
            after = read_stack(after_scene, bands, moved, displacement=displacement)
            after = Stack(after.scene, grid, after.bands, after.data, after.valid, after.cloud_masked)
    return AlignedPair(before, after, shift, model, use_local, tuple(warnings))
