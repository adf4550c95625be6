"""Time-series rows: counts inside the AOI only, large vessels by length, one row per date and sensor."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from shapely.geometry import Point, box

from geo.aoi import AOI
from geo.claim_days import UTC
from geo.claims import VESSEL_SIGNATURE, Claim, Stance, TimeWindow
from geo.vessels.model import SceneDetections, VesselDetection
from geo.vessels.series import (one_row_per_day, place_unknown_modes, plot_series, plot_windows, row_day,
                                series_namer, series_rows, series_zones)


def _det(x, length, at_berth=False):
    return VesselDetection(Point(x, 0).buffer(5), x, 0.0, length, 10.0, 0.0, length * 10, 3, 10.0, 20.0, at_berth)


def _scene(scene_id, day, detections, observed, mode=""):
    return SceneDetections(scene_id, datetime(2021, 5, day, 10, tzinfo=timezone.utc), "s1", tuple(detections),
                           1000, observed, 100.0, instrument_mode=mode)


def test_rows_count_inside_and_large_and_keep_best_scene_per_date():
    inside = lambda x, y: x < 100  # noqa: E731
    results = [
        _scene("a", 1, [_det(10, 120, at_berth=True), _det(20, 30), _det(30, 100), _det(500, 200, True)], 990),
        _scene("b", 1, [_det(10, 120)], 400),  # same date, saw less: dropped
        _scene("c", 7, [], 1000),
    ]
    rows = series_rows(results, inside, 50.0, (UTC,))
    assert [r["scene"] for r in rows] == ["a", "c"]
    assert rows[0]["n_vessels"] == 3 and rows[0]["n_large"] == 2
    assert rows[0]["total_area_m2"] == 2500.0 and rows[0]["large_area_m2"] == 2200.0
    # size class for troop transport (>= 100 m) and at berth / at anchor, inside the AOI only
    assert (rows[0]["n_100m"], rows[0]["n_at_berth"], rows[0]["n_at_anchor"], rows[0]["n_100m_at_berth"]) == (2, 1, 2, 1)
    assert rows[0]["dropped_scenes"] == ["b"]
    assert rows[0]["observed_fraction"] == 0.99 and rows[1]["n_vessels"] == 0


def test_a_date_seen_in_two_modes_keeps_a_row_per_mode():
    """An IW and an EW scene of one date are two series' rows, not one row keeping the better-seen scene."""
    results = [_scene("iw", 1, [_det(10, 120)], 900, "IW"), _scene("ew", 1, [], 1000, "EW"),
               _scene("iw2", 1, [], 400, "IW")]
    rows = series_rows(results, lambda x, y: True, 50.0, (UTC,))
    assert [(r["scene"], r["instrument_mode"], r["dropped_scenes"]) for r in rows] == [
        ("ew", "EW", []), ("iw", "IW", ["iw2"])]
    namer = series_namer(rows)
    assert [namer(r) for r in rows] == ["s1 EW", "s1 IW"]
    assert series_namer(rows[1:])(rows[1]) == "s1"  # one mode: the sensor's name alone


def _stored(scene: str, day: int, mode: str | None, sensor: str = "s1") -> dict:
    """A row as a re-check store reads it back (mode None: counted before the store kept it)."""
    when = datetime(2021, 4, day, 6, tzinfo=timezone.utc)
    return {"scene": scene, "sensor": sensor, "instrument_mode": mode, "date": when.date().isoformat(),
            "datetime": when.isoformat(), "observed_fraction": 1.0}


