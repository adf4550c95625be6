"""The SAR change job (``geo run --sensor s1``): for AOIs that cloud hides from Sentinel-2.

A Sentinel-1 pair on one orbit geometry (``geo.scenes.sar_pairs``) is read onto the AOI's grid (VV and VH
intensity, ``geo.vessels.job.read_scene``: windowed, cached, retried, Planetary Computer URLs signed); each
polarisation gets the log-ratio test (``geo.change.sar.log_ratio_change``) at a significance level, and the
two are combined by Bonferroni (a pixel changed if min(p_VV, p_VH) < alpha / 2, so the false-alarm rate of
the pair stays at most alpha). Significant pixels make regions (increase and decrease apart), polygons
(``geo.vector.polygonize``), and typed changes (``geo.change.sar_types``) with the same attributes the
optical job writes, so claims are linked and judged (``geo.link``, ``geo.verdicts``) the same way. When
the same geometry has three or more scenes from before to after, the omnibus test over that series
(``geo.change.sar.omnibus_change``) dates each change: the first date that differs from those before it.

Scenes are not co-registered: RTC/GRD are geocoded by the archive, and same-orbit scenes agree to a few
metres; nothing is cloud-masked (radar sees through cloud), so the clear fraction is the share of the AOI
with valid pixels on both dates.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from geo import __version__
from geo.aoi import AOI
from geo.change.sar import PairChange, lee_filter, log_ratio_change, looks_from_log_ratio_spread, omnibus_change
from geo.change.sar_types import WATER_DB, SarRegion, sar_change_type, to_db, water_mask
from geo.change.threshold import change_regions
from geo.claims import Claim
from geo.errors import ChangeError, EmptyReadError, SceneError
from geo.geometry import WGS84, reproject
from geo.grid import Grid
from geo.pipeline import Progress, StepTimer, aoi_mask, judge_claims, package_versions
from geo.results import JobResult
from geo.scenes.read import Stack, sar_quantity
from geo.scenes.sar_pairs import SarPair, select_sar_pair
from geo.scenes.source import SceneSource
from geo.vector.attributes import PairIdentity, clipped_regions, contract_properties
from geo.vector.polygonize import polygonize
from geo.vessels.job import read_scene

log = logging.getLogger(__name__)

SAR_VERSION = "sar-logratio/0.1"
DB_PER_NEPER = 10.0 / math.log(10.0)  # ln ratio -> dB


@dataclass(frozen=True)
class SarParams:
    resolution: float = 10.0
    margin_m: float = 100.0  # context beyond the AOI for the speckle filter's window
    alpha: float = 1e-3  # false-alarm rate per pixel of the combined (VV, VH) test
    strong_alpha: float = 1e-5  # "far past the threshold": a region's confidence is its share of these
    looks: float | None = None  # looks of the intensities; None: estimated from the pair's unfiltered log-ratio
    filter_size: int = 7
    min_area_px: int = 8
    edge_window: int = 3  # trimming: window of the unfiltered log-ratio whose half maximum is an object's edge
    edge_px: int = 3  # trim within this many pixels of a region's border (the speckle filter's reach)
    series_window: int = 3  # omnibus: boxcar multilook of each date (more looks, same 10 m pixels)
    water_db: float = WATER_DB
    min_clear_fraction: float = 0.5


@dataclass(frozen=True)
class SarJob:
    aoi: AOI
    claims: tuple[Claim, ...]
    pair: SarPair
    params: SarParams = SarParams()


def read_backscatter(scene: Any, grid: Grid, role: str) -> Stack:
    """VV/VH intensity of ``scene`` on ``grid`` as a Stack (NaN where invalid); a scene with no valid pixel
    over the AOI is an error for the before/after scene."""
    bands = read_scene(scene, grid)
    if bands.sensor != "s1":
        raise SceneError(f"{role} scene {scene.id}: not a Sentinel-1 scene")
    if not bands.valid.any():
        raise EmptyReadError(f"{role} scene {scene.id}: no valid SAR pixels over the AOI")
    names = tuple(bands.bands)
    quantity = sar_quantity(scene)
    return Stack(scene, grid, names, np.stack([bands.bands[n] for n in names]), bands.valid, False,
                 "dn_squared" if quantity == "dn" else quantity)


@dataclass(frozen=True)
class PairTest:
    tests: dict[str, PairChange]
    p_value: np.ndarray  # Bonferroni-combined, NaN where invalid
    log_ratio: np.ndarray  # ln(after / before) of the most significant polarisation per pixel
    changed: np.ndarray

    @property
    def significance(self) -> np.ndarray:
        """-log10 of the combined p-value (the change statistic), NaN where invalid."""
        return -np.log10(np.maximum(self.p_value, 1e-300))


def pair_test(before: Stack, after: Stack, p: SarParams) -> PairTest:
    if before.bands != after.bands:
        raise ChangeError(f"before scene {before.scene.id} has {'/'.join(before.bands)}, after scene "
                          f"{after.scene.id} has {'/'.join(after.bands)}: a pair needs the same polarisations")
    valid = before.valid & after.valid
    tests = {pol: log_ratio_change(before.band(pol), after.band(pol), p.looks, p.alpha, p.filter_size, valid)
             for pol in before.bands}
    p_values = np.stack([np.nan_to_num(t.p_value, nan=1.0) for t in tests.values()])
    best = np.argmin(p_values, axis=0)
    combined = np.minimum(1.0, len(tests) * p_values.min(axis=0))  # Bonferroni over the polarisations
    ratios = np.stack([np.nan_to_num(t.log_ratio) for t in tests.values()])
    log_ratio = np.take_along_axis(ratios, best[None], axis=0)[0]
    combined = np.where(valid, combined, np.nan)
    return PairTest(tests, combined, log_ratio, valid & (np.nan_to_num(combined, nan=1.0) < p.alpha))


def local_log_ratio(before: Stack, after: Stack, window: int) -> np.ndarray:
    """(polarisation, row, col) mean of ln(after / before) of the unfiltered intensities over a small
    window. The speckle filter lets a strong target bleed into its neighbours (their windows hold it);
    averaged in the log domain a pixel next to a target changes by a third of the target's change, one
    on its edge by two thirds, so the half-maximum contour of this field is the object's edge."""
    valid = before.valid & after.valid
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(valid, np.log(after.data / before.data), 0.0)
    weight = ndi.uniform_filter(valid.astype(float), window, mode="reflect")
    out = np.stack([ndi.uniform_filter(band, window, mode="reflect") for band in ratio])
    return np.where(weight > 0, out / np.maximum(weight, 1e-9), 0.0)


