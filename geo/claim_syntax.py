"""What a hand-written claims file gets wrong in its TOML, said in words: a date typed as people type dates
(``2024-10-8``, ``08/10/2024``, a time without seconds) or a typographic quote, which the TOML parser reports
only as a bad value or an unclosed table at a line and column."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from geo.claim_days import ZONE_FORMS, fixed_zone, zone_named
from geo.dates import DATE_PATTERN
from geo.errors import ClaimError

_WHERE = re.compile(r"\(at line (\d+), column (\d+)\)")
# A run of digits and date/time separators that starts like a date (day, month and year in any order).
_DATE_LIKE = re.compile(r"(?<![\w\"'])\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[T ]\d{1,2}:\d{2}[\d:.]*(?:Z|[+-]\d{2}:?\d{2})?)?")
_CURLY_QUOTES = "“”„‟‘’‚‛«»"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")  # not calendar.month_name: the locale's


def toml_hint(text: str, error: str) -> str:
    """What is wrong on the line a TOML parser ``error`` names, in words ('; ...'), or '' when nothing known is."""
    where = _WHERE.search(error)
    if where is None:
        return ""
    lines = text.splitlines()
    number, column = int(where.group(1)), int(where.group(2))
    line = lines[number - 1] if 0 < number <= len(lines) else ""
    value = line.split("=", 1)[-1].strip()
    if any(char and char in _CURLY_QUOTES for char in (line[column - 1:column], value[:1])):
        return "; typographic quotes (“ ” ‘ ’) do not quote a TOML string: use straight ones \"...\""
    unquoted = re.sub(r"\"[^\"]*(?:\"|$)|'[^']*(?:'|$)", '""', line)  # a date inside a string is text
    for match in _DATE_LIKE.finditer(unquoted):
        if not _is_toml_value(match.group()):
            what = "no day of the calendar" if DATE_PATTERN.match(match.group()) else "not a TOML date"
            return f"; {match.group()} is {what}: {_date_advice(match.group())}"
    return _layout_hint(error, line, unquoted) or _value_hint(error, line, line[column - 1:column])


def _value_hint(error: str, line: str, char: str) -> str:
    """The slips of values: text without its quotes (``stance = assert``, ``aoi_ids = [my-port]``), which TOML
    calls an 'Invalid value', and a list's entries without the comma between them, an 'Unclosed array'."""
    key, _, value = (part.strip() for part in line.partition("="))
    if error.startswith("Invalid value") and char.isalpha():
        if value.startswith("["):
            entries = (entry.strip() for entry in value.strip("[] ").split(","))
            value = "[" + ", ".join(entry if entry[:1] in "\"'" else f'"{entry}"' for entry in entries) + "]"
        else:
            value = f'"{value}"'
        return f"; text is written in double quotes: {key} = {value}"
    if error.startswith("Unclosed array") and (char in "\"'" or char.isalnum()):
        return '; the entries of a list are separated by commas: ["new_construction", "earthworks"]'
    if error.startswith("Unclosed inline table") and char.isalpha():
        return ("; the entries of an inline table are separated by commas: "
                "window = { start = 2024-10-08, end = 2024-10-13 }")
    return ""


def _layout_hint(error: str, line: str, unquoted: str) -> str:
    """The slips of layout TOML does not allow: an inline table over several lines or with a trailing comma, a
    string over several lines, a key given twice."""
    if "{" in unquoted and (unquoted.rstrip().endswith("{") or re.search(r",\s*}", unquoted)):
        return ("; an inline table { ... } is written on one line, with no comma after its last entry: "
                "window = { start = 2024-10-08, end = 2024-10-13 }")
    if error.startswith("Illegal character '\\n'") and unquoted.rstrip().endswith('""'):
        return '; a string ends on its own line: close its quote, or use triple quotes """...""" for several lines'
    if error.startswith("Cannot overwrite a value"):
        return f"; the key {line.split('=', 1)[0].strip()!r} is given twice in its table"
    twice = re.match(r"Cannot (?:declare|mutate immutable namespace) \((?:'\w+', )*'(\w+)',?\)", error)
    if twice and twice.group(1) == "document":
        return "; [document] is given twice: a file holds one, with each [[claim]] after it"
    if twice:  # window = { ... } and then [claim.window] or window.start = ...: one table given twice
        return f"; {twice.group(1)!r} is given twice: once is enough, as {twice.group(1)} = {{ ... }} or as its own table"
    return ""


def _is_toml_value(token: str) -> bool:
    import tomllib

    try:
        tomllib.loads(f"value = {token}")
    except tomllib.TOMLDecodeError:
        return False
    return True


