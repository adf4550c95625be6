"""A pair of which one date shows nothing of the grid (all cloud, or no data): no change can be looked for,
so none is found, and the claims get their verdicts from what was seen, "not observable", instead of the job
ending in an error with no verdict at all (a scene chosen as the best of a clouded season, or named by
``--after``)."""

from __future__ import annotations

import logging

import numpy as np

from geo.errors import EmptyReadError
from geo.grid import Grid
from geo.jobs.kit import AlignedStacks, ChangeJob, FoundChanges, SensorKit, Step
from geo.results import NOT_COMPUTED
from geo.scenes.model import SCL_ASSET, Scene
from geo.scenes.read import Stack

log = logging.getLogger(__name__)


def _blank(scene: Scene, grid: Grid, like: Stack | None, bands: tuple[str, ...]) -> Stack:
    """``scene`` on ``grid`` with no valid pixel, its bands and quantity as ``like``'s (the other date)."""
    quantity = like.quantity if like is not None else "reflectance"
    names = like.bands if like is not None else bands
    return Stack(scene, grid, names, np.full((len(names), *grid.shape), np.nan, np.float32),
                 np.zeros(grid.shape, bool), quantity == "reflectance" and SCL_ASSET in scene.assets, quantity)


def unseen_pair(job: ChangeJob, kit: SensorKit, grid: Grid, empty: EmptyReadError, step: Step) -> AlignedStacks:
    """Each date as read, the one (or both) showing nothing as a stack without a valid pixel, not aligned.
    A kit whose settings name no bands (Sentinel-1's are the scene's polarisations) cannot say what a pair
    read on neither date holds: ``empty`` is raised again."""
    read: dict[str, Stack | None] = {}
    with step("reading what each date shows"):
        for role, scene in (("before", job.before), ("after", job.after)):
            try:
                read[role] = kit.read(scene, grid, role)
            except EmptyReadError:
                read[role] = None
    bands = tuple(kit.parameters().get("bands", ()))
    seen = read["before"] or read["after"]
    if seen is None and not bands:
        raise empty
    before = read["before"] or _blank(job.before, grid, seen, bands)
    after = read["after"] or _blank(job.after, grid, seen, bands)
    return AlignedStacks(before, after, {"coregistration": None}, ())


def nothing_found(kit: SensorKit, grid: Grid, empty: EmptyReadError) -> FoundChanges:
    """No change, the statistic not computed (its raster is not written): the manifest says why."""
    reason = f"{empty}: no change could be looked for on this pair"
    log.warning("%s", reason)
    description = {"method": kit.algorithm_version.split("/")[0], "name": NOT_COMPUTED,
                   "label": "change statistic (not computed: nothing seen on one date)", "unit": "", "levels": [],
                   "threshold_grow": float("nan"), "threshold_seed": float("nan")}
    return FoundChanges([], np.full(grid.shape, np.nan, np.float32), np.zeros(grid.shape, bool), description,
                        {}, (reason,))