def test_rows_of_unknown_mode_join_a_sensor_of_one_mode_and_no_series_beside_two():
    old = [_stored("old1", 1, None), _stored("old2", 2, None), _stored("opt", 2, None, "s2")]
    # no mode known yet: they stay one series per sensor, as the store's series was
    assert [(r["instrument_mode"], "mode_assumed" in r) for r in place_unknown_modes(old)] == [("", False)] * 3
    # every s1 row that says its mode says IW: the old ones join it (as assumed); s2's stay as they are
    placed = place_unknown_modes([*old, _stored("new", 3, "IW"), _stored("opt2", 3, "", "s2")])
    assert [(r["scene"], r["instrument_mode"], r.get("mode_assumed", False)) for r in placed] == [
        ("old1", "IW", True), ("old2", "IW", True), ("opt", "", False), ("new", "IW", False), ("opt2", "", False)]
    assert {series_namer(placed)(r) for r in placed} == {"s1", "s2"}
    # s1 seen in IW and EW: nothing says which the old rows were; they stay unknown, no mode of their own
    mixed = place_unknown_modes([*old, _stored("iw", 3, "IW"), _stored("ew", 4, "EW")])
    assert [(r["scene"], r["instrument_mode"]) for r in mixed if r["sensor"] == "s1"] == [
        ("old1", None), ("old2", None), ("iw", "IW"), ("ew", "EW")]
    namer = series_namer(mixed)
    assert [namer(r) for r in mixed[-2:]] == ["s1 IW", "s1 EW"]
    # an old row and a new one of one date and mode: one row, as two scenes of a date always were
    same_day = one_row_per_day(place_unknown_modes([_stored("old", 3, None), _stored("new", 3, "IW")]), (UTC,))
    assert [(r["scene"], r["dropped_scenes"]) for r in same_day] == [("new", ["old"])]


def _svg_labels(svg: str, names) -> dict[str, tuple[float, float, float]]:
    """(left x, baseline y, width) in the plot's points of each text in ``names``, as matplotlib's SVG draws it:
    a comment with the text, then a group placed at its start, one glyph per ``<use>`` at its advance."""
    out = {}
    for name in names:
        match = re.search(rf"<!--\s+{re.escape(name)}\s+-->\s*<g transform=\"translate\(([\d.]+) ([\d.]+)\) "
                          rf"scale\(([\d.]+) -[\d.]+\)\">(.*?)</g>", svg, flags=re.S)
        assert match, name
        x, y, scale = (float(v) for v in match.groups()[:3])
        advances = [float(a) for a in re.findall(r'<use xlink:href="#[^"]+" transform="translate\(([\d.]+)', match[4])]
        out[name] = (x, y, (max(advances, default=0.0) + 60) * scale)
    return out


def test_claim_window_names_on_the_plot_never_print_over_each_other(tmp_path):
    """Windows a few days apart (the synthetic port's test-quiet and test-gap) had their names drawn on one line,
    one over the other; a window at the end of the period had its name run past the plot's edge."""
    rows = [{"date": (date(2021, 4, 1) + timedelta(days=d)).isoformat(), "sensor": "s1", "n_vessels": 3,
             "n_large": 2, "total_area_m2": 9000.0, "observed_fraction": 1.0} for d in range(0, 74, 6)]
    windows = [("test-quiet", date(2021, 5, 4), date(2021, 5, 8)), ("test-gap", date(2021, 5, 9), date(2021, 5, 11)),
               ("test-ships, test-denial", date(2021, 6, 10), date(2021, 6, 14))]
    svg = tmp_path / "timeseries.svg"
    plot_series([svg], rows, "Vessels", windows)
    text = svg.read_text()
    labels = _svg_labels(text, [name for name, _, _ in windows])
    placed = sorted(labels.values())
    for (x0, y0, w0), (x1, y1, _) in zip(placed, placed[1:]):
        assert x0 + w0 <= x1 or abs(y0 - y1) >= 8, labels  # side by side, or on lines of their own
    axes = re.search(r'<g id="patch_2">\s*<path d="M ([\d.]+) ([\d.]+) \nL ([\d.]+) ', text)
    assert axes, "no axes frame"
    left, right = float(axes[1]), float(axes[3])
    assert all(left <= x and x + w <= right + 1 for x, _, w in labels.values()), (labels, left, right)


