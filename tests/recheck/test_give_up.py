"""When a re-check gives up on a scene it cannot read (``geo.recheck.give_up``): after 3 failed runs over at least
a day, only for a failure to read that scene (not the head's, not the archive's)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shapely.geometry import box

from geo.errors import ArchiveError
from geo.recheck.give_up import failed_scene, give_up_reason
from geo.scenes.model import Scene
from geo.store import ReadFailure

FIRST = datetime(2026, 12, 1, 22, 0, tzinfo=timezone.utc)
HEAD = Scene("S2A_HEAD", FIRST, box(0, 0, 1, 1), {})
TILE = Scene("S2B_T31UXT", FIRST, box(0, 0, 1, 1), {})
WEST = Scene("S2B_T31UWT", FIRST, box(0, 0, 1, 1), {})
PASS = Scene("S2B_T31UWT+S2B_T31UXT", FIRST, box(0, 0, 1, 1), {}, parts=(WEST, TILE))


def test_a_scene_is_given_up_on_at_its_third_failed_run_a_day_after_the_first():
    twice = ReadFailure("S2B", 2, FIRST, "was 503")
    # a twice-a-day cron over one night's outage: 3 runs in 12 h are not enough
    assert give_up_reason(twice, FIRST + timedelta(hours=12), "503") is None
    assert give_up_reason(twice, FIRST + timedelta(hours=23, minutes=59), "503") is None
    # a re-check every hour: a day of failures, but the third run only counts
    assert give_up_reason(ReadFailure("S2B", 1, FIRST, "503"), FIRST + timedelta(days=3), "503") is None
    assert give_up_reason(None, FIRST + timedelta(days=3), "503") is None  # its first failure
    assert give_up_reason(twice, FIRST + timedelta(hours=24), "HTTP 503") == (
        "failed to read in 3 runs since 2026-12-01T22:00:00.000Z: HTTP 503")
    assert give_up_reason(ReadFailure("S2B", 9, FIRST, "x"), FIRST + timedelta(days=5), "truncated").startswith(
        "failed to read in 10 runs since ")


def test_only_a_failure_to_read_the_after_scene_counts_against_it():
    def error(scene_id: str) -> ArchiveError:
        return ArchiveError(f"scene {scene_id} asset 'red' (http://h/{scene_id}/red.tif): failed after 3 attempts "
                            "(HTTP response code: 503)")

    assert failed_scene(error(TILE.id), HEAD, TILE)
    assert failed_scene(error("S2B_T31UWT"), HEAD, PASS)  # a tile of the pass
    assert not failed_scene(error(HEAD.id), HEAD, TILE)  # the head's read: no later scene would read either
    assert not failed_scene(ArchiveError("https://stac: search failed (HTTP 503)"), HEAD, TILE)  # the archive's
    assert not failed_scene(error("S2B_T31UXT_v2"), HEAD, TILE)  # another scene whose id starts as this one's
