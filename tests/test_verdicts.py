"""Verdict logic on synthetic cases with known truth: which verdict, how confident, and why."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timezone

import pytest
from shapely.geometry import box

from geo.aoi import AOI
from geo.claims import Claim, Stance, TimeWindow
from geo.link import (
    CONSISTENT,
    INCONSISTENT_WITH_DENIAL,
    NO_EVIDENCE,
    NOT_OBSERVABLE,
    NOT_TESTED,
    WEAK_EVIDENCE,
    PairContext,
    claim_index,
    link_features,
)
from tests.synthetic import change_feature
from geo.claim_verdict import ClaimVerdict
from geo.scenes.model import Sensor
from geo.verdicts import MIN_EVIDENCE_AREA_M2, MIN_EVIDENCE_STRENGTH, assess, verdicts

SITE = AOI("site", "Test site", "XX", "port", box(10.0, 50.0, 10.05, 50.03), "synthetic")
ELSEWHERE = AOI("elsewhere", "Other site", "XX", "base", box(20.0, 50.0, 20.05, 50.03), "synthetic")
BEFORE, AFTER = date(2024, 10, 1), date(2024, 10, 20)


def claim(cid, signatures=("new_construction",), stance=Stance.ASSERT, denies=(), aois=("site",),
          window=(date(2024, 10, 8), date(2024, 10, 13))):
    return Claim(cid, "someone", f"statement of {cid}", "doc", date(2024, 10, 18), stance, tuple(aois),
                 TimeWindow(*window), tuple(signatures), denies=tuple(denies))


def change(change_type, area=5_000.0, confidence=0.95, type_confidence=0.9, where=SITE, cid=None):
    geometry = where.geometry.centroid.buffer(0.002)
    return change_feature(geometry, change_type, cid or f"c-{change_type}-{area:.0f}", area_m2=area,
                          confidence=confidence, type_confidence=type_confidence)


def noon(day):
    """A scene of ``day`` at 12:00 UTC: the same day in any place's local days."""
    return datetime.combine(day, time(12), tzinfo=timezone.utc)


def context(clear=1.0, before=BEFORE, after=AFTER, aoi=SITE):
    return PairContext(aoi, noon(before), noon(after), clear, 0.5, {"id": "S2_BEFORE"}, {"id": "S2_AFTER"}, clear,
                       clear)


def judge(claims, features, ctx=None):
    ctx = ctx or context()
    linked = link_features(features, claims, ctx)
    return assess(claims, linked, ctx), ctx


def test_change_of_expected_type_is_consistent():
    c = claim("build")
    result, _ = judge([c], [change("new_bright_surface"), change("darkening", cid="dark")])
    v = result["build"]
    assert v.verdict == CONSISTENT
    assert v.evidence == ("c-new_bright_surface-5000",)  # the darkening is not evidence
    # strength 0.95 * 0.9, window 6 days of a 19-day pair: 0.855 * (0.5 + 0.5 * 6/19)
    assert v.confidence == pytest.approx(0.855 * (0.5 + 0.5 * 0.32), abs=1e-3)  # 6/19 rounded to 0.32
    assert v.confidence_label == "medium"
    # a sentence an analyst reads: "1 change", not "1 change(s)"; the confidence shown beside it explained
    assert v.rationale.startswith("1 change of a kind the claim predicts (1 new bright surface;"), v.rationale
    assert "the strongest scores 86%" in v.rationale and "1 of them scores at least 25%" in v.rationale
    assert v.rationale.endswith("may predate or follow it. The confidence is therefore 56%, not 86%."), v.rationale
    assert "proven" not in v.rationale.lower()


def test_stronger_evidence_and_tighter_pair_raise_confidence():
    c = claim("build")
    weak, _ = judge([c], [change("new_bright_surface", confidence=0.4)])
    strong, _ = judge([c], [change("new_bright_surface", confidence=1.0, type_confidence=1.0)],
                      context(before=date(2024, 10, 7), after=date(2024, 10, 14)))
    assert weak["build"].confidence < strong["build"].confidence
    assert strong["build"].confidence == pytest.approx(1.0 * (0.5 + 0.5 * 0.86), abs=1e-3)
    assert strong["build"].confidence_label == "high"


def test_clear_scenes_without_change_is_no_evidence():
    c = claim("build")
    result, _ = judge([c], [])
    v = result["build"]
    assert v.verdict == NO_EVIDENCE
    assert v.confidence == pytest.approx(0.8)  # capped: changes below the minimum polygon are unseen
    assert "100% of the area was clear" in v.rationale


