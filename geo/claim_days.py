"""The days a claim's window counts in: the local days of the place it names, not UTC's.

Claims come from news and intelligence releases that date events in local days ("arrived in Vladivostok
between 8 and 13 October"), while scenes are dated in UTC: over the Russian Far East a Sentinel-1 pass at
06:30 local on 14 October is 20:30 UTC on the 13th. So a scene is placed before, inside or after a window by
its *local* day, ``DayZone.day`` (the one mapping from a scene's datetime to a window's days).

The default zone is the AOI's mean solar time (an offset of longitude / 15 hours, to the minute): Sentinel
passes are at ~06, ~10:30, ~18 and ~22 local solar time, hours from midnight, so mean solar time dates them as
the local civil day without a time-zone database or the politics of zone borders. A claim's ``time_zone``
(an IANA name, ``UTC`` or a fixed offset ``+09:00``) overrides it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Protocol

from geo.errors import ClaimError

if TYPE_CHECKING:
    from geo.aoi import AOI


class DayWindow(Protocol):
    """A claim's window (``geo.claims.TimeWindow``, known by its shape: ``geo.claims`` imports this module)."""

    @property
    def start(self) -> date: ...

    @property
    def end(self) -> date: ...


class ZonedClaim(Protocol):
    """What of a claim (``geo.claims.Claim``) its days depend on."""

    @property
    def time_zone(self) -> str | None: ...


_OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{2}):(\d{2})$")
MAX_OFFSET = timedelta(hours=14)  # the farthest civil offset from UTC (Kiribati's Line Islands)
_LOOSE_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2}):?(\d{2})?$", re.IGNORECASE)  # UTC+9, +0900
_ETC_GMT = re.compile(r"^Etc/GMT([+-])(\d{1,2})$")
_ABBREVIATION = re.compile(r"^[A-Z]{2,5}$")  # JST, CEST: not matched to the nearest IANA name (MST)
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})  # the machine's zone, and tzdata's placeholders
ZONE_FORMS = "an IANA name like 'Asia/Vladivostok', 'UTC', or an offset like '+09:00'"


