"""One verdict per claim from two lines of evidence: the change polygons of a scene pair and the vessel counts.

A claim whose signatures include ``large_vessels_at_berth`` is judged twice: by the change job (polygons
between two Sentinel-2 scenes, typed; ``geo.verdicts``) and by the vessel job (large vessels counted on every
Sentinel-1/-2 date, window against the AOI's own baseline; ``geo.vessels.evidence``). Ships come and go
within days, so a pair of scenes weeks apart says little about them, while the count series is made for
them. The rule, for an asserting claim, first match wins:

1. the counts show a significant rise in the window -> *consistent with the claim* (source: vessel counts);
2. the change polygons are consistent, and either the count test could not run (no scene in the window,
   too short a baseline, window clouded) or a matching change is of a kind another of the claim's
   signatures predicts (vehicle parks, tent camps ...) -> *consistent with the claim* (change polygons);
3. the count test ran and found no rise -> *no evidence found* (vessel counts) — it decides for the vessel
   signature, even when a pair shows vessel-typed changes;
4. otherwise the change verdict stands (change polygons; it may be *weak evidence*), the count test's
   reason given beside it.

A denial is then judged on the merged verdicts of the claims it denies, as ``geo.verdicts`` judges it on
change polygons alone: *inconsistent with the denial* when one of them is consistent here, *weak evidence*
when one has only weak evidence, never confirmed.

Nothing is hidden: the entry keeps both judgements (``change_verdict``, ``vessel_evidence``), says which
decided (``verdict_source``: ``"none"`` when neither could test the claim), and its ``rationale`` gives the deciding reason first, then the other.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from geo.claim_verdict import DECIDED_BY_NEITHER
from geo.claims import SIGNATURES, VESSEL_SIGNATURE, Claim, Stance
from geo.link import (
    CONSISTENT,
    INCONSISTENT_WITH_DENIAL,
    NO_EVIDENCE,
    NOT_OBSERVABLE,
    NOT_TESTED,
    WEAK_EVIDENCE,
)
from geo.vector.feature import ChangeFeature
from geo.verdicts import confidence_label

COUNTS = "vessel counts"
CHANGES = "change polygons"
DENIAL_NO_EVIDENCE_CONFIDENCE = 0.2  # as geo.verdicts: absence in imagery cannot confirm a denial
JUDGEMENT = ("verdict", "confidence", "confidence_label", "rationale")


def _judgement(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {key: entry.get(key) for key in JUDGEMENT}


def _sentence(text: str) -> str:
    text = str(text).strip()
    return text if text.endswith(".") else text + "."


def _source(verdict: str, source: str) -> str:
    """``source``, or none for a verdict that says the claim could not be tested: nothing decided it."""
    return DECIDED_BY_NEITHER if verdict in (NOT_TESTED, NOT_OBSERVABLE) else source


def _judged(verdict: str, confidence: float | None, source: str, lead: str, others: Sequence[str]) -> dict[str, Any]:
    """The keys of a claims.json entry a merged judgement sets: the deciding reason first, then the others."""
    out: dict[str, Any] = {"verdict": verdict, "confidence": confidence,
                           "confidence_label": confidence_label(confidence),
                           "verdict_source": _source(verdict, source),
                           "rationale": " ".join([_sentence(lead), *(_sentence(o) for o in others)])}
    if verdict not in (CONSISTENT, INCONSISTENT_WITH_DENIAL, WEAK_EVIDENCE):
        out["evidence"] = []
    return out


def other_signature_types(claim: Claim) -> set[str]:
    """Change types predicted by a signature of ``claim`` other than vessels."""
    return {t for s in claim.signatures if s != VESSEL_SIGNATURE and SIGNATURES[s].observable
            for t in SIGNATURES[s].change_types}


def merge_assertion(entry: Mapping[str, Any], vessel: Mapping[str, Any], claim: Claim,
                    evidence_types: Sequence[str]) -> dict[str, Any]:
    """One asserting claim's claims.json ``entry`` judged by the rule (module docstring), a new entry.
    ``evidence_types``: the change types of the entry's matching changes."""
    change = _judgement(entry)
    base = {**entry, "change_verdict": change, "vessel_evidence": dict(vessel)}
    counts_text = f"Vessel counts ({vessel['verdict']}): {vessel['rationale']}"
    change_text = f"Change polygons ({change['verdict']}): {change['rationale']}"
    counts_ran = vessel["verdict"] in (CONSISTENT, NO_EVIDENCE)
    if vessel["verdict"] == CONSISTENT:
        both = change["verdict"] == CONSISTENT
        confidence = max(vessel["confidence"], change["confidence"] or 0.0) if both else vessel["confidence"]
        source = f"{COUNTS} and {CHANGES}" if both else COUNTS
        return {**base, **_judged(CONSISTENT, confidence, source, counts_text, [change_text])}
    if change["verdict"] == CONSISTENT and (not counts_ran or other_signature_types(claim) & set(evidence_types)):
        return {**base, **_judged(CONSISTENT, change["confidence"], CHANGES, change_text, [counts_text])}
    if counts_ran:
        note = [] if change["verdict"] != CONSISTENT else [
            "The changes of the predicted kinds between the scenes are vessel-typed only; the counts over every "
            "date decide for ships."]
        return {**base, **_judged(NO_EVIDENCE, vessel["confidence"], COUNTS, counts_text, [*note, change_text])}
    return {**base, **_judged(change["verdict"], change["confidence"], CHANGES, change_text, [counts_text])}


