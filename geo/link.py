"""Claims <-> change polygons for one AOI and one scene pair; the verdict vocabulary.

A polygon is linked to a claim when it intersects one of the claim's AOIs and the scene pair brackets the
claim's window (before scene on or before the window start, after scene on or after its end), the scenes dated
by the window's own days, the place's local days (``geo.claim_days``).
Verdicts (``geo.verdicts``) never say "proven": imagery can be consistent with a claim, show only weak
evidence (changes of the predicted kinds below the minimum evidence rule), show no evidence, or be unable to
see the claimed signature at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from geo.vector.feature import ChangeFeature

from geo.aoi import AOI
from geo.claim_days import DayZone, claim_zone
from geo.claims import SIGNATURES, Claim
from geo.scenes.model import Sensor

CONSISTENT = "consistent with the claim"
WEAK_EVIDENCE = "weak evidence"
NO_EVIDENCE = "no evidence found"
NOT_OBSERVABLE = "not observable"
INCONSISTENT_WITH_DENIAL = "inconsistent with the denial"
NOT_TESTED = "not tested"
# Every verdict, strongest support first: the order of legends and style categories.
VERDICTS = (CONSISTENT, INCONSISTENT_WITH_DENIAL, WEAK_EVIDENCE, NO_EVIDENCE, NOT_OBSERVABLE, NOT_TESTED)



@dataclass(frozen=True)
class PairContext:
    aoi: AOI
    before_time: datetime  # when the scenes were taken (UTC)
    after_time: datetime
    clear_fraction: float  # share of the AOI with valid, cloud-free pixels on both dates
    min_clear_fraction: float = 0.5
    # The scenes of the pair (their summaries) and the clear share of the AOI in each one alone.
    before_scene: Mapping[str, Any] | None = None
    after_scene: Mapping[str, Any] | None = None
    before_clear_fraction: float | None = None
    after_clear_fraction: float | None = None
    # Share of the AOI outside the scenes (as the pair's selection recorded it): not seen at all, not cloud.
    outside_fraction: float = 0.0
    # The scenes' sensor: how the rationale names the share seen ('clear' of cloud for an optical one).
    sensor: Sensor = Sensor.S2
    # Whether both scenes' cloud was masked (optical: by their SCL); else the share seen is not called clear.
    cloud_judged: bool = True
    # Share of the AOI seen on both dates but not compared (counted out of ``clear_fraction``), and why: snow
    # or ice on one date only.
    excluded_fraction: float = 0.0
    excluded_why: str = ""

    @property
    def seen_word(self) -> str:
        """How the rationale names the share of the area seen on both dates: 'clear' (of cloud) or 'seen'."""
        if self.cloud_judged or not self.sensor.sees_cloud:  # radar: no cloud to judge
            return self.sensor.clear_word
        return "seen (its cloud not judged: a scene without SCL)"

    @property
    def before_date(self) -> date:
        """The before scene's UTC date, as outputs name it."""
        return self.before_time.date()

    @property
    def after_date(self) -> date:
        return self.after_time.date()

    def zone(self, claim: Claim) -> DayZone:
        return claim_zone(claim, self.aoi)

    def days(self, claim: Claim) -> tuple[date, date]:
        """The days of ``claim``'s window the two scenes fall on (its local days, ``geo.claim_days``)."""
        zone = self.zone(claim)
        return zone.day(self.before_time), zone.day(self.after_time)

    def brackets(self, claim: Claim) -> bool:
        """Whether the pair lies on either side of ``claim``'s window, in the window's days."""
        return claim.window.bracketed_by(*self.days(claim))

    @property
    def clear(self) -> bool:
        return self.clear_fraction >= self.min_clear_fraction

    def scenes_considered(self) -> list[dict[str, Any]]:
        """The scenes this verdict rests on: id, date, role and the clear share of the AOI in each."""
        out = []
        for role, scene, when, clear in (
            ("before", self.before_scene, self.before_date, self.before_clear_fraction),
            ("after", self.after_scene, self.after_date, self.after_clear_fraction),
        ):
            entry = {"role": role, "date": when.isoformat(), **dict(scene or {})}
            entry["clear_fraction"] = None if clear is None else round(clear, 4)
            out.append(entry)
        return out


def linked_claims(claims: Sequence[Claim], context: PairContext) -> list[Claim]:
    return [
        c for c in claims
        if context.aoi.id in c.aoi_ids and context.brackets(c)
    ]


def link_features(features: Sequence[ChangeFeature], claims: Sequence[Claim],
                  context: PairContext) -> list[ChangeFeature]:
    """The features, each with ``claim_ids`` naming the claims it supports or bears on (new values)."""
    linked = linked_claims(claims, context)
    return [f.linked_to(c.id for c in linked if f.geometry.intersects(context.aoi.geometry)) for f in features]


def expected_types(claim: Claim) -> set[str]:
    return {t for s in claim.signatures for t in SIGNATURES[s].change_types}


def claim_index(claims: Mapping[str, Claim], aoi: AOI, wanted: Sequence[str] | None) -> list[Claim]:
    """The claims a job on ``aoi`` considers: those named (plus the claims a named denial denies on this
    AOI, which its verdict rests on), else every claim naming the AOI."""
    if not wanted:
        return [c for c in claims.values() if aoi.id in c.aoi_ids]
    chosen = [claims[c] for c in wanted]
    denied = [
        claims[d] for c in chosen for d in c.denies
        if d in claims and aoi.id in claims[d].aoi_ids and d not in wanted
    ]
    return chosen + list({c.id: c for c in denied}.values())
