"""Which command wrote a complete geo output folder, told from the files its completion marker lists
(``geo.atomic.MARKER``), so that a command replaces only a folder of its own kind (a re-run into the same folder)
and refuses another command's: ``geo vessels --out`` on a ``geo run`` folder replaced its report, project and
layers, ``geo run --out`` on a re-check store's ``runs/000001`` replaced the store's run, silently."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class OutputKind:
    name: str
    signs: tuple[str, ...]  # files of which any one, listed in the marker, tells this kind (the first is shown)
    what: str  # the folder named to the user
    previous: str  # what a folder this kind may replace is called: "a previous ..."
    writer: str  # who replaces the folder: "the run", "the export"


CHANGE_RUN = OutputKind("change run", ("report.html", "manifest.json"), "the folder of a geo run or geo demo",
                        "a previous geo run or geo demo", "the run")
VESSELS = OutputKind("vessels", ("timeseries.csv", "vessels-manifest.json"), "the folder of geo vessels",
                     "a previous geo vessels run", "the run")
RECHECK_RUN = OutputKind("recheck run", ("summary.json",), "a geo recheck store's run folder",
                         "a previous re-check run", "the re-check")
EXPORT = OutputKind("export", ("collection.json",), "the folder of geo recheck --export-stac",
                    "a previous export", "the export")
# In this order: an export holds none of the others' files; a change run with vessel claims holds the vessel
# job's files too (its report shows them).
KINDS = (EXPORT, CHANGE_RUN, VESSELS, RECHECK_RUN)


def kind_of(files: Sequence[str]) -> OutputKind | None:
    """The kind of the folder whose marker lists ``files``; None when none tells it."""
    listed = set(files)
    return next((kind for kind in KINDS if listed.intersection(kind.signs)), None)


def refusal(files: Sequence[str], wanted: OutputKind) -> str | None:
    """Why a folder whose marker lists ``files`` is not one ``wanted`` may replace (None when it may: a folder of
    its kind, or one listing no file)."""
    if not files:
        return None
    found = kind_of(files)
    if found == wanted:
        return None
    what = (f"{found.what} (its {next(f for f in found.signs if f in files)} ...)" if found is not None
            else f"a geo output folder of another kind (its {sorted(files)[0]} ...)")
    return (f"{what}, not {wanted.previous}: {wanted.writer} replaces the whole folder; give a new or empty one, "
            f"or the folder of {wanted.previous}")
