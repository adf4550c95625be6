"""One change job for any sensor: an AOI, its claims and a scene pair -> change polygons, claim verdicts,
manifest.

The stages, in order: the grid from the AOI (``Grid.from_aoi``, the kit's resolution and margin), the AOI
mask, the kit's ``align`` (read both scenes, move the after scene onto the before one), the kit's ``detect``
(change statistic, regions, features stamped with the pair's identity), the claims linked and judged, the
manifest. Pure orchestration: the only I/O is the kit's reads (``geo.outputs.writers.write_run`` writes the
run folder).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from geo import __version__
from geo.aoi import AOI
from geo.claim_verdict import ClaimVerdict
from geo.claims import Claim
from geo.errors import EmptyReadError, TooFewPixelsError, UniformPairError
from geo.grid import Grid
from geo.jobs.kit import ChangeJob, SensorKit
from geo.jobs.steps import Progress, StepTimer, package_versions
from geo.jobs.unseen import nothing_found, unseen_pair
from geo.link import PairContext, link_features
from geo.results import JobResult, Manifest, outside_scenes_share
from geo.scenes.model import Sensor
from geo.scenes.read import Stack
from geo.vector.attributes import PairIdentity
from geo.vector.feature import ChangeFeature
from geo.verdicts import verdicts

log = logging.getLogger(__name__)


def pair_identity(job: ChangeJob, algorithm_version: str) -> PairIdentity:
    return PairIdentity(job.aoi.id, job.before.id, job.after.id, job.before.date.isoformat(),
                        job.after.date.isoformat(), algorithm_version)


def judge_claims(
    aoi: AOI, claims: Sequence[Claim], before: Stack, after: Stack, inside: np.ndarray, min_clear_fraction: float,
    features: Sequence[ChangeFeature], outside_share: float = 0.0, sensor: Sensor = Sensor.S2,
    excluded: np.ndarray | None = None, excluded_why: str = "",
) -> tuple[PairContext, list[ChangeFeature], list[ClaimVerdict]]:
    """Link ``features`` to ``claims`` and judge each claim on the pair: the pair's context (the share of the
    AOI, ``inside``, valid on both dates and on each alone; ``outside_share`` of it outside the scenes, capped
    at what was not seen; ``sensor``: the scenes', how the rationales name it; ``excluded``: pixels seen on
    both dates but not compared, for ``excluded_why``), the linked features and the verdicts."""
    n_inside = max(int(inside.sum()), 1)

    def share(seen: np.ndarray) -> float:  # to 4 places, as every output holds it: a rationale's 54% (0.54496) beside
        return round(float((seen & inside).sum() / n_inside), 4)  # claims.json's 0.545 and the report's 55% misread

    both = before.valid & after.valid
    left_out = 0.0 if excluded is None else share(both & excluded)
    clear = round(share(both) - left_out, 4)
    del both
    context = PairContext(
        aoi, before.scene.datetime, after.scene.datetime, clear, min_clear_fraction,
        before_scene=before.scene.summary(), after_scene=after.scene.summary(),
        before_clear_fraction=share(before.valid), after_clear_fraction=share(after.valid),
        outside_fraction=min(outside_share, 1.0 - clear), sensor=sensor,
        cloud_judged=before.cloud_masked and after.cloud_masked, excluded_fraction=left_out,
        excluded_why=excluded_why if left_out else "",
    )
    linked = link_features(features, claims, context)
    return context, linked, verdicts(claims, linked, context)


def coverage_warnings(context: PairContext, min_clear_fraction: float, level: int = logging.WARNING) -> list[str]:
    """A warning when too little of the AOI was seen on both dates (outside the scenes' footprint, no data, or
    cloud): a claim-free job has no verdict to say it, and no change can be found where nothing was seen. Logged at
    ``level``: a re-check's pair keeps it in its manifest and says its skip on the AOI's line (``logging.INFO``:
    shown with -v), so that a run that succeeds leaves nothing on cron's stderr."""
    left_out = round(100 * context.excluded_fraction)
    said = f"{left_out}% of the AOI had {context.excluded_why}, and was not compared" if left_out else ""
    if context.clear_fraction >= min_clear_fraction:
        if said:
            log.log(level, said)
        return [said] if said else []
    before, after = context.before_clear_fraction or 0, context.after_clear_fraction or 0
    if not said:
        text = (f"only {context.clear_fraction:.0%} of the AOI was seen on both dates (before {before:.0%}, after "
                f"{after:.0%}: outside the scenes, no data or cloud); no change can be found in the rest")
    else:  # each date's share seen; the rest unseen for want of data, unless both were seen in full (snow left it out)
        unseen = "" if min(before, after) >= 0.995 else ": the rest outside the scenes, no data or cloud"
        text = (f"only {context.clear_fraction:.0%} of the AOI was seen on both dates and compared (seen before "
                f"{before:.0%}, after {after:.0%}{unseen}; {said.replace(' of the AOI', '')}); no change can be "
                "found in the rest")
    log.log(level, text)
    return [text]


