"""AOIs and claims taken out of the registry between re-checks: removed from aoi/, or renamed (their id changed),
or merged into another. A scheduled re-check re-checked such an AOI from the store's record, silently, for good, and no
command takes an AOI out of a store. Now the first scheduled run that finds no file of aoi/ defining a registry
AOI of the store *retires* it: the run records it (``aois.retired_run``) and says so once; its pairs, changes and
verdicts stay in the store, marked by that column, and later runs leave it out. Its file back in aoi/ (or the AOI
given as a drawn file with ``--aoi``) has it re-checked again from its chain's head, said once too; named by its id
alone with ``--aoi``, it is re-checked from the store's record that once and stays retired.

A claim found in no seeds file (deleted, or its id changed) is retired the same way (``claims.retired_run``): its
verdicts and the changes linked to it stay as they were, marked by that column, where they stood in the store as
those of a current claim, said nowhere; back in the seeds, it is current again.

Only a registry AOI is retired (a drawn one, given once as ``--aoi FILE``, lives on its stored record), and only
when every file of aoi/ was read: an unreadable file may be its own, half-saved (``RecheckInputs``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from geo.aoi_files import AoiFeature
from geo.claim_files import ClaimSet
from geo.words import counted

if TYPE_CHECKING:
    from geo.store import Store


class RegistryRead(Protocol):
    """What of ``geo.recheck.inputs.RecheckInputs`` this module reads (that module imports this one)."""

    @property
    def known(self) -> Mapping[str, AoiFeature]: ...

    @property
    def skipped_aois(self) -> Sequence[Exception]: ...

    @property
    def aoi_dir_found(self) -> bool: ...

    @property
    def read(self) -> ClaimSet: ...

    @property
    def seeds_dir_found(self) -> bool: ...


def gone(store: Store, inputs: RegistryRead, aoi_id: str) -> bool:
    """Whether the store's AOI ``aoi_id`` is a registry AOI that no file of aoi/ defines any more, every file
    there read (a folder not found is no answer: a cron line's GEO_ROOT set wrong)."""
    return (inputs.aoi_dir_found and not inputs.skipped_aois and aoi_id not in inputs.known
            and store.aoi_drawn(aoi_id) is False)


def claims_gone(store: Store, inputs: RegistryRead) -> list[str]:
    """The current claims of the store that no seeds file holds now, every seeds file read (a claim that cannot be
    taken is not gone: it is a broken claim, said as such)."""
    if not inputs.seeds_dir_found or any(p.claim_id is None for p in inputs.read.problems):
        return []
    retired, broken = store.retired("claims"), {p.claim_id for p in inputs.read.problems}
    return [c for c in sorted(store.claim_summaries()) if c not in retired and c not in inputs.read.claims
            and c not in broken]


def moved_off(store: Store, inputs: RegistryRead) -> list[tuple[str, str, str]]:
    """(claim, AOI, algorithm version) of the stored changes linked to a claim of the seeds that no longer names their
    AOI (moved to another): QGIS showed them under the claim, as bearing on it."""
    claims = inputs.read.claims
    return sorted(link for link in store.claim_links() if link[0] in claims and link[1] not in claims[link[0]].aoi_ids)


def pending(store: Store, inputs: RegistryRead, refs: Sequence[str]) -> bool:
    """Whether a run would retire an AOI or a claim, take a retired one up again, or unlink a claim moved off an AOI
    (a run records it: not the quick path's "nothing new")."""
    if (claims_gone(store, inputs) or set(store.retired("claims")) & set(inputs.read.claims)
            or moved_off(store, inputs)):
        return True
    retired = store.retired()
    if refs:
        return any(ref in retired for ref in refs)
    return any(aoi_id in inputs.known if aoi_id in retired else gone(store, inputs, aoi_id)
               for aoi_id in store.aoi_ids())


def successors(store: Store, inputs: RegistryRead, aoi_id: str) -> list[str]:
    """The AOIs of aoi/ new to the store whose area touches the stored AOI's (by their bounding boxes): what it
    was renamed to, or merged into, which a scheduled run does not re-check until named once with --aoi (or run
    with --all-aois, which registers them first: none are new then)."""
    from geo.recheck.quick import geojson_box, overlaps

    feature = store.aoi_feature(aoi_id)
    box = geojson_box(feature.get("geometry")) if feature else None
    stored = set(store.aoi_ids())
    return sorted(k for k, f in inputs.known.items() if k not in stored and box is not None
                  and (other := geojson_box(f.feature.get("geometry"))) is not None and overlaps(box, other))


@dataclass(frozen=True)
class Retirements:
    """What a run retires and takes up again, by id."""

    aois: Sequence[str] = ()
    aois_back: Sequence[str] = ()
    claims: Sequence[str] = ()
    claims_back: Sequence[str] = ()
    moved_off: Sequence[tuple[str, str, str]] = ()  # (claim, AOI it no longer names, algorithm version)

    def __bool__(self) -> bool:
        return bool(self.aois or self.aois_back or self.claims or self.claims_back or self.moved_off)

    def record(self, store: Store, run_id: int, recorded: str) -> None:
        store.set_retired(self.aois, run_id)
        store.set_retired(self.aois_back, None)
        store.set_retired(self.claims, run_id, "claims")
        store.set_retired(self.claims_back, None, "claims")
        for claim_id, aoi_id, version in self.moved_off:
            store.unlink_claim(claim_id, aoi_id, version, recorded)

    def summary_part(self, store: Store, inputs: RegistryRead) -> dict[str, Any]:
        """The run summary's keys for them (none when there are none, as in every run before)."""
        stored = store.claim_summaries()
        part: dict[str, Any] = {
            "aois_retired": [{"aoi_id": a, "why": "no file of aoi/ defines it (removed, or its id changed)",
                              "new_aois_over_it": successors(store, inputs, a)} for a in sorted(self.aois)],
            "aois_resumed": sorted(self.aois_back),
            "claims_retired": [{"claim_id": c, "aoi_ids": list(stored.get(c, {}).get("aoi_ids", [])),
                                "why": "in no seeds file (deleted, or its id changed)"} for c in sorted(self.claims)],
            "claims_resumed": sorted(self.claims_back),
            "claims_moved_off": [{"claim_id": c, "aoi_id": a}
                                 for c, a in sorted({(c, a) for c, a, _ in self.moved_off})]}
        return {k: v for k, v in part.items() if v}


def retirements(store: Store, inputs: RegistryRead, aois: Sequence[str], aois_back: Sequence[str]) -> Retirements:
    """The run's: the AOIs ``select_aois`` retires and takes up again, and the claims."""
    return Retirements(aois, aois_back, claims_gone(store, inputs),
                       sorted(set(store.retired("claims")) & set(inputs.read.claims)), moved_off(store, inputs))


SUMMARY_KEYS = ("aois_retired", "aois_resumed", "claims_retired", "claims_resumed", "claims_moved_off")
_COUNTED = {"aois_retired": ("AOI", "retired"), "aois_resumed": ("AOI", "re-checked again"),
            "claims_retired": ("claim", "retired"), "claims_resumed": ("claim", "current again"),
            "claims_moved_off": ("claim", "moved off an AOI")}


def registry_news(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The summary's keys of what the run retired or took up again: news for the --on-new command and the webhook
    (a cron user reads their mail, not the log)."""
    return {k: summary[k] for k in SUMMARY_KEYS if summary.get(k)}


def news_counts(summary: Mapping[str, Any]) -> list[str]:
    """``1 AOI retired``, ``2 claims current again``...: the first line of the text the --on-new command gets."""
    return [f"{counted(len(v), _COUNTED[k][0])} {_COUNTED[k][1]}" for k, v in registry_news(summary).items()]


def retired_lines(summary: Mapping[str, Any], run_id: int | None) -> list[str]:
    """What the terminal (and cron's log) says of them."""
    lines = []
    for entry in summary.get("aois_retired", []):
        new = entry.get("new_aois_over_it") or []
        named = " ".join(f"--aoi {a}" for a in new)
        one = len(new) == 1
        # a run with --all-aois took them up already (registered: not new to the store), one without names both ways
        over = (f"; {', '.join(repr(a) for a in new)} of aoi/, new to the store, {'covers' if one else 'cover'} its "
                f"place: {named} once, or --all-aois in the scheduled command, re-checks {'it' if one else 'them'} "
                "from now on") if new else ""
        lines.append(f"{entry['aoi_id']}: retired: {entry['why']}; no longer re-checked, its results kept in the "
                     f"store, marked (aois.retired_run = {run_id}); its file back in aoi/ takes it up again{over}")
    lines += [f"{aoi_id}: re-checked again (it was retired: no file of aoi/ defined it)"
              for aoi_id in summary.get("aois_resumed", [])]
    lines += [f"claim {entry['claim_id']}: retired: {entry['why']}; its verdicts and linked changes"
              f"{' on ' + ', '.join(entry['aoi_ids']) if entry['aoi_ids'] else ''} kept in the store, marked "
              f"(claims.retired_run = {run_id})" for entry in summary.get("claims_retired", [])]
    lines += [f"claim {claim_id}: current again (back in the seeds)" for claim_id in summary.get("claims_resumed", [])]
    lines += [f"claim {entry['claim_id']}: no longer names {entry['aoi_id']}: its verdicts there kept in the store, "
              "its changes there no longer linked to it" for entry in summary.get("claims_moved_off", [])]
    return lines
