"""Which scenes are new for an AOI, asked only through the ``SceneSource`` protocol (no pixels read).

Pair policy (a chain): each AOI keeps a *head*, the newest usable after-scene of its chain. Every scene
acquired after the head becomes, in acquisition order, the after-scene of a pair whose before-scene is the
head; when the pair is usable it becomes the new head. A pair is tried once: a scene whose pair with the
head is recorded (an unusable one, skipped) is not offered again, and the chain goes around it. A new AOI
starts its chain at a *baseline*: the latest scene on or before ``--since`` or, without it, the start of the
earliest claim window naming the AOI (else the first scene after that date). Claim windows are judged over
the chain segment that covers them (``verdicts.py``).

A scene of the chain is a pass, as for ``geo run``: the tiles (Sentinel-2) or slices (Sentinel-1) of one pass
over the AOI are read as one scene (``geo.scenes.mosaic.passes``), recorded under its id ``A+B``. A store
written when the chain went tile by tile keeps working: a pass whose tiles are all recorded (seen, paired, or
the head) is that record, not a new scene (``geo.recheck.passes``). A tile its pass leaves out (another tile
already shows the AOI) is recorded as seen with the pass, so that ``geo.recheck.quick`` knows it too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from geo.claim_days import UTC, DayZone, claim_zone
from geo.claims import Claim
from geo.errors import DateError, MissingSceneError
from geo.recheck.passes import is_head, is_recorded, stored_ids
from geo.scenes.ids import MOSAIC_JOIN, sensed_together

if TYPE_CHECKING:  # geo.aoi imports shapely and pyproj: not for a re-check with nothing new (geo.recheck.quick)
    from geo.aoi import AOI
    from geo.scenes.model import Scene
    from geo.scenes.source import SceneSource
    from geo.recheck.vessels import VesselPlan  # the vessel job is imported only when a claim predicts vessels
    from geo.store import Chain, ReadFailure

log = logging.getLogger(__name__)


def scene_order(scene: Scene) -> tuple[datetime, str]:
    return (scene.datetime, scene.id)


@dataclass(frozen=True)
class AoiPlan:
    aoi: AOI
    claims: tuple[Claim, ...]
    head: Scene | None  # before-scene of the first new pair; None when the AOI has no scene yet
    pending: tuple[Scene, ...]  # new scenes after the head, oldest first (at most --max-pairs)
    seen: tuple[Scene, ...]  # scenes the search returned that the store has not recorded for this AOI
    baseline_reason: str | None = None  # set when the chain starts in this run
    left_out: tuple[Scene, ...] = ()  # tiles not recorded yet that their pass leaves out (recorded with it, as seen)
    recorded_head: str | None = None  # the chain's head as the store records it (in an old store: a tile of its pass)
    deferred: int = 0  # new scenes left for a later run by --max-pairs
    head_is_baseline: bool = False  # no pair of the chain done yet: its baseline may show too little to pair with
    vessels: VesselPlan | None = None  # when a claim on the AOI predicts vessels
    read_failures: Mapping[str, ReadFailure] = field(default_factory=dict)  # scenes whose reading failed before
    # claims whose window the stored chain covers with no verdict on it yet (added to the seeds since): judged
    # by this run from the store, without a new scene
    claims_to_judge: tuple[str, ...] = ()
    claims_edited: tuple[str, ...] = ()  # the claims judged before and edited since: judged anew, or their
    # verdicts withdrawn when the chain does not reach their window now

    @property
    def starts_chain(self) -> bool:
        return self.baseline_reason is not None and self.head is not None

    @property
    def has_work(self) -> bool:
        return bool(self.pending or self.seen or self.starts_chain or self.claims_to_judge or self.claims_edited
                    or (self.vessels and (self.vessels.pending or self.vessels.left_out)))


def _passes(scenes: Sequence[Scene], aoi: AOI, left_out: list[Scene] | None = None) -> list[Scene]:
    """``scenes`` as passes over ``aoi`` (``geo.scenes.mosaic.passes``), in time order; the tiles a pass leaves
    out are added to ``left_out``."""
    from geo.scenes import mosaic  # shapely: not for a re-check with nothing new

    return mosaic.passes(sorted(scenes, key=scene_order), aoi, left_out)


def baseline_date(aoi: AOI, claims: Sequence[Claim], since: date | None) -> tuple[date, DayZone]:
    """The day the chain's baseline is taken on or before: ``since`` (a UTC day), else the earliest window start
    of the AOI's claims, in that claim's days (``geo.claim_days``)."""
    if since is not None:
        return since, UTC
    starts = [(c.window.start, claim_zone(c, aoi)) for c in claims if aoi.id in c.aoi_ids]
    if not starts:
        raise DateError(f"AOI {aoi.id!r} has no claims naming it and no --since was given: "
                        "cannot choose the baseline scene of its re-checks (give --since DATE)")
    return min(starts, key=lambda start: start[1].start(start[0]))


def search_start(head: datetime, since: date | None) -> date:
    """The first day searched for scenes after a chain's head: the head's day, or ``since`` when later."""
    return since if since is not None and since > head.date() else head.date()


def choose_baseline(source: SceneSource, aoi: AOI, when: date, today: date, left_out: list[Scene] | None = None,
                    zone: DayZone = UTC) -> tuple[Scene | None, str, list[Scene]]:
    """The latest scene taken on or before the day ``when`` of ``zone`` (within the usual gap), else the first
    one after it (the tiles their passes leave out: added to ``left_out``)."""
    from geo.scenes.pairs import DEFAULT_MAX_GAP_DAYS  # pair selection imports the pixel readers

    found = source.search(aoi.geometry, *zone.utc_dates(when - timedelta(days=DEFAULT_MAX_GAP_DAYS), when))
    before = _passes([s for s in found if zone.day(s.datetime) <= when], aoi, left_out)
    if before:
        scene = max(before, key=scene_order)
        return scene, f"latest scene on or before {when}{zone.day_note()}", before
    after = _passes(source.search(aoi.geometry, when, today), aoi, left_out) if when <= today else []
    if after:
        scene = min(after, key=scene_order)
        return scene, (f"no scene on or before {when}{zone.day_note()} within {DEFAULT_MAX_GAP_DAYS} days: first "
                       "scene after it"), after
    # the search reaches back a gap before ``when`` for a baseline: named as such, not as the user's --since
    return None, (f"no scene over the AOI from {when - timedelta(days=DEFAULT_MAX_GAP_DAYS)} to {today} (the "
                  f"{DEFAULT_MAX_GAP_DAYS} days before {when} searched for a baseline too)"), []


def pairable_baseline(head: Scene, reason: str, candidates: Sequence[Scene], pool: Sequence[Scene],
                      pairable: Callable[[Scene, Scene], bool]) -> tuple[Scene, str]:
    """For a chain that pairs only some scenes (Sentinel-1: one orbit geometry), the baseline among ``head``
    and the other ``candidates``: the one with the most later scenes of ``pool`` to pair with (the densest
    series; a lone scene of another orbit would leave the chain without pairs), the nearest ``head`` in time
    among those."""
    def rank(candidate: Scene) -> tuple[int, float, str]:
        later = sum(1 for s in pool if scene_order(s) > scene_order(candidate) and pairable(candidate, s))
        return -later, abs((candidate.datetime - head.datetime).total_seconds()), candidate.id

    chosen = min([head, *candidates], key=rank)
    if chosen is head:
        return head, reason
    return chosen, f"{reason}: the nearest whose orbit geometry has the most later scenes to pair with"


def head_or_stand_in(source: SceneSource, head_id: str, new: list[Scene],
                     twins: Sequence[Scene] = ()) -> tuple[Scene, list[Scene]]:
    """The chain's head, looked up by id, and the new scenes to pair with it. When the source no longer holds
    the head (an archive re-processed the scene under a new id, or withdrew it) a scene sensed at the head's
    time (``twins``: the same observation) stands in for it, else the oldest new scene, with a warning, and
    the chain goes on from it: else no later scene could ever be paired."""
    from geo.scenes.pairs import named_scene  # a pass by its tiles

    try:
        return (named_scene(source, head_id, "chain head") if MOSAIC_JOIN in head_id else source.get(head_id)), new
    except MissingSceneError as exc:
        if twins:
            log.warning("chain head %s is gone (%s): %s, sensed at the same time, stands in as the before scene",
                        head_id, exc, twins[0].id)
            return twins[0], new
        log.warning("chain head %s is gone (%s): %s stands in as the before scene", head_id, exc, new[0].id)
        return new[0], new[1:]


def plan_aoi(source: SceneSource, aoi: AOI, claims: Sequence[Claim], chain: Chain | None, seen_ids: set[str],
             today: date, since: date | None = None, max_pairs: int | None = None,
             paired: Mapping[str, datetime | None] | None = None,
             pairable: Callable[[Scene, Scene], bool] | None = None) -> AoiPlan:
    """The new work for one AOI: searches the source, reads no pixels. ``paired``: the scenes of the chain's
    pairs (a skipped pair is never retried: the chain goes around that scene; nor is a scene paired before
    offered again when an archive edits its date to after the head); ``pairable``:
    whether a scene may pair with the head at all (Sentinel-1: same orbit geometry), else it is only seen."""
    baseline_reason = None
    searched: list[Scene] = []
    left_out: list[Scene] = []
    if chain is None:
        start, zone = baseline_date(aoi, claims, since)
        head, baseline_reason, searched = choose_baseline(source, aoi, start, today, left_out, zone)
        if head is None:
            log.info("%s: %s", aoi.id, baseline_reason)
            return AoiPlan(aoi, tuple(claims), None, (), (), baseline_reason)
        head_key = scene_order(head)
    else:
        head = None
        head_key = (chain.head.datetime, chain.head.id)
    search_from = search_start(head_key[0], since)
    scenes = _passes(source.search(aoi.geometry, search_from, today), aoi, left_out) if search_from <= today else []
    if head is None:
        head = next((s for s in scenes if is_head(s, head_key[1], head_key[0])), None)  # the chain's head, as searched
    by_id = {s.id: s for s in [*searched, *scenes]}
    if chain is None and pairable is not None and head is not None:
        head, baseline_reason = pairable_baseline(head, baseline_reason or "", searched, list(by_id.values()), pairable)
        head_key = scene_order(head)
        scenes = list(by_id.values())
    done = stored_ids(paired or {})
    times = [t for t in [*(paired or {}).values(), head_key[0]] if t is not None]
    # sensed when the head was (its pass, or it published again under an id that does not say its tile): the same
    # observation, never paired with it; the first to stand in for a head the source no longer holds
    twins = [s for s in scenes
             if not is_head(s, head_key[1], head_key[0]) and sensed_together(s.datetime, [head_key[0]])]
    # a product published again (reprocessed) is not a new scene: recorded under its old id, or sensed with a
    # scene read into the chain (a skipped scene's may be read: it may mend what was skipped)
    new = sorted((s for s in scenes if scene_order(s) > head_key and not is_head(s, head_key[1], head_key[0])
                  and not is_recorded(s, done, republished=True) and not sensed_together(s.datetime, times)),
                 key=scene_order)
    if new and head is None:
        head, new = head_or_stand_in(source, head_key[1], new, twins)
    if pairable is not None and head is not None:
        new = [s for s in new if pairable(head, s)]
    pending = new if max_pairs is None else new[:max_pairs]
    recorded = stored_ids(seen_ids)
    seen = tuple(sorted((s for s in by_id.values() if not is_recorded(s, recorded)), key=scene_order))
    kept = stored_ids(by_id)  # the passes and their tiles
    unrecorded = tuple(sorted({s.id: s for s in left_out if s.id not in recorded | kept}.values(), key=scene_order))
    log.info("%s: head %s, %d new scene(s)", aoi.id, head_key[1], len(new))
    return AoiPlan(aoi, tuple(claims), head, tuple(pending), seen, baseline_reason, left_out=unrecorded,
                   recorded_head=chain.head.id if chain else None, deferred=len(new) - len(pending),
                   head_is_baseline=chain is None or chain.head.id == chain.baseline.id)