@dataclass(frozen=True)
class DayZone:
    """The zone whose days a claim window counts; ``name`` is what claims.json says (``window_time_zone``):
    ``UTC``, a fixed offset ``UTC+08:48``, or an IANA name. ``solar``: the AOI's mean solar time."""

    tz: tzinfo
    name: str
    solar: bool = False

    def day(self, moment: datetime) -> date:
        """The local day of ``moment`` (a naive one is UTC, as scene datetimes are)."""
        return self.wall_clock(moment).date()

    def start(self, day: date) -> datetime:
        """The first instant of the local ``day``, in UTC."""
        return datetime.combine(day, time.min, tzinfo=self.tz).astimezone(timezone.utc)

    def utc_dates(self, first: date, last: date) -> tuple[date, date]:
        """The UTC dates the local days ``first`` .. ``last`` touch: what an archive searched by UTC dates is
        asked for, before its scenes are placed by ``day``."""
        end = self.start(last + timedelta(days=1)) - timedelta(microseconds=1)
        return self.start(first).date(), end.date()

    @property
    def is_utc(self) -> bool:
        return self.name == "UTC"

    def label(self) -> str:
        """How a rationale names the zone: '' for UTC (the scenes' own days)."""
        if self.is_utc:
            return ""
        return f"local days ({self.name}{', mean solar time at the AOI' if self.solar else ''})"

    def day_note(self) -> str:
        """Said after a day counted in this zone where archives' dates (UTC) are listed too: '' for UTC."""
        offset = self.tz.utcoffset(None) if self.solar else None
        if self.is_utc or (offset is not None and abs(offset) < timedelta(hours=1)):
            return ""  # near Greenwich every pass (hours from midnight) has its UTC date: no note to read past
        solar = ", mean solar time at the AOI" if self.solar else ""
        return f" (a local day, {self.name}{solar}: scenes count by their date there)"

    def axis_label(self) -> str:
        """How a plot's time axis in this zone's wall-clock time names it: '' for UTC."""
        return "" if self.is_utc else f"local date ({self.name}{', mean solar time' if self.solar else ''})"

    def wall_clock(self, moment: datetime) -> datetime:
        """``moment`` (naive: UTC, as scene datetimes are) as this zone's naive wall-clock time: its local time of
        day, and where a plot in this zone's days places it."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(self.tz).replace(tzinfo=None)

    def window_text(self, window: DayWindow) -> str:
        """A window as a rationale names it: '2024-10-08 to 2024-10-13', with its zone when not UTC."""
        text = f"{window.start} to {window.end}"
        return f"{text}, {self.label()}" if self.label() else text


UTC = DayZone(timezone.utc, "UTC")


def _offset_name(offset: timedelta) -> str:
    minutes = round(offset.total_seconds() / 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def fixed_zone(offset: timedelta, solar: bool = False) -> DayZone:
    name = _offset_name(offset)
    return UTC if name == "UTC" and not solar else DayZone(timezone(offset), name, solar)


def solar_zone(lon: float) -> DayZone:
    """Mean solar time at longitude ``lon``: UTC + lon / 15 hours, to the minute."""
    return fixed_zone(timedelta(minutes=round(4 * lon)), solar=True)


def zone_named(text: str) -> DayZone:
    """The zone ``text`` names (``ZONE_FORMS``); a ``ClaimError`` saying what is wrong (no input named: the
    caller prefixes it)."""
    if text.upper() in ("UTC", "Z"):
        return UTC
    match = _OFFSET.match(text)
    if match:
        sign, hours, minutes = match.groups()
        offset = timedelta(hours=int(hours), minutes=int(minutes)) * (-1 if sign == "-" else 1)
        if int(minutes) >= 60 or abs(offset) > MAX_OFFSET:
            raise ClaimError(f"time zone offset {text!r} is out of range (-14:00 to +14:00)")
        return fixed_zone(offset)
    if text in _NOT_PLACES:
        raise ClaimError(f"time zone {text!r} is the zone of the machine geo runs on, not of the claim's place; "
                         f"give {ZONE_FORMS}")
    etc = _ETC_GMT.match(text)
    if etc and int(etc.group(2)):  # POSIX signs: Etc/GMT+9 is nine hours behind UTC, the opposite of how it reads
        written = f"{'-' if etc.group(1) == '+' else '+'}{int(etc.group(2)):02d}:00"
        raise ClaimError(f"time zone {text!r} is UTC{written} (the Etc/GMT names' signs are inverted): write "
                         f"'{written}'")
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    try:
        return DayZone(ZoneInfo(text), text)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    loose = _LOOSE_OFFSET.match(text)
    if loose:  # an offset typed another way: not matched to a name ('UTC', 'GMT+0')
        sign, hours, minutes = loose.groups()
        raise ClaimError(f"unknown time zone {text!r}: write '{sign}{int(hours):02d}:{minutes or '00'}'")
    if _ABBREVIATION.match(text):  # JST is not matched to the nearest name, MST
        raise ClaimError(f"unknown time zone {text!r}: abbreviations are ambiguous (CST is China's, Cuba's and "
                         f"Chicago's); give the place's IANA name like 'Asia/Tokyo', or an offset like '+09:00'")
    close = difflib.get_close_matches(text, sorted(available_timezones() - _NOT_PLACES), n=1) if text else []
    guess = f" (did you mean {close[0]!r}?)" if close else ""
    raise ClaimError(f"unknown time zone {text!r}{guess}; give {ZONE_FORMS}")


def aoi_zone(aoi: AOI) -> DayZone:
    """The zone a claim without ``time_zone`` counts its days in over ``aoi``: the AOI's mean solar time."""
    from geo.antimeridian import centre  # numpy and shapely: not for a command's --help, which reads claims

    return solar_zone(centre(aoi.geometry)[0])


def claim_zone(claim: ZonedClaim, aoi: AOI) -> DayZone:
    """The zone of ``claim``'s window days over ``aoi``: its ``time_zone``, else the AOI's mean solar time."""
    return zone_named(claim.time_zone) if claim.time_zone else aoi_zone(aoi)


def local_day(claim: ZonedClaim, aoi: AOI, moment: datetime) -> date:
    """The day of ``claim``'s window (over ``aoi``) a scene taken at ``moment`` (UTC) falls on."""
    return claim_zone(claim, aoi).day(moment)
