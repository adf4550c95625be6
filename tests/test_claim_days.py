"""A claim window's days are the place's local days: a scene's UTC datetime mapped onto them (geo.claim_days),
by the AOI's mean solar time or the claim's ``time_zone``; the verdicts placing a pair around the window."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timezone

import pytest
from shapely.geometry import box

from geo.aoi import AOI
from geo.claim_days import claim_zone, local_day, solar_zone, zone_named
from geo.claims import Claim, Stance, TimeWindow
from geo.errors import ClaimError
from geo.link import CONSISTENT, NOT_TESTED, PairContext, link_features
from geo.verdicts import verdicts, window_share
from tests.synthetic import change_feature

VLADIVOSTOK = AOI("vladivostok", "Vladivostok port", "RU", "port", box(131.85, 43.08, 131.95, 43.13), "test")
NANTES = AOI("nantes", "Nantes port", "FR", "port", box(-1.6, 47.19, -1.5, 47.215), "test")
SANTIAGO = AOI("valparaiso", "Valparaiso port", "CL", "port", box(-71.65, -33.05, -71.6, -33.0), "test")
PASS = datetime(2024, 10, 13, 20, 30, tzinfo=timezone.utc)  # Sentinel-1 descending over Vladivostok: 06:30 there


def claim(aoi: AOI, time_zone: str = "", start: date = date(2024, 10, 8), end: date = date(2024, 10, 13)) -> Claim:
    return Claim("troops", "someone", "Troops arrived.", "doc", date(2024, 10, 18), Stance.ASSERT, (aoi.id,),
                 TimeWindow(start, end), ("new_construction",), time_zone=time_zone)


@pytest.mark.parametrize("aoi, time_zone, day", [
    (VLADIVOSTOK, "", date(2024, 10, 14)),  # mean solar UTC+08:47: 05:17 on the 14th
    (NANTES, "", date(2024, 10, 13)),  # UTC-00:06: 20:24 on the 13th
    (VLADIVOSTOK, "UTC", date(2024, 10, 13)),
    (VLADIVOSTOK, "Asia/Vladivostok", date(2024, 10, 14)),  # UTC+10
    (NANTES, "+09:00", date(2024, 10, 14)),
    (NANTES, "America/Santiago", date(2024, 10, 13)),  # UTC-3 in its summer
])
def test_a_utc_datetime_falls_on_the_claims_local_day(aoi, time_zone, day):
    assert local_day(claim(aoi, time_zone), aoi, PASS) == day


def test_an_evening_pass_in_the_americas_is_its_own_day_not_the_next():
    """An ascending pass at ~18:00 local over Chile is 22:xx UTC; over lon -100 (18:00 solar) 00:40 UTC the next
    day, which the UTC date put a day late."""
    assert solar_zone(-100.0).day(datetime(2024, 10, 14, 0, 40, tzinfo=timezone.utc)) == date(2024, 10, 13)
    assert local_day(claim(SANTIAGO), SANTIAGO, datetime(2024, 10, 13, 22, 45, tzinfo=timezone.utc)) == \
        date(2024, 10, 13)


def test_zones_are_named_as_claims_json_says_them():
    assert claim_zone(claim(VLADIVOSTOK), VLADIVOSTOK).name == "UTC+08:48"  # lon 131.9: 527.6 minutes
    assert claim_zone(claim(NANTES), NANTES).name == "UTC-00:06"
    assert claim_zone(claim(NANTES, "Asia/Vladivostok"), NANTES).name == "Asia/Vladivostok"
    assert zone_named("+09:30").name == zone_named("UTC+09:30").name == "UTC+09:30"
    assert zone_named("+00:00") == zone_named("utc") == zone_named("UTC")
    assert solar_zone(131.9).start(date(2024, 10, 8)) == datetime(2024, 10, 7, 15, 12, tzinfo=timezone.utc)
    # a local day searched by UTC dates: those it touches
    assert solar_zone(131.9).utc_dates(date(2024, 10, 8), date(2024, 10, 13)) == (date(2024, 10, 7), date(2024, 10, 13))
    assert solar_zone(-1.55).utc_dates(date(2024, 10, 8), date(2024, 10, 13)) == (date(2024, 10, 8), date(2024, 10, 14))


@pytest.mark.parametrize("text, says", [
    ("Asia/Vladivostock", "unknown time zone 'Asia/Vladivostock' (did you mean 'Asia/Vladivostok'?)"),
    ("-14:30", "time zone offset '-14:30' is out of range (-14:00 to +14:00)"),
    ("+09:75", "time zone offset '+09:75' is out of range"),
    ("../etc/passwd", "unknown time zone '../etc/passwd'"),
    # the machine's own zone: the same claims file would count other days on another machine
    ("localtime", "time zone 'localtime' is the zone of the machine geo runs on"),
    ("local", "unknown time zone 'local'; give"),  # not "did you mean 'localtime'?"
    # an offset typed another way is given back as it is written, not matched to a name ('UTC', 'GMT+0')
    ("UTC+9", "unknown time zone 'UTC+9': write '+09:00'"),
    ("GMT+9", "unknown time zone 'GMT+9': write '+09:00'"),
    ("+0900", "unknown time zone '+0900': write '+09:00'"),
    ("-3", "unknown time zone '-3': write '-03:00'"),
    ("+5:30", "unknown time zone '+5:30': write '+05:30'"),
    # POSIX's Etc/GMT names count the other way: Etc/GMT+9 is nine hours *behind* UTC
    ("Etc/GMT+9", "time zone 'Etc/GMT+9' is UTC-09:00 (the Etc/GMT names' signs are inverted): write '-09:00'"),
    ("Etc/GMT-14", "time zone 'Etc/GMT-14' is UTC+14:00 (the Etc/GMT names' signs are inverted): write '+14:00'"),
    # an abbreviation is not matched to the nearest name: JST is not MST
    ("JST", "unknown time zone 'JST': abbreviations are ambiguous"),
    ("CEST", "unknown time zone 'CEST': abbreviations are ambiguous"),
])
def test_a_zone_that_is_none_is_refused_saying_what_to_write(text, says):
    with pytest.raises(ClaimError) as raised:
        zone_named(text)
    assert str(raised.value).startswith(says), raised.value
    assert "MST" not in str(raised.value) and "localtime'?" not in str(raised.value)


def test_zone_names_that_are_zones_stay_taken():
    assert zone_named("EST").day(datetime(2024, 10, 9, 3, 0, tzinfo=timezone.utc)) == date(2024, 10, 8)
    assert zone_named("Etc/UTC").day(datetime(2024, 10, 9, 23, 0, tzinfo=timezone.utc)) == date(2024, 10, 9)
    assert zone_named("Japan").day(datetime(2024, 10, 9, 16, 0, tzinfo=timezone.utc)) == date(2024, 10, 10)


def context(before: datetime, after: datetime, aoi: AOI = VLADIVOSTOK) -> PairContext:
    return PairContext(aoi, before, after, 1.0, 0.5, {"id": "BEFORE"}, {"id": "AFTER"}, 1.0, 1.0)


def test_a_before_scene_on_the_windows_first_evening_is_inside_it_there():
    """The before scene at 20:30 UTC on 8 October, the window's first day, was taken on the 9th in
    Vladivostok: inside the window, so the pair does not bracket it (on main: 'on or before its start')."""
    c = claim(VLADIVOSTOK)
    late = context(datetime(2024, 10, 8, 20, 30, tzinfo=timezone.utc), PASS)
    changes = [change_feature(VLADIVOSTOK.geometry.centroid.buffer(0.002), "new_bright_surface", area_m2=5000.0,
                              confidence=0.95, type_confidence=0.9)]
    [verdict] = verdicts([c], link_features(changes, [c], late), late)
    assert verdict.verdict == NOT_TESTED and not verdict.pair_brackets_window
    assert verdict.window_time_zone == "UTC+08:48"
    assert verdict.rationale == (
        "The scenes (2024-10-08 and 2024-10-13; 2024-10-09 and 2024-10-14 in the window's days) do not lie on "
        "either side of the claim window 2024-10-08 to 2024-10-13, local days (UTC+08:48, mean solar time at the AOI), so "
        "this pair cannot test it.")
    # the morning pass of the 8th there (21:30 UTC on the 7th) is before it; the one of the 14th after it
    early = context(datetime(2024, 10, 7, 21, 30, tzinfo=timezone.utc), PASS)
    [verdict] = verdicts([c], link_features(changes, [c], early), early)
    assert verdict.verdict == CONSISTENT and verdict.pair_brackets_window
    assert window_share(c, early) == 1.0  # 6 days of window in the 6 days from the 8th to the 14th there
    in_utc = dataclasses.replace(c, time_zone="UTC")
    assert window_share(in_utc, early) == 1.0 and window_share(in_utc, context(early.before_time, PASS.replace(
        day=20))) == 0.46  # 6 of 13 days


def test_an_aoi_split_at_the_antimeridian_keeps_its_solar_time():
    """Taveuni (Fiji) drawn in two parts, east and west of 180: its centroid's longitude is ~0, 12 hours off."""
    from shapely.geometry import MultiPolygon

    split = AOI("taveuni", "Taveuni", "FJ", "island", MultiPolygon([box(179.7, -17.0, 180.0, -16.7),
                                                                    box(-180.0, -17.0, -179.9, -16.7)]), "test")
    assert claim_zone(claim(split), split).name == "UTC+12:00"  # lon 179.9, not -0.0
