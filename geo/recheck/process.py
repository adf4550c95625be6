"""Running the new pairs of each AOI: serially in this process, or one task per AOI on Dask.

A task reads pixels and computes, and writes nothing: its ``AoiOutcome`` flows back to the one process
that writes the store.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from geo.vector.feature import ChangeFeature

from geo.aoi import AOI
from geo.claim_verdict import ClaimVerdict
from geo.errors import EmptyReadError, GeoError, OverlapError, UnusableSceneError
from geo.results import NOT_COMPUTED, Manifest, cloud_unjudged_on, outside_scenes_share, recorded_nodata
from geo.grid import Grid
from geo.jobs.dask_cluster import dask_client
from geo.jobs.kit import ChangeJob, SensorKit
from geo.jobs.spine import run_job
from geo.jobs.steps import Progress
from geo.recheck.give_up import failed_scene, give_up_reason
from geo.recheck.plan import AoiPlan
from geo.recheck.skips import NOT_LATER, OFF_AOI, UNREADABLE, UNUSABLE, baseline_short, obscured_cause
from geo.scenes.model import Scene
from geo.scenes.remote import is_remote
from geo.store import SceneRef
from geo.words import counted

if TYPE_CHECKING:
    from geo.recheck.vessels import VesselOutcome

log = logging.getLogger(__name__)


@dataclass
class PairOutcome:
    before: SceneRef
    after: SceneRef
    status: str  # "done", or "skipped" (not usable: too cloudy, no valid pixels, not later than the head)
    reason: str
    clear_fraction: float | None = None
    features: list[ChangeFeature] = field(default_factory=list)
    verdicts: list[ClaimVerdict] = field(default_factory=list)
    manifest: Manifest | None = None
    obscured: bool = False  # skipped for want of clear pixels (cloud, or nothing valid over the AOI)
    skipped_for: str | None = None  # why, in a word or two (``geo.recheck.skips``): clouded, snowed...

    @property
    def nodata_fractions(self) -> tuple[float | None, float | None]:
        """Share of the AOI the before and after scene do not hold, as the pair's selection recorded it (None:
        not read: the pair was skipped before)."""
        scenes = self.manifest.scenes if self.manifest else {}
        return recorded_nodata(scenes, "before"), recorded_nodata(scenes, "after")

    @property
    def outside_fraction(self) -> float | None:
        """Share of the AOI outside the scenes (``geo.results.outside_scenes_share``); None when not recorded."""
        return outside_scenes_share(self.manifest.scenes) if self.manifest and None not in self.nodata_fractions \
            else None


@dataclass
class AoiOutcome:
    aoi_id: str
    pairs: list[PairOutcome] = field(default_factory=list)
    error: str | None = None  # the chain stopped here; the remaining scenes are retried next run
    unread: tuple[str, str] | None = None  # (scene, error): reading this scene failed, counted by the store
    rebased: tuple[SceneRef, str] | None = None  # the chain's new baseline and why: the old one showed too little
    vessels: VesselOutcome | None = None  # when the plan had scenes to count ships on


def ref(scene: Scene) -> SceneRef:
    return SceneRef(scene.id, scene.datetime)


def keep_head_window(aoi: AOI, head: Scene, kit: SensorKit) -> None:
    """Put the new head's window on the AOI grid into the scene cache now, while its tiles are fresh in
    GDAL's in-process cache: the head was read onto the grid moved by its co-registration (as an after
    scene), and the next re-check reads it unmoved (as the before scene, like ``geo.jobs.spine.run_job``),
    which would otherwise fetch it from the archive again. Local files are not cached: nothing to keep."""
    if not any(is_remote(a.href) for a in head.assets.values()):
        return
    try:
        kit.read(head, Grid.from_aoi(aoi, kit.resolution, kit.margin_m, kit.min_grid_m), "head")
    except GeoError as exc:  # the next re-check reads it then
        log.warning("AOI %s: head scene %s not cached for the next re-check: %s", aoi.id, head.id, exc)


def chain_reason(aoi: AOI, head: Scene, scene: Scene) -> dict[str, Any]:
    """Why the chain pairs ``head`` with ``scene`` (the manifest's ``scenes.selection``), with the share of the AOI
    outside each scene's footprint as ``nodata_fraction``, as ``geo run``'s selection records it: the verdicts
    and the store name that part of the AOI as not seen at all, not as cloud."""
    from geo.scenes.cloud import footprint_coverage

    def entry(chosen: Scene, why: str) -> dict[str, Any]:
        outside = min(1.0, max(0.0, 1.0 - footprint_coverage(chosen, aoi)))
        return {"id": chosen.id, "why": why, "nodata_fraction": round(outside, 4), "cover_method": "footprint"}

    return {"policy": "chain", "before": entry(head, f"chain head {head.id}"), "after": entry(scene, "next new scene")}


def process_plan(plan: AoiPlan, kit: SensorKit) -> AoiOutcome:
    """Walk the AOI's new scenes in order, moving the chain head on every usable pair; ``kit``: the chain's
    sensor kit, built once for the run (its algorithm version keys the chain)."""
    outcome = AoiOutcome(plan.aoi.id)
    head = plan.head
    unpaired = plan.head_is_baseline  # no pair done yet: a baseline showing too little is moved on, not kept for good
    for scene in plan.pending:
        assert head is not None  # a plan with pending scenes has a head
        if scene.datetime <= head.datetime:
            outcome.pairs.append(PairOutcome(ref(head), ref(scene), "skipped", "not acquired after the before scene",
                                             skipped_for=NOT_LATER))
            continue
        selection = chain_reason(plan.aoi, head, scene)
        try:
            result = run_job(ChangeJob(plan.aoi, plan.claims, head, scene, selection), kit)
        except (EmptyReadError, OverlapError) as exc:
            outside = max(selection["before"]["nodata_fraction"], selection["after"]["nodata_fraction"])
            cause = OFF_AOI if isinstance(exc, OverlapError) else obscured_cause(
                0.0, outside, 0.0, kit.sensor.sees_cloud, "cloud" in str(exc))
            outcome.pairs.append(PairOutcome(ref(head), ref(scene), "skipped", str(exc),
                                             obscured=isinstance(exc, EmptyReadError), skipped_for=cause))
            continue
        except UnusableSceneError as exc:
            if exc.scene_id != scene.id:  # the head's item: no later scene could pair with it either
                outcome.error = f"{scene.id}: {exc}"
                break
            log.warning("AOI %s: scene skipped: %s", plan.aoi.id, exc)  # its item will not mend: go around it
            outcome.pairs.append(PairOutcome(ref(head), ref(scene), "skipped", str(exc), skipped_for=UNUSABLE))
            continue
        except GeoError as exc:  # unreadable scene, archive down: stop here, retry from here next run
            if failed_scene(exc, head, scene):
                if (why := give_up_reason(plan.read_failures.get(scene.id), datetime.now(timezone.utc),
                                          str(exc))) is not None:  # it failed for days: go around it
                    log.warning("AOI %s: scene skipped: %s", plan.aoi.id, why)
                    outcome.pairs.append(PairOutcome(ref(head), ref(scene), "skipped", why, skipped_for=UNREADABLE))
                    continue
                outcome.unread = (scene.id, str(exc))
            outcome.error = f"{scene.id}: {exc}"
            break
        except Exception as exc:  # a bug: stop this AOI, keep the others, report it
            log.exception("internal error on AOI %s, scene %s", plan.aoi.id, scene.id)
            outcome.error = f"{scene.id}: internal error: {type(exc).__name__}: {exc}"
            break
        clear = result.manifest.clear_fraction
        if clear < kit.min_clear_fraction:  # (a pair not compared names the date that showed nothing: geo.jobs.unseen)
            left_out = result.manifest.sections.get("not_compared") or {}
            need = f"need {kit.min_clear_fraction:.0%}"
            if left_out:  # (snow on one date: said before any "too few pixels" it left)
                why = (f"only {clear:.0%} of the AOI {kit.sensor.clear_word} on both dates and compared ({need}; "
                       f"{left_out['fraction']:.0%} had {left_out['why']})")
            else:
                why = (result.manifest.statistic.get("reason") if result.manifest.statistic.get("name") == NOT_COMPUTED
                       else None) or f"only {clear:.0%} of the AOI {kit.sensor.clear_word} on both dates ({need})"
            skipped = PairOutcome(ref(head), ref(scene), "skipped", why, clear, manifest=result.manifest, obscured=True)
            snow = left_out["fraction"] if "snow" in left_out.get("why", "") else 0.0
            judged = cloud_unjudged_on(result.manifest.cloud_masked) is None
            skipped.skipped_for = obscured_cause(clear, skipped.outside_fraction, snow, kit.sensor.sees_cloud, judged)
            outcome.pairs.append(skipped)
            if unpaired and (short := baseline_short(result.manifest.sections, kit.min_clear_fraction)) is not None:
                outcome.rebased = (ref(scene), f"baseline {head.id} {short}: moved on to {scene.id}")
                head = scene
            continue
        outcome.pairs.append(PairOutcome(ref(head), ref(scene), "done", "", clear, result.features, result.claims,
                                         result.manifest))
        head, unpaired = scene, False
        if scene is plan.pending[-1]:
            keep_head_window(plan.aoi, head, kit)
    if plan.vessels is not None and plan.vessels.pending:
        from geo.recheck.vessels import count_vessels

        outcome.vessels = count_vessels(plan.aoi, plan.vessels)
    return outcome


def _transportable(plan: AoiPlan) -> AoiPlan:
    """Scenes hold read-only mapping proxies, which do not pickle: send plain dicts to the workers."""
    def plain(scene: Scene) -> Scene:
        proxies: dict[str, Any] = {f.name: dict(value) for f in fields(scene)
                                   if isinstance(value := getattr(scene, f.name), MappingProxyType)}
        return replace(scene, **proxies, parts=tuple(plain(part) for part in scene.parts))  # a pass's tiles too

    vessels = plan.vessels and replace(plan.vessels, pending=tuple(plain(s) for s in plan.vessels.pending))
    head = None if plan.head is None else plain(plan.head)
    return replace(plan, head=head, pending=tuple(plain(s) for s in plan.pending), seen=(), vessels=vessels)


def run_plans(plans: Sequence[AoiPlan], kit: SensorKit, workers: int = 1,
              scheduler: str | None = None, progress: Progress | None = None) -> list[AoiOutcome]:
    """Outcomes in the order of ``plans``, whatever order the tasks finished in."""
    plans = [p for p in plans if p.pending or (p.vessels is not None and p.vessels.pending)]
    if not plans:
        return []
    if scheduler is None and workers <= 1:
        outcomes = []
        for index, plan in enumerate(plans, 1):
            if progress:
                counting = f", {len(plan.vessels.pending)} to count vessels on" if plan.vessels else ""
                progress(f"AOI {plan.aoi.id} ({index}/{len(plans)}): {counted(len(plan.pending), 'new scene')}{counting}")
            try:
                outcomes.append(process_plan(plan, kit))
            except Exception as exc:  # a bug outside a pair (vessel counts): this AOI is retried, the others go on
                log.info("AOI %s failed: %s: %s", plan.aoi.id, type(exc).__name__, exc)  # said in the failed AOIs
                log.debug("AOI %s: traceback", plan.aoi.id, exc_info=exc)
                outcomes.append(AoiOutcome(plan.aoi.id, error=f"internal error: {type(exc).__name__}: {exc}"))
        return outcomes
    from distributed import as_completed

    with dask_client(workers, scheduler) as client:
        token = uuid.uuid4().hex[:8]
        futures = {client.submit(process_plan, _transportable(p), kit, key=f"recheck-{p.aoi.id}-{token}",
                                 pure=False): p.aoi.id for p in plans}
        results: dict[str, AoiOutcome] = {}
        for done, future in enumerate(as_completed(futures), 1):
            aoi_id = futures[future]
            try:
                results[aoi_id] = future.result()
            except Exception as exc:  # the worker died or the cluster failed: this AOI is retried next run
                log.info("AOI %s failed on the cluster: %s", aoi_id, exc)  # said in the run's failed AOIs
                results[aoi_id] = AoiOutcome(aoi_id, error=f"cluster task failed: {type(exc).__name__}: {exc}")
            if progress:
                progress(f"{done}/{len(futures)} AOIs done on the cluster")
    return [results[p.aoi.id] for p in plans]
