"""A verdict per claim and AOI, with a confidence and a plain-language rationale.

The imagery can be *consistent with* a claim, show only *weak evidence* for it, show *no evidence* for it,
be unable to see it at all (*not observable*: the signature is below what 10 m pixels show, or the AOI was
clouded), or, for a denial, be *inconsistent with the denial* because a claim it denies has evidence on the
same AOI. A pair of scenes that does not bracket the claim's window leaves the claim *not tested*. Nothing
is "proven".

The minimum evidence rule: changes of the predicted kinds support a claim (*consistent*) only when those
of them that are clearly significant (strength = share of pixels past the strong level x type confidence,
at least ``MIN_EVIDENCE_STRENGTH``) cover at least ``MIN_EVIDENCE_AREA_M2`` together. Matching changes that
fall short (one small polygon, or faint ones) give *weak evidence*, never the same verdict as a strong find.

Confidence is a number in 0..1 with a label (low / medium / high) and says how much the verdict itself
can be relied on, from the factors the rationale names:

* consistent: the strongest matching change (share of strongly significant pixels x type confidence),
  discounted when the claim window covers only part of the interval between the two scenes (a change
  seen between the scenes may have happened outside the window); for transient signatures seen in an after
  scene more than a half-life after the window, weak evidence at most; on optical scenes whose cloud was not
  judged (no SCL), at most ``UNJUDGED_CLOUD_CAP``: a cloud or its shadow is a change like any other;
* weak evidence: the same figure, capped below "medium" (``WEAK_EVIDENCE_CAP``): it never reads better
  than low;
* no evidence: the clear share of the AOI, discounted for transient signatures (ships, vehicles) when the
  after scene was taken long after the window closed; capped because changes smaller than the minimum
  polygon are not seen at all;
* not observable: certain for a signature below the sensor's reach; for cloud, how far below the needed
  clear share the AOI was.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from geo.claim_verdict import ClaimVerdict
from geo.claims import SIGNATURES, Claim, Stance
from geo.link import (
    CONSISTENT,
    INCONSISTENT_WITH_DENIAL,
    NO_EVIDENCE,
    NOT_OBSERVABLE,
    NOT_TESTED,
    WEAK_EVIDENCE,
    PairContext,
    expected_types,
)
from geo.vector.feature import ChangeFeature
from geo.words import counted

# Signatures whose evidence comes and goes within days (ships sail, vehicles move): absence of evidence
# in an after scene long after the window says little.
TRANSIENT_SIGNATURES = frozenset({"large_vessels_at_berth", "vehicle_parks"})
TRANSIENT_HALF_LIFE_DAYS = 7.0
NO_EVIDENCE_CAP = 0.8  # changes below the minimum polygon size are invisible to the method
LABELS = ((0.7, "high"), (0.4, "medium"), (0.0, "low"))
# The minimum evidence rule (module docstring).
MIN_EVIDENCE_STRENGTH = 0.25  # a quarter of a change's pixels past the strong level (x its type confidence)
MIN_EVIDENCE_AREA_M2 = 2_000.0  # 20 pixels of 10 m: 2.5 x the smallest polygon a job keeps (8 px)
WEAK_EVIDENCE_CAP = 0.39  # below the "medium" cut: weak evidence always reads "low"
UNJUDGED_CLOUD_CAP = 0.69  # below the "high" cut: changes on scenes whose cloud was not judged may be cloud


def confidence_label(confidence: float | None) -> str:
    """low / medium / high for a confidence in 0..1; n/a when there is none (claim not tested)."""
    if confidence is None:
        return "n/a"
    return next(label for cut, label in LABELS if confidence >= cut)


@dataclass(frozen=True)
class Verdict:
    verdict: str
    confidence: float | None  # None when the claim was not tested
    rationale: str
    evidence: tuple[str, ...] = ()  # change_ids of the matching changes, strongest first

    @property
    def confidence_label(self) -> str:
        return confidence_label(self.confidence)


def matching_changes(claim: Claim, features: Sequence[ChangeFeature]) -> list[ChangeFeature]:
    """Changes linked to ``claim`` whose type is one the claim's signatures predict, strongest first."""
    wanted = expected_types(claim)
    found = [f for f in features if claim.id in f.claim_ids and f.change_type in wanted]
    return sorted(found, key=lambda f: (-f.strength, -f.area_m2))


def passing_changes(matches: Sequence[ChangeFeature]) -> list[ChangeFeature]:
    """The matching changes strong enough to count towards the minimum evidence rule."""
    return [f for f in matches if f.strength >= MIN_EVIDENCE_STRENGTH]