def test_a_window_name_covers_no_count_and_its_shading_no_bar(tmp_path):
    """The synthetic port's S1 report: nine ships on both dates of the last window, whose name, at the top of the
    plot, was printed over their points; and the windows' shading was drawn over the dates inside them, their area
    bars grey, not the sensor's blue, their points tinted."""
    rows = [{"date": (date(2021, 4, 1) + timedelta(days=d)).isoformat(), "sensor": "s1",
             "n_vessels": 9 if d > 64 else 3, "n_large": 9 if d > 64 else 2, "total_area_m2": 9000.0,
             "observed_fraction": 1.0} for d in [*range(0, 64, 6), 71, 73]]
    windows = [("test-quiet", date(2021, 5, 6), date(2021, 5, 8)),
               ("test-ships, test-denial", date(2021, 6, 10), date(2021, 6, 14))]
    svg = tmp_path / "timeseries.svg"
    plot_series([svg], rows, "Vessels", windows)
    text = svg.read_text()
    labels = _svg_labels(text, [name for name, _, _ in windows])
    groups = re.findall(r'<g id="PathCollection_[12]">(.*?)</g>\s*</g>', text, flags=re.S)  # all, large
    points = [(float(x), float(y)) for group in groups for x, y in re.findall(r'<use [^>]* x="([\d.]+)" y="([\d.]+)"',
                                                                                group)]
    assert len(points) == 2 * len(rows)
    for name, (left, baseline, width) in labels.items():
        under = [y for x, y in points if left - 3 <= x <= left + width + 3]
        assert all(y - 3 > baseline for y in under), (name, baseline, under)  # a marker's radius below the text
    assert any(left - 3 <= x <= left + width + 3 for x, _ in points for left, _, width in labels.values())
    area_axis = text[text.index("<!-- vessels per scene -->"):]
    for axis, first_data in ((text, '<g id="PathCollection_1">'), (area_axis, "fill: #1f5fa8; opacity: 0.7")):
        assert axis.index("fill: #f2c230") < axis.index(first_data)  # the shading under the data


def test_the_legend_covers_no_window_name_and_counts_are_whole(tmp_path):
    """A claim window from the plot's left edge (``geo run``'s vessel counts over one autumn scene): the legend, in
    the plot's upper left, was drawn over the window's name; the count axis, autoscaled around 1 to 3 vessels,
    read 1.25, 1.5, 2.75 vessels per scene and did not start at 0."""
    rows = [{"date": "2017-10-14", "sensor": "s2", "n_vessels": 3, "n_large": 1, "total_area_m2": 5000.0,
             "observed_fraction": 1.0}]
    windows = [("nantes-ships", date(2017, 9, 1), date(2017, 10, 31))]
    svg = tmp_path / "timeseries.svg"
    plot_series([svg], rows, "Vessels", windows)
    text = svg.read_text()
    labels = _svg_labels(text, ["nantes-ships", "s2: all vessels", "s2: &gt;= 50 m"])
    (x0, y0, w0) = labels.pop("nantes-ships")
    for x1, y1, w1 in labels.values():
        assert x0 + w0 <= x1 or x1 + w1 <= x0 or abs(y0 - y1) >= 10, (x0, y0, w0, labels)
    counts_axis = text[:text.index("<!-- vessels per scene -->")]
    ticks = [float(t) for t in re.findall(r"<!-- (\d+(?:\.\d+)?) -->", counts_axis)]
    assert ticks and all(t == int(t) for t in ticks), ticks
    assert 0.0 in ticks


def test_a_series_of_no_vessels_has_no_negative_counts_or_areas(tmp_path):
    """Dates that saw no ship (the demo's): both axes were autoscaled around zero, -0.04 .. 0.04 vessels and
    1000 m²."""
    rows = [{"date": day, "sensor": "s2", "n_vessels": 0, "n_large": 0, "total_area_m2": 0.0,
             "observed_fraction": 1.0} for day in ("2015-08-21", "2017-10-14")]
    svg = tmp_path / "timeseries.svg"
    plot_series([svg], rows, "Vessels", [])
    text = svg.read_text()
    counts_axis, area_axis = text.split("<!-- vessels per scene -->")
    for axis in (counts_axis, area_axis):
        ticks = [float(t.replace("\u2212", "-")) for t in re.findall(r"<!-- (\u2212?\d+(?:\.\d+)?) -->", axis)]
        assert ticks and min(ticks) == 0 and max(ticks) >= 1, ticks


