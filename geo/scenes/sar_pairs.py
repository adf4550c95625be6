"""Choosing the Sentinel-1 scenes of a SAR change job: a before/after pair bracketing the claims' windows,
and the series of scenes between them for the omnibus test.

Radar backscatter depends on the viewing geometry: the same ground seen from another relative orbit (another
incidence angle) or the other pass direction (ascending vs descending: the opposite look side) is brighter
or darker for reasons that are not change. So a pair, and a series, is only ever made of scenes sharing
relative orbit, orbit direction *and* instrument mode (IW and EW see at other incidence angles and
resolutions); there is no fallback to a mixed pair, nor to items that do not say their orbit. A pair also
shares a polarisation (VV+VH and VV-only share VV; VV and HH share none), and the series keeps the scenes
having the pair's polarisations. Cloud does not matter to radar:
a scene is judged by how much of the AOI its footprint covers. Within one geometry the scenes closest to
the window win (the before scene on or before its start, the after scene on or after its end, counted in the
window's days: the place's local days, ``geo.claim_days``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from geo.aoi import AOI
from geo.claim_days import DayZone
from geo.claims import Claim
from geo.errors import NoScenesError, SceneError
from geo.scenes.cloud import AoiCover, footprint_coverage
from geo.dates import DATE_PATTERN
from geo.scenes.model import Scene, Sensor
from geo.scenes.anchors import claim_anchors, search_days
from geo.scenes.empty_notes import date_then_catalog, mission_note
from geo.scenes.pairs import DEFAULT_MAX_GAP_DAYS, named_scene, not_later_error
from geo.scenes.mosaic import passes
from geo.scenes.sar_read import lacking_assets, sar_polarisations, shared_polarisations
from geo.scenes.source import SceneSource

log = logging.getLogger(__name__)

MIN_COVERAGE = 0.5  # share of the AOI a scene's footprint must cover to be a candidate
MAX_SERIES = 12  # scenes in the omnibus series at most (both ends always kept)
GEOMETRY_NOTE = ("Scenes of a pair (and of the series) share relative orbit, orbit direction and instrument "
                 "mode: backscatter depends on the incidence angle and look side, so scenes from different "
                 "orbits would show change where there is none.")

Geometry = tuple[int, str, str]  # relative orbit, ascending/descending, instrument mode ("" when not said)


@dataclass(frozen=True)
class SarPair:
    before: Scene
    after: Scene
    series: tuple[Scene, ...]  # same-geometry scenes from before to after inclusive, by date
    reason: dict[str, Any]


def geometry(scene: Scene) -> Geometry | None:
    """(relative orbit, ascending/descending, instrument mode), or None when the item does not say its orbit."""
    orbit = scene.orbit_geometry
    return None if orbit is None else (orbit[0], orbit[1], scene.instrument_mode)


def _describe(key: Geometry | None) -> str:
    if key is None:
        return "unknown orbit (no sat:relative_orbit/sat:orbit_state)"
    return f"relative orbit {key[0]} {key[1]}" + (f" {key[2]}" if key[2] else "")


def _geometries(candidates: Sequence[tuple[Scene, float]]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for scene, _ in candidates:
        counts[_describe(geometry(scene))] += 1
    return ", ".join(f"{name} ({n} scene{'s' if n > 1 else ''})" for name, n in sorted(counts.items()))


def _polarisations(scene: Scene) -> str:
    """The polarisations read of ``scene`` (vv/vh), or what it has instead (only cross-pol vh ...)."""
    return "/".join(sar_polarisations(scene)) or lacking_assets(scene) or "no polarisation"


def _covering(scenes: Sequence[Scene], aoi: AOI) -> list[tuple[Scene, float]]:
    out = []
    for scene in passes(scenes, aoi):  # the slices of one pass as one scene (geo.scenes.mosaic)
        if scene.sensor is not Sensor.S1:
            continue
        coverage = footprint_coverage(scene, aoi)
        if coverage >= MIN_COVERAGE:
            out.append((scene, coverage))
    return out


def _side(source: SceneSource, aoi: AOI, ref: str | None, anchor: date | None, side: str,
          max_gap: int, zone: DayZone, claim_note: str = "") -> tuple[list[tuple[Scene, float]], bool]:
    """Candidates (scene, AOI coverage) on one side; True when the user named the scene by id. ``claim_note``:
    the claim whose window set the side's date, said when no scene is found near it."""
    if ref is not None and not DATE_PATTERN.match(ref):
        scene = named_scene(source, ref, f"--{side}")
        if scene.sensor is not Sensor.S1:
            raise SceneError(f"--{side} {ref}: not a Sentinel-1 scene (collection {scene.collection!r})")
        return [(scene, footprint_coverage(scene, aoi))], True
    assert anchor is not None
    lo, hi = (anchor - timedelta(days=max_gap), anchor) if side == "before" else (anchor, anchor + timedelta(days=max_gap))
    found = _covering(search_days(source, aoi, zone, lo, hi), aoi)
    if not found:
        where = "on or before" if side == "before" else "on or after"
        note = date_then_catalog(mission_note(Sensor.S1, hi), source, aoi)  # a catalog of Sentinel-2 only says so
        note = "; ".join(filter(None, (note, claim_note)))
        raise NoScenesError(f"no Sentinel-1 scene covering at least {MIN_COVERAGE:.0%} of AOI {aoi.id!r} {where} "
                            f"{anchor}{zone.day_note()} within {max_gap} days in {source.name}{'; ' + note if note else ''}")
    return found, False