def _note_level(job: ChangeJob) -> int:
    """INFO for a re-check's pair (its selection the chain's: ``geo.recheck.process.chain_reason``), else WARNING."""
    return logging.INFO if job.pair_reason.get("policy") == "chain" else logging.WARNING


def run_job(job: ChangeJob, kit: SensorKit, progress: Progress | None = None) -> JobResult:
    timer = StepTimer(progress)
    grid, margins = Grid.with_margins(job.aoi, kit.resolution, kit.margin_m, kit.min_grid_m)
    inside = job.aoi.pixel_mask(grid)
    try:
        pair = kit.align(job, grid, timer.step)
    except EmptyReadError as empty:  # one date shows nothing of the grid: its claims are not observable
        pair, empty = unseen_pair(job, kit, grid, empty, timer.step)
        found = nothing_found(kit, grid, empty)
    else:
        try:
            found = kit.detect(job, pair, grid, inside, pair_identity(job, kit.algorithm_version), timer.step)
        except TooFewPixelsError as few:  # next to nothing seen on both dates: not observable either
            found = nothing_found(kit, grid, few)
        except UniformPairError as flat:  # a date without texture: its area left out of the comparison, as snow is
            found = nothing_found(kit, grid, flat)
            why = str(flat) if pair.excluded is None else f"{pair.excluded_why} or {flat}"
            pair = replace(pair, excluded=pair.before.valid & pair.after.valid, excluded_why=why)
    scenes = {"before": job.before.summary(), "after": job.after.summary(), "selection": dict(job.pair_reason)}
    with timer.step("link claims"):
        context, features, claim_verdicts = judge_claims(job.aoi, job.claims, pair.before, pair.after, inside,
                                               kit.min_clear_fraction, found.features, outside_scenes_share(scenes),
                                               kit.sensor, pair.excluded, pair.excluded_why)
    not_compared = {"not_compared": {"fraction": context.excluded_fraction, "why": context.excluded_why}
                    } if context.excluded_fraction else {}
    if context.clear_fraction < kit.min_clear_fraction:  # too little seen on both: each date's share (which one fell short)
        not_compared["seen"] = {"before": round(context.before_clear_fraction or 0.0, 4),
                                "after": round(context.after_clear_fraction or 0.0, 4)}
    manifest = Manifest(
        workbench_version=__version__,
        algorithm_version=kit.algorithm_version,
        sensor=kit.sensor.value,
        aoi=job.aoi.summary(),
        claims=tuple(c.id for c in job.claims),
        scenes=scenes,
        grid=grid.to_dict(),
        parameters={**kit.parameters(), "margin_used_m": [round(m, 1) for m in margins]},
        sections={**pair.manifest, **found.manifest, **not_compared},
        statistic=found.description,
        cloud_masked={"before": pair.before.cloud_masked, "after": pair.after.cloud_masked},
        clear_fraction=round(context.clear_fraction, 4),
        n_changes=len(found.features),
        warnings=(*pair.warnings, *found.warnings, *coverage_warnings(context, kit.min_clear_fraction, _note_level(job))),
        timings_s=timer.timings,
        versions=package_versions(),
    )
    return JobResult(features, claim_verdicts, manifest, pair.before, pair.after, found.statistic, found.mask,
                     job.aoi)

