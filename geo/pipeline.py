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

from geo import ALGORITHM_VERSION, __version__
from geo.align.coreg import Shift, estimate_shift
from geo.align.local import LocalModel, estimate_local
from geo.aoi import AOI
from geo.change.normalise import normalise
from geo.change.stats import mahalanobis_change
from geo.change.threshold import change_mask, chi2_threshold, trim_mixed_edges
from geo.claims import Claim
from geo.errors import CoregError
from geo.grid import Grid
from geo.link import PairContext, link_features
from geo.outputs.atomic import staged_dir, write_json
from geo.outputs.geojson import write_feature_collection
from geo.scenes.model import Scene
from geo.scenes.read import Stack, read_stack
from geo.vector.attributes import PairIdentity, region_features
from geo.vector.polygonize import label_regions, polygonize
from geo.verdicts import verdicts

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
PACKAGES = ("numpy", "scipy", "scikit-image", "rasterio", "shapely", "pyproj", "pystac", "geopandas")


@dataclass(frozen=True)
class Params:
    resolution: float = 10.0
    margin_m: float = 300.0  # read beyond the AOI so co-registration has context at the edges
    bands: tuple[str, ...] = ("blue", "green", "red", "nir", "swir16", "swir22")
    coreg_band: str = "nir"
    alpha: float = 1e-4  # significance of a change seed pixel (chi-square tail)
    alpha_grow: float = 1e-2  # significance for growing a seed into its neighbours
    strong_alpha: float = 1e-6  # "strong" pixels, used for the confidence figure
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


@dataclass
class JobResult:
    features: list[tuple[Any, dict[str, Any]]]
    claims: list[dict[str, Any]]
    manifest: dict[str, Any]
    before: Stack
    after: Stack
    statistic: np.ndarray
    mask: np.ndarray
    aoi: AOI | None = None


class _Timer:
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


def coregister(before: Stack, after: Stack, band: str, min_quality: float) -> tuple[Shift | None, str | None]:
    """The after scene's shift relative to the before scene, or None with a warning when unreliable."""
    try:
        shift = estimate_shift(before.band(band), after.band(band), before.valid, after.valid, min_quality)
    except CoregError as exc:
        warning = f"co-registration skipped: {exc}"
        log.warning(warning)
        return None, warning
    return shift, None


def local_model(before: Stack, after: Stack, p: Params, shift: Shift) -> tuple[LocalModel | None, bool, str | None]:
    """(model, worth applying, warning): the local model is applied only where it departs from the global
    shift by ``coreg_local_min_px`` somewhere; a warning when the tie points did not allow one."""
    try:
        model = estimate_local(before.band(p.coreg_band), after.band(p.coreg_band), before.valid, after.valid,
                               shift, p.coreg_window, p.coreg_spacing)
    except CoregError as exc:
        warning = f"local co-registration not used (global shift applied): {exc}"
        log.warning(warning)
        return None, False, warning
    summary = model.summary(before.grid.shape)
    departure = max(abs(v - s) for s, pair in ((shift.dx_px, summary["range_dx_px"]),
                                               (shift.dy_px, summary["range_dy_px"])) for v in pair)
    return model, departure >= p.coreg_local_min_px, None


