"""A pair of which one date shows nothing of the grid (all cloud, or no data): no change can be looked for,
so none is found, and the claims get their verdicts from what was seen, "not observable", instead of the job
ending in an error with no verdict at all (a scene chosen as the best of a clouded season, or named by
``--after``). So too a pair whose dates show too few pixels in common for the change statistic (a few pixels
through a gap in the cloud, a scene's edge grazing the grid)."""

from __future__ import annotations

import numpy as np

from geo.errors import EmptyReadError, TooFewPixelsError, UniformPairError
from geo.grid import Grid
from geo.jobs.kit import AlignedStacks, ChangeJob, FoundChanges, SensorKit, Step
from geo.results import NOT_COMPUTED
from geo.scenes.model import Scene, Sensor
from geo.scenes.read import Stack
from geo.scenes.read_blocks import READ_BLOCK_PX
from geo.scenes.scratch import is_scratch, scratch_array


def _blank(scene: Scene, grid: Grid, like: Stack | None, bands: tuple[str, ...], quantity: str) -> Stack:
    """``scene`` on ``grid`` with no valid pixel, its bands and quantity as ``like``'s (the other date)."""
    quantity = like.quantity if like is not None else quantity
    names = like.bands if like is not None else bands
    shape = (len(names), *grid.shape)
    # where the other date is (a large grid's on disk, read by blocks), or on disk when the grid is larger than a block
    large = is_scratch(like.data) if like is not None else grid.shape[0] * grid.shape[1] > READ_BLOCK_PX ** 2
    data = scratch_array(shape, np.float32) if large else np.empty(shape, np.float32)
    data.fill(np.nan)
    valid = scratch_array(grid.shape, bool) if large else np.zeros(grid.shape, bool)
    return Stack(scene, grid, names, data, valid, quantity == "reflectance" and scene.cloud_classified, quantity)


def _pair_bands(job: ChangeJob, kit: SensorKit) -> tuple[str, ...]:
    """The bands a kit reads of the pair: its settings' (Sentinel-2), or the polarisations both dates have."""
    if kit.sensor is Sensor.S1:
        from geo.scenes.sar_read import shared_polarisations

        return tuple(shared_polarisations([job.before, job.after]))
    return tuple(kit.parameters().get("bands", ()))


def unseen_pair(job: ChangeJob, kit: SensorKit, grid: Grid, empty: EmptyReadError, step: Step
                ) -> tuple[AlignedStacks, EmptyReadError]:
    """Each date as read, the one (or both) showing nothing as a stack without a valid pixel, not aligned; and
    why: ``empty``, or both dates' reasons when neither shows anything (``empty`` named the first only).
    A kit that cannot say what bands the pair holds (none in its settings) raises ``empty`` again."""
    read: dict[str, Stack | None] = {}
    reasons: list[str] = []
    with step("reading what each date shows"):
        for role, scene in (("before", job.before), ("after", job.after)):
            try:
                read[role] = kit.read(scene, grid, role)
            except EmptyReadError as exc:
                read[role] = None
                reasons.append(str(exc))
    seen = read["before"] or read["after"]
    bands = _pair_bands(job, kit) if seen is None else ()
    if seen is None and not bands:
        raise empty
    quantity = "reflectance" if kit.sensor.sees_cloud else "backscatter"
    before = read["before"] or _blank(job.before, grid, seen, bands, quantity)
    after = read["after"] or _blank(job.after, grid, seen, bands, quantity)
    why = EmptyReadError("; ".join(reasons)) if len(reasons) == 2 else empty
    return AlignedStacks(before, after, {"coregistration": None}, ()), why


def nothing_found(kit: SensorKit, grid: Grid, why: EmptyReadError | TooFewPixelsError | UniformPairError
                  ) -> FoundChanges:
    """No change, the statistic not computed (its raster is not written): the manifest says why (``why``: a date
    showing nothing of the grid, the two dates too few pixels in common to compare, or a date without texture)."""
    empty, flat = isinstance(why, EmptyReadError), isinstance(why, UniformPairError)
    reason = str(why) if empty or flat else f"too few valid pixels on both dates ({why})"
    # not logged: `geo run` prints its manifest's warnings, a re-check records the pair skipped with the reason
    warning = f"{reason}: no change could be looked for on this pair"
    seen = ("nothing seen on one date" if empty else "no texture on a date" if flat
            else "too few valid pixels on both dates")
    description = {"method": kit.algorithm_version.split("/")[0], "name": NOT_COMPUTED,
                   "label": f"change statistic (not computed: {seen})", "unit": "", "levels": [], "reason": reason}
    return FoundChanges([], np.full(grid.shape, np.nan, np.float32), np.zeros(grid.shape, bool), description,
                        {}, (warning,))
