"""Choosing the before/after scenes of a job: from item ids, from dates, or from the claims' windows.

The rule, in order: the AOI must be clear (cloud judged inside the AOI, ``geo.scenes.cloud``); then the
scenes closest to the window win (the before scene on or before its start, the after scene on or after
its end, counted in the window's days, ``geo.scenes.anchors``); a pair on the same relative orbit (same
viewing geometry, so less false change) is preferred, worth ``ORBIT_PENALTY_DAYS`` of extra distance; and a
pair without snow by its SCL, worth up to ``SNOW_PENALTY_DAYS`` (snow on one date only is not compared; on both,
half as much: it hides the ground on both).
Searching widens from 30 to 90 to 365 days only while no clear scene is found. Every candidate judged, and
why the pair won, goes into the manifest.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from geo.aoi import AOI
from geo.claim_days import UTC, DayZone
from geo.claims import Claim
from geo.dates import DATE_PATTERN, parse_date
from geo.errors import DateError, MissingSceneError, SceneError
from geo.scenes.anchors import claim_anchors, search_days
from geo.scenes.cache import SceneCache
from geo.scenes.cloud import AoiCover, aoi_covers
from geo.scenes.empty_notes import date_then_catalog, future_note, mission_note, unseen_note
from geo.scenes.model import Scene, Sensor
from geo.scenes.mosaic import MOSAIC_JOIN, mosaic, pass_of, passes
from geo.scenes.source import LocalCatalog, SceneSource

log = logging.getLogger(__name__)

DEFAULT_MAX_GAP_DAYS = 365
SEARCH_HORIZONS_DAYS = (30, 90, 365)
MIN_CLEAR = 0.8  # share of the AOI that must be clear for a scene to count as "clear"
ORBIT_PENALTY_DAYS = 10  # a pair on different relative orbits must be this many days closer to win
# A pair whose AOI is snowed on one date and not the other must be this many days closer (times the share that
# differs) to win: those pixels are not compared (geo.scenes.snow), so an early snow melted a week later loses;
# snow on both dates costs half as much (compared, but the ground under it is hidden on both)
SNOW_PENALTY_DAYS = 30
BATCH = 6  # candidates judged at a time, nearest first
MAX_JUDGED = 24  # per side: SCL windows read before settling for the clearest seen


@dataclass(frozen=True)
class Candidate:
    scene: Scene
    gap_days: int  # days from the anchor date (before: anchor - local_date; after: local_date - anchor)
    local_date: date  # the scene's day in the anchor's zone (geo.claim_days): what gap_days counts from
    cover: AoiCover | None = None

    @property
    def clear(self) -> float:
        return self.cover.clear if self.cover and self.cover.usable else -1.0

    def to_dict(self) -> dict[str, Any]:
        s = self.scene
        out: dict[str, Any] = {"id": s.id, "date": s.date.isoformat(), "local_date": self.local_date.isoformat(),
                               "platform": s.platform, "relative_orbit": s.relative_orbit, "gap_days": self.gap_days}
        out.update(self.cover.to_dict() if self.cover else {})
        return out


@dataclass(frozen=True)
class Pair:
    before: Scene
    after: Scene
    reason: dict[str, Any]


# What people type for a date that is not ISO: 21/08/2015, 2015/8/21, 21.08.2015, 20150821, 2015-08-21T10:00,
# "21 Aug 2015". Item ids (S2A_MSIL2A_..., S2B_33UUU_20200801_0_L2A) match none of these.
_DATE_LIKE = (
    re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$"),
    re.compile(r"^\d{8}$"),
    re.compile(r"^\d{4}-\d{1,2}-\d{1,2}[T ]"),
    re.compile(r"(?i)^(?=.*\d)(?=.*\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b)[\w ,.'/-]+$"),
)


def check_scene_ref(text: str | None, option: str) -> None:
    """``--before``/``--after`` take an ISO date or an item id: a date written any other way is an error
    naming the format, not an item id that no archive holds."""
    if text is None:
        return
    if DATE_PATTERN.match(text):
        parse_date(text, option)  # 2015-02-30 is no date
        return
    if any(pattern.search(text.strip()) for pattern in _DATE_LIKE):
        raise DateError(f"{option} {text!r}: dates are ISO YYYY-MM-DD (e.g. 2015-08-21); anything else is taken "
                        "as a scene item id")


def parse_period(start: str, end: str) -> tuple[date, date]:
    """``--from``/``--to`` as dates, the end not before the start."""
    first, last = parse_date(start, "--from"), parse_date(end, "--to")
    if last < first:
        raise DateError(f"--to {last} is before --from {first}")
    return first, last


class _Side:
    """The candidates on one side of the window, searched and judged lazily (nearest first)."""

    def __init__(self, source: SceneSource, aoi: AOI, anchor: date, side: str, max_gap: int,
                 cache: SceneCache | None, zone: DayZone = UTC) -> None:
        self.source, self.aoi, self.anchor, self.side, self.max_gap, self.cache = source, aoi, anchor, side, max_gap, cache
        self.zone = zone  # the days the anchor counts in
        self.horizon = 0
        self.pool: list[Candidate] = []  # everything found so far, nearest first
        self.judged: dict[str, Candidate] = {}
        self.left_out: list[Scene] = []  # tiles of the passes found that another tile of theirs stands for

    def _candidate(self, scene: Scene) -> Candidate:
        day = self.zone.day(scene.datetime)
        return Candidate(scene, (self.anchor - day).days if self.side == "before" else (day - self.anchor).days, day)

    def _search(self, horizon: int) -> None:
        if self.side == "before":
            first, last = self.anchor - timedelta(days=horizon), self.anchor
        else:
            first, last = self.anchor, self.anchor + timedelta(days=horizon)
        scenes = search_days(self.source, self.aoi, self.zone, first, last)
        self.left_out = []
        found = [c for c in map(self._candidate, passes(scenes, self.aoi, self.left_out))
                 if 0 <= c.gap_days <= horizon]
        self.pool = sorted(found, key=lambda c: (c.gap_days, c.scene.id))
        self.horizon = horizon

    def tiles_left_out(self, chosen: Scene) -> dict[str, list[str]]:
        """``{"tiles_left_out": ids}``: the tiles of ``chosen``'s pass it does not read (another tile of the pass
        shows the AOI, or a newer publication of the tile), so the manifest names every tile the pass had; {}
        when there were none."""
        key = pass_of(chosen.parts[0] if chosen.parts else chosen)
        older = {old for tile in (chosen, *chosen.parts) for old in tile.supersedes}  # named as such already
        ids = sorted(t.id for t in self.left_out if key is not None and t.id not in older and pass_of(t) == key)
        return {"tiles_left_out": ids} if ids else {}

    def judge(self, candidates: Sequence[Candidate]) -> None:
        todo = [c for c in candidates if c.scene.id not in self.judged]
        for candidate, cover in zip(todo, aoi_covers([c.scene for c in todo], self.aoi, self.cache)):
            self.judged[candidate.scene.id] = replace(candidate, cover=cover)

    def clear_ones(self) -> list[Candidate]:
        return [c for c in self.judged.values() if c.clear >= MIN_CLEAR]

    def explore(self) -> None:
        """Judge candidates nearest first until a clear one is found, widening the search as needed."""
        horizons = [h for h in SEARCH_HORIZONS_DAYS if h < self.max_gap] + [self.max_gap]
        for horizon in horizons:
            self._search(horizon)
            while not self.clear_ones() and len(self.judged) < MAX_JUDGED:
                batch = [c for c in self.pool if c.scene.id not in self.judged][:BATCH]
                if not batch:
                    break
                self.judge(batch)
            if self.clear_ones() or len(self.judged) >= MAX_JUDGED:
                return

    def usable(self) -> list[Candidate]:
        """Clear candidates, or (none being clear) the clearest one seen, for a pair to be made at all."""
        clear = self.clear_ones()
        if clear:
            return clear
        seen = [c for c in self.judged.values() if c.clear >= 0]
        return [max(seen, key=lambda c: (c.clear, -c.gap_days))] if seen else []


def _left_out(side: _Side | None, chosen: Scene) -> dict[str, list[str]]:
    return side.tiles_left_out(chosen) if side is not None else {}  # a scene named by id: no pass searched


def _cost(before: Candidate, after: Candidate) -> float:
    orbits = before.scene.relative_orbit, after.scene.relative_orbit
    penalty = ORBIT_PENALTY_DAYS if None not in orbits and orbits[0] != orbits[1] else 0
    snow = [None if c.cover is None else c.cover.snow for c in (before, after)]
    return before.gap_days + after.gap_days + penalty + _snow_cost(*snow)


def _snow_cost(before: float | None, after: float | None) -> float:
    """Days of distance a pair's snow is worth (by the SCL): snow on one date only is not compared, snow on both
    is but hides the ground, half as bad; a scene without SCL (snow not known) beside a snowed one, the same."""
    if before is None or after is None:
        known = after if before is None else before
        return SNOW_PENALTY_DAYS / 2 * (known or 0.0)
    return SNOW_PENALTY_DAYS * abs(before - after) + SNOW_PENALTY_DAYS / 2 * min(before, after)


def _unclear(cover: AoiCover) -> str:
    """What hides the rest of the AOI in a scene, when part of it lies outside the scene (or its no data): "20%
    outside the scene or no data; " (else nothing: the rest is cloud), so that it does not read as cloud."""
    if round(100 * cover.nodata) == 0:
        return ""
    cloud = f", {cover.cloud:.0%} cloud" if cover.cloud is not None and round(100 * cover.cloud) else ""
    return f"{cover.nodata:.0%} outside the scene or no data{cloud}; "