def _filtered_vv(stack: Stack, looks: float, p: SarParams) -> np.ndarray:
    vv = stack.band(stack.bands[0])  # co-polarised first (VV, or HH)
    filled = np.where(stack.valid, vv, np.nanmedian(vv[stack.valid]))
    return np.where(stack.valid, lee_filter(filled, looks, p.filter_size), np.nan)


def _multilook(stack: Stack, window: int) -> np.ndarray:
    data = stack.data.astype(np.float64)
    out = np.empty_like(data)
    for index, band in enumerate(data):
        filled = np.where(stack.valid, band, np.nanmedian(band[stack.valid]))
        out[index] = ndi.uniform_filter(filled, window, mode="reflect") if window > 1 else filled
    out[:, ~stack.valid] = np.nan
    return out


def series_test(stacks: Sequence[Stack], p: SarParams) -> tuple[Any, float]:
    """Omnibus test over the series (multi-looked); its looks estimated from consecutive dates' log-ratios
    (most pixels do not change between neighbouring dates), as the pair test does."""
    series = np.stack([_multilook(s, p.series_window) for s in stacks])
    estimates = []
    for first, second in zip(series[:-1], series[1:]):
        for band in range(series.shape[1]):
            with np.errstate(divide="ignore", invalid="ignore"):
                estimates.append(looks_from_log_ratio_spread(np.log(second[band] / first[band])))
    looks = float(np.median(estimates))
    return omnibus_change(series, looks, p.alpha), looks


def _shares(mask: np.ndarray, labels: np.ndarray, index: np.ndarray) -> np.ndarray:
    return np.asarray(ndi.mean(mask.astype(float), labels, index), dtype=float)


