"""What a re-check takes from the aoi/ and seeds/ folders, and what it does with a file or claim it cannot take.

As for ``geo run`` (``geo.cli.run.load_job_inputs``): a broken file or claim that concerns an AOI being
re-checked stops that AOI; one that concerns none is a warning. On a scheduled run (no --aoi) "stops" means
the AOI fails for this run (exit 4, retried next run) while the others are re-checked: one typo saved by an
analyst must not hold up every area's cron job. With --aoi it stops the run (exit 1), as ``geo run`` does.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from geo.aoi_files import AoiFeature, index_aois
from geo.claims import Claim, ClaimProblem, ClaimSet, read_claims
from geo.errors import AOIError, GeoError

if TYPE_CHECKING:  # geo.aoi imports shapely: not for a re-check with nothing new
    from geo.aoi import AOI


@dataclass(frozen=True)
class RecheckInputs:
    known: dict[str, AoiFeature]  # the registry AOI files that can be taken, by id
    read: ClaimSet  # not yet checked against the AOI ids (``take_claims``)
    skipped_aois: tuple[AOIError, ...]  # the AOI files that cannot be taken

    @property
    def clean(self) -> bool:
        return not self.skipped_aois and not self.read.problems

    def unreadable_file_error(self, aoi_id: str) -> AOIError | None:
        """Why ``aoi_id``, which no good file of aoi/ defines, is not taken from the store's record: a file of
        aoi/ that cannot be read may be its own (None when every file can be read)."""
        if not self.skipped_aois:
            return None
        why = "; ".join(str(e) for e in self.skipped_aois)
        return AOIError(f"{why} (no other AOI file defines {aoi_id!r}: this one may be its own)")


def read_inputs(aoi_dir: Path, seeds_dir: Path) -> RecheckInputs:
    skipped: list[AOIError] = []
    known = index_aois(aoi_dir, skipped) if aoi_dir.is_dir() else {}
    read = read_claims(seeds_dir) if seeds_dir.is_dir() else ClaimSet({}, ())
    return RecheckInputs(known, read, tuple(skipped))


@dataclass(frozen=True)
class TakenClaims:
    claims: list[Claim]  # the valid claims, by id
    failed: dict[str, str]  # AOI id -> the problems of the files or claims concerning it (scheduled runs)
    warnings: list[GeoError]  # the problems concerning no AOI re-checked


def take_claims(inputs: RecheckInputs, aois: Sequence[AOI], scheduled: bool,
                already_failed: Collection[str] = ()) -> TakenClaims:
    """The claims of the seeds, checked against the re-checked ``aois``, those ``already_failed`` and the registry;
    a problem concerning one of ``aois`` (``ClaimProblem.concerns``) fails it when ``scheduled``, else is raised."""
    known = {a.id for a in aois} | set(already_failed) | set(inputs.known)
    read = inputs.read.checked(known, bool(inputs.skipped_aois))
    failed: dict[str, str] = {}
    concerning: list[ClaimProblem] = []
    for aoi in aois:
        mine = [p for p in read.problems if p.concerns(aoi.id, registry=aoi.id in inputs.known)]
        if mine and not scheduled:
            raise mine[0].error
        if mine:
            failed[aoi.id] = "; ".join(str(p.error) for p in mine)
            concerning += mine
    warnings: list[GeoError] = [p.error for p in read.problems if p not in concerning]
    return TakenClaims([read.claims[k] for k in sorted(read.claims)], failed, warnings)


def aoi_file_warnings(inputs: RecheckInputs, failed: Mapping[str, str]) -> list[GeoError]:
    """The unreadable AOI files to warn of: none when they failed an AOI (re-checked from the store's record,
    ``RecheckInputs.unreadable_file_error``), whose failure names them."""
    if any(aoi_id not in inputs.known for aoi_id in failed):
        return []
    return list(inputs.skipped_aois)