def _best(befores: Sequence[Candidate], afters: Sequence[Candidate]) -> tuple[Candidate, Candidate] | None:
    pairs = [(b, a) for b in befores for a in afters if b.scene.datetime < a.scene.datetime]
    if not pairs:
        return None
    return min(pairs, key=lambda p: (_cost(*p), -min(p[0].clear, p[1].clear), p[0].scene.id, p[1].scene.id))


def _same_orbit_alternatives(side: _Side, chosen: Candidate, orbit: int | None) -> list[Candidate]:
    """Unjudged candidates on ``orbit`` close enough to beat ``chosen`` once the orbit penalty counts."""
    if orbit is None:
        return []
    return [c for c in side.pool if c.scene.id not in side.judged and c.scene.relative_orbit == orbit
            and c.gap_days < chosen.gap_days + ORBIT_PENALTY_DAYS]


def named_scene(source: SceneSource, scene_id: str, option: str) -> Scene:
    """The scene ``--before``/``--after`` names by id; a missing one is an error naming the option (and, for a
    small local catalog, the ids it does hold), not only the source."""
    tiles = scene_id.split(MOSAIC_JOIN)
    if len(tiles) > 1 and all(tiles):  # the tiles of one pass, as a run named them (geo.scenes.mosaic)
        try:
            return mosaic([source.get(tile) for tile in tiles])  # each from the scene cache on a rerun
        except MissingSceneError:
            pass  # an item whose own id holds a "+"
    try:
        return source.get(scene_id)
    except MissingSceneError as exc:
        held = [s.id for s in source.all()] if isinstance(source, LocalCatalog) else []
        shown = f" (it holds: {', '.join(held)})" if 0 < len(held) <= 4 else ""
        raise MissingSceneError(f"{option} {scene_id!r}: {exc}{shown}") from None


