"""Choosing the before/after scenes of a job: from item ids, from dates, or from the claims' windows."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from geo.aoi import AOI
from geo.claims import Claim
from geo.errors import DateError, SceneError
from geo.scenes.model import Scene
from geo.scenes.source import SceneSource

log = logging.getLogger(__name__)

DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DEFAULT_MAX_GAP_DAYS = 365


@dataclass(frozen=True)
class Pair:
    before: Scene
    after: Scene
    reason: dict[str, Any]


def parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DateError(f"{option} {text!r}: not a date (YYYY-MM-DD)") from None


def _pick(source: SceneSource, aoi: AOI, when: date, side: str, max_gap_days: int) -> Scene:
    if side == "before":
        scenes = source.search(aoi.geometry, when - timedelta(days=max_gap_days), when)
        candidates = [s for s in scenes if s.date <= when]
        chosen = max(candidates, key=lambda s: s.datetime) if candidates else None
    else:
        scenes = source.search(aoi.geometry, when, when + timedelta(days=max_gap_days))
        candidates = [s for s in scenes if s.date >= when]
        chosen = min(candidates, key=lambda s: s.datetime) if candidates else None
    if chosen is None:
        direction = "on or before" if side == "before" else "on or after"
        raise SceneError(
            f"no scene over AOI {aoi.id!r} {direction} {when} within {max_gap_days} days in {source.name}"
        )
    return chosen


def _resolve(source: SceneSource, aoi: AOI, ref: str, side: str, max_gap_days: int) -> tuple[Scene, str]:
    if DATE_PATTERN.match(ref):
        when = parse_date(ref, f"--{side}")
        return _pick(source, aoi, when, side, max_gap_days), f"{'latest' if side == 'before' else 'earliest'} scene {'on or before' if side == 'before' else 'on or after'} {when}"
    return source.get(ref), "named by id"


def select_pair(
    source: SceneSource,
    aoi: AOI,
    claims: Sequence[Claim],
    before: str | None = None,
    after: str | None = None,
    max_gap_days: int = DEFAULT_MAX_GAP_DAYS,
) -> Pair:
    """Before/after scenes over ``aoi``. Without ``before``/``after``, bracket the claims' windows."""
    windows = [c.window for c in claims]
    if before is None:
        if not windows:
            raise DateError("no --before given and no claim window to derive it from (use --before or --claim)")
        before = min(w.start for w in windows).isoformat()
    if after is None:
        if not windows:
            raise DateError("no --after given and no claim window to derive it from (use --after or --claim)")
        after = max(w.end for w in windows).isoformat()
    if DATE_PATTERN.match(before) and DATE_PATTERN.match(after):
        start, end = parse_date(before, "--before"), parse_date(after, "--after")
        if end < start:
            raise DateError(f"--after {end} is before --before {start}: the window end is before its start")
    before_scene, before_why = _resolve(source, aoi, before, "before", max_gap_days)
    after_scene, after_why = _resolve(source, aoi, after, "after", max_gap_days)
    if after_scene.datetime <= before_scene.datetime:
        raise DateError(
            f"after scene {after_scene.id} ({after_scene.date}) is not later than before scene "
            f"{before_scene.id} ({before_scene.date})"
        )
    reason = {"before": before_why, "after": after_why, "source": source.name}
    log.info("pair: %s -> %s", before_scene.id, after_scene.id)
    return Pair(before_scene, after_scene, reason)