def _gap(scene: Scene, anchor: date | None, side: str, zone: DayZone) -> int:
    if anchor is None:
        return 0
    day = zone.day(scene.datetime)  # the anchor's days: a claim window's local ones (geo.claim_days)
    return (anchor - day).days if side == "before" else (day - anchor).days


def _series(source: SceneSource, aoi: AOI, before: Scene, after: Scene) -> tuple[list[Scene], list[str]]:
    """Same-geometry scenes from ``before`` to ``after`` inclusive having the pair's polarisations, one per
    date (the best covering), at most ``MAX_SERIES`` spread evenly; and a warning for each scene left out for
    want of a polarisation."""
    warnings = []
    key, polarisations = geometry(before), shared_polarisations([before, after])
    by_date: dict[date, tuple[Scene, float]] = {}
    for scene, coverage in _covering(source.search(aoi.geometry, before.date, after.date), aoi):
        if geometry(scene) != key or not before.datetime <= scene.datetime <= after.datetime:
            continue
        if not set(polarisations) <= set(sar_polarisations(scene)):
            warnings.append(f"series scene {scene.id} left out: it has "
                            f"{_polarisations(scene)}, the pair {'/'.join(polarisations)}")
            continue
        if scene.date not in by_date or coverage > by_date[scene.date][1]:
            by_date[scene.date] = (scene, coverage)
    by_date[before.date], by_date[after.date] = (before, 1.0), (after, 1.0)
    scenes = [by_date[d][0] for d in sorted(by_date)]
    if len(scenes) > MAX_SERIES:
        picks = np.unique(np.round(np.linspace(0, len(scenes) - 1, MAX_SERIES)).astype(int))
        scenes = [scenes[i] for i in picks]
    return scenes, warnings


