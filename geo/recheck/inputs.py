"""What a re-check takes from the aoi/ and seeds/ folders, and what it does with a file or claim it cannot take.

As for ``geo run`` (``geo.cli.change_job.load_job_inputs``): a broken file or claim that concerns an AOI being
re-checked stops that AOI; one that concerns none is a warning. On a scheduled run (no --aoi) "stops" means
the AOI fails for this run (exit 4, retried next run) while the others are re-checked: one typo saved by an
analyst must not hold up every area's cron job. With --aoi it stops the run (exit 1), as ``geo run`` does.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from geo.aoi_files import (AoiFeature, close_id_hint, folder_error, index_aois, missing_file_error,
                           names_a_file)
from geo.claims import Claim
from geo.claim_files import ClaimProblem, ClaimSet, read_claims
from geo.errors import AOIError, GeoError
from geo.recheck import retire
from geo.slips import known_list

if TYPE_CHECKING:  # geo.aoi imports shapely: not for a re-check with nothing new
    from geo.aoi import AOI
    from geo.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecheckInputs:
    known: dict[str, AoiFeature]  # the registry AOI files that can be taken, by id
    read: ClaimSet  # not yet checked against the AOI ids (``take_claims``)
    skipped_aois: tuple[AOIError, ...]  # the AOI files that cannot be taken
    aoi_dir_found: bool = True  # the aoi/ folder exists (else no AOI is known to have left it)
    seeds_dir_found: bool = True  # the seeds/ folder exists (else no claim is known to have left it)

    @property
    def clean(self) -> bool:
        return not self.skipped_aois and not self.read.problems

    def unreadable_file_error(self, aoi_id: str, drawn: bool | None) -> AOIError | None:
        """Why ``aoi_id``, which no good file of aoi/ defines, is not taken from the store's record: a file of
        aoi/ that cannot be read may be its own (None when every file can be read, or when the store says the
        AOI was ``drawn``: its own file is the one it was given as, kept in the store)."""
        if not self.skipped_aois or drawn:
            return None
        why = "; ".join(str(e) for e in self.skipped_aois)
        return AOIError(f"{why} (no other AOI file defines {aoi_id!r}: this one may be its own)")


def read_inputs(aoi_dir: Path, seeds_dir: Path) -> RecheckInputs:
    skipped: list[AOIError] = []
    known = index_aois(aoi_dir, skipped) if aoi_dir.is_dir() else {}
    read = read_claims(seeds_dir) if seeds_dir.is_dir() else ClaimSet({}, ())
    return RecheckInputs(known, read, tuple(skipped), aoi_dir.is_dir(), seeds_dir.is_dir())


@dataclass(frozen=True)
class TakenClaims:
    claims: list[Claim]  # the valid claims, by id
    failed: dict[str, str]  # AOI id -> the problems of the files or claims concerning it (scheduled runs)
    warnings: list[GeoError]  # the problems concerning no AOI re-checked


def take_claims(inputs: RecheckInputs, aoi_ids: Sequence[str], scheduled: bool,
                already_failed: Collection[str] = (), retired: Collection[str] = ()) -> TakenClaims:
    """The claims of the seeds, checked against the re-checked AOIs, those ``already_failed``, the registry and the
    store's AOIs ``retired`` (a claim naming one names an AOI the store holds, not an unknown one: it was warned of
    as such at every run, and an AOI it also names failed every run); a problem concerning a re-checked AOI
    (``ClaimProblem.concerns``) fails it when ``scheduled``, else is raised."""
    known = set(aoi_ids) | set(already_failed) | set(inputs.known) | set(retired)
    read = inputs.read.checked(known, bool(inputs.skipped_aois))
    failed: dict[str, str] = {}
    concerning: list[ClaimProblem] = []
    for aoi_id in aoi_ids:
        mine = [p for p in read.problems if p.concerns(aoi_id, registry=aoi_id in inputs.known)]
        if mine and not scheduled:
            raise mine[0].error
        if mine:
            failed[aoi_id] = "; ".join(str(p.error) for p in mine)
            concerning += mine
    warnings: list[GeoError] = [p.error for p in read.problems if p not in concerning]
    return TakenClaims([read.claims[k] for k in sorted(read.claims)], failed, warnings)


def aoi_file_warnings(inputs: RecheckInputs, failed: Mapping[str, str]) -> list[GeoError]:
    """The unreadable AOI files to warn of: none when they failed an AOI (re-checked from the store's record,
    ``RecheckInputs.unreadable_file_error``), whose failure names them."""
    if any(aoi_id not in inputs.known for aoi_id in failed):
        return []
    return list(inputs.skipped_aois)


def quiet_claims(inputs: RecheckInputs, store: Store, refs: Sequence[str]) -> TakenClaims | None:
    """The claims for the quick "nothing new" answer (``geo.recheck.quick``) when the input problems concern none
    of the AOIs re-checked (``refs``, else the store's): they are then warnings, as on the full path, and need not
    cost the run its imports. None when one may concern such an AOI (or a ref is a drawn file): the full path
    decides, failing that AOI or stopping the run."""
    ids = sorted(set(refs)) if refs else store.aoi_ids(retired=False)
    for aoi_id in ids:
        if aoi_id not in inputs.known and (refs and names_a_file(aoi_id) or inputs.unreadable_file_error(
                aoi_id, store.aoi_drawn(aoi_id)) is not None):
            return None
    try:
        taken = take_claims(inputs, ids, scheduled=not refs, retired=store.retired())
    except GeoError:
        return None
    return None if taken.failed else taken


@dataclass
class SelectedAois:
    """The AOIs a re-check takes (``select_aois``), in id order."""

    aois: list[AOI] = field(default_factory=list)
    invalid: dict[str, str] = field(default_factory=dict)  # stored AOIs whose file is now bad: id -> why
    drawn: dict[str, bool] = field(default_factory=dict)  # taken from a drawn file (True) or the registry (False)
    retiring: list[str] = field(default_factory=list)  # registry AOIs of the store no file of aoi/ defines now
    resumed: list[str] = field(default_factory=list)  # retired AOIs re-checked again (geo.recheck.retire)


def select_aois(store: Store | None, store_path: Path, refs: Sequence[str], inputs: RecheckInputs,
                aoi_dir: Path, every: bool = False) -> SelectedAois:
    """AOIs by id (aoi/ folder, else as recorded in the store) or drawn file (GeoJSON, GeoPackage...); default: the store's AOIs,
    and with ``every`` (--all-aois) those of the aoi/ folder new to the store too (a cron line written before they
    were added takes them up). ``store`` is None before the store exists. Only these AOIs' geometry is checked, not that of every file
    in the aoi/ folder: a file with a bad polygon holds up its own re-checks, not the others'. When they are the
    store's (no --aoi: a scheduled run), those whose file is now bad are ``invalid`` (failed AOIs of the run,
    exit 4); an --aoi given on the command line that is bad stops the run (exit 1)."""
    scheduled = not refs
    selected = SelectedAois()
    retired = store.retired() if store else {}
    if scheduled:
        refs = store.aoi_ids() if store else []
        if every:
            refs = sorted({*refs, *inputs.known})
            if not refs:
                raise AOIError(f"--all-aois: no AOIs in {aoi_dir} nor in the store {store_path}; add AOI files to "
                               f"{aoi_dir} (`geo aoi list` lists them)")
        if not refs:
            raise AOIError(f"{store_path}: the store has no AOIs yet; name the AOIs to re-check with --aoi ID "
                           "(or --all-aois: every AOI of aoi/)")
        if store is not None:
            refs = sorted({*refs, *_rows_deleted(store, store_path, inputs)})
            selected.retiring = [a for a in refs if a not in retired and retire.gone(store, inputs, a)]
            # a retired AOI is left out until its file is back
            refs = [a for a in refs if a not in selected.retiring and (a not in retired or a in inputs.known)]
    chosen: dict[str, AOI] = {}
    given: dict[str, str] = {}  # AOI id -> the --aoi that named it first
    for ref in refs:
        try:
            aoi, drawn = _named_aoi(store, store_path, ref, inputs, aoi_dir, scheduled)
        except AOIError as exc:
            if not scheduled:
                raise
            log.info("AOI %s: %s", ref, exc)  # its file redrawn badly: a failed AOI of the run, the others go on
            selected.invalid[ref] = str(exc)
            continue
        if aoi.id in chosen and not chosen[aoi.id].geometry.equals(aoi.geometry):
            # one area silently dropped would never be checked
            raise AOIError(f"--aoi {ref}: its AOI id {aoi.id!r} is also that of --aoi {given[aoi.id]}, a different "
                           "area; give each area its own id (file name, or an 'id' property)")
        chosen[aoi.id] = aoi
        given.setdefault(aoi.id, ref)
        if drawn is not None:
            selected.drawn[aoi.id] = drawn
    selected.aois = [chosen[k] for k in sorted(chosen)]
    # taken up again: its file back in aoi/, or given as a drawn file (kept as such); named by id alone, a retired
    # AOI is re-checked from the store's record on request and stays retired
    selected.resumed = [k for k in sorted(chosen) if k in retired and (k in inputs.known or selected.drawn.get(k))]
    return selected


def rows_deleted(store: Store) -> list[str]:
    """The AOIs whose feature was deleted from the store's ``aois`` layer (in QGIS): a chain of theirs, no row."""
    return [r[0] for r in store.conn.execute("SELECT DISTINCT aoi_id FROM chains WHERE aoi_id NOT IN "
                                             "(SELECT aoi_id FROM aois) ORDER BY aoi_id")]


