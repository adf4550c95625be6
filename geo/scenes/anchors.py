"""The days a scene pair is looked for around: the before scene on or before the claims' window start, the
after scene on or after its end, each counted in the window's own days (the place's local days,
``geo.claim_days``), or the dates given as ``--before``/``--after`` (UTC days, as scenes are dated)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from geo.aoi import AOI
from geo.claim_days import UTC, DayZone, claim_zone
from geo.claims import Claim
from geo.dates import DATE_PATTERN, parse_date
from geo.errors import DateError
from geo.scenes.model import Scene
from geo.scenes.source import SceneSource


@dataclass(frozen=True)
class Anchors:
    """The days the before scene is looked for on or before and the after scene on or after, with the zone
    each counts in: a claim window's local days (``geo.claim_days``), UTC for a date typed as an option."""

    before: date | None
    after: date | None
    origin: str
    before_zone: DayZone = UTC
    after_zone: DayZone = UTC
    before_claim: str | None = None  # the claim whose window gives the day, when a claim's does
    after_claim: str | None = None
    n_claims: int = 0

    def claim_note(self, side: str) -> str:
        """Which claim's window gave ``side``'s day, when one of several did: a run refused for want of a scene
        near it names the claim (one of dozens on the AOI, perhaps not the analyst's own) and what to do."""
        claim = self.before_claim if side == "before" else self.after_claim
        if claim is None or self.n_claims < 2:
            return ""
        day, ends, most = (self.before, "starts", "earliest") if side == "before" else (self.after, "ends", "latest")
        return (f"{day} {ends} the window of claim {claim!r}, the {most} of the {self.n_claims} claims on the AOI: "
                "run on the others with --claim, or give --before and --after")

    def to_dict(self) -> dict[str, Any]:
        zones = dict.fromkeys((self.before_zone.name, self.after_zone.name))
        return {"before": self.before.isoformat() if self.before else None,
                "after": self.after.isoformat() if self.after else None, "from": self.origin,
                "time_zone": " / ".join(zones)}


def claim_anchors(claims: Sequence[Claim], aoi: AOI, before: str | None, after: str | None) -> Anchors:
    """The anchors of a pair over ``aoi``: the claims' windows (the earliest start, the latest end, each in its
    claim's days over the AOI) unless ``before``/``after`` give dates."""
    windows = [(c.window, claim_zone(c, aoi), c.id) for c in claims]
    if (before is None or after is None) and not windows:
        missing = "--before" if before is None else "--after"
        raise DateError(f"no {missing} given and no claim window to derive it from (use {missing} or --claim)")
    before_anchor = after_anchor = before_claim = after_claim = None
    before_zone = after_zone = UTC
    if windows:
        window, before_zone, before_claim = min(windows, key=lambda w: w[1].start(w[0].start))
        before_anchor = window.start
        window, after_zone, after_claim = max(windows, key=lambda w: w[1].start(w[0].end))
        after_anchor = window.end
    origin = "claim windows"
    before_date = parse_date(before, "--before") if before is not None and DATE_PATTERN.match(before) else None
    after_date = parse_date(after, "--after") if after is not None and DATE_PATTERN.match(after) else None
    if before_date is not None:
        before_anchor, before_zone, origin, before_claim = before_date, UTC, "--before/--after", None
    if after_date is not None:
        after_anchor, after_zone, origin, after_claim = after_date, UTC, "--before/--after", None
    if before_date is not None and after_date is not None and after_date < before_date:
        raise DateError(f"--after {after_date} is before --before {before_date}: the window end is before its start")
    if before_anchor is not None and after_anchor is not None and after_anchor < before_anchor:
        # one side from the option, the other from the claims: they cross, and both would pick one scene
        if before_date is not None:
            raise DateError(f"--before {before_date} is after the claims' window end {after_anchor}, from which the "
                            "after scene is looked for: give --after too, or a --before on or before it")
        raise DateError(f"--after {after_date} is before the claims' window start {before_anchor}, from which the "
                        "before scene is looked for: give --before too, or an --after on or after it")
    return Anchors(before_anchor, after_anchor, origin, before_zone, after_zone, before_claim, after_claim,
                   len(claims))


def search_days(source: SceneSource, aoi: AOI, zone: DayZone, first: date, last: date) -> list[Scene]:
    """The scenes over ``aoi`` taken on the days ``first`` .. ``last`` of ``zone``: an archive is searched by UTC
    dates, so by those the local days touch, and its scenes are kept by their local day."""
    found = source.search(aoi.geometry, *zone.utc_dates(first, last))
    return [s for s in found if first <= zone.day(s.datetime) <= last]