def _fixed(source: SceneSource, aoi: AOI, scene_id: str, option: str, anchor: date | None,
           cache: SceneCache | None, zone: DayZone) -> Candidate:
    scene = named_scene(source, scene_id, option)
    day = zone.day(scene.datetime)
    gap = 0 if anchor is None else abs((day - anchor).days)
    return Candidate(scene, gap, day, aoi_covers([scene], aoi, cache)[0])


def _why(candidate: Candidate, side: str, anchor: date | None, fixed: bool, other: Candidate) -> str:
    if fixed:
        return "named by id"
    where = "on or before" if side == "before" else "on or after"
    cover = candidate.cover
    if cover is not None and cover.method == "scl":
        kind = "closest clear scene" if candidate.clear >= MIN_CLEAR else f"no scene >= {MIN_CLEAR:.0%} clear; the clearest"
        snow = f", {cover.snow:.0%} under snow or ice" if cover.snow and cover.snow >= 0.005 else ""
        state = f"{cover.clear:.0%} of the AOI clear by its SCL{snow}"
    else:
        kind = "closest scene covering the AOI"
        judged = "SAR: cloud does not matter" if cover and cover.method == "sar" else "cloud not judged: no SCL"
        state = f"{cover.clear:.0%} of the AOI covered, {judged}" if cover else "coverage unknown"
    orbit = candidate.scene.relative_orbit
    same = orbit is not None and orbit == other.scene.relative_orbit
    orbit_text = f"; relative orbit {orbit}{' as the other scene' if same else ''}" if orbit is not None else ""
    return f"{kind} {where} {anchor} ({candidate.gap_days} days away; {state}{orbit_text})"


