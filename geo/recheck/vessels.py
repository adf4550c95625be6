"""Vessel counts in re-checks, for AOIs whose claims predict ships.

Each re-check asks the source which Sentinel-1/-2 scenes exist over the AOI from the vessel period's start
(180 days before the earliest such claim window) to today, counts ships only in scenes the store has not
counted yet (a pass published again under a new id, or any scene sensed within a minute of a counted one of its
sensor, is counted already: recorded as seen), appends one row per scene to ``vessel_series`` (with its instrument
mode), and recomputes the claims' vessel evidence over the whole stored series (``geo.vessels.evidence``: a series
per sensor and, where a sensor was seen in several, per mode, as ``geo vessels`` tests), recording it in the
verdict history (kind ``vessels``) when it differs from what is recorded. Rows stored before the store kept the
mode take it from the search's items where it finds their scenes again, else follow
``geo.vessels.series.place_unknown_modes``. The land mask of the AOI's first vessel run with a sensor and mode
(a time-series median when it had >= 3 scenes of them) is kept in the store and reused, so a later run's one or
two new scenes are judged against the same sea, and each mode against its own (``geo.vessels.job.MaskKey``). A
mask kept before the store kept masks per mode is that mode's when the counts of its scenes are all of one mode
(as the series places them); else it is not used. A re-check with no new scene reads no pixels and writes
nothing.

Each recorded vessel verdict also carries, under ``combined``, the verdict its claim gets when the counts
are merged with the claim's latest window verdict from the change polygons, by the rule of ``geo run``
(``geo.vessels.merged_verdicts``), so the two histories never disagree unexplained.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from geo.aoi import AOI
from geo.claim_days import zone_named
from geo.claims import Claim
from geo.errors import GeoError
from geo.grid import Grid
from geo.recheck.passes import counted_together, is_recorded, stored_ids
from geo.scenes.model import Scene, Sensor
from geo.store import Store
from geo.store.vessels import (add_vessel_rows, set_vessel_mask, set_vessel_modes, unknown_mode_scenes, vessel_masks,
                               vessel_rows, vessel_scenes)
from geo.vessels.evidence import evidence_for_claims
from geo.vessels.job import VesselParams, find_scenes, run_vessels
from geo.vessels.period import default_period, default_sensors, vessel_claims
from geo.vessels.merged_verdicts import merge_vessel_evidence
from geo.vessels.model import VESSELS_VERSION, LandMask, MaskKey
from geo.vessels.series import (mode_unknown, one_row_per_day, place_unknown_modes, row_day, series_namer,
                                series_zones)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VesselPlan:
    claims: tuple[Claim, ...]  # the AOI's claims whose signatures include vessels
    sensors: tuple[Sensor, ...]
    start: date
    pending: tuple[Scene, ...]  # scenes not counted yet, oldest first
    masks: dict[MaskKey, LandMask] = field(default_factory=dict)  # kept from the AOI's first vessel runs
    # tiles not recorded yet that their pass leaves out (never counted: recorded as seen, for geo.recheck.quick)
    left_out: tuple[Scene, ...] = ()
    # the instrument mode the search's items give scenes counted before the store kept it (id -> mode)
    modes: dict[str, str] = field(default_factory=dict)


@dataclass
class VesselOutcome:
    rows: list[dict[str, Any]] = field(default_factory=list)  # one per pending scene
    masks: dict[MaskKey, LandMask] = field(default_factory=dict)  # time-series masks this run built
    grid: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def plan_vessels(store: Store, source: str, aoi: AOI, claims: Sequence[Claim], today: date,
                 params: VesselParams = VesselParams(), named: Mapping[Sensor, Sequence[str]] | None = None,
                 ) -> VesselPlan | None:
    """The scenes to count over ``aoi`` (a search, no pixels); None when no claim on it predicts vessels.
    ``named``: the collections searched for a sensor (the re-check's ``--collection`` for Sentinel-2)."""
    relevant = vessel_claims(claims, aoi)
    if not relevant:
        return None
    start = default_period(relevant)[0]
    sensors = default_sensors(source)
    left_out: list[Scene] = []
    scenes = find_scenes(source, aoi, start, today, sensors, left_out, named) if start <= today else []
    counted_at = vessel_scenes(store, aoi.id, VESSELS_VERSION)
    counted = stored_ids(counted_at)  # passes, or tiles counted before

    def observed(scene: Scene) -> bool:  # counted already: itself, or published again (an earlier id, its time)
        return (is_recorded(scene, counted, republished=True)
                or counted_together(scene.sensor, scene.datetime, counted_at))

    pending = tuple(s for s in scenes if not observed(s))
    # a pass published again under a new id is not counted twice; recorded as seen, as a tile left out
    left_out += [s for s in scenes if observed(s) and not is_recorded(s, counted)]
    seen = store.seen_scene_ids(aoi.id)
    modes = _modes_found(scenes, unknown_mode_scenes(store, aoi.id, VESSELS_VERSION)) if pending else {}
    masks = _kept_masks(store, aoi, pending, modes, params) if pending else {}
    log.info("%s: %d scene(s) to count vessels on", aoi.id, len(pending))
    return VesselPlan(tuple(relevant), sensors, start, pending, masks, tuple(s for s in left_out if s.id not in seen),
                      modes)


def _modes_found(scenes: Sequence[Scene], unknown: Mapping[str, tuple[str, datetime]]) -> dict[str, str]:
    """The instrument mode of each scene counted before the store kept it (``unknown``: id -> sensor, time) that
    the search found again: by its id, or as the observation published again (its sensor, at its time)."""
    modes = {}
    for scene_id, (sensor, when) in unknown.items():
        for scene in scenes:
            if is_recorded(scene, stored_ids([scene_id]), republished=True) or counted_together(
                    scene.sensor, scene.datetime, {scene_id: (sensor, when)}):
                modes[scene_id] = scene.instrument_mode
                break
    return modes


def _kept_masks(store: Store, aoi: AOI, pending: Sequence[Scene], learned: Mapping[str, str],
                params: VesselParams) -> dict[MaskKey, LandMask]:
    """The AOI's stored land masks by sensor and mode. One kept before migration 8 (mode None) is the mode's its
    scenes' counts are all of, once the series has placed counts of unknown mode (``learned``: those this run
    found the mode of; ``pending``: the counts about to join); counts of several modes made it of several seas."""
    grid = Grid.from_aoi(aoi, params.resolution, params.margin_m).to_dict()
    stored = vessel_masks(store, aoi.id, VESSELS_VERSION, grid)
    masks = {MaskKey(sensor, mode): LandMask(kept.mask, kept.method)
             for (sensor, mode), kept in stored.items() if mode is not None}
    legacy = {sensor: kept for (sensor, mode), kept in stored.items() if mode is None}
    if not legacy:
        return masks
    rows = [{**r, "instrument_mode": learned.get(r["scene"], r["instrument_mode"])}
            for r in vessel_rows(store, aoi.id, VESSELS_VERSION)]
    rows += [{"scene": s.id, "sensor": s.sensor.value, "instrument_mode": s.instrument_mode, "run_id": None}
             for s in pending]
    placed = place_unknown_modes(rows)
    for sensor, kept in legacy.items():
        modes = {r["instrument_mode"] for r in placed if r["sensor"] == sensor and r["run_id"] == kept.run_id}
        if len(modes) == 1 and None not in modes:
            masks.setdefault(MaskKey(sensor, modes.pop()), LandMask(kept.mask, kept.method))
    return masks


def count_vessels(aoi: AOI, plan: VesselPlan, params: VesselParams = VesselParams()) -> VesselOutcome:
    """Count ships in the plan's pending scenes (reads pixels, writes nothing)."""
    try:
        run = run_vessels(aoi, plan.pending, plan.claims, params, land_masks=plan.masks)
    except GeoError as exc:  # an unreadable scene, the archive down: counted again next run
        return VesselOutcome(error=f"vessel counts: {exc}")
    return VesselOutcome(run.scene_rows, run.land_masks, run.grid.to_dict())


def _combined(store: Store, aoi: AOI, claims: Sequence[Claim], evidence: list[dict[str, Any]],
              change_version: str) -> dict[str, dict[str, Any]]:
    """The claims' latest window verdicts (change polygons of ``change_version``) merged with the vessel
    evidence."""
    windows = [w for c in claims if (w := store.latest_window_verdict(aoi.id, c.id, change_version))]
    if not windows:
        return {}
    wanted = {c for w in windows for c in w.get("evidence", [])}
    features = [f for f in store.changes(aoi_id=aoi.id, algorithm_version=change_version)
                if f.change_id in wanted]
    merged = merge_vessel_evidence(windows, evidence, claims, features)
    keys = ("verdict", "confidence", "confidence_label", "verdict_source", "rationale", "before_scene", "after_scene")
    return {m["claim_id"]: {k: m.get(k) for k in keys} for m in merged if "verdict_source" in m}


def record_vessels(store: Store, aoi: AOI, plan: VesselPlan, outcome: VesselOutcome, run_id: int,
                   recorded: str, change_version: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Append the new rows and masks; recompute the evidence over the stored series and record what changed.
    Returns the AOI's ``vessels`` summary entry and its verdict news."""
    added = add_vessel_rows(store, aoi.id, VESSELS_VERSION, outcome.rows, run_id, recorded)
    learned = set_vessel_modes(store, aoi.id, VESSELS_VERSION, plan.modes)  # of rows stored before the store kept it
    for key, land in outcome.masks.items():
        set_vessel_mask(store, aoi.id, key.sensor, key.mode, VESSELS_VERSION, outcome.grid, land.method, land.mask,
                        run_id)
    # each instrument mode a series of its own, as in geo vessels; rows stored before the mode was: as the rule says
    rows = one_row_per_day(place_unknown_modes(vessel_rows(store, aoi.id, VESSELS_VERSION)),
                           series_zones(plan.claims, aoi))  # a row per local day the claims count
    entry = {"new_scenes": [r["scene"] for r in outcome.rows], "n_counted": added, "n_dates": len(rows),
             "series": _series_dates(rows), "n_modes_learned": learned, "sensors": list(plan.sensors),
             "period_start": plan.start.isoformat()}
    if not rows:
        return entry, []
    evidence = evidence_for_claims(plan.claims, aoi, rows, VesselParams().evidence)
    combined = _combined(store, aoi, plan.claims, evidence, change_version)
    first, last = rows[0]["scene"], rows[-1]["scene"]
    news = []
    for item in evidence:
        claim_id = item["claim_id"]
        zone = zone_named(item["window_time_zone"])  # the window's days (geo.claim_days)
        covers = row_day(rows[-1], zone) >= date.fromisoformat(item["window"]["end"])
        details = {**item, "n_dates": len(rows), "first_scene": first, "last_scene": last,
                   **({"combined": combined[claim_id]} if claim_id in combined else {})}
        previous = store.latest_verdict("vessels", aoi.id, claim_id, VESSELS_VERSION)
        if store.add_verdict("vessels", details, first, last, VESSELS_VERSION, covers, run_id, recorded):
            was = previous["verdict"] if previous else None
            news.append({"kind": "vessels", "claim_id": claim_id, "aoi_id": aoi.id, "verdict": item["verdict"],
                         "previous_verdict": was, "changed": was != item["verdict"], "covers_window": covers,
                         "p_value": item.get("p_value"), "confidence": item.get("confidence"), "n_dates": len(rows),
                         "first_scene": first, "last_scene": last, "rationale": item["rationale"],
                         "combined": combined.get(claim_id)})
    entry["evidence"] = [{"claim_id": e["claim_id"], "verdict": e["verdict"], "p_value": e.get("p_value"),
                          "tests": list(e.get("tests", {}))} for e in evidence]
    return entry, news


def _series_dates(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Dates per series ("s1 IW", "s2"), as the evidence names them; rows of a mode left unknown apart."""
    name = series_namer([r for r in rows if not mode_unknown(r)])
    names = [f"{r['sensor']} unknown mode" if mode_unknown(r) else name(r) for r in rows]
    return {n: names.count(n) for n in sorted(set(names))}
