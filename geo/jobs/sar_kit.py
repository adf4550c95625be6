"""The Sentinel-1 kit of the change job (``geo run --sensor s1``): for AOIs that cloud hides from Sentinel-2.

A Sentinel-1 pair on one orbit geometry (``geo.scenes.sar_pairs``) is read onto the AOI's grid (VV and VH
intensity, ``geo.scenes.sar_read.read_scene``: windowed, cached, retried, Planetary Computer URLs signed); each
polarisation gets the log-ratio test (``geo.change.sar.log_ratio_change``) at a significance level, and the
two are combined by Bonferroni (``geo.change.sar_pair.pair_test``: a pixel changed if min(p_VV, p_VH) <
alpha / 2, so the false-alarm rate of the pair stays at most alpha). Significant pixels make regions
(increase and decrease apart) and typed changes (``geo.jobs.sar_regions``) with the same attributes the
optical job writes, so the spine links and judges claims the same way. When the same geometry has three or
more scenes from before to after, the omnibus test over that series (``geo.change.sar.omnibus_change``)
dates each change: the first date that differs from those before it.

Scenes are not co-registered (``align`` reads them as they are): RTC/GRD are geocoded by the archive, and
same-orbit scenes agree to a few metres; nothing is cloud-masked (radar sees through cloud), so the clear
fraction is the share of the AOI with valid pixels on both dates. Sea ice on either date (``geo.vessels.ice``:
floes are bright as new objects are) is left out of the comparison, as snow is on Sentinel-2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from geo.aoi import AOI
from geo.change.detectors import SAR_VERSION
from geo.change.sar_pair import PairTest, filtered_co_pol, local_log_ratio, pair_test, series_test
from geo.change.sar_types import WATER_DB, to_db, water_mask
from geo.change.threshold import change_regions
from geo.claims import Claim
from geo.errors import EmptyReadError, SceneError
from geo.grid import Grid
from geo.jobs.kit import AlignedStacks, ChangeJob, FoundChanges, ParamsKit, Step
from geo.jobs.sar_regions import DB_PER_NEPER, DatedSeries, sar_features
from geo.scenes.model import Scene, Sensor
from geo.scenes.read import Stack
from geo.scenes.sar_read import read_scene, shared_polarisations
from geo.scenes.sar_pairs import select_sar_pair
from geo.scenes.source import SceneSource
from geo.vector.attributes import PairIdentity
from geo.vessels.ice import sea_ice_on_pair



@dataclass(frozen=True)
class SarParams:
    resolution: float = 10.0
    margin_m: float = 100.0  # context beyond the AOI for the speckle filter's window
    # 0: no minimum grid (the optical kit's 3 km). A change filling the grid shifts the log-ratio but does not
    # widen it: the looks come from its spread about its median, the test is against 0, and the Lee filter's
    # window is 7 px (tests/flows/test_small_area_sar.py: a 140 m AOI in a 600 m / 1 km +-6 dB patch found whole)
    min_grid_m: float = 0.0
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
    sea_ice: bool = True  # leave the ice fields of either date out of the comparison


SEA_ICE_WHY = "sea ice on one date or both"  # floes or pack: bright as new objects are


class SarKit(ParamsKit[SarParams]):
    """Sentinel-1 change: the log-ratio pair test, dated by the omnibus test over the series."""

    sensor = Sensor.S1
    algorithm_version = SAR_VERSION

    def __init__(self, params: SarParams = SarParams()) -> None:
        super().__init__(params)

    def select(self, source: SceneSource, aoi: AOI, claims: Sequence[Claim], before: str | None,
               after: str | None) -> ChangeJob:
        pair = select_sar_pair(source, aoi, claims, before, after)
        return ChangeJob(aoi, tuple(claims), pair.before, pair.after, pair.reason, tuple(pair.series))

    def read(self, scene: Scene, grid: Grid, role: str = "scene", polarisations: Sequence[str] = ()) -> Stack:
        """VV/VH (or HH/HV; ``polarisations``: those of a pair) intensity of ``scene`` on ``grid`` as a Stack
        (NaN where invalid); a scene with no valid pixel over the AOI is an error."""
        bands = read_scene(scene, grid, polarisations)
        if bands.sensor is not Sensor.S1:
            raise SceneError(f"{role} scene {scene.id}: not a Sentinel-1 scene")
        if not bands.valid.any():
            raise EmptyReadError(f"{role} scene {scene.id}: no valid SAR pixels over the AOI")
        names = tuple(bands.bands)
        return Stack(scene, grid, names, np.stack([bands.bands[n] for n in names]), bands.valid, False,
                     "dn_squared" if bands.quantity == "dn" else bands.quantity)

    def align(self, job: ChangeJob, grid: Grid, step: Step) -> AlignedStacks:
        shared = shared_polarisations([job.before, job.after])  # VV+VH and VV-only: VV of both
        if not shared:
            raise SceneError(f"before scene {job.before.id} and after scene {job.after.id} share no polarisation "
                             "(VV and HH are not comparable)")
        with step(f"reading {job.before.id} and {job.after.id}"):
            before = self.read(job.before, grid, "before", shared)
            after = self.read(job.after, grid, "after", shared)
        return AlignedStacks(before, after, {
            "coregistration": None,
            "coregistration_note": "same-orbit Sentinel-1 scenes geocoded by the archive agree to a few metres",
            "quantity": {"before": before.quantity, "after": after.quantity},
            "polarisations": list(shared),
            "clear_fraction_note": "radar sees through cloud: only missing data (nodata, outside the footprint) counts",
        }, excluded=(ice := self._sea_ice(before, after, grid)), excluded_why=SEA_ICE_WHY if ice is not None else "")

    def _sea_ice(self, before: Stack, after: Stack, grid: Grid) -> np.ndarray | None:
        """The ice fields of either date over the water (None: none): floes arriving on the water are no new
        objects, nor is ice water seen (``geo.vessels.ice``)."""
        if not self.params.sea_ice:
            return None
        ice = sea_ice_on_pair(before.band(before.bands[0]), after.band(after.bands[0]), before.valid, after.valid,
                              grid, self.params.water_db)
        return ice & before.valid & after.valid if ice.any() else None

    def _series(self, job: ChangeJob, pair: AlignedStacks, grid: Grid, step: Step,
                warnings: list[str]) -> list[Stack]:
        """The stacks of the series from before to after (the pair's own stacks reused)."""
        if len(job.series) < 3:
            return [pair.before, pair.after]
        stacks = []
        with step(f"reading the series ({len(job.series)} dates)"):
            for scene in job.series:
                if scene.id in (job.before.id, job.after.id):
                    stacks.append(pair.before if scene.id == job.before.id else pair.after)
                    continue
                try:
                    stacks.append(self.read(scene, grid, "series", pair.before.bands))
                except EmptyReadError as exc:  # nodata over the AOI: a fact of the series; read failures raise
                    warnings.append(f"series scene {scene.id} left out: {exc}")
        return stacks

    def detect(self, job: ChangeJob, pair: AlignedStacks, grid: Grid, inside: np.ndarray,
               identity: PairIdentity, step: Step) -> FoundChanges:
        p, before, after = self.params, pair.before, pair.after
        warnings: list[str] = []
        with step("log-ratio test"):
            test = pair_test(before, after, p.looks, p.alpha, p.filter_size)
        stacks = self._series(job, pair, grid, step, warnings)
        series: DatedSeries | None = None
        series_looks = None
        if len(stacks) >= 3:
            with step("omnibus test"):
                result, series_looks = series_test(stacks, p.series_window, p.alpha)
                series = (result, stacks)
        with step("polygonise"):
            local = local_log_ratio(before, after, p.edge_window)
            compared = inside if pair.excluded is None else inside & ~pair.excluded  # sea ice left out
            increase = change_regions(test.changed & compared & (test.log_ratio > 0), local, p.min_area_px, p.edge_px)
            decrease = change_regions(test.changed & compared & (test.log_ratio < 0), local, p.min_area_px, p.edge_px)
            labels = np.where(decrease > 0, decrease + increase.max(), increase).astype(np.int32)
            looks = next(iter(test.tests.values())).raw_looks
            filtered = [filtered_co_pol(s, looks, p.filter_size) for s in stacks]
            valid_any = np.logical_or.reduce([s.valid for s in stacks])
            water = water_mask(filtered, valid_any, p.water_db, p.min_area_px)
            dark = (to_db(np.nan_to_num(filtered[0], nan=np.inf)) < p.water_db,
                    to_db(np.nan_to_num(filtered[-1], nan=np.inf)) < p.water_db)
            features = sar_features(labels, grid, job.aoi, identity, test, water, dark, series, p.strong_alpha)
        sections = {
            "omnibus": self._omnibus_summary(series, series_looks, inside, job),
            "water_fraction": round(float(water[inside].mean()), 4),
        }
        return FoundChanges(features, test.significance, labels > 0, self._description(test, inside), sections,
                            tuple(warnings))

    def _description(self, test: PairTest, inside: np.ndarray) -> dict[str, Any]:
        """The manifest's ``statistic``: what the report's and the style's labels read
        (``geo.outputs.statistic``)."""
        p = self.params
        return {
            "name": "SAR log-ratio, -log10 p (Bonferroni over " + ", ".join(b.upper() for b in test.tests) + ")",
            "unit": "−log₁₀ p",
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
        }

    def _omnibus_summary(self, series: DatedSeries | None, looks: float | None, inside: np.ndarray,
                         job: ChangeJob) -> dict[str, Any]:
        if series is None:
            return {"run": False, "reason": f"{len(job.series)} same-geometry scene(s) from before to after; "
                                            "the omnibus test needs 3 or more"}
        result, stacks = series
        first = result.first_change[inside & result.changed]
        counts = np.bincount(first[first > 0], minlength=len(stacks))
        return {
            "run": True, "alpha": self.params.alpha, "looks": round(float(looks or 0), 2), "dof": result.dof,
            "multilook_window": self.params.series_window,
            "scenes": [{"id": s.scene.id, "date": s.scene.date.isoformat(), "first_change_px": int(counts[i])}
                       for i, s in enumerate(stacks)],
            "changed_fraction": round(float(result.changed[inside].mean()), 6),
        }
