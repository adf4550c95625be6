"""Claim verdicts over an AOI's chain of pairs.

A single chain pair (consecutive usable scenes) rarely brackets a claim's window, so each pair's own verdict
is mostly "not tested". The *window verdict* judges a claim on the chain segment that covers its window:
from the last chain scene on or before the window start to the first one on or after its end (or the
newest scene, while the window is not yet covered). The changes of the segment's pairs together are the
change over the segment; ``geo.verdicts`` then gives the verdict exactly as for one pair spanning it, with
the clear fraction of the segment's worst pair and the largest share of the AOI outside its pairs' scenes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

from geo.vector.feature import ChangeFeature

from geo.aoi import AOI
from geo.claim_days import claim_zone
from geo.claim_verdict import ClaimVerdict
from geo.claims import Claim
from geo.recheck.claim_edits import judged_differently
from geo.link import PairContext, link_features
from geo.scenes.model import Sensor
from geo.store import PairRow, SceneRef, Store
from geo.verdicts import verdicts



@dataclass(frozen=True)
class WindowVerdict:
    verdict: ClaimVerdict  # extra: the segment's end scenes and pair count
    before: SceneRef
    after: SceneRef
    covers_window: bool
    # the segment's changes (change id -> claim ids) as the segment links them: a pair inside the window links
    # none on its own, yet the verdict counts them, so the store links them too (``Store.link_changes``)
    links: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def segment(chain: Sequence[PairRow], claim: Claim, aoi: AOI) -> tuple[int, int] | None:
    """Indices [i, j) of the chain pairs covering ``claim``'s window (as far as the chain reaches), the scenes
    dated by the window's days over ``aoi`` (``geo.claim_days``)."""
    if not chain:
        return None
    zone = claim_zone(claim, aoi)
    days = [zone.day(p.datetime) for p in [chain[0].before] + [p.after for p in chain]]
    starts = [k for k, day in enumerate(days) if day <= claim.window.start]
    first = starts[-1] if starts else 0
    ends = [k for k in range(first + 1, len(days)) if days[k] >= claim.window.end]
    last = ends[0] if ends else len(days) - 1
    return (first, last) if last > first else None


def segment_outside(pairs: Sequence[PairRow]) -> float | None:
    """Share of the AOI outside the scenes of a segment: the largest of its pairs' (what one pair did not see is
    missing from the changes of the segment, as its worst clear share is); None when a pair did not record it
    (stored before the store did), so that no share is said, rather than none outside."""
    shares = [p.outside_fraction for p in pairs]
    return None if any(s is None for s in shares) else max(s for s in shares if s is not None)


def to_judge(aoi: AOI, claims: Sequence[Claim], chain: Sequence[PairRow], judged: Collection[tuple[str, str, str]],
             again: Collection[str] = ()) -> dict[str, tuple[int, int]]:
    """The claims naming ``aoi`` whose segment has no verdict yet among ``judged`` (claim id, before scene,
    after scene), with their segment: a claim whose window a new pair touches (its segment grew) or that
    was never judged. The chain only grows at its head, so a segment with the same ends holds the same pairs
    and its verdict could not differ, but for the claims ``again`` (edited since they were judged)."""
    out = {}
    for claim in claims:
        if aoi.id in claim.aoi_ids and (span := segment(chain, claim, aoi)):
            ends = (chain[span[0]].before.id, chain[span[1] - 1].after.id)
            if claim.id in again or (claim.id, *ends) not in judged:
                out[claim.id] = span
    return out


def unjudged(store: Store, aoi: AOI, claims: Sequence[Claim], version: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The claims naming ``aoi`` to judge on the store's chain (``version``'s) though it has no new pair:
    those it reaches and has no verdict on (added to the seeds since), and those edited since they were
    judged (``geo.recheck.claim_edits.judged_differently``) with the denials of those; then the edited ones (and denials) alone."""
    judged = store.verdict_keys("window", aoi.id, version)
    stored = store.claim_summaries()
    was_judged = {key[0] for key in judged}
    mine = [c for c in claims if aoi.id in c.aoi_ids and c.id in was_judged]
    changed = {c.id for c in mine if judged_differently(c, stored)}
    # a denial's verdict is read against the claim it denies: that claim edited, the denial is judged again too
    edited = tuple(sorted(changed | {c.id for c in mine if changed & set(c.denies)}))
    return tuple(sorted(to_judge(aoi, claims, store.pairs(aoi.id, version), judged, edited))), edited


def window_verdicts(aoi: AOI, claims: Sequence[Claim], chain: Sequence[PairRow],
                    changes_by_after: Mapping[str, Sequence[ChangeFeature]], min_clear_fraction: float,
                    spans: Mapping[str, tuple[int, int]] | None = None,
                    sensor: Sensor = Sensor.S2) -> list[WindowVerdict]:
    """One verdict per claim naming ``aoi`` whose window the chain has reached; with ``spans`` (claim id ->
    segment, from ``to_judge``) only those claims; ``sensor``: the chain's. ``claims`` are all of them: a denial is judged with the
    claims it denies."""
    by_id = {c.id: c for c in claims}
    out = []
    for claim in claims:
        if aoi.id not in claim.aoi_ids:
            continue
        span = segment(chain, claim, aoi) if spans is None else spans.get(claim.id)
        if span is None:
            continue
        pairs = chain[span[0]:span[1]]
        before, after = pairs[0].before, pairs[-1].after
        features = [f for p in pairs for f in changes_by_after.get(p.after.id, ())]
        clear = min(p.clear_fraction if p.clear_fraction is not None else 0.0 for p in pairs)
        outside = segment_outside(pairs)
        context = PairContext(aoi, before.datetime, after.datetime, clear, min_clear_fraction,
                              outside_fraction=min(outside or 0.0, 1.0 - clear), sensor=sensor,
                              cloud_judged=all(p.cloud_judged is not False for p in pairs))  # unrecorded: judged
        judged = [claim] + [by_id[d] for d in claim.denies if d in by_id]
        features = link_features(features, judged, context)
        judgement = next(v for v in verdicts(judged, features, context) if v.claim_id == claim.id)
        verdict = replace(judgement, extra={"before_scene": before.id, "after_scene": after.id, "n_pairs": len(pairs),
                                            "outside_fraction": outside})
        links = {f.change_id: f.claim_ids for f in features if f.claim_ids}
        out.append(WindowVerdict(verdict, before, after, context.brackets(claim), links))
    return out