def sar_features(labels: np.ndarray, grid: Grid, aoi: AOI, identity: PairIdentity, test: PairTest, water: np.ndarray, dark: tuple[np.ndarray, np.ndarray],
                 series: tuple[Any, Sequence[Stack]] | None, p: SarParams) -> list[tuple[Any, dict[str, Any]]]:
    """GeoJSON-ready (lon/lat geometry, properties) per region, clipped to the AOI (the DESIGN contract,
    plus the dB change per polarisation and, with a series, the omnibus date of change)."""
    regions = polygonize(labels, grid)
    if not regions:
        return []
    index = np.arange(1, labels.max() + 1)
    score = ndi.mean(np.nan_to_num(test.significance, nan=0.0), labels, index)
    strong = _shares(np.nan_to_num(test.p_value, nan=1.0) < p.strong_alpha, labels, index)
    db_best = ndi.median(test.log_ratio * DB_PER_NEPER, labels, index)
    db_pol = {pol: ndi.median(np.nan_to_num(t.log_ratio) * DB_PER_NEPER, labels, index) for pol, t in test.tests.items()}
    water_share = _shares(water, labels, index)
    dark_before, dark_after = (_shares(d, labels, index) for d in dark)
    slices = ndi.find_objects(labels)
    aoi_projected = aoi.projected(grid.crs.to_string())
    features = []
    for region, clipped in clipped_regions(regions, aoi_projected):
        i = region.label - 1
        area = float(clipped.area)
        kind, type_confidence = sar_change_type(SarRegion(area, float(db_best[i]), float(water_share[i]),
                                                          float(dark_before[i]), float(dark_after[i])))
        props = contract_properties(identity, clipped, float(score[i]), float(strong[i]), kind, type_confidence,
                                    region.pixels)
        props.update({
            "sensor": "s1",
            "backscatter": "increase" if db_best[i] > 0 else "decrease",
            **{f"db_change_{pol}": round(float(v[i]), 2) for pol, v in db_pol.items()},
            "water_share": round(float(water_share[i]), 3),
        })
        if series is not None:
            props.update(_dating(series, labels[slices[i]] == region.label, slices[i]))
        features.append((reproject(clipped, grid.crs.to_string(), WGS84), props))
    return features


def _dating(series: tuple[Any, Sequence[Stack]], inside: np.ndarray, where: tuple[slice, ...]) -> dict[str, Any]:
    """The omnibus verdict on one region: share of its pixels changed over the series, and the date of the
    first change most of those pixels agree on (between the scene before it and that scene)."""
    result, stacks = series
    changed = result.changed[where] & inside
    first = result.first_change[where][changed]
    out: dict[str, Any] = {"omnibus_share": round(float(changed.sum() / max(inside.sum(), 1)), 3)}
    first = first[first > 0]
    if first.size:
        j = int(np.bincount(first).argmax())
        out.update(change_first_seen=stacks[j].scene.date.isoformat(), change_first_scene=stacks[j].scene.id,
                   change_last_unchanged=stacks[j - 1].scene.date.isoformat(),
                   change_date_agreement=round(float((first == j).mean()), 3))
    return out


