"""``geo coreg`` as one call: the global shift (and optionally the local model) between two raster files,
and the correction written out."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from geo.align.coreg import Shift
from geo.align.pair import READ_BUDGET, BandSpec
from geo.errors import TiePointError
from geo.grid import Grid

if TYPE_CHECKING:  # the global path does not import the tie-point module (start-up time)
    from geo.align.local import LocalModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalSettings:
    """How ``--local`` places and judges its tie points."""

    window: int = 128  # tie-point window, px of REF
    spacing: int = 128  # tie-point grid spacing, px of REF
    min_points: int = 8
    strict: bool = False  # too few tie points is an error, not a fall-back to the global shift


@dataclass(frozen=True)
class FileCoreg:
    """What ``geo coreg`` measured: the shift, the overlap grid it refers to, the local model if any."""

    shift: Shift
    grid: Grid
    record: dict[str, object]  # the JSON contract (README "geo coreg JSON")
    model: LocalModel | None = None
    warnings: list[str] = field(default_factory=list)


def coregister_files(
    ref: str, tgt: str, band: BandSpec = 1, local: LocalSettings | None = None, read_budget: int = READ_BUDGET,
    apply_to: str | None = None, keep_grid: bool = False, tgt_band: BandSpec | None = None,
) -> FileCoreg:
    """The shift of TGT relative to REF (with ``local``, also a model from tie points over the whole
    overlap), measured on ``band`` of REF and ``tgt_band`` (default ``band``) of TGT; with ``apply_to``, TGT
    corrected and written there (``keep_grid``: only its geotransform moved, global shift only)."""
    from geo.align.pair import estimate_shift_from_files, pair_shift, read_measured_pair

    warnings: list[str] = []
    model = None
    if local is not None:  # tie points need the whole overlap
        from geo.align.local import MIN_WINDOW, estimate_local
        from geo.align.masks import pixel_size_m

        # a coarser TGT: on its own lattice, REF averaged onto it (geo.align.lattice), as the global path does
        pair, swapped = read_measured_pair(ref, tgt, band, tgt_band)
        start = pair_shift(pair)
        grid, shift = (pair.grid, start) if swapped is None else (swapped.grid, swapped.shift(start))
        window, spacing = ((local.window, local.spacing) if swapped is None
                           else (swapped.pixels(local.window, MIN_WINDOW), swapped.pixels(local.spacing)))
        record: dict[str, object] = dict(shift.to_dict(grid))
        try:
            model = estimate_local(pair.ref, pair.tgt, pair.ref_valid, pair.tgt_valid, start, window, spacing,
                                   local.min_points, pixel_size_m(pair.grid), on_grid=swapped)
            record["local"] = model.summary(grid.shape, grid)
        except TiePointError as exc:
            if local.strict:
                raise
            warnings.append(f"local model not used, fell back to the global shift: {exc}")
            log.warning(warnings[-1])
    else:  # a few windows are enough for one translation: read those, not the files
        measured = estimate_shift_from_files(ref, tgt, band, read_budget=read_budget, tgt_band=tgt_band)
        shift, grid = measured.shift, measured.grid
        record = measured.to_dict()
    for key in ("blocks_decoded", "pixels_decoded"):  # the same keys on every path: null when the whole overlap
        record.setdefault(key, None)                   # was read (a small one, or --local), not measured
    record["applied_model"] = model.kind if model is not None else "translation"
    if apply_to:
        from geo.align.resample import translation, write_shifted, write_warped

        if keep_grid:
            write_shifted(tgt, grid, shift.dx_px, shift.dy_px, apply_to)
        else:
            displacement = model.displacement if model is not None else translation(shift.dx_px, shift.dy_px)
            write_warped(tgt, grid, displacement, apply_to)
        record["output"] = apply_to
    record["warnings"] = warnings
    return FileCoreg(shift, grid, record, model, warnings)