def minimum_evidence(matches: Sequence[ChangeFeature]) -> dict[str, Any]:
    """The minimum evidence rule applied to a claim's matching changes: its thresholds, what passed, and
    whether the rule is met (claims.json ``minimum_evidence``)."""
    passing = passing_changes(matches)
    area = sum(f.area_m2 for f in passing)
    return {
        "min_strength": MIN_EVIDENCE_STRENGTH, "min_area_m2": MIN_EVIDENCE_AREA_M2,
        "n_passing": len(passing), "passing_area_m2": round(area, 1), "met": area >= MIN_EVIDENCE_AREA_M2,
    }


def window_share(claim: Claim, context: PairContext) -> float:
    """Share of the interval between the two scenes that the claim window covers (0..1), in the window's days."""
    before, after = context.days(claim)
    span = (after - before).days
    window = (claim.window.end - claim.window.start).days + 1
    return 1.0 if span <= 0 else round(min(1.0, window / span), 2)  # rounded: the same figure everywhere


def _persistence(claim: Claim, context: PairContext) -> float:
    """1 when a missing signature would still show in the after scene; less for transient ones seen late."""
    observable = [s for s in claim.signatures if SIGNATURES[s].observable]
    if any(s not in TRANSIENT_SIGNATURES for s in observable):
        return 1.0
    return math.exp(-math.log(2) * _late_days(claim, context) / TRANSIENT_HALF_LIFE_DAYS)


def _kinds(changes: Sequence[ChangeFeature]) -> str:
    return ", ".join(f"{n} {t.replace('_', ' ')}" for t, n in Counter(f.change_type for f in changes).most_common())


def _late_days(claim: Claim, context: PairContext) -> int:
    """Days from the window's last day to the after scene's (0 when it is inside the window)."""
    return max(0, (context.days(claim)[1] - claim.window.end).days)


def _evidence_verdict(matches: Sequence[ChangeFeature], share: float, span_days: int, context: PairContext,
                      claim: Claim) -> Verdict:
    """Consistent, or weak evidence, from the matching changes (strongest first) by the minimum evidence rule.
    What a short-lived signature predicts, seen in an after scene more than ``TRANSIENT_HALF_LIFE_DAYS`` after
    the window, is weak evidence at most: ships or vehicles there then may have come after the window closed."""
    best = matches[0].strength
    confidence = best * (0.5 + 0.5 * share)
    area = sum(f.area_m2 for f in matches)
    rule = minimum_evidence(matches)
    found = (
        f"{counted(len(matches), 'change')} of a kind the claim predicts ({_kinds(matches)}; {area:,.0f} m² in all) "
        f"appeared between {context.before_date} and {context.after_date}; the strongest scores {best:.0%} "
        "(share of its pixels far past the change threshold, times how sure its kind is)."
    )
    passing = (
        f" {rule['n_passing']} of them score{'s' if rule['n_passing'] == 1 else ''} at least {MIN_EVIDENCE_STRENGTH:.0%}, covering "
        f"{rule['passing_area_m2']:,.0f} m² (the minimum evidence is {MIN_EVIDENCE_AREA_M2:,.0f} m² of such changes)"
    )
    timing = "" if share >= 0.99 else (
        f" The claim window covers {100 * share:.0f}% of the {span_days} days"
        " between the scenes, so some of these changes may predate or follow it."
    )
    evidence = tuple(f.change_id for f in matches)
    if not context.cloud_judged and context.sensor.sees_cloud:
        # no SCL: a cloud (bright) or its shadow (dark) in one scene is a change like any other
        timing += (" The scenes' cloud was not judged (a scene without SCL): a cloud or its shadow shows as such a "
                   f"change, so these may be cloud, and the confidence is at most {UNJUDGED_CLOUD_CAP:.0%}.")
        confidence = min(confidence, UNJUDGED_CLOUD_CAP)
    if rule["met"] and _persistence(claim, context) < 0.5:
        return Verdict(WEAK_EVIDENCE, round(min(confidence, WEAK_EVIDENCE_CAP), 3), (
            found + passing + ". But what the claim predicts is short-lived and the after scene is "
            f"{_late_days(claim, context)} days "
            "after the window: these may have come after it closed, so they count only as weak evidence." + timing
        ), evidence)
    if rule["met"]:
        # the confidence the report shows beside the rationale, said where it is less than the strongest score
        lowered = "" if not timing else f" The confidence is therefore {round(confidence, 3):.0%}, not {best:.0%}."
        return Verdict(CONSISTENT, round(confidence, 3), found + passing + "." + timing + lowered, evidence)
    return Verdict(WEAK_EVIDENCE, round(min(confidence, WEAK_EVIDENCE_CAP), 3), (
        found + passing + ": too small or too faint to count as support for the claim." + timing
    ), evidence)


