"""One vessel job: an AOI and a period -> detections per scene, the AOI's count series, claim evidence.

I/O lives at the edges: ``find_scenes`` (a scene source), ``geo.scenes.sar_read.read_scene`` (windowed reads
onto the AOI's grid) and ``geo.vessels.run_files.write_vessel_outputs``. ``run_vessels`` is what ``geo vessels`` calls, and what
``geo run`` / ``geo recheck`` call for claims whose signature is vessels.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from functools import partial
from typing import Any

import numpy as np
from shapely.geometry.base import BaseGeometry

from geo import __version__
from geo.aoi import AOI
from geo.change.classify import water_index
from geo.claims import Claim
from geo.grid import Grid
from geo.words import counted
from geo.jobs.steps import Progress
from geo.scenes.model import Scene, Sensor
from geo.scenes.mosaic import passes
from geo.scenes.sar_read import SceneBands, lacking_assets, read_scene, scene_sensor
from geo.scenes.source import open_source
from geo.vessels.berths import mark_at_berth
from geo.vessels.cfar import CfarParams, detect_sar
from geo.vessels.evidence import EvidenceParams, evidence_for_claims
from geo.vessels.landmask import LandParams, dark_water, optical_land_mask, rasterize_land, sar_land_mask
from geo.vessels.ship_pixels import SHIP_PIXEL_BANDS, PixelModel, ship_pixels, shipped_pixel_model
from geo.vessels.model import VESSELS_VERSION, DetectorOutput, LandMask, MaskKey, SceneDetections
from geo.vessels.optical import OpticalParams, detect_optical
from geo.vessels.period import default_period, default_sensors, no_scenes, vessel_claims  # noqa: F401 (also imported from here)
from geo.vessels.series import one_row_per_day, scene_row, series_namer, series_zones

log = logging.getLogger(__name__)

SCL_WATER = 6


@dataclass(frozen=True)
class VesselParams:
    resolution: float = 10.0
    margin_m: float = 500.0  # read beyond the AOI: the CFAR background ring needs context at its edges
    mask_scenes: int = 12  # at most this many scenes (evenly spread) build the time-series land mask
    berth_m: float = 30.0  # a hull this close to the land mask (or to a hull at berth) is at berth
    sar: CfarParams = CfarParams()
    optical: OpticalParams = OpticalParams()
    land: LandParams = LandParams()
    evidence: EvidenceParams = EvidenceParams()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def mask_groups(scenes: Sequence[Scene]) -> dict[MaskKey, list[Scene]]:
    """``scenes`` by the land mask they are judged against (their sensor and mode), Sentinel-1 first."""
    groups: dict[MaskKey, list[Scene]] = {}
    for scene in scenes:
        sensor = scene_sensor(scene)
        if sensor is not None:
            groups.setdefault(MaskKey(sensor, scene.instrument_mode), []).append(scene)
    order = (Sensor.S1, Sensor.S2)
    return dict(sorted(groups.items(), key=lambda kv: (order.index(Sensor(kv[0].sensor)), kv[0].mode)))


@dataclass
class VesselRun:
    aoi: AOI
    grid: Grid
    results: list[SceneDetections]
    rows: list[dict[str, Any]]  # the series: one row per local day, sensor and mode (series.one_row_per_day)
    evidence: list[dict[str, Any]]
    manifest: dict[str, Any]
    claims: tuple[Claim, ...] = field(default=())
    scene_rows: list[dict[str, Any]] = field(default_factory=list)  # one row per scene
    land_masks: dict[MaskKey, LandMask] = field(default_factory=dict)  # time-series masks built by this run


def find_scenes(source: str, aoi: AOI, start: date, end: date, sensors: Sequence[Sensor],
                left_out: list[Scene] | None = None, named: Mapping[Sensor, Sequence[str]] | None = None,
                ) -> list[Scene]:
    """Scenes of ``sensors`` over ``aoi`` in [start, end], each sensor searched in the collections ``named``
    for it (``--collection``), else in its own (``geo.scenes.source.open_source``: Sentinel-1 on the Planetary
    Computer or any STAC API's ``sentinel-1-rtc``, Sentinel-2 L2A, or a local catalog filtered by sensor).
    Scenes lacking the assets their detector reads are left out, with a warning. ``left_out``: gets the tiles
    their passes leave out."""
    scenes: list[Scene] = []
    named = named or {}
    for sensor in sensors:  # every sensor the source has (several): one it lacks has no scene, unless named
        mine = tuple(named.get(sensor, ()))
        scenes += open_source(source, sensor, mine or None, collections_required=len(sensors) == 1 or bool(mine)
                              ).search(aoi.geometry, start, end)
    unusable = {s.id: why for s in scenes if (why := lacking_assets(s))}
    if unusable:
        log.warning("%s without the assets a vessel detector reads, left out: %s", counted(len(unusable), "scene"),
                    "; ".join(f"{i} ({why})" for i, why in sorted(unusable.items())))
    chosen = [s for s in scenes if scene_sensor(s) in sensors]
    # the slices or tiles of one pass over the AOI as one scene: each ship counted once, all of the AOI seen
    tiles = sorted({s.id: s for s in chosen}.values(), key=lambda s: s.datetime)
    return passes(tiles, aoi, left_out)


def _evenly(items: Sequence[Scene], n: int) -> list[Scene]:
    if len(items) <= n:
        return list(items)
    picks = np.unique(np.round(np.linspace(0, len(items) - 1, n)).astype(int))
    return [items[i] for i in picks]


def _mask_input(bands: SceneBands) -> np.ndarray:
    """What the land mask is built from: co-pol intensity (SAR) or MNDWI (optical), NaN if invalid."""
    if bands.sensor is Sensor.S1:
        return bands.bands[next(iter(bands.bands))]
    b = bands.bands
    return np.where(bands.valid, water_index(b["green"], b["nir"], b.get("swir16")), np.nan)


def _land_mask(stacks: Sequence[SceneBands], sensor: Sensor, grid: Grid, p: LandParams,
               pixel_model: PixelModel | None = None) -> tuple[np.ndarray, str]:
    inputs = [_mask_input(s) for s in stacks]
    if sensor is Sensor.S1:
        return sar_land_mask(inputs, grid, p)
    scl_water = stacks[0].scl == SCL_WATER if len(stacks) == 1 and stacks[0].scl is not None else None
    dark = None
    if len(stacks) == 1 and p.keep_objects_on_water and p.dark_water and "swir16" in stacks[0].bands:
        dark = dark_water(inputs[0], stacks[0].bands["nir"], stacks[0].bands["swir16"], p)
    vegetation = None
    ship_like = None
    if len(stacks) == 1 and "red" in stacks[0].bands:
        b = stacks[0].bands
        vegetation = np.nan_to_num(water_index(b["nir"], b["red"])) > p.max_hull_ndvi  # NDVI: the same ratio
        if p.ship_pixels and all(name in b for name in SHIP_PIXEL_BANDS):
            ship_like = partial(ship_pixels, b, model=pixel_model or shipped_pixel_model())
    return optical_land_mask(inputs, grid, p, scl_water, vegetation, ship_like, dark)


def single_scene_land(bands: SceneBands, grid: Grid, p: LandParams,
                      pixel_model: PixelModel | None = None) -> tuple[np.ndarray, str]:
    """The land model of one scene alone (too few dates for a time-series model); ``pixel_model``: the
    ship pixel model of ``p.ship_pixels`` (default: the shipped one)."""
    if not bands.valid.any():
        return np.zeros(grid.shape, bool), "none (no valid pixels)"
    land, method = _land_mask([bands], bands.sensor, grid, p, pixel_model)
    # Pixels this scene cannot see (cloud, nodata) are not known to be land: they count as unobserved
    # sea, so a clouded date reports a low observed fraction instead of less sea.
    return land & bands.valid, method


def detect_scene(bands: SceneBands, land: np.ndarray, grid: Grid, inside: np.ndarray, p: VesselParams,
                 land_method: str) -> SceneDetections:
    """Run the sensor's detector on one scene over the sea (``~land``) and count what it saw in the AOI."""
    sea = ~land
    if not bands.valid.any():
        out = DetectorOutput((), np.zeros(grid.shape, bool), {"skipped": "no valid pixels"})
    elif bands.sensor is Sensor.S1:
        out = detect_sar(bands.bands, sea & bands.valid, grid, p.sar)
    else:
        out = detect_optical(bands.bands, bands.valid, sea, grid, p.optical)
    sea_px = int((sea & inside).sum())
    ice = {} if out.sea_ice is None else {  # the AOI's water under ice fields: not seen (geo.vessels.ice)
        "sea_ice_fraction": round(int((out.sea_ice & inside).sum()) / sea_px, 4) if sea_px else 0.0}
    return SceneDetections(
        scene_id=bands.scene.id, datetime=bands.scene.datetime, sensor=bands.sensor.value,
        detections=mark_at_berth(out.detections, land, grid, p.berth_m), sea_px=sea_px,
        observed_px=int((out.observed & inside).sum()), pixel_area_m2=grid.pixel_area,
        diagnostics={**out.diagnostics, **ice, "land_mask": land_method}, instrument_mode=bands.scene.instrument_mode,
    )


def run_vessels(
    aoi: AOI,
    scenes: Sequence[Scene],
    claims: Sequence[Claim] = (),
    params: VesselParams = VesselParams(),
    land_polygons: Sequence[BaseGeometry] = (),
    progress: Progress | None = None,
    land_masks: Mapping[MaskKey, LandMask] | None = None,
) -> VesselRun:
    """Detect vessels in every scene over ``aoi``, build its series and the evidence for ``claims``. Each sensor
    and instrument mode (``MaskKey``) has a land mask of its own, made of its own scenes. ``land_masks``: per
    sensor and mode, a time-series land mask made earlier on this AOI's grid (re-checks keep the mask of their
    first run with that mode, so that a later run's few new scenes are judged against the same sea)."""
    started = time.perf_counter()
    grid = Grid.from_aoi(aoi, params.resolution, params.margin_m)
    inside = aoi.pixel_mask(grid)
    layer = rasterize_land(land_polygons, grid)
    results: list[SceneDetections] = []
    masks: dict[str, str] = {}
    built: dict[MaskKey, LandMask] = {}
    # "detecting in ID (k/n)": the count lets a progress bar move (QGIS's, with GEO_PROGRESS=lines)
    groups = mask_groups(scenes)
    total = sum(len(group) for group in groups.values())
    series_name = series_namer([{"sensor": k.sensor, "instrument_mode": k.mode} for k in groups])  # "s1", "s1 EW"
    for key, group in groups.items():
        sensor = Sensor(key.sensor)
        name = series_name({"sensor": key.sensor, "instrument_mode": key.mode})
        cache: dict[str, SceneBands] = {}
        given = (land_masks or {}).get(key)
        if given is not None and given.mask.shape == grid.shape:
            land, method = given.mask | layer, f"{given.method} (kept from an earlier run)"
            masks[name] = method
        elif len(group) >= 3:
            for scene in _evenly(group, params.mask_scenes):
                if progress:
                    progress(f"reading {scene.id} (land mask)")
                cache[scene.id] = read_scene(scene, grid)
            land, method = _land_mask([b for b in cache.values() if b.valid.any()] or list(cache.values()),
                                      sensor, grid, params.land)
            built[key] = LandMask(land.copy(), method)
            land |= layer
            masks[name] = method
        single = given is None and len(group) < 3
        # the hull model sorts what a single-scene land model lets through; a time-series mask has masked the
        # quay-side clutter already (and the model was fitted on single-scene candidates)
        scene_params = params if single else replace(params, optical=replace(params.optical, ship_model=False))
        for scene in group:
            if progress:
                progress(f"detecting in {scene.id} ({len(results) + 1}/{total})")
            bands = cache.pop(scene.id, None) or read_scene(scene, grid)
            if single:
                scene_land, method = single_scene_land(bands, grid, params.land)
                land = scene_land | layer
                masks[name] = method
            results.append(detect_scene(bands, land, grid, inside, scene_params,
                                        method + ("+layer" if layer.any() else "")))
    contains = contains_point(inside, grid)
    scene_rows = [scene_row(r, contains, params.evidence.large_length_m) for r in results]
    rows = one_row_per_day(scene_rows, series_zones(claims, aoi))  # the local days the claims count
    evidence = evidence_for_claims(claims, aoi, rows, params.evidence)
    manifest = {
        "workbench_version": __version__,
        "algorithm_version": VESSELS_VERSION,
        "aoi": aoi.summary(),
        "grid": grid.to_dict(),
        "scenes": [s.summary() | {"sensor": scene_sensor(s), "instrument_mode": s.instrument_mode or None}
                   for s in scenes],
        "land_mask": masks,
        "land_layer_pixels": int(layer.sum()),
        "parameters": params.to_dict(),
        "per_scene": {r.scene_id: {"n_detections_grid": len(r.detections), "observed_fraction": round(r.observed_fraction, 4),
                                   **r.diagnostics} for r in results},
        "claims": [c.id for c in claims],
        "seconds": round(time.perf_counter() - started, 3),
    }
    return VesselRun(aoi, grid, results, rows, evidence, manifest, tuple(claims), scene_rows, built)


def contains_point(inside: np.ndarray, grid: Grid) -> Callable[[float, float], bool]:
    inverse = ~grid.transform

    def contains(x: float, y: float) -> bool:
        col, row = inverse @ (x, y)
        r, c = int(math.floor(row)), int(math.floor(col))
        return 0 <= r < grid.height and 0 <= c < grid.width and bool(inside[r, c])

    return contains


def vessel_job(
    aoi: AOI,
    claims: Sequence[Claim],
    source: str,
    sensors: Sequence[Sensor] | None = None,
    period: tuple[date, date] | None = None,
    params: VesselParams = VesselParams(),
    progress: Progress | None = None,
    named: Mapping[Sensor, Sequence[str]] | None = None,
) -> VesselRun | None:
    """The hook for ``geo run`` / ``geo recheck``: when a claim on ``aoi`` predicts vessels, search the
    period (default: 180 days before the earliest window to 14 days after the last) and run the vessel
    job; None when no claim predicts vessels. Add ``run.evidence`` to the claims' verdicts and write the
    files with ``geo.vessels.run_files.write_vessel_outputs(run, stage)`` into the run's own staging folder (its file names do
    not collide with the change job's). ``named``: the collections searched for a sensor (``--collection``)."""
    relevant = vessel_claims(claims, aoi)
    if not relevant:
        return None
    start, end = period or default_period(relevant)
    wanted = tuple(sensors) if sensors else default_sensors(source)
    scenes = find_scenes(source, aoi, start, end, wanted, named=named)
    if not scenes:
        raise no_scenes(wanted, aoi, start, end, source, named)
    run = run_vessels(aoi, scenes, relevant, params, (), progress)
    run.manifest.update(source=source, sensors=list(wanted), period=[start.isoformat(), end.isoformat()])
    return run