def not_later_error(b: Scene, a: Scene, before: str | None, after: str | None) -> DateError:
    """The error for an after scene not later than the before scene, naming what the user gave."""
    given = " and ".join(f"--{name} {ref}" for name, ref in (("before", before), ("after", after)) if ref)
    by = f" ({given})" if given else ""
    if a.id == b.id:
        return DateError(f"the before and the after scene are the same scene, {a.id} ({a.date}){by}: a pair needs "
                         f"two; give an --after later than {a.date}")
    return DateError(f"after scene {a.id} ({a.date}) is not later than before scene {b.id} ({b.date}){by}")


def _no_scene_error(side: _Side, source: SceneSource, max_gap_days: int, other: Sequence[Candidate],
                    claim_note: str = "") -> SceneError:
    """The error for a side of the window without a usable scene; ``other``: the other side's scenes (when the
    archive holds some there, it does image the place: said so, with the nearest, not that it seems not to);
    ``claim_note``: the claim whose window set the side's date, when it is one of several."""
    name, anchor, aoi, zone = side.side, side.anchor, side.aoi, side.zone
    direction = "on or before" if name == "before" else "on or after"
    failed = "" if not side.judged else f" (all {len(side.judged)} candidates failed to read)"
    latest = anchor if name == "before" else anchor + timedelta(days=max_gap_days)
    # a date in the future or before the launch first (a mistyped year), then what a local catalog holds
    when = future_note(anchor) or mission_note(Sensor.S2, latest)
    note = date_then_catalog(when, source, aoi)
    if not note and other:
        nearest = min(other, key=lambda c: c.gap_days)
        where = "after" if name == "before" else "before"
        note = (f"the archive does image the AOI: its nearest scene {where} the window is {nearest.scene.id} "
                f"({nearest.local_date})")
    elif not note and not side.pool:
        note = unseen_note(aoi, max_gap_days)
    note = "; ".join(filter(None, (note, claim_note)))
    return SceneError(
        f"no scene over AOI {aoi.id!r} {direction} {anchor}{zone.day_note()} within {max_gap_days} days in "
        f"{source.name}{failed}{'; ' + note if note else ''}"
    )