def run_job(job: Job, progress: Progress | None = None) -> JobResult:
    p = job.params
    timer = _Timer(progress)
    warnings: list[str] = []
    grid = job.aoi.utm_grid(p.resolution, p.margin_m)
    with timer.step("read before scene"):
        before = read_stack(job.before, p.bands, grid)
    with timer.step("read after scene"):
        after = read_stack(job.after, p.bands, grid)
    with timer.step("co-register"):
        shift, warning = coregister(before, after, p.coreg_band, p.min_coreg_quality)
        if warning:
            warnings.append(warning)
        model, use_local = None, False
        if shift is not None and p.coreg_local:
            model, use_local, warning = local_model(before, after, p, shift)
            if warning:
                warnings.append(warning)
    if model is not None and use_local:
        with timer.step("resample after scene"):
            # One resampling of the source pixels through the local model.
            after = read_stack(job.after, p.bands, grid, displacement=model.displacement)
    elif shift is not None:
        with timer.step("resample after scene"):
            # One resampling from the source files onto the grid moved by the shift.
            after = read_stack(job.after, p.bands, grid.shifted(shift.dx_px, shift.dy_px))
            after = Stack(after.scene, grid, after.bands, after.data, after.valid, after.cloud_masked)
    inside = aoi_mask(job.aoi, grid)
    valid = before.valid & after.valid
    clear_fraction = float((valid & inside).sum() / max(inside.sum(), 1))
    with timer.step("normalise"):
        after_n, fits, invariant = normalise(before.data, after.data, valid)
    with timer.step("change statistic"):
        stat = mahalanobis_change(before.data, after_n, valid, invariant)
        mask = change_mask(stat.values, valid, stat.dof, p.alpha, p.alpha_grow) & inside
    with timer.step("polygonise"):
        labels, _ = label_regions(mask, p.min_area_px)
        mask = trim_mixed_edges(labels, after_n - before.data)
        labels, _ = label_regions(mask, p.min_area_px)
        regions = polygonize(labels, grid)
        identity = PairIdentity(
            job.aoi.id, job.before.id, job.after.id,
            job.before.date.isoformat(), job.after.date.isoformat(), ALGORITHM_VERSION,
        )
        features = region_features(
            regions, labels, stat.values, chi2_threshold(stat.dof, p.strong_alpha), before.data, after_n,
            p.bands, grid, job.aoi.projected(grid.crs.to_string()), identity,
        )
    with timer.step("link claims"):
        n_inside = max(int(inside.sum()), 1)
        context = PairContext(
            job.aoi, job.before.date, job.after.date, clear_fraction, p.min_clear_fraction,
            before_scene=job.before.summary(), after_scene=job.after.summary(),
            before_clear_fraction=float((before.valid & inside).sum() / n_inside),
            after_clear_fraction=float((after.valid & inside).sum() / n_inside),
        )
        link_features(features, job.claims, context)
        claim_summaries = verdicts(job.claims, features, context)
    manifest = {
        "workbench_version": __version__,
        "algorithm_version": ALGORITHM_VERSION,
        "aoi": job.aoi.summary(),
        "claims": [c.id for c in job.claims],
        "scenes": {"before": job.before.summary(), "after": job.after.summary(), "selection": job.pair_reason},
        "grid": grid.to_dict(),
        "parameters": asdict(p),
        "coregistration": shift.to_dict(grid) if shift else None,
        "coregistration_local": model.summary(grid.shape, grid) if model is not None else None,
        "coregistration_applied": f"local {model.kind}" if use_local else ("translation" if shift else None),
        "normalisation": {b: f.to_dict() for b, f in zip(p.bands, fits)},
        "statistic": {"name": stat.name, "dof": stat.dof, "threshold_seed": chi2_threshold(stat.dof, p.alpha),
                      "threshold_grow": chi2_threshold(stat.dof, p.alpha_grow)},
        "cloud_masked": {"before": before.cloud_masked, "after": after.cloud_masked},
        "clear_fraction": round(clear_fraction, 4),
        "n_changes": len(features),
        "warnings": warnings,
        "timings_s": timer.timings,
        "versions": package_versions(),
    }
    return JobResult(features, claim_summaries, manifest, before, after, stat.values, mask, job.aoi)


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
    """Write the run's files into ``out`` atomically (all or nothing). Returns the final paths."""
    with staged_dir(out) as stage:
        write_feature_collection(stage / "changes.geojson", result.features)
        write_json(stage / "claims.json", result.claims)
        for writer in extra_writers:
            writer(result, stage)
        write_json(stage / "manifest.json", result.manifest)
        names = sorted(p.name for p in stage.iterdir() if not p.name.startswith("."))
    return [Path(out) / n for n in names]
