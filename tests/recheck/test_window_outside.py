"""The part of an AOI outside the scenes in a window verdict over stored pairs (the store records each pair's
scenes' nodata share since schema 6): said in the rationale as ``geo run`` says it; unknown (pairs stored before)
is not taken for "none outside". And the share outside lowers a verdict's confidence exactly as cloud does: both
are the part of the AOI not seen clear on both dates (``clear_fraction``)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from geo.aoi import aoi_from_geojson
from geo.claims import claim_from_table
from geo.link import PairContext
from geo.recheck.window_verdicts import window_verdicts
from geo.store import PairRow, SceneRef
from geo.verdicts import verdicts

AOI = aoi_from_geojson({"type": "Feature", "properties": {"id": "quay", "name": "Quay", "kind": "port"},
                        "geometry": {"type": "Polygon", "coordinates": [[[-1.56, 47.19], [-1.49, 47.19],
                                                                        [-1.49, 47.215], [-1.56, 47.215],
                                                                        [-1.56, 47.19]]]}}, "test")
CLAIM = claim_from_table({"id": "quay-works", "claimant": "Moi", "statement": "Works on the quay.",
                          "date_stated": date(2021, 7, 1), "aoi_ids": ["quay"], "signatures": ["new_construction"],
                          "window": {"start": date(2021, 3, 5), "end": date(2021, 5, 25)}},
                         {"title": "test"}, "test")
NOTE = " 30% of the area lies outside the scenes and was not seen at all: nothing is known of that part."


def scene(day: int, month: int) -> SceneRef:
    return SceneRef(f"S{month:02d}{day:02d}", datetime(2021, month, day, 11, tzinfo=timezone.utc))


def chain(second_pair_nodata: tuple[float | None, float | None]) -> list[PairRow]:
    a, b, c = scene(1, 3), scene(1, 4), scene(1, 6)
    return [PairRow(a, b, "done", 0.9, 1, (0.1, 0.1)), PairRow(b, c, "done", 0.7, 2, second_pair_nodata)]


def test_the_segment_says_the_largest_share_outside_its_scenes():
    result, = window_verdicts(AOI, [CLAIM], chain((0.1, 0.3)), {}, 0.5)
    verdict = result.verdict
    assert verdict.verdict == "no evidence found" and verdict.extra["n_pairs"] == 2
    assert verdict.clear_fraction == 0.7  # the worst pair's
    assert verdict.extra["outside_fraction"] == 0.3
    assert verdict.rationale.endswith(NOTE)
    assert verdict.rationale.startswith("70% of the area was clear on both dates")


def test_a_share_not_recorded_is_unknown_not_none_outside():
    result, = window_verdicts(AOI, [CLAIM], chain((None, None)), {}, 0.5)
    assert result.verdict.extra["outside_fraction"] is None
    assert "outside the scenes" not in result.verdict.rationale
    assert result.verdict.confidence == 0.7  # the clear share, known all the same, still bounds it


@pytest.mark.parametrize("outside", [0.3, 0.0])  # 30% outside the scenes, or 30% under cloud
def test_outside_lowers_confidence_as_cloud_does(outside):
    when = (datetime(2021, 3, 1, 11, tzinfo=timezone.utc), datetime(2021, 6, 1, 11, tzinfo=timezone.utc))
    seen = PairContext(AOI, *when, clear_fraction=0.7, outside_fraction=outside)
    full = PairContext(AOI, *when, clear_fraction=1.0)
    judged, = verdicts([CLAIM], [], seen)
    fully, = verdicts([CLAIM], [], full)
    assert (judged.verdict, fully.verdict) == ("no evidence found", "no evidence found")
    assert judged.confidence == 0.7 < fully.confidence == 0.8
    assert judged.rationale.endswith(NOTE) == bool(outside)