def _drawn(svg: str, n_windows: int) -> tuple[list[tuple[float, float]], list[float]]:
    """The windows' shadings (left, right) in the count plot, in the windows' order, and its points' x (matplotlib's
    SVG draws the count plot first, a window's shading there before the area plot's)."""
    shadings = re.findall(r'<path d="M ([\d.]+) [\d.]+ \nL ([\d.]+) [^"]*"[^>]*fill: #f2c230', svg)
    assert len(shadings) == 2 * n_windows, shadings
    points = re.search(r'<g id="PathCollection_1">(.*?)</g>\s*</g>', svg, flags=re.S)
    assert points, "no points"
    return ([(float(a), float(b)) for a, b in shadings[:n_windows]],
            [float(x) for x in re.findall(r'<use [^>]* x="([\d.]+)"', points[1])])


def test_a_scene_is_inside_a_windows_shading_when_the_evidence_counts_it_inside(tmp_path):
    """Passes at 20:30 UTC over Vladivostok (05:18 the next day in its mean solar time) and two claims on it: one
    in the port's days (10 to 13 October), one in UTC days (the 15th). Each scene is drawn inside a window's shading
    exactly when the evidence counts it inside that window (``row_day``). On main scenes sat at their UTC dates'
    midnight and windows were shaded from their first day's midnight to their last's: the 13th's pass, the 14th
    there, was drawn inside the port's window, and a window's last day not shaded."""
    aoi = AOI("vladivostok", "Vladivostok port", "RU", "port", box(131.85, 43.08, 131.95, 43.13), "test")

    def claim(name: str, start: int, end: int, time_zone: str = "") -> Claim:
        return Claim(name, "someone", "Ships arrived.", "doc", date(2024, 10, 18), Stance.ASSERT, (aoi.id,),
                     TimeWindow(date(2024, 10, start), date(2024, 10, end)), (VESSEL_SIGNATURE,),
                     time_zone=time_zone)

    claims = [claim("port-days", 10, 13), claim("utc-days", 15, 15, "UTC")]
    windows, zone = plot_windows(claims, aoi)
    assert zone.name == "UTC+08:48" and [w.zone.name for w in windows] == ["UTC+08:48", "UTC"]
    passes = [datetime(2024, 10, day, 20, 30, tzinfo=timezone.utc) for day in range(6, 19)]
    rows = [{"date": t.date().isoformat(), "datetime": t.isoformat(), "sensor": "s1", "scene": f"S{t.day}",
             "n_vessels": 3, "n_large": 2, "total_area_m2": 9000.0, "observed_fraction": 1.0} for t in passes]
    svg = tmp_path / "timeseries.svg"
    plot_series([svg], rows, "Vessels", windows, zone=zone)
    text = svg.read_text()
    shadings, xs = _drawn(text, len(windows))
    for window, (left, right) in zip(windows, shadings):
        counted = [window.start <= row_day(r, window.zone) <= window.end for r in rows]
        assert [left < x < right for x in xs] == counted, window
    port, utc = (sorted(r["scene"] for r, inside in zip(rows, [left < x < right for x in xs]) if inside)
                 for left, right in shadings)
    assert (port, utc) == (["S10", "S11", "S12", "S9"], ["S15"])
    assert "<!-- local date (UTC+08:48, mean solar time) -->" in text
    # one zone: the plot's days are the windows'
    assert plot_windows(claims[1:], aoi)[1].name == "UTC"


VLADIVOSTOK = AOI("vladivostok", "Vladivostok port", "RU", "port", box(131.85, 43.08, 131.95, 43.13), "test")


def _claim(name: str, start: int, end: int, time_zone: str = "") -> Claim:
    return Claim(name, "someone", "Ships arrived.", "doc", date(2024, 10, 18), Stance.ASSERT, (VLADIVOSTOK.id,),
                 TimeWindow(date(2024, 10, start), date(2024, 10, end)), (VESSEL_SIGNATURE,), time_zone=time_zone)


def _pass(scene: str, when: datetime, observed: float, n_large: int = 2) -> dict:
    return {"date": when.date().isoformat(), "datetime": when.isoformat(), "sensor": "s1", "instrument_mode": "IW",
            "scene": scene, "n_vessels": n_large, "n_large": n_large, "observed_fraction": observed}


