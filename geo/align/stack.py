"""A scene pair read onto one grid with the after scene co-registered to the before scene.

The after scene's co-registration band is read first to measure its shift against the before scene; then
all its bands are read from the source files onto the grid moved by that shift, so its pixels are
resampled only once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from geo.align.coreg import Shift, estimate_shift
from geo.errors import CoregError
from geo.grid import Grid
from geo.scenes.model import Scene
from geo.scenes.read import Stack, read_stack

log = logging.getLogger(__name__)

Step = Callable[[str], AbstractContextManager[None]]


@dataclass(frozen=True)
class AlignedPair:
    before: Stack
    after: Stack  # on the same grid as ``before``, shift applied
    shift: Shift | None  # None when co-registration was unreliable (then the pair is used as read)
    warning: str | None = None


COREG_WINDOW = 512  # px: a quarter of a million pixels pin a translation to ~0.01 px


def coregister(
    before: Stack, after: Stack, band: str, min_quality: float, window: int = COREG_WINDOW
) -> tuple[Shift | None, str | None]:
    """The after scene's shift relative to the before scene, or None with a warning when unreliable."""
    try:
        shift = estimate_shift(before.band(band), after.band(band), before.valid, after.valid, min_quality, window)
    except CoregError as exc:
        warning = f"co-registration skipped: {exc}"
        log.warning(warning)
        return None, warning
    return shift, None


def _no_step(name: str) -> AbstractContextManager[None]:
    return nullcontext()


def read_aligned(
    before_scene: Scene, after_scene: Scene, bands: Sequence[str], grid: Grid, coreg_band: str,
    min_quality: float, step: Step = _no_step,
) -> AlignedPair:
    """Both scenes' ``bands`` on ``grid``, the after scene shifted onto the before scene."""
    with step("read before scene"):
        before = read_stack(before_scene, bands, grid)
    with step("co-register"):
        probe = read_stack(after_scene, (coreg_band,), grid)
        shift, warning = coregister(before, probe, coreg_band, min_quality)
    with step("read after scene"):
        moved = grid.shifted(shift.dx_px, shift.dy_px) if shift is not None else grid
        after = read_stack(after_scene, bands, moved)
        after = Stack(after.scene, grid, after.bands, after.data, after.valid, after.cloud_masked)
    return AlignedPair(before, after, shift, warning)