def merge_denial(entry: Mapping[str, Any], denied: Sequence[Mapping[str, Any]],
                 vessel: Mapping[str, Any] | None) -> dict[str, Any]:
    """A denial's claims.json ``entry`` judged on the merged verdicts of the claims it denies (``denied``: their
    entries), a new entry."""
    base = {**entry, "change_verdict": _judgement(entry), **({} if vessel is None else {"vessel_evidence": dict(vessel)})}
    supported = [e for e in denied if e["verdict"] == CONSISTENT]
    if supported:
        names = ", ".join(f"{e['claim_id']} (by {e.get('verdict_source', CHANGES)})" for e in supported)
        evidence = list(dict.fromkeys(c for e in supported for c in e.get("evidence", [])))
        sources = " and ".join(dict.fromkeys(e.get("verdict_source", CHANGES) for e in supported))
        return {**base, "evidence": evidence, **_judged(
            INCONSISTENT_WITH_DENIAL, max(e["confidence"] or 0.0 for e in supported), sources,
            f"The imagery here is consistent with the denied claim{'s' if len(supported) > 1 else ''} {names}", [])}
    if weak := [e for e in denied if e["verdict"] == WEAK_EVIDENCE]:
        evidence = list(dict.fromkeys(c for e in weak for c in e.get("evidence", [])))
        return {**base, "evidence": evidence, **_judged(
            WEAK_EVIDENCE, max(e["confidence"] or 0.0 for e in weak),
            " and ".join(dict.fromkeys(e.get("verdict_source", CHANGES) for e in weak)),
            f"Against the denial, only weak evidence: the denied claim{'s' if len(weak) > 1 else ''} "
            f"{', '.join(e['claim_id'] for e in weak)} {'have' if len(weak) > 1 else 'has'} changes of their kinds here, too small or too faint "
            "to count as support", [])}
    if all(e["verdict"] in (NOT_OBSERVABLE, NOT_TESTED) for e in denied):
        worst = denied[0]
        return {**base, **_judged(worst["verdict"], worst["confidence"], worst.get("verdict_source", CHANGES),
                                  f"The denied claims cannot be checked here: {worst['claim_id']}: "
                                  f"{worst['rationale']}", [])}
    return {**base, **_judged(
        NO_EVIDENCE, DENIAL_NO_EVIDENCE_CONFIDENCE, f"{COUNTS} and {CHANGES}",
        "Neither the vessel counts nor the change polygons support the denied claims here. That does not "
        "confirm the denial: absence in 10 m imagery cannot show that something did not happen", [])}


def merge_vessel_evidence(entries: Sequence[Mapping[str, Any]], evidence: Sequence[Mapping[str, Any]],
                          claims: Sequence[Claim], features: Sequence[ChangeFeature]) -> list[dict[str, Any]]:
    """claims.json entries of one AOI with the vessel job's ``evidence`` merged in (module docstring), new
    entries (``entries`` are left as they are); those of claims without vessel evidence are copies.
    ``features``: the run's change polygons."""
    out = [copy.deepcopy(dict(e)) for e in entries]
    by_id = {c.id: c for c in claims}
    vessel = {e["claim_id"]: e for e in evidence}
    if not vessel:
        return out
    types = {f.change_id: f.change_type for f in features}
    assertions = {}
    for index, entry in enumerate(out):
        claim = by_id.get(entry["claim_id"])
        if claim is None or claim.stance is not Stance.ASSERT:
            continue
        if claim.id in vessel:
            out[index] = merge_assertion(entry, vessel[claim.id], claim,
                                         [types.get(c, "") for c in entry.get("evidence", [])])
        assertions[claim.id] = out[index]
    for index, entry in enumerate(out):
        claim = by_id.get(entry["claim_id"])
        if claim is None or claim.stance is not Stance.DENY:
            continue
        denied = [assertions[d] for d in claim.denies if d in assertions]
        if denied and (claim.id in vessel or any(d["claim_id"] in vessel for d in denied)):
            out[index] = merge_denial(entry, denied, vessel.get(claim.id))
        elif claim.id in vessel:  # none of the claims it denies is judged here: the change verdict stands
            out[index] = {**entry, "change_verdict": _judgement(entry), "vessel_evidence": dict(vessel[claim.id]),
                          "verdict_source": _source(entry["verdict"], CHANGES)}
    return out
