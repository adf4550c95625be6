"""Dates typed on the command line: ISO ``YYYY-MM-DD`` only, refused with a message naming the option."""

from __future__ import annotations

import re
from datetime import date

from geo.errors import DateError

DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(text: str, option: str) -> date:
    if not DATE_PATTERN.match(text):  # fromisoformat also takes 20150821 and 2015-W34-5
        raise DateError(f"{option} {text!r}: not a date; dates are ISO YYYY-MM-DD (e.g. 2015-08-21)")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise DateError(f"{option} {text!r}: not a valid date ({exc})") from None


def year_slip(day: date, first: date, today: date) -> date | None:
    """The date ``day`` probably meant when it is before ``first`` (a mission's first scenes): the latest date one
    digit of its year away (2004 -> 2024, 1025 -> 2025) from ``first`` to ``today``; None when there is none."""
    year = f"{day.year:04d}"
    meant = []
    for at in range(4):
        for digit in "0123456789":
            try:
                other = day.replace(year=int(year[:at] + digit + year[at + 1:]))
            except ValueError:  # 29 February of a year not leap
                continue
            if first <= other <= today:
                meant.append(other)
    return max(meant, default=None)