def test_scenes_whose_cloud_was_not_judged_are_seen_not_called_clear():
    # L1C scenes (the demo's) or L2A items without SCL: only nodata was masked, so "clear" would overstate the look
    from dataclasses import replace

    result, _ = judge([claim("build")], [], replace(context(), cloud_judged=False))
    assert result["build"].verdict == NO_EVIDENCE
    assert result["build"].rationale.startswith(
        "100% of the area was seen (its cloud not judged: a scene without SCL) on both dates"), result["build"].rationale
    radar, _ = judge([claim("build")], [], replace(context(), cloud_judged=False, sensor=Sensor.S1))
    assert radar["build"].rationale.startswith("100% of the area was seen on both dates"), radar["build"].rationale


def test_changes_of_other_types_are_no_evidence():
    result, _ = judge([claim("build")], [change("vegetation_gain"), change("darkening", cid="d")])
    assert result["build"].verdict == NO_EVIDENCE
    assert result["build"].evidence == ()


def test_transient_signature_seen_late_lowers_no_evidence_confidence():
    ships = claim("ships", signatures=("large_vessels_at_berth",))
    soon, _ = judge([ships], [], context(after=date(2024, 10, 14)))
    late, _ = judge([ships], [], context(after=date(2024, 11, 10)))
    assert soon["ships"].verdict == late["ships"].verdict == NO_EVIDENCE
    # after scene 1 day vs 28 days after the window, half-life 7 days
    assert soon["ships"].confidence == pytest.approx(min(0.8, 2 ** (-1 / 7)), abs=1e-3)
    assert late["ships"].confidence == pytest.approx(2 ** (-28 / 7), abs=1e-3)
    assert "short-lived" in late["ships"].rationale


def test_a_short_lived_signature_seen_weeks_after_the_window_is_weak_evidence_at_most():
    """Ships claimed for 8-13 Oct, changes of ships' kind between 1 Oct and an after scene of 10 Nov: the ships
    seen then may have come after the window. It was "consistent with the claim" (confidence ~0.5); now weak
    evidence, which a week after the window it is not, and a persistent signature never is."""
    ships = claim("ships", signatures=("large_vessels_at_berth",))
    found = [change("vessel", 6_000.0)]
    soon, _ = judge([ships], found, context(after=date(2024, 10, 20)))  # 7 days after the window
    late, _ = judge([ships], found, context(after=date(2024, 11, 10)))  # 28 days after
    assert soon["ships"].verdict == CONSISTENT
    assert late["ships"].verdict == WEAK_EVIDENCE and late["ships"].evidence == soon["ships"].evidence
    assert late["ships"].confidence <= 0.39 and late["ships"].confidence_label == "low"
    assert "short-lived and the after scene is 28 days after the window" in late["ships"].rationale
    built, _ = judge([claim("build")], [change("new_bright_surface")], context(after=date(2024, 11, 10)))
    assert built["build"].verdict == CONSISTENT


def test_all_cloud_is_not_observable():
    c = claim("build")
    result, _ = judge([c], [change("new_bright_surface")], context(clear=0.0))
    v = result["build"]
    assert v.verdict == NOT_OBSERVABLE
    assert v.confidence == pytest.approx(1.0)
    assert "Only 0% of the area was free of cloud" in v.rationale


def test_a_radar_pair_speaks_of_the_area_seen_not_clear_of_cloud():
    """Sentinel-1 sees through cloud: what it misses is no data or outside the scenes (the rationales said
    'free of cloud' and 'clear' for radar too)."""
    radar = dataclasses.replace(context(clear=0.3), sensor=Sensor.S1)
    unseen, _ = judge([claim("build")], [], radar)
    assert unseen["build"].verdict == NOT_OBSERVABLE
    assert unseen["build"].rationale == (
        "Only 30% of the area was seen on both dates (no data or outside the scenes elsewhere; at least 50% is "
        "needed), so too little of the ground was seen.")
    quiet, _ = judge([claim("build")], [], dataclasses.replace(radar, clear_fraction=0.8))
    assert quiet["build"].verdict == NO_EVIDENCE
    assert quiet["build"].rationale.startswith("80% of the area was seen on both dates and no change")
    optical, _ = judge([claim("build")], [], context(clear=0.3))
    assert optical["build"].rationale == (
        "Only 30% of the area was free of cloud and gaps on both dates (at least 50% is needed), so the ground "
        "was not seen.")


def test_partly_clouded_below_threshold_is_not_observable_with_less_confidence():
    result, _ = judge([claim("build")], [], context(clear=0.4))
    assert result["build"].verdict == NOT_OBSERVABLE
    assert result["build"].confidence == pytest.approx(0.5 + 0.5 * (1 - 0.4 / 0.5))


