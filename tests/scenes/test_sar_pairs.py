"""Sentinel-1 pair and series selection (``geo.scenes.sar_pairs``) on a local catalog of RTC-like items:
same relative orbit and direction required, closest to the window, one scene per date in the series."""

from __future__ import annotations

import dataclasses
from datetime import datetime, time, timedelta, timezone

import numpy as np
import pytest

from geo.aoi import resolve_aoi
from geo.claim_files import load_claims
from geo.errors import DateError, NoScenesError, SceneError
from geo.scenes import sar_pairs
from geo.scenes.sar_pairs import select_sar_pair
from geo.scenes.source import LocalCatalog
from tests.change import sar_scenes as sim

TINY = {"vv": np.ones((4, 4), np.float32), "vh": np.ones((4, 4), np.float32)}  # selection reads no pixels


def _setup(tmp_path, scenes):
    aoi_dir, seeds_dir = sim.project(tmp_path / "project")
    catalog = LocalCatalog(sim.local_catalog(tmp_path / "catalog", scenes), "s1")
    return catalog, resolve_aoi("sar-site", aoi_dir), list(load_claims(seeds_dir).values())


def _scene(name, when, orbit=sim.ORBIT, state=sim.STATE):
    return (name, when, TINY, orbit, state)


def test_same_geometry_pair_closest_to_the_window_and_its_series(tmp_path):
    d = sim.DATES
    scenes = [_scene(f"A{i}", when) for i, when in enumerate(d)]
    scenes += [_scene("A2-slice", d[2] + timedelta(seconds=20)),  # the next slice of the same pass
               _scene("D-near", d[0] + timedelta(days=1), 45, "descending"),  # nearer the window, other geometry
               _scene("A-late", d[4] + timedelta(days=12), sim.ORBIT, "descending")]  # same orbit, other direction
    catalog, aoi, claims = _setup(tmp_path, scenes)
    pair = select_sar_pair(catalog, aoi, claims)
    assert (pair.before.id, pair.after.id) == ("A0", "A4")
    assert [s.date for s in pair.series] == d_dates(d)  # one scene per date, other geometries left out
    assert pair.reason["geometry"] == {"relative_orbit": sim.ORBIT, "orbit_state": sim.STATE, "instrument_mode": "IW"}
    assert pair.reason["other_geometries_seen"] == ["relative orbit 118 descending IW",
                                                     "relative orbit 45 descending IW"]
    assert pair.reason["before"]["gap_days"] == 2 and pair.reason["after"]["gap_days"] == 2
    # dates instead of the claims' windows
    pair = select_sar_pair(catalog, aoi, claims, before=d[1].date().isoformat(), after=d[3].date().isoformat())
    assert (pair.before.id, pair.after.id) == ("A1", "A3") and len(pair.series) == 3


def d_dates(dates):
    return [when.date() for when in dates]


def test_series_is_capped_evenly_keeping_both_ends(tmp_path, monkeypatch):
    monkeypatch.setattr(sar_pairs, "MAX_SERIES", 3)
    scenes = [_scene(f"A{i}", when) for i, when in enumerate(sim.DATES)]
    catalog, aoi, claims = _setup(tmp_path, scenes)
    pair = select_sar_pair(catalog, aoi, claims)
    assert [s.id for s in pair.series] == ["A0", "A2", "A4"]


def test_named_scenes_must_share_geometry_and_order(tmp_path):
    scenes = [_scene("A0", sim.DATES[0]), _scene("A4", sim.DATES[4]),
              _scene("D4", sim.DATES[4], 45, "descending"), _scene("U4", sim.DATES[4], None, None)]
    catalog, aoi, claims = _setup(tmp_path, scenes)
    with pytest.raises(SceneError, match="same relative orbit and orbit direction.*relative orbit 45 descending"):
        select_sar_pair(catalog, aoi, claims, before="A0", after="D4")
    with pytest.raises(SceneError, match="unknown orbit"):  # an item that does not say cannot be checked
        select_sar_pair(catalog, aoi, claims, before="A0", after="U4")
    with pytest.raises(DateError, match="not later than"):
        select_sar_pair(catalog, aoi, claims, before="A4", after="A0")
    assert select_sar_pair(catalog, aoi, claims, before="A0", after="A4").reason["method"] == "named by id"


