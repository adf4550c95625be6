"""One change job: an AOI, its claims and a scene pair -> change polygons, claim verdicts, manifest.

Pure orchestration of the stages; the only I/O is reading scene windows (scenes.read) and, in
``write_outputs``, the files of the run (outputs/).
"""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from geo import __version__
from geo.align.stack import LocalCoregParams, read_aligned
from geo.aoi import AOI
from geo.atomic import staged_dir, write_json
from geo.change.classify import scene_levels
from geo.change.detectors import DEFAULT_METHOD, Detector, build_detector
from geo.change.threshold import change_regions
from geo.claims import Claim
from geo.grid import Grid
from geo.link import PairContext, link_features
from geo.outputs.geojson import write_feature_collection
from geo.results import JobResult
from geo.scenes.model import Scene
from geo.scenes.read import Stack
from geo.vector.attributes import PairIdentity, region_features
from geo.vector.polygonize import polygonize
from geo.verdicts import verdicts

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
PACKAGES = ("numpy", "scipy", "scikit-image", "rasterio", "shapely", "pyproj", "pystac", "geopandas")


@dataclass(frozen=True)
class Params:
    resolution: float = 10.0
    margin_m: float = 300.0  # read beyond the AOI so co-registration has context at the edges
    bands: tuple[str, ...] = ("blue", "green", "red", "nir", "swir16", "swir22")
    coreg_band: str = "red"  # the change detector's band (visible bands also agree on the shift better)
    method: str = DEFAULT_METHOD  # a name in geo.change.detectors.DETECTORS
    alpha: float = 1e-4  # chi-square methods: significance of a change seed pixel
    alpha_grow: float = 1e-2  # chi-square methods: significance for growing a seed into its neighbours
    min_area_px: int = 8
    min_clear_fraction: float = 0.5
    min_coreg_quality: float = 0.2
    coreg_local: bool = True  # fit a local model from tie points; applied when it departs from the shift
    coreg_window: int = 64
    coreg_spacing: int = 64
    coreg_local_min_px: float = 0.1  # apply the local model only if it departs this far from the shift


@dataclass(frozen=True)
class Job:
    aoi: AOI
    claims: tuple[Claim, ...]
    before: Scene
    after: Scene
    params: Params = Params()
    pair_reason: dict[str, Any] = field(default_factory=dict)
    detector: Detector[Any] | None = None  # None: the one ``params`` names; callers running many jobs build it once


class StepTimer:
    def __init__(self, progress: Progress | None) -> None:
        self.timings: dict[str, float] = {}
        self._progress = progress

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        if self._progress:
            self._progress(name)
        start = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - start, 3)


def aoi_mask(aoi: AOI, grid: Grid) -> np.ndarray:
    return aoi.pixel_mask(grid)


def local_coreg(p: Params) -> LocalCoregParams | None:
    return LocalCoregParams(p.coreg_window, p.coreg_spacing, p.coreg_local_min_px) if p.coreg_local else None


def judge_claims(
    aoi: AOI, claims: Sequence[Claim], before: Stack, after: Stack, inside: np.ndarray, min_clear_fraction: float,
    features: list[tuple[Any, dict[str, Any]]],
) -> tuple[PairContext, list[dict[str, Any]]]:
    """Link ``features`` to ``claims`` (in place) and judge each claim on the pair; the pair's context holds
    the share of the AOI (``inside``) valid on both dates and on each alone."""
    n_inside = max(int(inside.sum()), 1)
    context = PairContext(
        aoi, before.scene.date, after.scene.date,
        float((before.valid & after.valid & inside).sum() / n_inside), min_clear_fraction,
        before_scene=before.scene.summary(), after_scene=after.scene.summary(),
        before_clear_fraction=float((before.valid & inside).sum() / n_inside),
        after_clear_fraction=float((after.valid & inside).sum() / n_inside),
    )
    link_features(features, claims, context)
    return context, verdicts(claims, features, context)


def run_job(job: Job, progress: Progress | None = None) -> JobResult:
    p = job.params
    timer = StepTimer(progress)
    warnings: list[str] = []
    detector = job.detector if job.detector is not None else build_detector(p.method, asdict(p))
    grid = job.aoi.utm_grid(p.resolution, p.margin_m)
    pair = read_aligned(job.before, job.after, p.bands, grid, p.coreg_band, p.min_coreg_quality, timer.step,
                        local_coreg(p))
    before, after, shift, model = pair.before, pair.after, pair.shift, pair.model
    warnings.extend(pair.warnings)
    inside = aoi_mask(job.aoi, grid)
    valid = before.valid & after.valid
    with timer.step("change statistic"):
        found = detector.detect(before.data, after.data, valid, p.bands)
        after_n = found.after_normalised
    with timer.step("polygonise"):
        min_area = max(p.min_area_px, found.min_area_px)
        labels = change_regions(found.mask & inside, after_n - before.data, min_area, found.edge_px)
        mask = labels > 0
        regions = polygonize(labels, grid)
        identity = PairIdentity(
            job.aoi.id, job.before.id, job.after.id,
            job.before.date.isoformat(), job.after.date.isoformat(), found.algorithm_version,
        )
        features = region_features(
            regions, labels, found.statistic.values, found.strong_threshold, before.data, after_n,
            p.bands, grid, job.aoi.projected(grid.crs.to_string()), identity,
            scene_levels(before.data, after_n, valid, p.bands),
        )
    with timer.step("link claims"):
        context, claim_summaries = judge_claims(job.aoi, job.claims, before, after, inside, p.min_clear_fraction,
                                                features)
    manifest = {
        "workbench_version": __version__,
        "algorithm_version": found.algorithm_version,
        "aoi": job.aoi.summary(),
        "claims": [c.id for c in job.claims],
        "scenes": {"before": job.before.summary(), "after": job.after.summary(), "selection": job.pair_reason},
        "grid": grid.to_dict(),
        "parameters": asdict(p),
        "coregistration": shift.to_dict(grid) if shift else None,
        "coregistration_local": model.summary(grid.shape, grid) if model is not None else None,
        "coregistration_applied": pair.applied,
        "normalisation": {b: f.to_dict() for b, f in zip(p.bands, found.fits)},
        "statistic": found.summary(),
        "cloud_masked": {"before": before.cloud_masked, "after": after.cloud_masked},
        "clear_fraction": round(context.clear_fraction, 4),
        "n_changes": len(features),
        "warnings": warnings,
        "timings_s": timer.timings,
        "versions": package_versions(),
    }
    return JobResult(features, claim_summaries, manifest, before, after, found.statistic.values, mask, job.aoi)


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    from rasterio import __gdal_version__

    versions["gdal"] = __gdal_version__
    return versions


def write_outputs(result: JobResult, out: Path, extra_writers: Sequence[Callable[[JobResult, Path], None]] = ()) -> list[Path]:
    """Write the run's files into ``out``: staged, then swapped into place whole (``staged_dir``: the folder
    holds this run or the previous one, never a mix). Returns the final paths."""
    with staged_dir(out) as stage:
        write_feature_collection(stage / "changes.geojson", result.features)
        write_json(stage / "claims.json", result.claims)
        for writer in extra_writers:
            writer(result, stage)
        write_json(stage / "manifest.json", result.manifest)
        names = sorted(p.name for p in stage.iterdir() if not p.name.startswith("."))
    return [Path(out) / n for n in names]