def test_signature_below_reach_is_not_observable_whatever_the_pixels():
    flags = claim("flags", signatures=("flags", "personnel"))
    result, _ = judge([flags], [change("new_bright_surface")])
    assert result["flags"].verdict == NOT_OBSERVABLE
    assert "smaller than what 10 m" in result["flags"].rationale


def test_pair_not_bracketing_window_is_not_tested():
    late = claim("late", window=(date(2024, 10, 25), date(2024, 10, 30)))
    result, _ = judge([late], [change("new_bright_surface")])
    assert result["late"].verdict == NOT_TESTED and result["late"].confidence is None
    assert result["late"].confidence_label == "n/a"


def test_denial_of_supported_claim_on_same_aoi_is_inconsistent():
    asserted = claim("build")
    denial = claim("deny", stance=Stance.DENY, denies=("build",))
    result, _ = judge([asserted, denial], [change("new_bright_surface")])
    assert result["build"].verdict == CONSISTENT
    v = result["deny"]
    assert v.verdict == INCONSISTENT_WITH_DENIAL
    assert v.confidence == result["build"].confidence
    assert v.evidence == result["build"].evidence
    assert v.rationale.startswith("The imagery here is consistent with the denied claim build: 1 change of the kinds "
                                  "it predicts appeared"), v.rationale


def test_denial_without_evidence_is_never_confirmed():
    asserted, denial = claim("build"), claim("deny", stance=Stance.DENY, denies=("build",))
    result, _ = judge([asserted, denial], [])
    assert result["deny"].verdict == NO_EVIDENCE
    assert result["deny"].confidence == pytest.approx(0.2)
    assert "does not confirm the denial" in result["deny"].rationale


def test_denial_of_claim_about_another_aoi_tests_its_own_signatures():
    elsewhere = claim("build-elsewhere", aois=("elsewhere",))
    denial = claim("deny", stance=Stance.DENY, denies=("build-elsewhere",), aois=("site", "elsewhere"))
    result, _ = judge([elsewhere, denial], [change("new_bright_surface")])
    assert "build-elsewhere" not in result  # it does not name this AOI
    assert result["deny"].verdict == INCONSISTENT_WITH_DENIAL


def test_denial_of_unobservable_claims_is_not_observable():
    flags = claim("flags", signatures=("flags",))
    denial = claim("deny", stance=Stance.DENY, denies=("flags",), signatures=("flags",))
    result, _ = judge([flags, denial], [change("new_bright_surface")])
    assert result["deny"].verdict == NOT_OBSERVABLE


def test_claim_index_brings_in_what_a_named_denial_denies():
    claims = {c.id: c for c in (claim("build"), claim("other", aois=("elsewhere",)),
                                claim("deny", stance=Stance.DENY, denies=("build", "other")))}
    chosen = claim_index(claims, SITE, ["deny"])
    assert [c.id for c in chosen] == ["deny", "build"]


def test_claims_json_entries_carry_scenes_counts_and_claim_text():
    asserted = claim("build", signatures=("new_construction", "cleared_land"))
    features = [change("new_bright_surface", 3000), change("vegetation_loss", 2000), change("darkening", 700, cid="d")]
    ctx = context(clear=0.9)
    [verdict] = verdicts([asserted], link_features(features, [asserted], ctx), ctx)
    entry = verdict.to_dict()  # as claims.json holds it
    assert entry == ClaimVerdict.from_dict(entry).to_dict()
    assert verdict.verdict == entry["verdict"] == CONSISTENT
    assert entry["n_changes"] == 3 and entry["n_matching"] == 2
    assert entry["change_types"] == {"new_bright_surface": 1, "vegetation_loss": 1, "darkening": 1}
    assert entry["signature_matches"] == {"new_construction": 1, "cleared_land": 1}
    assert entry["matching_area_m2"] == pytest.approx(5000.0)
    assert entry["clear_fraction"] == pytest.approx(0.9)
    assert [s["role"] for s in entry["scenes"]] == ["before", "after"]
    assert entry["scenes"][0]["id"] == "S2_BEFORE" and entry["scenes"][1]["clear_fraction"] == pytest.approx(0.9)
    assert entry["claim"]["statement"] == "statement of build"
    assert entry["confidence_label"] in ("low", "medium", "high")


