"""The rule that merges vessel-count evidence into a claim's change-polygon verdict (geo.vessels.merged_verdicts):
every branch, on hand-made verdicts, and both judgements always kept and shown."""

from __future__ import annotations

import copy
from datetime import date

import pytest
from shapely.geometry import box

from geo.claims import Claim, Stance, TimeWindow
from tests.synthetic import change_feature
from geo.vessels.merged_verdicts import merge_assertion, merge_denial, merge_vessel_evidence

CONSISTENT, NO_EVIDENCE, NOT_TESTED, NOT_OBSERVABLE = (
    "consistent with the claim", "no evidence found", "not tested", "not observable")
INCONSISTENT = "inconsistent with the denial"
WEAK = "weak evidence"


def claim(claim_id: str, signatures=("large_vessels_at_berth",), stance=Stance.ASSERT, denies=()) -> Claim:
    return Claim(claim_id, "test", "statement", "doc", date(2021, 6, 20), stance, ("port",),
                 TimeWindow(date(2021, 6, 10), date(2021, 6, 14)), tuple(signatures), denies=tuple(denies))


def entry(claim_id: str, verdict: str, confidence: float | None, evidence=()) -> dict:
    return {"claim_id": claim_id, "aoi_id": "port", "verdict": verdict, "confidence": confidence,
            "confidence_label": "x", "rationale": f"change says {verdict}", "evidence": list(evidence)}


def counts(claim_id: str, verdict: str, confidence: float | None, p_value: float | None = None) -> dict:
    return {"claim_id": claim_id, "aoi_id": "port", "verdict": verdict, "confidence": confidence,
            "p_value": p_value, "rationale": f"counts say {verdict}"}


FEATURES = [change_feature(box(0, 0, 1, 1), "vessel", "c-vessel"),
            change_feature(box(2, 2, 3, 3), "new_bright_surface", "c-bright")]


@pytest.mark.parametrize("change, count, signatures, evidence, expected", [
    # 1. a significant rise decides, whatever the pair says
    ((NOT_TESTED, None), (CONSISTENT, 0.999), None, (), (CONSISTENT, 0.999, "vessel counts")),
    ((CONSISTENT, 0.4), (CONSISTENT, 0.98), None, ("c-vessel",), (CONSISTENT, 0.98, "vessel counts and change polygons")),
    # 2. the pair is consistent and the counts could not be tested
    ((CONSISTENT, 0.5), (NOT_TESTED, None), None, ("c-vessel",), (CONSISTENT, 0.5, "change polygons")),
    ((CONSISTENT, 0.5), (NOT_OBSERVABLE, 0.7), None, ("c-vessel",), (CONSISTENT, 0.5, "change polygons")),
    # 2. ... or a matching change is of a kind another signature (vehicle parks) predicts
    ((CONSISTENT, 0.6), (NO_EVIDENCE, 0.8), ("large_vessels_at_berth", "vehicle_parks"), ("c-bright",),
     (CONSISTENT, 0.6, "change polygons")),
    # 3. the counts ran and found no rise: they decide for ships, even against vessel-typed changes
    ((CONSISTENT, 0.6), (NO_EVIDENCE, 0.78), None, ("c-vessel",), (NO_EVIDENCE, 0.78, "vessel counts")),
    ((CONSISTENT, 0.6), (NO_EVIDENCE, 0.78), ("large_vessels_at_berth", "vehicle_parks"), ("c-vessel",),
     (NO_EVIDENCE, 0.78, "vessel counts")),
    ((NOT_OBSERVABLE, 0.9), (NO_EVIDENCE, 0.75), None, (), (NO_EVIDENCE, 0.75, "vessel counts")),
    # 4. neither: the change verdict stands; when it too could not test the claim, nothing decided it
    ((NOT_TESTED, None), (NOT_TESTED, None), None, (), (NOT_TESTED, None, "none")),
    ((NOT_OBSERVABLE, 0.9), (NOT_TESTED, None), None, (), (NOT_OBSERVABLE, 0.9, "none")),
    ((NO_EVIDENCE, 0.7), (NOT_OBSERVABLE, 0.6), None, (), (NO_EVIDENCE, 0.7, "change polygons")),
])
def test_assertion_rule(change, count, signatures, evidence, expected):
    c = claim("ships", signatures or ("large_vessels_at_berth",))
    [merged] = merge_vessel_evidence([entry("ships", *change, evidence)], [counts("ships", *count)], [c], FEATURES)
    assert (merged["verdict"], merged["confidence"], merged["verdict_source"]) == expected
    # both judgements are kept, and the rationale gives the deciding one first, then the other
    assert merged["change_verdict"]["verdict"] == change[0] and merged["vessel_evidence"]["verdict"] == count[0]
    first, second = ("Vessel counts", "Change polygons") if expected[2].startswith("vessel") else (
        "Change polygons", "Vessel counts")
    assert merged["rationale"].startswith(f"{first} (") and f"{second} (" in merged["rationale"]
    assert f"counts say {count[0]}" in merged["rationale"] and f"change says {change[0]}" in merged["rationale"]
    if merged["verdict"] != CONSISTENT:
        assert merged["evidence"] == []  # no change is shown as evidence for a verdict without any