def _rows_deleted(store: Store, store_path: Path, inputs: RecheckInputs) -> list[str]:
    """``rows_deleted``, said: those aoi/ defines are re-checked from their file and recorded again (a scheduled run
    dropped them, said nowhere; with --all-aois took them up as new, said nowhere), the others (drawn) no longer."""
    taken = []
    for aoi_id in rows_deleted(store):
        if aoi_id in inputs.known:
            taken.append(aoi_id)
            log.warning("%s: its feature was deleted from the aois layer of %s; re-checked from its file in aoi/ and "
                        "recorded again (to stop its re-checks, remove its file from aoi/: the next re-check retires "
                        "it)", aoi_id, store_path.name)
        else:
            log.warning("%s: its feature was deleted from the aois layer of %s, and no file of aoi/ defines it (a drawn "
                        "area): no longer re-checked, its chains, pairs and changes kept in the store; --aoi with its "
                        "file takes it up again", aoi_id, store_path.name)
    return taken


def _named_aoi(store: Store | None, store_path: Path, ref: str, inputs: RecheckInputs, aoi_dir: Path,
               stored_id: bool = False) -> tuple[AOI, bool | None]:
    """The AOI ``ref`` names: an id of the aoi/ folder, a drawn file, or an id recorded in the store (a registry
    AOI's not while a file of the aoi/ folder cannot be read: it may be this AOI's, redrawn); and whether it
    is drawn (None: taken from the store's record, as it was). A ``stored_id`` (a scheduled run's, from the
    store) is never a file: a folder or file of that name in the current folder is not the AOI."""
    from geo.aoi import aoi_from_feature, aoi_from_geojson

    known = inputs.known
    if ref in known:
        return aoi_from_feature(known[ref]), False
    if not stored_id and names_a_file(ref):
        if not Path(ref).is_file():
            raise missing_file_error(ref, aoi_dir)
        return _drawn_aoi(Path(ref), known), True
    drawn = store.aoi_drawn(ref) if store else None
    if (unreadable := inputs.unreadable_file_error(ref, drawn)) is not None:
        raise unreadable
    if store and (feature := store.aoi_feature(ref)) is not None:
        if feature.get("type") != "Feature":
            raise AOIError(f"AOI {ref!r} of the aois layer of {store_path.name} is no AOI of geo's (its feature "
                           "column is not geo's GeoJSON: a row added by hand, in QGIS?): add an area as a file of aoi/, "
                           "or with --aoi FILE; then delete this row")
        return aoi_from_geojson(feature, f"{store_path}: stored AOI {ref!r}"), None
    if not stored_id and Path(ref).is_dir():  # spelled as an id, but none: the folder was meant
        raise folder_error(ref)
    ids = sorted(set(known) | set(store.aoi_ids() if store else []))
    raise AOIError(f"unknown AOI id {ref!r} ({close_id_hint(ref, ids)}known in {aoi_dir} and the store: "
                   f"{known_list(ref, ids, 'AOIs', 'geo aoi list') or 'none'})")


def _drawn_aoi(path: Path, known: Mapping[str, AoiFeature]) -> AOI:
    """The AOI of a drawn file, refused (as by ``geo run``) when its id is a registry AOI's that it does not touch."""
    from geo.aoi import aoi_from_feature, check_same_place, load_drawn_aoi

    drawn = load_drawn_aoi(path)
    entry = known.get(drawn.id)
    if entry is None:
        return drawn
    try:
        registry = aoi_from_feature(entry)
    except AOIError:
        return drawn  # a registry file with a bad polygon: left out of the registry, as by ``geo run``
    check_same_place(drawn, {drawn.id: registry})
    return drawn