# The minimum evidence rule, at both sides of each threshold: passing changes (strength = confidence x type
# confidence >= MIN_EVIDENCE_STRENGTH) must cover MIN_EVIDENCE_AREA_M2 together.
@pytest.mark.parametrize("changes, verdict, confidence, label", [
    # the case: a single smallest polygon (8 px) with no strongly significant pixel
    ([(800.0, 0.0, 1.0)], WEAK_EVIDENCE, 0.0, "low"),
    # exactly at the rule: 2,000 m² at strength 0.25 -> consistent; confidence 0.25 x (0.5 + 0.5 x 0.32)
    ([(2_000.0, 0.25, 1.0)], CONSISTENT, 0.165, "low"),
    # area just short, however strong: weak, confidence capped below medium (1.0 x 0.66 -> 0.39)
    ([(1_900.0, 1.0, 1.0)], WEAK_EVIDENCE, 0.39, "low"),
    # strength just short (0.3 x 0.8 = 0.24), however large: weak
    ([(50_000.0, 0.3, 0.8)], WEAK_EVIDENCE, round(0.24 * 0.66, 3), "low"),
    # two passing changes add up to the area; a faint large one does not count towards it
    ([(1_000.0, 1.0, 1.0), (1_000.0, 0.5, 1.0), (9_000.0, 0.1, 1.0)], CONSISTENT, 0.66, "medium"),
    ([(1_000.0, 1.0, 1.0), (9_000.0, 0.1, 1.0)], WEAK_EVIDENCE, 0.39, "low"),
])
def test_minimum_evidence_rule(changes, verdict, confidence, label):
    features = [change("new_bright_surface", area, conf, tconf, cid=f"c{i}")
                for i, (area, conf, tconf) in enumerate(changes)]
    c = claim("build")
    result, ctx = judge([c], features)
    v = result["build"]
    assert (v.verdict, v.confidence, v.confidence_label) == (verdict, pytest.approx(confidence, abs=1e-3), label)
    assert set(v.evidence) == {f"c{i}" for i in range(len(changes))}  # weak or not, the changes are shown
    [entry] = verdicts([c], link_features(features, [c], ctx), ctx)
    rule = entry.minimum_evidence
    assert rule["met"] is (verdict == CONSISTENT)
    assert (rule["min_strength"], rule["min_area_m2"]) == (MIN_EVIDENCE_STRENGTH, MIN_EVIDENCE_AREA_M2)
    passing = [(a, s * t) for a, s, t in changes if s * t >= MIN_EVIDENCE_STRENGTH]
    assert rule["n_passing"] == len(passing) and rule["passing_area_m2"] == pytest.approx(sum(a for a, _ in passing))
    if verdict == WEAK_EVIDENCE:
        assert "too small or too faint" in v.rationale


def test_weak_evidence_for_a_denied_claim_makes_the_denial_weak_not_inconsistent():
    asserted, denial = claim("build"), claim("deny", stance=Stance.DENY, denies=("build",))
    result, _ = judge([asserted, denial], [change("new_bright_surface", 800.0, 0.0, 1.0, cid="tiny")])
    assert result["build"].verdict == WEAK_EVIDENCE
    assert result["deny"].verdict == WEAK_EVIDENCE and result["deny"].evidence == ("tiny",)
    assert result["deny"].confidence_label == "low" and "only weak evidence" in result["deny"].rationale


def test_link_features_returns_linked_copies_and_leaves_the_features_given_alone():
    asserted, elsewhere = claim("build"), claim("far", aois=("other",))
    features = [change("new_bright_surface"), change("darkening", cid="d")]
    linked = link_features(features, [asserted, elsewhere], context())
    assert [f.claim_ids for f in linked] == [("build",), ("build",)]
    assert [f.claim_ids for f in features] == [(), ()]  # the inputs are values: nothing written into them
    assert all(f.geometry is f0.geometry for f, f0 in zip(linked, features))
    with pytest.raises(dataclasses.FrozenInstanceError):
        features[0].claim_ids = ("build",)  # type: ignore[misc]


def test_a_verdict_on_an_area_partly_outside_the_scenes_names_that_part():
    """ "No evidence found" on 60% of an area, 30% of it outside the scenes: the rationale says so; a pair that
    cannot test the claim, or an area the scenes hold whole, reads as before."""
    build, late = claim("build"), claim("late", window=(date(2024, 10, 25), date(2024, 10, 30)))
    deny = claim("deny", stance=Stance.DENY, denies=("build",))
    outside = dataclasses.replace(context(clear=0.6), outside_fraction=0.3)
    judged = {v.claim_id: v for v in verdicts([build, late, deny], [], outside)}
    note = " 30% of the area lies outside the scenes and was not seen at all: nothing is known of that part."
    assert judged["build"].verdict == NO_EVIDENCE
    assert judged["build"].rationale.startswith("60% of the area was clear on both dates")
    assert judged["build"].rationale.endswith(note)
    assert judged["deny"].verdict == NO_EVIDENCE and judged["deny"].rationale.endswith(note)
    assert judged["late"].verdict == NOT_TESTED and "outside the scenes" not in judged["late"].rationale
    whole = verdicts([build], [], context(clear=0.6))[0]
    assert "outside the scenes" not in whole.rationale