def test_two_passes_of_one_utc_date_on_two_local_days_are_a_row_each():
    """Over Vladivostok (mean solar time UTC+08:48) an ascending pass at 09:12 UTC on 13 October is 18:00 the
    13th, a descending one at 20:30 UTC the 14th: a claim's window ending the 13th counts the first. On main the
    series kept one row per UTC date and sensor, the better-seen 20:30 pass, and dropped the 13th's."""
    ascending = _pass("asc", datetime(2024, 10, 13, 9, 12, tzinfo=timezone.utc), 0.9)
    descending = _pass("desc", datetime(2024, 10, 13, 20, 30, tzinfo=timezone.utc), 1.0)
    zones = series_zones([_claim("port-days", 10, 13)], VLADIVOSTOK)
    assert [z.name for z in zones] == ["UTC+08:48"]
    rows = one_row_per_day([ascending, descending], zones)
    assert [(r["scene"], r["date"], r["local_date"], r["dropped_scenes"]) for r in rows] == [
        ("asc", "2024-10-13", "2024-10-13", []), ("desc", "2024-10-13", "2024-10-14", [])]
    # in UTC days they are one day: the better-seen pass is kept, the other named as dropped
    [utc] = one_row_per_day([ascending, descending], (UTC,))
    assert (utc["scene"], utc["local_date"], utc["dropped_scenes"]) == ("desc", "2024-10-13", ["asc"])


def test_claims_of_two_zones_keep_apart_scenes_any_of_them_puts_on_two_days():
    """A claim in the port's days and one in UTC days: passes at 23:00 UTC on the 12th (07:48 the 13th there) and
    09:12 UTC on the 13th are one local day but two UTC days, each the only scene of a UTC window's day; both are
    kept, dated (``local_date``) in the plot's zone, the port's."""
    zones = series_zones([_claim("port-days", 10, 13), _claim("utc-days", 12, 12, "UTC")], VLADIVOSTOK)
    assert [z.name for z in zones] == ["UTC+08:48", "UTC"]
    night = _pass("night", datetime(2024, 10, 12, 23, 0, tzinfo=timezone.utc), 1.0)
    evening = _pass("evening", datetime(2024, 10, 13, 9, 12, tzinfo=timezone.utc), 0.9)
    rows = one_row_per_day([night, evening], zones)
    assert [(r["scene"], r["local_date"], r["dropped_scenes"]) for r in rows] == [
        ("night", "2024-10-13", []), ("evening", "2024-10-13", [])]
    assert len(one_row_per_day([night, evening], zones[:1])) == 1  # the port's days alone: one day
    # rows read again (a re-check's store, a series written before) come out the same
    assert one_row_per_day(rows, zones) == rows


def test_a_date_left_out_for_too_little_water_seen_is_hollow_and_the_legend_says_so(tmp_path):
    """timeseries.svg opened on its own (not in the report, whose caption explains): a date that saw 40% of the
    water was drawn with an empty face, which the translucent 'all vessels' dot under it filled, and the legend
    did not say what an empty marker means. It is drawn white-faced over that dot, and named in the legend."""
    rows = [{"date": f"2021-05-0{day}", "sensor": "s1", "n_vessels": 2, "n_large": 2, "total_area_m2": 5000.0,
             "observed_fraction": seen} for day, seen in ((1, 1.0), (2, 0.4), (3, 1.0))]
    svg = tmp_path / "timeseries.svg"
    plot_series([svg], rows, "Vessels", [])
    text = svg.read_text()
    assert "<!-- hollow: saw under 80% of the water, left out of tests -->" in text
    large = re.search(r'<g id="PathCollection_2">(.*?)<g id="PathCollection_3"', text, flags=re.S)
    assert large, "no markers of large vessels"
    faces = re.findall(r"fill: (#[0-9a-f]{6})", large[1])
    assert len(faces) == 3 and faces[1] == "#ffffff" and faces[0] == faces[2] != "#ffffff", faces
    plot_series([svg], [{**r, "observed_fraction": 1.0} for r in rows], "Vessels", [])
    assert "hollow" not in svg.read_text()
