"""Claims taken from source documents (``seeds/*.toml``), validated into immutable ``Claim`` values.

A seeds file holds one ``[document]`` table (the source) and one ``[[claim]]`` table per claim.
See ``seeds/README.md`` for the format.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path

from geo.claim_syntax import claim_date, claim_time_zone, toml_hint, window_not_a_table
from geo.errors import ClaimError
from geo.paths import misnamed_files, named_files, nested_files
from geo.slips import closest, known_list
from geo.text_files import plain_text, read_utf8_text

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


@dataclass(frozen=True)
class ClaimProblem:
    """A claim, or a whole seeds file, that could not be taken; the AOIs it names when they can be told."""

    error: ClaimError
    claim_id: str | None = None
    aoi_ids: tuple[str, ...] | None = None  # None: the file is too broken to tell which AOIs it concerns

    def concerns(self, aoi_id: str, registry: bool) -> bool:
        """Whether a job on ``aoi_id`` may need what could not be taken: a claim naming it, or a file too broken
        to tell which AOIs it names when the AOI is a registry one (claims name registry AOIs, not drawn files)."""
        return registry if self.aoi_ids is None else aoi_id in self.aoi_ids


@dataclass(frozen=True)
class ClaimSet:
    """The claims of a seeds folder that are valid, and the problems of the others (skipped, not lost)."""

    claims: dict[str, Claim]
    problems: tuple[ClaimProblem, ...]

    def wanted(self, claim_ids: Sequence[str]) -> dict[str, Claim]:
        """The valid claims, once each claim asked for by id is among them; else why one is not: its own
        problem, or a seeds file too broken to tell whether it holds it."""
        missing = [c for c in claim_ids if c not in self.claims]
        for claim_id in missing:
            cause = next((p for p in self.problems if p.claim_id == claim_id), None) or next(
                (p for p in self.problems if p.claim_id is None), None)
            if cause is not None:
                raise cause.error
        if missing:
            close = closest(missing[0], self.claims)  # a slip of the keyboard, or capitals
            guess = f"did you mean {close!r}? " if close and len(missing) == 1 else ""
            known = known_list(missing[0], self.claims, "claims", "geo claims list")
            raise ClaimError(f"unknown claim id(s) {', '.join(missing)} ({guess}known: {known})")
        return self.claims

    def checked(self, known_aoi_ids: set[str], aois_skipped: bool = False) -> ClaimSet:
        """These claims less those naming an AOI not in ``known_aoi_ids`` or denying a claim not here, which
        become problems; ``aois_skipped``: AOI files were skipped (warned of), the unknown AOI may be in one."""
        referring = reference_problems(self.claims, known_aoi_ids, aois_skipped)
        dropped = {p.claim_id for p in referring}
        return ClaimSet({k: c for k, c in self.claims.items() if k not in dropped}, (*self.problems, *referring))

    def strict(self) -> dict[str, Claim]:
        """The claims, or the first problem raised: for commands that need every claim."""
        if self.problems:
            raise self.problems[0].error
        return self.claims


def _claim_tables(path: Path) -> tuple[Mapping[str, object], list[object]]:
    """The ``[document]`` table and the ``[[claim]]`` tables of a seeds file (errors are the whole file's)."""
    text = read_utf8_text(path, "claims file", "TOML", ClaimError)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ClaimError(f"{path}: malformed TOML ({exc}){toml_hint(text, str(exc))}") from None
    document = data.get("document", {})
    if not isinstance(document, Mapping):
        raise ClaimError(f"{path}: [document] must be a table")
    if "time_zone" in document:  # free-form otherwise (published, notes): this one would be taken as read
        raise ClaimError(f"{path}: [document] time_zone is not read: give time_zone = "
                         f"{json.dumps(document['time_zone'])} in each [[claim]] whose window counts that zone's days")
    for key, name in (("source_url", "url"), ("source", "title")):  # a claim's names: each claim's would be ''
        if key in document:
            raise ClaimError(f"{path}: [document] {key} is not read: the document's is {name} = "
                             f"{json.dumps(document[key], ensure_ascii=False, default=str)} ({key} is a claim's own)")
    stray = [key for key in data if key not in ("document", "claim")]
    if stray:  # '[[claims]]', '[documents]': the claims in it would be dropped unseen
        close = difflib.get_close_matches(stray[0], ("document", "claim"), n=1)
        guess = f" (did you mean [{'[claim]' if close[0] == 'claim' else close[0]}]?)" if close else ""
        raise ClaimError(f"{path}: unknown table or key {stray[0]!r}{guess}; a seeds file holds a [document] "
                         "table and [[claim]] tables")
    tables = data.get("claim", [])
    if isinstance(tables, Mapping):
        raise ClaimError(f"{path}: [claim] is written with double brackets, [[claim]], before each claim")
    if not isinstance(tables, list) or not tables:
        raise ClaimError(f"{path}: no [[claim]] tables found{' (the file is empty)' if not text.strip() else ''}")
    return document, tables


def _file_claims(path: Path) -> tuple[list[Claim], list[ClaimProblem]]:
    try:
        document, tables = _claim_tables(path)
    except ClaimError as exc:
        return [], [ClaimProblem(exc)]
    claims, problems = [], []
    for number, table in enumerate(tables, 1):
        if not isinstance(table, Mapping):
            problems.append(ClaimProblem(ClaimError(f"{path}: claim {number} must be a [[claim]] table")))
            continue
        try:
            claims.append(claim_from_table(table, document, str(path), path))
        except ClaimError as exc:
            raw_id, raw_aois = table.get("id"), table.get("aoi_ids")
            named = tuple(raw_aois) if isinstance(raw_aois, list) and all(isinstance(a, str) for a in raw_aois) else None
            problems.append(ClaimProblem(exc, raw_id if isinstance(raw_id, str) else None, named))
    return claims, problems


def load_claims_file(path: Path) -> list[Claim]:
    claims, problems = _file_claims(Path(path))
    if problems:
        raise problems[0].error
    return claims


def read_claims(directory: Path, known_aoi_ids: Iterable[str] | None = None, aois_skipped: bool = False) -> ClaimSet:
    """Every valid claim in ``directory`` by id, and the problems of the files and claims that are not: a
    claim id defined twice is neither's, a claim naming an unknown AOI or denying an unknown claim is skipped
    (``ClaimSet.checked``)."""
    claims: dict[str, Claim] = {}
    problems: list[ClaimProblem] = []
    twice: set[str] = set()
    for path, name in misnamed_files(directory, ".toml").items():  # its claims would be missing, unexplained
        # concerning no AOI: a warning for a job (which does not read it), an error for `geo claims list`
        error = ClaimError(f"{path}: not read: a claims file's name ends in .toml (rename it {name})")
        problems.append(ClaimProblem(error, aoi_ids=()))
    for path in nested_files(directory, ".toml"):
        error = ClaimError(f"{path}: not read: claims files are read from {directory} itself, not its subfolders "
                           f"(move it to {directory})")
        problems.append(ClaimProblem(error, aoi_ids=()))
    for path in named_files(directory, ".toml"):
        taken, file_problems = _file_claims(path)
        problems += file_problems
        for claim in taken:
            if claim.id in claims:
                first = claims[claim.id]
                error = ClaimError(f"{path}: claim id {claim.id!r} is already defined in {first.path}")
                problems.append(ClaimProblem(error, claim.id, first.aoi_ids + claim.aoi_ids))
                twice.add(claim.id)
                continue
            claims[claim.id] = claim
    for claim_id in twice:
        del claims[claim_id]
    read = ClaimSet(claims, tuple(problems))
    return read if known_aoi_ids is None else read.checked(set(known_aoi_ids), aois_skipped)


def load_claims(directory: Path, known_aoi_ids: Iterable[str] | None = None) -> dict[str, Claim]:
    """All claims in ``directory`` keyed by id, cross-checked against AOI ids and each other; the first
    problem of any file or claim is raised."""
    return read_claims(directory, known_aoi_ids).strict()


def reference_problems(claims: Mapping[str, Claim], known_aoi_ids: set[str],
                       aois_skipped: bool = False) -> list[ClaimProblem]:
    """The claims naming an AOI that is not known, or denying a claim that is not there or is itself a denial
    (first fault each); ``aois_skipped``: AOI files that could not be read were skipped, so an AOI may be
    unknown for that."""
    problems = []
    for claim in claims.values():
        unknown_aoi = next((a for a in claim.aoi_ids if a not in known_aoi_ids), None)
        unknown_denied = next((d for d in claim.denies if d not in claims), None)
        # judged as a denial of what the denial denies, its evidence would count against it
        denied_denial = next((d for d in claim.denies if d in claims and claims[d].stance is Stance.DENY), None)
        if unknown_aoi is not None:
            close = difflib.get_close_matches(unknown_aoi, known_aoi_ids, n=1)
            hint = " (aoi_ids takes AOI ids, the 'id' of a file in aoi/, not file names)" if "." in unknown_aoi else (
                " (an AOI file that cannot be read was skipped: it may be this AOI's)" if aois_skipped else
                f" (did you mean {close[0]!r}?)" if close else "")
            error = ClaimError(f"{claim.path}: claim {claim.id!r} names unknown AOI {unknown_aoi!r}{hint}")
        elif unknown_denied is not None:
            error = ClaimError(f"{claim.path}: claim {claim.id!r} denies unknown claim {unknown_denied!r}")
        elif denied_denial is not None:
            error = ClaimError(f"{claim.path}: claim {claim.id!r} denies {denied_denial!r}, itself a denial: a claim "
                               "that a denial is false asserts what was denied; write it as stance = \"assert\" "
                               "(without 'denies') with the signatures of what it says happened")
        else:
            continue
        problems.append(ClaimProblem(error, claim.id, claim.aoi_ids))
    return problems


def check_references(claims: Mapping[str, Claim], known_aoi_ids: set[str]) -> None:
    for problem in reference_problems(claims, known_aoi_ids):
        raise problem.error
