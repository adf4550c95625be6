"""The claims of a seeds folder (``seeds/*.toml``), read: each file's ``[document]`` and ``[[claim]]`` tables into
``Claim`` values (``geo.claims``), the files and claims that cannot be taken kept as problems (skipped, not lost),
and the cross-checks between claims and against the AOIs they name."""

from __future__ import annotations

import difflib
import json
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from geo.claim_syntax import toml_hint
from geo.claims import Claim, Stance, claim_from_table
from geo.errors import ClaimError
from geo.paths import misnamed_files, named_files, nested_files
from geo.slips import closest, known_list
from geo.text_files import read_utf8_text


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