def select_pair(
    source: SceneSource,
    aoi: AOI,
    claims: Sequence[Claim],
    before: str | None = None,
    after: str | None = None,
    max_gap_days: int = DEFAULT_MAX_GAP_DAYS,
    cache: SceneCache | None = None,
) -> Pair:
    """Before/after scenes over ``aoi``: ``before``/``after`` are item ids or dates; without them the
    pair brackets the claims' windows. See the module doc for the rule."""
    anchors = claim_anchors(claims, aoi, before, after)
    before_anchor, after_anchor = anchors.before, anchors.after
    fixed_before = before is not None and not DATE_PATTERN.match(before)
    fixed_after = after is not None and not DATE_PATTERN.match(after)
    sides: dict[str, _Side] = {}
    options: dict[str, list[Candidate]] = {}
    for name, ref, anchor, fixed, zone in (("before", before, before_anchor, fixed_before, anchors.before_zone),
                                           ("after", after, after_anchor, fixed_after, anchors.after_zone)):
        if fixed:
            options[name] = [_fixed(source, aoi, str(ref), f"--{name}", anchor, cache, zone)]
            continue
        assert anchor is not None  # claim_anchors gives a date to every side not named by id
        side = sides[name] = _Side(source, aoi, anchor, name, max_gap_days, cache, zone)
        side.explore()
        options[name] = side.usable()
    for name, side in sides.items():  # both sides searched first: one may show the archive does image the place
        if not options[name]:
            raise _no_scene_error(side, source, max_gap_days, [c for n, found in options.items() if n != name
                                                               for c in found], anchors.claim_note(name))
    best = _best(options["before"], options["after"])
    if best is not None and _cost(*best) > best[0].gap_days + best[1].gap_days:
        # Cross-orbit winner: look for a same-orbit partner that the first pass did not judge.
        for name, other in (("before", best[1]), ("after", best[0])):
            if name in sides:
                side = sides[name]
                side.judge(_same_orbit_alternatives(side, best[0] if name == "before" else best[1],
                                                    other.scene.relative_orbit)[:BATCH])
                options[name] = side.usable()
        best = _best(options["before"], options["after"])
    if best is None:
        raise not_later_error(options["before"][0].scene, options["after"][0].scene, before, after)
    chosen_before, chosen_after = best
    warnings = [
        f"{name} scene {c.scene.id}: only {c.clear:.0%} of the AOI is clear ({_unclear(c.cover)}no candidate reached "
        f"{MIN_CLEAR:.0%})" for name, c in (("before", chosen_before), ("after", chosen_after))
        if c.cover is not None and c.cover.method == "scl" and c.clear < MIN_CLEAR
    ]
    warnings += [f"candidate {c.scene.id} skipped: {c.cover.error}" for s in sides.values()
                 for c in s.judged.values() if c.cover is not None and c.cover.error]
    orbits = chosen_before.scene.relative_orbit, chosen_after.scene.relative_orbit
    reason = {
        "method": "automatic" if not (fixed_before and fixed_after) else "named by id",
        "source": source.name,
        "rule": (f"AOI clear (>= {MIN_CLEAR:.0%} of its pixels clear, judged inside the AOI), then closest to the "
                 f"window, same relative orbit preferred (a different orbit costs {ORBIT_PENALTY_DAYS} days), snow "
                 f"avoided (by the SCL: all the AOI snowed on one date only costs {SNOW_PENALTY_DAYS} days, on both "
                 f"{SNOW_PENALTY_DAYS // 2}, a share of it in proportion)"),
        "anchors": anchors.to_dict(),
        "before": {**chosen_before.to_dict(), **_left_out(sides.get("before"), chosen_before.scene),
                   "why": _why(chosen_before, "before", before_anchor, fixed_before, chosen_after)},
        "after": {**chosen_after.to_dict(), **_left_out(sides.get("after"), chosen_after.scene),
                  "why": _why(chosen_after, "after", after_anchor, fixed_after, chosen_before)},
        "same_relative_orbit": None if None in orbits else orbits[0] == orbits[1],
        "searched_days": {name: s.horizon for name, s in sides.items()},
        "candidates": {name: [c.to_dict() for c in sorted(s.judged.values(), key=lambda c: c.gap_days)]
                       for name, s in sides.items()},
        "warnings": warnings,
    }
    for warning in warnings:
        log.warning(warning)
    log.info("pair: %s -> %s", chosen_before.scene.id, chosen_after.scene.id)
    return Pair(chosen_before.scene, chosen_after.scene, reason)