def test_claims_without_vessel_evidence_are_untouched():
    entries = [entry("roofs", CONSISTENT, 0.9, ("c-bright",))]
    merged = merge_vessel_evidence(entries, [counts("ships", CONSISTENT, 0.99)],
                                   [claim("roofs", ("new_construction",)), claim("ships")], FEATURES)
    assert merged == entries and merged[0] is not entries[0]


@pytest.mark.parametrize("ships_change, ships_counts, expected", [
    # the denied claim's change polygons made the denial "inconsistent"; the counts overrule them
    ((CONSISTENT, 0.6, ("c-vessel",)), (NO_EVIDENCE, 0.8), (NO_EVIDENCE, 0.2)),
    ((NOT_TESTED, None, ()), (CONSISTENT, 0.99), (INCONSISTENT, 0.99)),
    ((NOT_TESTED, None, ()), (NOT_TESTED, None), (NOT_TESTED, None)),
    # weak change evidence for the denied claim: it stands when the counts cannot test, and so does the
    # denial's "weak evidence"; counts that found no rise overrule it
    ((WEAK, 0.3, ("c-vessel",)), (NOT_TESTED, None), (WEAK, 0.3)),
    ((WEAK, 0.3, ("c-vessel",)), (NO_EVIDENCE, 0.8), (NO_EVIDENCE, 0.2)),
])
def test_denial_follows_the_merged_verdicts_of_what_it_denies(ships_change, ships_counts, expected):
    ships, denial = claim("ships"), claim("denial", stance=Stance.DENY, denies=("ships",))
    change_denial = {CONSISTENT: INCONSISTENT, WEAK: WEAK}.get(ships_change[0], NO_EVIDENCE)
    entries = [entry("ships", *ships_change), entry("denial", change_denial, 0.6, ships_change[2])]
    evidence = [counts("ships", *ships_counts), counts("denial", NO_EVIDENCE, 0.2)]
    merged = {e["claim_id"]: e for e in merge_vessel_evidence(entries, evidence, [ships, denial], FEATURES)}
    assert (merged["denial"]["verdict"], merged["denial"]["confidence"]) == expected
    assert merged["denial"]["change_verdict"]["verdict"] == change_denial
    if expected[0] == INCONSISTENT:
        assert "ships (by vessel counts)" in merged["denial"]["rationale"]
    elif expected[0] == WEAK:
        assert merged["denial"]["evidence"] == ["c-vessel"] and "only weak evidence" in merged["denial"]["rationale"]
    else:
        assert merged["denial"]["evidence"] == []


def test_merging_returns_new_entries_and_leaves_the_change_verdicts_alone():
    """The rule returns new claims.json entries (keys in the order claims.json writes them); the change job's
    entries and the vessel job's evidence are not written into."""
    ships = claim("ships")
    asserted, denied = entry("ships", CONSISTENT, 0.6, ("c-vessel",)), entry("denial", NO_EVIDENCE, 0.2)
    evidence = counts("ships", NO_EVIDENCE, 0.78)
    before = copy.deepcopy((asserted, denied, evidence))
    merged = merge_assertion(asserted, evidence, ships, ["vessel"])
    against = merge_denial(denied, [merged], None)
    assert (asserted, denied, evidence) == before
    assert list(merged) == [*asserted, "change_verdict", "vessel_evidence", "verdict_source"]
    assert (merged["verdict"], merged["evidence"], merged["change_verdict"]["verdict"]) == (NO_EVIDENCE, [], CONSISTENT)
    assert list(against) == [*denied, "change_verdict", "verdict_source"]
    assert against["verdict"] == NO_EVIDENCE and against["confidence"] == 0.2