def run_sar_job(job: SarJob, progress: Progress | None = None) -> JobResult:
    p, aoi, pair = job.params, job.aoi, job.pair
    timer = StepTimer(progress)
    warnings: list[str] = []
    grid = aoi.utm_grid(p.resolution, p.margin_m)
    inside = aoi_mask(aoi, grid)
    with timer.step(f"reading {pair.before.id} and {pair.after.id}"):
        before = read_backscatter(pair.before, grid, "before")
        after = read_backscatter(pair.after, grid, "after")
    with timer.step("log-ratio test"):
        test = pair_test(before, after, p)
    stacks: list[Stack] = [before, after]
    series = None
    if len(pair.series) >= 3:
        with timer.step(f"reading the series ({len(pair.series)} dates)"):
            stacks = []
            for scene in pair.series:
                if scene.id in (pair.before.id, pair.after.id):
                    stacks.append(before if scene.id == pair.before.id else after)
                    continue
                try:
                    stacks.append(read_backscatter(scene, grid, "series"))
                except EmptyReadError as exc:  # nodata over the AOI: a fact of the series; read failures raise
                    warnings.append(f"series scene {scene.id} left out: {exc}")
        if len(stacks) >= 3:
            with timer.step("omnibus test"):
                result, series_looks = series_test(stacks, p)
                series = (result, stacks)
    with timer.step("polygonise"):
        local = local_log_ratio(before, after, p.edge_window)
        increase = change_regions(test.changed & inside & (test.log_ratio > 0), local, p.min_area_px, p.edge_px)
        decrease = change_regions(test.changed & inside & (test.log_ratio < 0), local, p.min_area_px, p.edge_px)
        labels = np.where(decrease > 0, decrease + increase.max(), increase).astype(np.int32)
        looks = next(iter(test.tests.values())).raw_looks
        filtered = [_filtered_vv(s, looks, p) for s in stacks]
        valid_any = np.logical_or.reduce([s.valid for s in stacks])
        water = water_mask(filtered, valid_any, p.water_db, p.min_area_px)
        dark_before, dark_after = (to_db(np.nan_to_num(f, nan=np.inf)) < p.water_db
                                   for f in (filtered[0], filtered[-1]))
        identity = PairIdentity(aoi.id, pair.before.id, pair.after.id, pair.before.date.isoformat(),
                                pair.after.date.isoformat(), SAR_VERSION)
        features = sar_features(labels, grid, aoi, identity, test, water, (dark_before, dark_after), series, p)
    with timer.step("link claims"):
        context, claim_summaries = judge_claims(aoi, job.claims, before, after, inside, p.min_clear_fraction,
                                                features)
    manifest = {
        "workbench_version": __version__,
        "algorithm_version": SAR_VERSION,
        "sensor": "s1",
        "aoi": aoi.summary(),
        "claims": [c.id for c in job.claims],
        "scenes": {"before": pair.before.summary(), "after": pair.after.summary(), "selection": pair.reason},
        "grid": grid.to_dict(),
        "parameters": asdict(p),
        "coregistration": None,
        "coregistration_note": "same-orbit Sentinel-1 scenes geocoded by the archive agree to a few metres",
        "quantity": {"before": before.quantity, "after": after.quantity},
        "statistic": {
            "name": "SAR log-ratio, -log10 p (Bonferroni over " + ", ".join(b.upper() for b in before.bands) + ")",
            "unit": "−log₁₀ p",  # the report's and the style's label (geo.outputs.statistic)
            "dof": int(round(2 * min(t.looks for t in test.tests.values()))),  # of the median filtered pixel
            "threshold_grow": -math.log10(p.alpha), "threshold_seed": -math.log10(p.strong_alpha),
            "alpha": p.alpha,
            "test": ("per polarisation: ln(after/before) of Lee-filtered intensities (same weights on both dates) "
                     "~ ln F(2L', 2L') under no change, L' each pixel's equivalent looks, two-sided; combined: "
                     "changed if min(p) < alpha / n_polarisations (Bonferroni)"),
            "per_polarisation": {pol: {"looks": round(t.raw_looks, 2), "filtered_looks_median": round(t.looks, 1),
                                       "bounds_db": [round(b * DB_PER_NEPER, 3) for b in t.bounds],
                                       "changed_fraction": round(float(t.changed[inside].mean()), 6)}
                                 for pol, t in test.tests.items()},
            "changed_fraction": round(float(test.changed[inside].mean()), 6),
        },
        "omnibus": _omnibus_summary(series, series_looks if series else None, inside, p, pair),
        "water_fraction": round(float(water[inside].mean()), 4),
        "cloud_masked": {"before": False, "after": False},
        "clear_fraction": round(context.clear_fraction, 4),
        "clear_fraction_note": "radar sees through cloud: only missing data (nodata, outside the footprint) counts",
        "n_changes": len(features),
        "warnings": warnings,
        "timings_s": timer.timings,
        "versions": package_versions(),
    }
    return JobResult(features, claim_summaries, manifest, before, after, test.significance, labels > 0, aoi)


def _omnibus_summary(series: tuple[Any, Sequence[Stack]] | None, looks: float | None, inside: np.ndarray,
                     p: SarParams, pair: SarPair) -> dict[str, Any]:
    if series is None:
        return {"run": False, "reason": f"{len(pair.series)} same-geometry scene(s) from before to after; "
                                        "the omnibus test needs 3 or more"}
    result, stacks = series
    first = result.first_change[inside & result.changed]
    counts = np.bincount(first[first > 0], minlength=len(stacks))
    return {
        "run": True, "alpha": p.alpha, "looks": round(float(looks or 0), 2), "dof": result.dof,
        "multilook_window": p.series_window,
        "scenes": [{"id": s.scene.id, "date": s.scene.date.isoformat(), "first_change_px": int(counts[i])}
                   for i, s in enumerate(stacks)],
        "changed_fraction": round(float(result.changed[inside].mean()), 6),
    }


def sar_job(source: SceneSource, aoi: AOI, claims: Sequence[Claim], before: str | None, after: str | None,
            progress: Progress | None = None, params: SarParams = SarParams()) -> JobResult:
    """Select the Sentinel-1 pair (and series) from ``source`` and run the SAR change job: what
    ``geo run --sensor s1`` does."""
    pair = select_sar_pair(source, aoi, claims, before, after)
    return run_sar_job(SarJob(aoi, tuple(claims), pair, params), progress)
