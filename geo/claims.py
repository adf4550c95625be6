"""Claims taken from source documents (``seeds/*.toml``), validated into immutable ``Claim`` values.

A seeds file holds one ``[document]`` table (the source) and one ``[[claim]]`` table per claim.
See ``seeds/README.md`` for the format; ``geo.claim_files`` reads a seeds folder.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path

from geo.claim_syntax import claim_date, claim_time_zone, window_not_a_table
from geo.errors import ClaimError
from geo.text_files import plain_text

log = logging.getLogger(__name__)

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class Stance(StrEnum):
    ASSERT = "assert"
    DENY = "deny"


@dataclass(frozen=True)
class Signature:
    """Something a claim predicts the imagery would show, and whether 10 m pixels can show it."""

    name: str
    observable: bool
    change_types: tuple[str, ...]
    description: str


# Ships: counted per date by the vessel job (geo.vessels), besides the change polygons' types.
VESSEL_SIGNATURE = "large_vessels_at_berth"

# The controlled vocabulary of signatures. Change types are those the change stage assigns.
SIGNATURES: dict[str, Signature] = {
    s.name: s
    for s in (
        Signature(VESSEL_SIGNATURE, True, ("vessel", "new_bright_surface"),
                  "ships over ~25 m at berth or anchor"),
        Signature("vehicle_parks", True, ("new_bright_surface",), "rows of vehicles or equipment in the open"),
        Signature("tent_camps", True, ("new_bright_surface", "vegetation_loss"), "new tent or shelter camps"),
        Signature("new_construction", True, ("new_bright_surface",), "new buildings, hard standing"),
        Signature("earthworks", True, ("bare_soil", "vegetation_loss"), "berms, trenches, cleared ground"),
        Signature("cleared_land", True, ("vegetation_loss", "bare_soil"), "vegetation removed"),
        Signature("flags", False, (), "a flag: far below a 10 m pixel"),
        Signature("personnel", False, (), "people: far below a 10 m pixel"),
    )
}


# The fields a [[claim]] table may hold (seeds/README.md).
CLAIM_FIELDS = ("id", "claimant", "statement", "source", "source_url", "date_stated", "stance", "denies", "aoi_ids",
                "window", "time_zone", "signatures", "notes")


@dataclass(frozen=True)
class TimeWindow:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"window end {self.end} is before its start {self.start}")

    def bracketed_by(self, before: date, after: date) -> bool:
        """True when a scene pair (before, after) lies on either side of the whole window."""
        return before <= self.start and after >= self.end

    def to_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True)
class Claim:
    id: str
    claimant: str
    statement: str
    source: str
    date_stated: date
    stance: Stance
    aoi_ids: tuple[str, ...]
    window: TimeWindow
    signatures: tuple[str, ...]
    notes: str = ""
    denies: tuple[str, ...] = ()
    source_url: str = ""
    time_zone: str = ""  # the days of the window: "" for the AOI's mean solar time (geo.claim_days)
    path: Path | None = field(default=None, compare=False)

    @property
    def observable(self) -> bool:
        """Whether any expected signature is within reach of 10 m pixels."""
        return any(SIGNATURES[s].observable for s in self.signatures)

    def summary(self) -> dict[str, object]:
        return {
            "id": self.id,
            "claimant": self.claimant,
            "statement": self.statement,
            "source": self.source,
            "source_url": self.source_url,
            "date_stated": self.date_stated.isoformat(),
            "stance": str(self.stance),
            "aoi_ids": list(self.aoi_ids),
            "window": self.window.to_dict(),
            "time_zone": self.time_zone or None,
            "signatures": list(self.signatures),
            "observable": self.observable,
            "denies": list(self.denies),
            "notes": self.notes,
        }


def _text(entry: Mapping[str, object], key: str, where: str, required: bool = True) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ClaimError(f"{where}: field '{key}' must be a non-empty string")
    return plain_text(value.strip(), f"field '{key}'", where, ClaimError)


def _ids(entry: Mapping[str, object], key: str, where: str, required: bool = True) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or (required and not value):
        example = f' in brackets, ["{value}"]' if isinstance(value, str) and value else ""
        raise ClaimError(f"{where}: field '{key}' must be a {'non-empty ' if required else ''}list of ids{example}")
    twice = next((v for i, v in enumerate(value) if v in value[:i]), None)
    if twice is not None:  # carried into claims.json and the report twice
        raise ClaimError(f"{where}: field '{key}' lists {twice!r} twice")
    return tuple(value)


def _document_title(document: Mapping[str, object], where: str) -> str:
    title = document.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ClaimError(f"{where}: needs a 'source', or a 'title' in the file's [document] table")
    return plain_text(title.strip(), "field 'title'", where, ClaimError)


def claim_from_table(entry: Mapping[str, object], document: Mapping[str, object], where: str, path: Path | None = None) -> Claim:
    claim_id = entry.get("id")
    if claim_id is None:  # 'got None' said it in Python's words; the statement tells which [[claim]] it is
        statement = entry.get("statement")
        which = f" (the one stating {' '.join(statement.split())[:50]!r})" if isinstance(statement, str) else ""
        raise ClaimError(f"{where}: a [[claim]] has no 'id'{which}: give it a lower-case slug such as 'my-claim'")
    if not isinstance(claim_id, str) or not ID_PATTERN.match(claim_id):
        raise ClaimError(f"{where}: claim 'id' must be a lower-case slug like 'my-claim' (ASCII a-z, 0-9, '-', '_'; "
                         f"the other fields take any script), got {claim_id!r}")
    where = f"{where} claim {claim_id!r}"
    unknown_fields = [key for key in entry if key not in CLAIM_FIELDS]
    if unknown_fields:  # a misspelt optional field ('note', 'deny') would otherwise be dropped unseen
        close = difflib.get_close_matches(unknown_fields[0], CLAIM_FIELDS, n=1)
        guess = f" (did you mean {close[0]!r}?)" if close else ""
        raise ClaimError(f"{where}: unknown field(s) {', '.join(map(repr, unknown_fields))}{guess}; "
                         f"known: {', '.join(CLAIM_FIELDS)}")
    stance_text = entry.get("stance", "assert")
    try:
        stance = Stance(str(stance_text))  # no TOML value but the strings themselves reads as a stance
    except ValueError:
        close = difflib.get_close_matches(str(stance_text).lower(), [str(s) for s in Stance], n=1, cutoff=0.7)
        guess = f" (did you mean {close[0]!r}?)" if close else ""
        raise ClaimError(f"{where}: stance must be 'assert' or 'deny', got {stance_text!r}{guess}") from None
    window_table = entry.get("window")
    if window_table is None:
        raise ClaimError(f"{where}: missing window = {{ start = YYYY-MM-DD, end = YYYY-MM-DD }}")
    if not isinstance(window_table, Mapping):
        raise ClaimError(f"{where}: {window_not_a_table(window_table)}")
    stray = [key for key in window_table if key not in ("start", "end")]
    if stray:  # 'from'/'to', 'begin', a misspelt 'end': the end would be missing or silently other
        zone = window_table.get("time_zone")
        moved = f" (time_zone = {json.dumps(zone)} is a key of the claim, on a line of its own)" if isinstance(
            zone, str) else ""
        raise ClaimError(f"{where}: window takes 'start' and 'end' dates, not {', '.join(map(repr, stray))}{moved}")
    start, end = claim_date(window_table, "start", where), claim_date(window_table, "end", where)
    if end < start:
        raise ClaimError(f"{where}: window end {end} is before its start {start}")
    signatures = _ids(entry, "signatures", where)
    unknown = [s for s in signatures if s not in SIGNATURES]
    if unknown:
        close = difflib.get_close_matches(unknown[0], SIGNATURES, n=1)
        guess = f" (did you mean {close[0]!r}?)" if close else ""
        raise ClaimError(f"{where}: unknown signature(s) {unknown}{guess}; known: {', '.join(SIGNATURES)}")
    denies = _ids(entry, "denies", where, required=False)
    if stance is Stance.DENY and not denies:
        raise ClaimError(f"{where}: a 'deny' claim must list the claim ids it denies in 'denies'")
    if denies and stance is not Stance.DENY:  # a copied asserting claim given 'denies': it would be judged as one
        raise ClaimError(f"{where}: 'denies' is given but the stance is {stance.value!r}: a denial is "
                         "stance = \"deny\" (or drop 'denies')")
    if claim_id in denies:
        raise ClaimError(f"{where}: the claim denies itself (its own id {claim_id!r} is in 'denies')")
    stated = claim_date(entry, "date_stated", where)
    if stated > date.today() + timedelta(days=1):  # a day's slack: the source's day may be ahead of this machine's
        raise ClaimError(f"{where}: field 'date_stated' {stated} is in the future (today is {date.today()}): "
                         "a year mistyped? It is the day the claim was made or reported")
    return Claim(
        id=claim_id,
        claimant=_text(entry, "claimant", where),
        statement=_text(entry, "statement", where),
        source=_text(entry, "source", where, required=False) or _document_title(document, where),
        source_url=_text(entry, "source_url", where, required=False) or str(document.get("url", "")),
        date_stated=stated,
        stance=stance,
        aoi_ids=_ids(entry, "aoi_ids", where),
        window=TimeWindow(start, end),
        signatures=signatures,
        notes=_text(entry, "notes", where, required=False),
        denies=denies,
        time_zone=claim_time_zone(entry, where),
        path=path,
    )
