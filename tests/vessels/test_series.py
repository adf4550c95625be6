"""Time-series rows: counts inside the AOI only, large vessels by length, one row per date and sensor."""

from __future__ import annotations

from datetime import datetime, timezone

from shapely.geometry import Point

from geo.vessels.model import SceneDetections, VesselDetection
from geo.vessels.series import series_rows


def _det(x, length, at_berth=False):
    return VesselDetection(Point(x, 0).buffer(5), x, 0.0, length, 10.0, 0.0, length * 10, 3, 10.0, 20.0, at_berth)


def _scene(scene_id, day, detections, observed):
    return SceneDetections(scene_id, datetime(2021, 5, day, 10, tzinfo=timezone.utc), "s1", tuple(detections),
                           1000, observed, 100.0)


def test_rows_count_inside_and_large_and_keep_best_scene_per_date():
    inside = lambda x, y: x < 100  # noqa: E731
    results = [
        _scene("a", 1, [_det(10, 120, at_berth=True), _det(20, 30), _det(30, 100), _det(500, 200, True)], 990),
        _scene("b", 1, [_det(10, 120)], 400),  # same date, saw less: dropped
        _scene("c", 7, [], 1000),
    ]
    rows = series_rows(results, inside, 50.0)
    assert [r["scene"] for r in rows] == ["a", "c"]
    assert rows[0]["n_vessels"] == 3 and rows[0]["n_large"] == 2
    assert rows[0]["total_area_m2"] == 2500.0 and rows[0]["large_area_m2"] == 2200.0
    # size class for troop transport (>= 100 m) and at berth / at anchor, inside the AOI only
    assert (rows[0]["n_100m"], rows[0]["n_at_berth"], rows[0]["n_at_anchor"], rows[0]["n_100m_at_berth"]) == (2, 1, 2, 1)
    assert rows[0]["dropped_scenes"] == ["b"]
    assert rows[0]["observed_fraction"] == 0.99 and rows[1]["n_vessels"] == 0