def test_no_scene_before_the_window(tmp_path):
    catalog, aoi, claims = _setup(tmp_path, [_scene("A4", sim.DATES[4])])
    with pytest.raises(NoScenesError, match="no Sentinel-1 scene .* on or before"):
        select_sar_pair(catalog, aoi, claims)


def test_a_window_before_sentinel1_says_the_mission_had_not_begun(tmp_path):
    """Dates of 2013: Sentinel-1A was launched in April 2014. The after side (within 365 days of 2013-06-30)
    may hold a scene; the before side cannot, and says why."""
    catalog, aoi, claims = _setup(tmp_path, [_scene(f"A{i}", when) for i, when in enumerate(sim.DATES)])
    with pytest.raises(NoScenesError) as refused:
        select_sar_pair(catalog, aoi, claims, before="2013-01-15", after="2013-06-30")
    assert str(refused.value).endswith(
        "on or before 2013-01-15 within 365 days in " + catalog.name
        + "; Sentinel-1's first satellite was launched on 2014-04-03: no scene of it is older; the catalog's 5 "
        "dates over the AOI: 2022-03-01, 2022-03-13, 2022-03-25, 2022-04-06, 2022-04-18")  # as a Sentinel-2 side's


def test_the_pair_brackets_the_window_in_its_local_days(tmp_path):
    """A claim dated in Vladivostok's days (time_zone UTC+10): the pass at 20:30 UTC on the window's first day
    was taken on the next day there, inside the window, and is no before scene; the one at 20:30 UTC the day
    before the window's end was taken on its last day there, and is the closest after scene (on main, by UTC
    dates, the first was the before scene, 0 days away, and the second no candidate)."""
    d = sim.DATES
    start, end = (d[0] + timedelta(days=2)).date(), (d[4] - timedelta(days=2)).date()
    evening = lambda day: datetime.combine(day, time(20, 30), tzinfo=timezone.utc)  # noqa: E731
    scenes = [_scene(f"A{i}", when) for i, when in enumerate(d)]
    scenes += [_scene("A-start-evening", evening(start)), _scene("A-end-eve", evening(end - timedelta(days=1)))]
    catalog, aoi, claims = _setup(tmp_path, scenes)
    claims = [dataclasses.replace(c, time_zone="+10:00") for c in claims]
    pair = select_sar_pair(catalog, aoi, claims)
    assert (pair.before.id, pair.after.id) == ("A0", "A-end-eve")
    assert pair.reason["before"]["gap_days"] == 2 and pair.reason["after"]["gap_days"] == 0
    assert pair.reason["anchors"]["time_zone"] == "UTC+10:00"
    # the day the gap counts from, beside the UTC date: the window's last day there, the day before in UTC
    after = pair.reason["after"]
    assert (after["date"], after["local_date"]) == ((end - timedelta(days=1)).isoformat(), end.isoformat())
    assert [s.id for s in pair.series] == ["A0", "A-start-evening", "A1", "A2", "A3", "A-end-eve"]


def test_a_side_without_a_scene_names_the_claim_whose_window_set_it(tmp_path):
    """One late claim among the AOI's blocked a Sentinel-1 run naming neither it nor a way out (as a
    Sentinel-2 side says since the grown-registry walk)."""
    from geo.claims import TimeWindow

    catalog, aoi, claims = _setup(tmp_path, [_scene(f"A{i}", when) for i, when in enumerate(sim.DATES)])
    late_end = (sim.DATES[4] + timedelta(days=500)).date()
    late = dataclasses.replace(claims[0], id="late-claim", window=TimeWindow(late_end - timedelta(days=3), late_end))
    with pytest.raises(NoScenesError) as refused:
        select_sar_pair(catalog, aoi, [*claims, late])
    assert str(refused.value).endswith(
        f"; {late_end} ends the window of claim 'late-claim', the latest of the 3 claims on the AOI: run on the others "
        "with --claim, or give --before and --after"), str(refused.value)