def assess_assertion(claim: Claim, features: Sequence[ChangeFeature], context: PairContext) -> Verdict:
    """The verdict on an asserting claim (or on what a denial denies) from one scene pair over one AOI."""
    if not claim.observable:
        reach = ", ".join(s.replace("_", " ") for s in claim.signatures)
        return Verdict(NOT_OBSERVABLE, 1.0, (
            f"What the claim predicts ({reach}) is smaller than what 10 m {context.sensor.mission} pixels can show, "
            "so the imagery can neither support nor contradict it."
        ))
    if not context.brackets(claim):
        zone = context.zone(claim)
        days = context.days(claim)
        local = "" if days == (context.before_date, context.after_date) else (
            f"; {days[0]} and {days[1]} in the window's days")
        return Verdict(NOT_TESTED, None, (
            f"The scenes ({context.before_date} and {context.after_date}{local}) do not lie on either side of the "
            f"claim window {zone.window_text(claim.window)}, so this pair cannot test it."
        ))
    if not context.clear:
        shortfall = 1.0 - context.clear_fraction / context.min_clear_fraction
        need = f"at least {context.min_clear_fraction:.0%} is needed"
        return Verdict(NOT_OBSERVABLE, round(0.5 + 0.5 * shortfall, 3), (
            f"Only {context.clear_fraction:.0%} of the area was "
            f"{'free of cloud and gaps' if context.sensor.sees_cloud else 'seen'} on both dates and compared; "
            f"{context.excluded_fraction:.0%} had {context.excluded_why}, and was not compared ({need}), so too "
            "little of the ground was seen." if context.excluded_fraction else
            f"Only {context.clear_fraction:.0%} of the area was free of cloud and gaps on both dates "
            f"({need}), so the ground was not seen." if context.sensor.sees_cloud else
            f"Only {context.clear_fraction:.0%} of the area was seen on both dates (no data or outside the "
            f"scenes elsewhere; {need}), so too little of the ground was seen."
        ))
    share = window_share(claim, context)
    matches = matching_changes(claim, features)
    if matches:
        before, after = context.days(claim)
        return _evidence_verdict(matches, share, (after - before).days, context, claim)
    persistence = _persistence(claim, context)
    confidence = min(NO_EVIDENCE_CAP, context.clear_fraction * persistence)
    wanted = ", ".join(sorted(t.replace("_", " ") for t in expected_types(claim)))
    late_days = _late_days(claim, context)
    late = "" if persistence >= 0.99 else (
        f" What it predicts is short-lived and the after scene is {late_days} days "
        "after the window, so it may have come and gone unseen."
    )
    return Verdict(NO_EVIDENCE, round(confidence, 3), (
        f"{context.clear_fraction:.0%} of the area was {context.seen_word} on both "
        "dates and no change of the predicted kinds "
        f"({wanted}) appeared between {context.before_date} and {context.after_date}.{late}"
    ))


def assess_denial(denial: Claim, denied: Mapping[str, Verdict], features: Sequence[ChangeFeature],
                  context: PairContext) -> Verdict:
    """A denial is contradicted on this AOI when a claim it denies is supported here; never confirmed."""
    supported = {d: denied[d] for d in denial.denies if d in denied and denied[d].verdict == CONSISTENT}
    if supported:
        strongest = max(v.confidence or 0.0 for v in supported.values())
        names = ", ".join(supported)
        evidence = tuple(dict.fromkeys(c for v in supported.values() for c in v.evidence))
        return Verdict(INCONSISTENT_WITH_DENIAL, round(strongest, 3), (
            f"The imagery here is consistent with the denied claim{'s' if len(supported) > 1 else ''} {names}: "
            f"{counted(len(evidence), 'change')} of the kinds {'they' if len(supported) > 1 else 'it'} predict"
            f"{'' if len(supported) > 1 else 's'} appeared in {'their' if len(supported) > 1 else 'its'} window."
        ), evidence)
    tested = [denied[d] for d in denial.denies if d in denied]
    if not tested:
        # None of the denied claims names this AOI: test what the denial itself says would be missing.
        own = assess_assertion(denial, features, context)
        if own.verdict == CONSISTENT:
            return Verdict(INCONSISTENT_WITH_DENIAL, own.confidence, own.rationale, own.evidence)
        if own.verdict == WEAK_EVIDENCE:
            return Verdict(WEAK_EVIDENCE, own.confidence, "Against the denial, only weak evidence: " + own.rationale,
                           own.evidence)
        tested = [own]
    weak = {d: denied[d] for d in denial.denies if d in denied and denied[d].verdict == WEAK_EVIDENCE}
    if weak:
        evidence = tuple(dict.fromkeys(c for v in weak.values() for c in v.evidence))
        return Verdict(WEAK_EVIDENCE, max(v.confidence or 0.0 for v in weak.values()), (
            f"Against the denial, only weak evidence: {counted(len(evidence), 'change')} of the kinds the denied "
            f"claim{'s' if len(weak) > 1 else ''} {', '.join(weak)} predict{'' if len(weak) > 1 else 's'} appeared "
            f"here, too small or too faint to count as support for {'them' if len(weak) > 1 else 'it'}."
        ), evidence)
    if all(v.verdict in (NOT_OBSERVABLE, NOT_TESTED) for v in tested):
        worst = tested[0]
        return Verdict(worst.verdict, worst.confidence, "The denied claims cannot be checked here: "
                       + worst.rationale[0].lower() + worst.rationale[1:])
    return Verdict(NO_EVIDENCE, 0.2, (
        "No change of the kinds the denied claims predict appeared here. That does not confirm the denial: "
        "absence in 10 m imagery cannot show that something did not happen."
    ))


