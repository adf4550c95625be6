"""When a re-check gives up on a scene it cannot read: a scene whose host fails (5xx, timeouts) or serves a
broken file is retried by later runs, its AOI failing meanwhile (exit 4). A fault that lasts is the scene's,
and would hold its AOI up for good: the read that fails for the ``GIVE_UP_RUNS``-th consecutive run, at least
``GIVE_UP_AFTER`` after the first failure, skips the scene as unusable (the pair recorded with why, the chain
going around it). Both, so that neither a re-check run every few minutes nor a twice-a-day cron gives up over
one night's outage of a host."""

from __future__ import annotations

from datetime import datetime, timedelta

from geo.errors import GeoError
from geo.scenes.model import Scene
from geo.store.rows import ReadFailure
from geo.store.times import iso_utc

GIVE_UP_RUNS = 3
GIVE_UP_AFTER = timedelta(hours=24)


def failed_scene(exc: GeoError, head: Scene, scene: Scene) -> bool:
    """Whether ``exc`` is a failure to read ``scene`` (or a tile of its pass), not the head nor the archive:
    the reader names the scene whose asset failed (``geo.scenes.read.read_window``)."""
    def named(s: Scene) -> bool:
        return any(f"scene {part.id} " in str(exc) for part in (s, *s.parts))

    return named(scene) and not named(head)


def give_up_reason(before: ReadFailure | None, now: datetime, error: str) -> str | None:
    """Why the scene is skipped when reading it failed again now (its count before this run: ``before``); None
    when it is retried next run."""
    if before is None:
        return None
    runs = before.n_runs + 1
    if runs < GIVE_UP_RUNS or now - before.first_failed_at < GIVE_UP_AFTER:
        return None
    return f"failed to read in {runs} runs since {iso_utc(before.first_failed_at)}: {error}"
