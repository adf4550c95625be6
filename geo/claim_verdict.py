"""A claim judged on one AOI: ``ClaimVerdict``, the typed value behind an entry of ``claims.json`` (README
"Outputs of a run"). ``geo.verdicts`` makes it from a scene pair's change polygons, ``geo.vessels`` merges
the vessel counts into it (a new value), and it becomes a dict only where it is written (``to_dict``:
``claims.json``, the GeoPackage, the re-check store) or is made again from one read back (``from_dict``).

Light to import (no numpy/shapely): the re-check's quick path and the store name it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

# Written only when the vessel job merged its counts in (geo.vessels.merged_verdicts).
VESSEL_KEYS = ("change_verdict", "vessel_evidence", "verdict_source")
# The ``verdict_source`` of a merged verdict neither line of evidence could test (not tested, not observable).
DECIDED_BY_NEITHER = "none"


@dataclass(frozen=True)
class ClaimVerdict:
    """One claim on one AOI: what it predicts, what the pair showed of it, and the verdict with its confidence
    (None when the pair could not test the claim) and rationale. ``evidence``: the change ids behind the
    verdict, strongest first. ``extra``: what a re-check adds (the pair judged over, ``n_pairs``)."""

    claim_id: str
    aoi_id: str
    aoi_name: str
    stance: str
    claim: Mapping[str, Any]  # the claim's own summary (text, source, window, places)
    window: Mapping[str, str]
    window_time_zone: str  # the zone of the window's days (geo.claim_days.DayZone.name)
    pair_brackets_window: bool
    window_share_of_pair: float
    scenes: tuple[Mapping[str, Any], ...]  # the two scenes, each with its clear share of the AOI
    clear_fraction: float
    signatures: tuple[str, ...]
    observable: bool
    expected_change_types: tuple[str, ...]
    n_changes: int
    area_m2: float
    change_types: Mapping[str, int]
    signature_matches: Mapping[str, int]
    n_matching: int
    matching_area_m2: float
    evidence: tuple[str, ...]
    minimum_evidence: Mapping[str, Any]
    verdict: str
    confidence: float | None
    confidence_label: str
    rationale: str
    # The vessel job's part (geo.vessels.merged_verdicts): both judgements and which one decided.
    change_verdict: Mapping[str, Any] | None = None
    vessel_evidence: Mapping[str, Any] | None = None
    verdict_source: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The entry as ``claims.json`` holds it (lists, plain dicts; vessel keys only when merged)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extra" or (f.name in VESSEL_KEYS and value is None):
                continue
            out[f.name] = _plain(value)
        return {**out, **_plain(self.extra)}

    @classmethod
    def from_dict(cls, entry: Mapping[str, Any]) -> ClaimVerdict:
        """The verdict an entry describes (``claims.json``, a store row's details); a KeyError names a
        missing key."""
        names = [f.name for f in fields(cls) if f.name != "extra"]
        # an entry written before windows had a zone counted its days in UTC
        given = {name: entry[name] for name in names if name in entry or name not in (*VESSEL_KEYS, "window_time_zone")}
        given.setdefault("window_time_zone", "UTC")
        for name in ("scenes", "signatures", "expected_change_types", "evidence"):
            given[name] = tuple(given[name])
        return cls(**given, extra={k: v for k, v in entry.items() if k not in names})



def _plain(value: Any) -> Any:
    """``value`` with tuples as lists and mappings as dicts, as JSON writes them."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