def assess(claims: Sequence[Claim], features: Sequence[ChangeFeature], context: PairContext) -> dict[str, Verdict]:
    """A verdict for every claim naming the context's AOI (denials after what they deny)."""
    relevant = {c.id: c for c in claims if context.aoi.id in c.aoi_ids}
    out = {cid: assess_assertion(c, features, context) for cid, c in relevant.items() if c.stance is Stance.ASSERT}
    asserted = dict(out)
    for cid, claim in relevant.items():
        if claim.stance is Stance.DENY:
            out[cid] = assess_denial(claim, asserted, features, context)
    return out


def _signature_matches(claim: Claim, linked: Sequence[ChangeFeature]) -> dict[str, int]:
    """How many of the claim's linked changes each of its signatures predicts."""
    return {
        s: sum(1 for f in linked if f.change_type in SIGNATURES[s].change_types)
        for s in claim.signatures
    }


def outside_note(claim: Claim, verdict: Verdict, context: PairContext) -> str:
    """The part of the AOI outside the scenes, said in the rationale of a verdict on what was seen (not when
    the pair cannot test the claim at all): "consistent" or "no evidence found" rests on the rest only."""
    outside = round(100 * context.outside_fraction)
    if not outside or verdict.verdict == NOT_TESTED or not claim.observable:
        return ""
    return f" {outside}% of the area lies outside the scenes and was not seen at all: nothing is known of that part."


def excluded_note(claim: Claim, verdict: Verdict, context: PairContext) -> str:
    """The part of the AOI seen but not compared (snow on one date only), said in the rationale of a verdict
    on what was compared: what was there cannot be told from a season's change."""
    left_out = round(100 * context.excluded_fraction)
    if not left_out or verdict.verdict in (NOT_TESTED, NOT_OBSERVABLE) or not claim.observable:
        return ""
    return f" {left_out}% of the area had {context.excluded_why}, and was not compared: nothing is known of that part."


def verdicts(claims: Sequence[Claim], features: Sequence[ChangeFeature], context: PairContext) -> list[ClaimVerdict]:
    """One per claim naming the AOI, with the evidence behind its verdict (claims.json's entries)."""
    assessed = assess(claims, features, context)
    out = []
    for claim in claims:
        if claim.id not in assessed:
            continue
        verdict = assessed[claim.id]
        linked = [f for f in features if claim.id in f.claim_ids]
        evidence = set(verdict.evidence)
        matching = matching_changes(claim, features) if claim.stance is Stance.ASSERT else [
            f for f in features if f.change_id in evidence
        ]
        out.append(ClaimVerdict(
            claim_id=claim.id,
            aoi_id=context.aoi.id,
            aoi_name=context.aoi.name,
            stance=str(claim.stance),
            claim=claim.summary(),
            window=claim.window.to_dict(),
            window_time_zone=context.zone(claim).name,
            pair_brackets_window=context.brackets(claim),
            window_share_of_pair=window_share(claim, context),
            scenes=tuple(context.scenes_considered()),
            clear_fraction=round(context.clear_fraction, 4),
            signatures=tuple(claim.signatures),
            observable=claim.observable,
            expected_change_types=tuple(sorted(expected_types(claim))),
            n_changes=len(linked),
            area_m2=round(sum(f.area_m2 for f in linked), 1),
            change_types=dict(Counter(f.change_type for f in linked).most_common()),
            signature_matches=_signature_matches(claim, linked),
            n_matching=len(matching),
            matching_area_m2=round(sum(f.area_m2 for f in matching), 1),
            evidence=verdict.evidence,
            minimum_evidence=minimum_evidence(matching),
            verdict=verdict.verdict,
            confidence=verdict.confidence,
            confidence_label=verdict.confidence_label,
            rationale=verdict.rationale + outside_note(claim, verdict, context) + excluded_note(claim, verdict, context),
        ))
    return out