def select_sar_pair(source: SceneSource, aoi: AOI, claims: Sequence[Claim], before: str | None = None,
                    after: str | None = None, max_gap_days: int = DEFAULT_MAX_GAP_DAYS) -> SarPair:
    """The Sentinel-1 pair (and series) for a SAR change job over ``aoi``; ``before``/``after`` are item ids
    or dates, else the pair brackets the claims' windows. See the module doc for the rule."""
    anchors = claim_anchors(claims, aoi, before, after)
    before_anchor, after_anchor, zones = anchors.before, anchors.after, (anchors.before_zone, anchors.after_zone)
    befores, fixed_before = _side(source, aoi, before, before_anchor, "before", max_gap_days, zones[0],
                                  anchors.claim_note("before"))
    afters, fixed_after = _side(source, aoi, after, after_anchor, "after", max_gap_days, zones[1],
                                anchors.claim_note("after"))
    def cost(pair: tuple[tuple[Scene, float], tuple[Scene, float]]) -> tuple[float, ...]:
        (b, cb), (a, ca) = pair
        return (_gap(b, before_anchor, "before", zones[0]) + _gap(a, after_anchor, "after", zones[1]), -min(cb, ca),
                b.datetime.timestamp())

    same_geometry = [(b, a) for b in befores for a in afters if geometry(b[0]) is not None
                     and geometry(b[0]) == geometry(a[0]) and b[0].datetime < a[0].datetime]
    pairs = [(b, a) for b, a in same_geometry if shared_polarisations([b[0], a[0]])]
    if same_geometry and not pairs:
        (b, _), (a, _) = min(same_geometry, key=cost)
        # a co-pol (the change is read in it): two VH-only dates share vh, and "no polarisation" misled
        raise SceneError(f"no Sentinel-1 pair over AOI {aoi.id!r} sharing a co-polarisation (vv or hh): e.g. before "
                         f"{b.id} has {_polarisations(b)}, after {a.id} has {_polarisations(a)}; name other dates or "
                         "scenes (--before/--after)")
    if not pairs:
        if fixed_before and fixed_after and befores[0][0].datetime >= afters[0][0].datetime:
            raise not_later_error(befores[0][0], afters[0][0], before, after)
        if all(geometry(s) is None for s, _ in befores + afters):
            raise SceneError(
                f"no Sentinel-1 pair over AOI {aoi.id!r}: the items of {source.name} do not say their orbit "
                "(sat:relative_orbit, sat:orbit_state), so scenes of one viewing geometry cannot be told apart; "
                "SAR change needs them (add them to the items)")
        raise SceneError(
            f"no Sentinel-1 pair over AOI {aoi.id!r} on the same relative orbit and orbit direction, in one mode: "
            f"before {before_anchor or before}: {_geometries(befores)}; "
            f"after {after_anchor or after}: {_geometries(afters)}. "
            "Scenes from different orbits see the ground at other angles, which fakes change; "
            "name other dates or scenes (--before/--after)"
        )

    (chosen_before, cover_before), (chosen_after, cover_after) = min(pairs, key=cost)
    series, warnings = _series(source, aoi, chosen_before, chosen_after)
    for warning in warnings:
        log.warning("%s", warning)
    key = geometry(chosen_before)
    others = sorted({_describe(geometry(s)) for s, _ in befores + afters} - {_describe(key)})
    reason = {
        "method": "named by id" if fixed_before and fixed_after else "automatic",
        "source": source.name,
        "sensor": Sensor.S1,
        "rule": (f"same relative orbit, orbit direction and instrument mode and a shared polarisation (required), "
                 f"footprint covering >= {MIN_COVERAGE:.0%} of the AOI, then closest to the window; cloud does "
                 "not matter to radar"),
        "geometry": {"relative_orbit": key[0], "orbit_state": key[1], "instrument_mode": key[2] or None}
        if key else None,
        "polarisations": list(shared_polarisations([chosen_before, chosen_after])),
        "geometry_note": GEOMETRY_NOTE,
        "other_geometries_seen": others,
        "anchors": anchors.to_dict(),
        "before": _entry(chosen_before, cover_before, before_anchor, "before", fixed_before, zones[0]),
        "after": _entry(chosen_after, cover_after, after_anchor, "after", fixed_after, zones[1]),
        "same_relative_orbit": True,
        "series": [s.id for s in series],
        "candidates": {"before": len(befores), "after": len(afters)},
        "warnings": warnings,
    }
    log.info("SAR pair: %s -> %s (%s; series of %d)", chosen_before.id, chosen_after.id, _describe(key), len(series))
    return SarPair(chosen_before, chosen_after, tuple(series), reason)


def _entry(scene: Scene, coverage: float, anchor: date | None, side: str, fixed: bool,
           zone: DayZone) -> dict[str, Any]:
    gap = _gap(scene, anchor, side, zone)
    where = "on or before" if side == "before" else "on or after"
    why = "named by id" if fixed else (f"closest same-geometry scene {where} {anchor} ({gap} days away; "
                                       f"{coverage:.0%} of the AOI inside its footprint)")
    # the share of the AOI outside the footprint as the optical selection records it (``nodata_fraction``):
    # what the terminal, the report and the verdicts name as outside the scenes (``geo.results``)
    cover = AoiCover(clear=coverage, cloud=0.0, nodata=max(0.0, 1.0 - coverage), method="sar")
    return {"id": scene.id, "date": scene.date.isoformat(), "local_date": zone.day(scene.datetime).isoformat(),
            "platform": scene.platform, "relative_orbit": scene.relative_orbit,
            "orbit_state": scene.properties.get("sat:orbit_state"),
            "gap_days": gap, "coverage": round(coverage, 4), "why": why, **cover.to_dict()}
