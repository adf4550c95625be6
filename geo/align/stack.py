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
from dataclasses import dataclass

from geo.align.coreg import Shift, estimate_shift
from geo.align.local import LocalModel, estimate_local
from geo.align.masks import pixel_size_m
from geo.errors import CoregError
from geo.grid import Grid
from geo.scenes.displace import SharedDisplacement
from geo.scenes.model import Scene
from geo.scenes.read import Stack, read_stack
from geo.scenes.read_blocks import read_stack_blocks
from geo.scenes.scratch import release

log = logging.getLogger(__name__)

Step = Callable[[str], AbstractContextManager[None]]


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


def coregister(before: Stack, after: Stack, band: str, min_quality: float) -> tuple[Shift | None, str | None]:
    """The after scene's shift relative to the before scene, or None with a warning when unreliable."""
    try:
        shift = estimate_shift(before.band(band), after.band(band), before.valid, after.valid, min_quality,
                               pixel_m=pixel_size_m(before.grid))
    except CoregError as exc:
        warning = f"co-registration skipped: {exc}"
        log.warning(warning)
        return None, warning
    return shift, None


def local_model(
    before: Stack, after: Stack, band: str, shift: Shift, p: LocalCoregParams
) -> tuple[LocalModel | None, bool, str | None]:
    """(model, worth applying, warning): the local model is applied only where it departs from the global
    shift by ``min_departure_px`` somewhere; a warning when the tie points did not allow one."""
    try:
        model = estimate_local(before.band(band), after.band(band), before.valid, after.valid, shift, p.window, p.spacing,
                               pixel_m=pixel_size_m(before.grid))
    except CoregError as exc:
        warning = f"local co-registration not used (global shift applied): {exc}"
        log.warning(warning)
        return None, False, warning
    summary = model.summary(before.grid.shape)
    departure = max(abs(v - s) for s, pair in ((shift.dx_px, summary["range_dx_px"]),
                                               (shift.dy_px, summary["range_dy_px"])) for v in pair)
    return model, departure >= p.min_departure_px, None


def _no_step(name: str) -> AbstractContextManager[None]:
    return nullcontext()


def read_aligned(
    before_scene: Scene, after_scene: Scene, bands: Sequence[str], grid: Grid, coreg_band: str,
    min_quality: float, step: Step = _no_step, local: LocalCoregParams | None = None,
    block_px: int | None = None,
) -> AlignedPair:
    """Both scenes' ``bands`` on ``grid``, the after scene shifted (or warped, ``local``) onto the before.
    ``block_px``: read both by blocks of that side into scratch stacks on disk (``geo.scenes.read_blocks``:
    a grid too large to hold); the co-registration band of the after scene is then the only one held."""
    warnings: list[str] = []
    with step("read before scene"):
        before = (read_stack(before_scene, bands, grid) if block_px is None
                  else read_stack_blocks(before_scene, bands, grid, block_px))
    with step("co-register"):
        probe = read_stack(after_scene, (coreg_band,), grid)
        shift, warning = coregister(before, probe, coreg_band, min_quality)
        model, use_local = None, False
        if shift is not None and local is not None:
            model, use_local, local_warning = local_model(before, probe, coreg_band, shift, local)
            warning = warning or local_warning
        del probe
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
