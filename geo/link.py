"""Claims <-> change polygons, and a verdict per claim for one AOI and one scene pair.

A polygon is linked to a claim when it intersects one of the claim's AOIs and the scene pair brackets the
claim's window (before scene on or before the window start, after scene on or after its end).
Verdicts never say "proven": imagery can be consistent with a claim, show no evidence, or be unable to
see the claimed signature at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from shapely.geometry.base import BaseGeometry

from geo.aoi import AOI
from geo.claims import SIGNATURES, Claim, Stance

CONSISTENT = "consistent with the claim"
NO_EVIDENCE = "no evidence found"
NOT_OBSERVABLE = "not observable"
INCONSISTENT_WITH_DENIAL = "inconsistent with the denial"
NOT_TESTED = "not tested"

Feature = tuple[BaseGeometry, dict[str, Any]]


@dataclass(frozen=True)
class PairContext:
    aoi: AOI
    before_date: date
    after_date: date
    clear_fraction: float  # share of the AOI with valid, cloud-free pixels on both dates
    min_clear_fraction: float = 0.5

    @property
    def clear(self) -> bool:
        return self.clear_fraction >= self.min_clear_fraction


def linked_claims(claims: Sequence[Claim], context: PairContext) -> list[Claim]:
    return [
        c for c in claims
        if context.aoi.id in c.aoi_ids and c.window.bracketed_by(context.before_date, context.after_date)
    ]


def link_features(features: Sequence[Feature], claims: Sequence[Claim], context: PairContext) -> None:
    """Fill each feature's ``claim_ids`` with the claims it supports or bears on."""
    linked = linked_claims(claims, context)
    for geometry, props in features:
        props["claim_ids"] = [c.id for c in linked if geometry.intersects(context.aoi.geometry)]


def expected_types(claim: Claim) -> set[str]:
    return {t for s in claim.signatures for t in SIGNATURES[s].change_types}


def _matching(claim: Claim, features: Sequence[Feature]) -> list[dict[str, Any]]:
    wanted = expected_types(claim)
    return [p for _, p in features if claim.id in p.get("claim_ids", []) and p.get("change_type") in wanted]


def _assert_verdict(claim: Claim, features: Sequence[Feature], context: PairContext) -> tuple[str, str]:
    if not claim.observable:
        reach = ", ".join(claim.signatures)
        return NOT_OBSERVABLE, f"the claimed signatures ({reach}) are below what 10 m pixels can show"
    if not context.clear:
        return NOT_OBSERVABLE, (
            f"only {context.clear_fraction:.0%} of the AOI was clear on both dates "
            f"(need {context.min_clear_fraction:.0%})"
        )
    if not claim.window.bracketed_by(context.before_date, context.after_date):
        return NOT_TESTED, (
            f"the scene pair ({context.before_date} / {context.after_date}) does not bracket the claim window "
            f"{claim.window.start}..{claim.window.end}"
        )
    matches = _matching(claim, features)
    if matches:
        area = sum(float(p["area_m2"]) for p in matches)
        kinds = ", ".join(f"{n} {t}" for t, n in Counter(p["change_type"] for p in matches).most_common())
        return CONSISTENT, f"{len(matches)} change(s) of an expected type ({kinds}; {area:,.0f} m2) in the window"
    return NO_EVIDENCE, (
        f"clear imagery ({context.clear_fraction:.0%} of the AOI) shows no change of the expected types "
        f"({', '.join(sorted(expected_types(claim)))}) between the scenes"
    )


def verdicts(claims: Sequence[Claim], features: Sequence[Feature], context: PairContext) -> list[dict[str, Any]]:
    """One summary per claim that names this AOI: counts, areas, types, verdict and rationale."""
    relevant = [c for c in claims if context.aoi.id in c.aoi_ids]
    by_id: dict[str, tuple[str, str]] = {
        c.id: _assert_verdict(c, features, context) for c in relevant if c.stance is Stance.ASSERT
    }
    out = []
    for claim in relevant:
        if claim.stance is Stance.DENY:
            supported = [d for d in claim.denies if by_id.get(d, ("",))[0] == CONSISTENT]
            if supported:
                verdict, why = INCONSISTENT_WITH_DENIAL, (
                    f"imagery on {context.aoi.id} is consistent with the denied claim(s) {', '.join(supported)}"
                )
            elif not context.clear:
                verdict, why = _assert_verdict(claim, features, context)
            else:
                verdict, why = NO_EVIDENCE, "no evidence on this AOI for the denied claims; a denial cannot be confirmed by imagery"
        else:
            verdict, why = by_id[claim.id]
        linked = [p for _, p in features if claim.id in p.get("claim_ids", [])]
        out.append(
            {
                "claim_id": claim.id,
                "aoi_id": context.aoi.id,
                "stance": str(claim.stance),
                "window": claim.window.to_dict(),
                "pair_brackets_window": claim.window.bracketed_by(context.before_date, context.after_date),
                "clear_fraction": round(context.clear_fraction, 4),
                "signatures": list(claim.signatures),
                "observable": claim.observable,
                "n_changes": len(linked),
                "area_m2": round(sum(float(p["area_m2"]) for p in linked), 1),
                "change_types": dict(Counter(p["change_type"] for p in linked)),
                "n_matching": len(_matching(claim, features)),
                "verdict": verdict,
                "rationale": why,
            }
        )
    return out


def claim_index(claims: Mapping[str, Claim], aoi: AOI, wanted: Sequence[str] | None) -> list[Claim]:
    """The claims a job on ``aoi`` considers: those named, else every claim naming the AOI."""
    if wanted:
        return [claims[c] for c in wanted]
    return [c for c in claims.values() if aoi.id in c.aoi_ids]