def _date_advice(token: str) -> str:
    """What to write instead of a date-like ``token``: its ISO form when that can be told."""
    text = re.split(r"[T ]", token, maxsplit=1)[0]
    if text != token:  # a date-time
        try:
            return day_alone(datetime.fromisoformat(token))
        except ValueError:
            return day_alone(None)
    parts = re.split(r"[-/.]", text)
    first, second, third = (int(part) for part in parts)
    if len(parts[0]) == 4:  # year first
        year, month, day = first, second, third
    elif first > 12 >= second:  # day/month/year
        year, month, day = third, second, first
    elif second > 12 >= first:  # month/day/year
        year, month, day = third, first, second
    else:
        return f"write YYYY-MM-DD (whether {text} is day/month or month/day is not guessed)"
    fault = calendar_fault(year, month, day) if year >= 1 else ""
    if fault:  # '2024-10-32' is written right: no form to advise, the day does not exist
        return fault if DATE_PATTERN.match(text) else f"write YYYY-MM-DD; and {fault}"
    if year < 1000:  # '10/08/24': the century is not guessed either
        return "write YYYY-MM-DD, e.g. 2024-10-08"
    iso = date(year, month, day).isoformat()
    return f"write YYYY-MM-DD{' with a two-digit month and day' if len(parts[0]) == 4 else ''} ({iso})"


def calendar_fault(year: int, month: int, day: int) -> str:
    """Why year-month-day is no day of the calendar ('October 2024 has 31 days'), or '' when it is one."""
    if not 1 <= month <= 12:
        return f"there is no month {month}"
    days = calendar.monthrange(year, month)[1]
    if day < 1:
        return f"there is no day {day}"
    return "" if day <= days else f"{_MONTHS[month - 1]} {year} has {days} days"


def day_alone(moment: datetime | None) -> str:
    """Why a claim's date-time is refused and what to write: the day alone, the day where it was stated (a
    window is whole days, the local days of the claim's place: ``geo.claim_days``), with the ``time_zone`` that
    counts the days in the zone stated."""
    if moment is None or moment.tzinfo is None:
        return "write the day alone (a window is whole days, the local days of the claim's place)"
    offset = moment.utcoffset() or timedelta(0)
    zone = fixed_zone(offset).name.removeprefix("UTC") or "UTC"
    return (f"write the day alone: {moment.date()} where it was stated (a window is whole days, the local days of "
            f"the claim's place; time_zone = \"{zone}\" counts them in the zone stated)")


def claim_date(entry: Mapping[str, object], key: str, where: str) -> date:
    """The date of field ``key`` of a claim: a TOML date or a string YYYY-MM-DD. A date-time is refused (its
    day is the one where it was stated: the message says so), and so is any other way of writing a date."""
    value = entry.get(key)
    if value is None:
        raise ClaimError(f"{where}: field '{key}' is missing (a date YYYY-MM-DD)")
    if isinstance(value, str):
        value = _parsed(value.strip(), key, where)
    if isinstance(value, datetime):  # a TOML date-time (a date subclass), or a string one
        raise ClaimError(f"{where}: field '{key}' must be a date YYYY-MM-DD, got the date-time {value.isoformat()}; "
                         f"{day_alone(value)}")
    if isinstance(value, date):
        return value
    raise ClaimError(f"{where}: field '{key}' must be a date YYYY-MM-DD, got {value!r}")


def _parsed(text: str, key: str, where: str) -> date:
    """A string date: YYYY-MM-DD only (``date.fromisoformat`` also takes 20241008 and 2024-W41-2), or a
    date-time (to be refused with its day)."""
    if DATE_PATTERN.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            year, month, day = map(int, text.split("-"))
            raise ClaimError(f"{where}: field '{key}' {text!r} is not a valid date "
                             f"({calendar_fault(year, month, day) or exc})") from None
    if _DATE_LIKE.fullmatch(text):
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            raise ClaimError(f"{where}: field '{key}' must be a date YYYY-MM-DD, got {text!r}; "
                             f"{_date_advice(text)}") from None
    raise ClaimError(f"{where}: field '{key}' must be a date YYYY-MM-DD, got {text!r}")


def claim_time_zone(entry: Mapping[str, object], where: str) -> str:
    """A claim's ``time_zone`` as given ('' when absent: the AOI's mean solar time), once it names a zone."""
    value = entry.get("time_zone", "")
    if not isinstance(value, str) or (value != "" and not value.strip()):
        raise ClaimError(f"{where}: field 'time_zone' must be {ZONE_FORMS}, got {value!r}")
    if value:
        try:
            zone_named(value.strip())
        except ClaimError as exc:
            raise ClaimError(f"{where}: field 'time_zone': {exc}") from None
    return value.strip()


def window_not_a_table(value: object) -> str:
    """What to write for a window typed as a string ('2016-01-01/2017-06-30') or a list of dates: its own two
    dates in a table when they can be read off it."""
    got = f"the string {value!r}" if isinstance(value, str) else "a list" if isinstance(value, list) else repr(value)
    text = " ".join(map(str, value)) if isinstance(value, list) else str(value)  # str(a TOML date): ISO
    dates = re.findall(r"\d{4}-\d{2}-\d{2}", text)
    start, end = dates if len(dates) == 2 else ("YYYY-MM-DD", "YYYY-MM-DD")
    return f"field 'window' must be a table of two dates, got {got}: write window = {{ start = {start}, end = {end} }}"
