"""The Sentinel-2 kit of the change job: surface reflectance bands, co-registered (a global shift, or a
local model where the shift varies), and a registered change detector (``geo.change.detectors``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from geo.align.stack import LocalCoregParams, read_aligned
from geo.aoi import AOI
from geo.change import tiling
from geo.change.tiling import BlockRunner, run_serial
from geo.change.classify import scene_levels
from geo.change.detectors import DEFAULT_METHOD, Detector, build_detector
from geo.change.threshold import StackDifference, change_regions
from geo.claims import Claim
from geo.grid import Grid
from geo.jobs.band_needs import bands_to_read
from geo.jobs.kit import AlignedStacks, ChangeJob, FoundChanges, ParamsKit, Step
from geo.scenes.model import Scene, Sensor
from geo.scenes.pairs import select_pair
from geo.scenes.read import Stack, read_stack
from geo.scenes.read_blocks import READ_BLOCK_PX, read_stack_blocks
from geo.scenes.scratch import release
from geo.scenes.snow import WHY as SNOW_WHY
from geo.scenes.snow import can_judge, snow_on_pair
from geo.scenes.source import SceneSource
from geo.vector.attributes import PairIdentity, region_features
from geo.vector.polygonize import polygonize


@dataclass(frozen=True)
class Params:
    resolution: float = 10.0
    margin_m: float = 300.0  # read beyond the AOI so co-registration has context at the edges
    # A small AOI's grid is at least this wide: the local statistic compares a pixel with windows of up to 96 px
    # (960 m) and the gross-change screen with the whole grid's line, so a change filling the grid (a 120 m
    # area in a 1 km camp had a 74 px grid) has no unchanged ground to stand out from. ~3 windows a side leave
    # unchanged ground around a change of a kilometre; co-registration's 3 x 3 windows of 128 px fit too.
    min_grid_m: float = 3000.0
    bands: tuple[str, ...] = ("blue", "green", "red", "nir", "swir16", "swir22")
    coreg_band: str = "red"  # the change detector's band (visible bands also agree on the shift better)
    method: str = DEFAULT_METHOD  # a name in geo.change.detectors.DETECTORS
    alpha: float = 1e-4  # chi-square methods: significance of a change seed pixel
    alpha_grow: float = 1e-2  # chi-square methods: significance for growing a seed into its neighbours
    min_area_px: int = 8
    min_clear_fraction: float = 0.5
    min_coreg_quality: float = 0.2
    # A larger shift is refused (the pair used as read, a warning says why): Sentinel-2's multi-temporal
    # registration is specified well under 1 px since the 2021 GRI and was ~1-2 px before; 5 px keeps known
    # shifts of 3 px, while a false match on a repeating texture (-57/+15 px at quality 0.97 on synthetic
    # fields) is a period away
    max_coreg_shift_px: float = 5.0
    coreg_local: bool = True  # fit a local model from tie points; applied when it departs from the shift
    coreg_window: int = 64
    coreg_spacing: int = 64
    coreg_local_min_px: float = 0.1  # apply the local model only if it departs this far from the shift


def local_coreg(p: Params) -> LocalCoregParams | None:
    return LocalCoregParams(p.coreg_window, p.coreg_spacing, p.coreg_local_min_px) if p.coreg_local else None


class OpticalKit(ParamsKit[Params]):
    """Sentinel-2 change: ``params`` and the detector they name (``detector``: one built already, for
    callers running many jobs, e.g. a re-check); ``runner`` computes the blocks of a large grid."""

    sensor = Sensor.S2

    def __init__(self, params: Params = Params(), detector: Detector[Any] | None = None,
                 runner: BlockRunner = run_serial, out_of_core: bool | None = None) -> None:
        super().__init__(params)
        self.detector = detector if detector is not None else build_detector(params.method, asdict(params))
        self.runner = runner  # computes the blocks of a large grid: here, or on a Dask cluster
        self.out_of_core = out_of_core  # None: a grid of more than one block is read onto disk

    def read_block_px(self, grid: Grid) -> int | None:
        """Read by blocks of this side into scratch stacks on disk (``geo.scenes.read_blocks``), or None:
        whole, in memory. By default a grid of more than one block of the statistic is read by blocks."""
        large = len(tiling.layout(grid.shape, 0, tiling.CORE_PX)) > 1
        if not (large if self.out_of_core is None else self.out_of_core):
            return None
        return min(READ_BLOCK_PX, 4 * tiling.CORE_PX)

    @property
    def algorithm_version(self) -> str:
        return self.detector.algorithm_version

    def select(self, source: SceneSource, aoi: AOI, claims: Sequence[Claim], before: str | None,
               after: str | None) -> ChangeJob:
        pair = select_pair(source, aoi, claims, before, after)
        return ChangeJob(aoi, tuple(claims), pair.before, pair.after, pair.reason)

    def read(self, scene: Scene, grid: Grid, role: str = "scene") -> Stack:
        bands, _ = bands_to_read((scene,), self.params.bands)
        block_px = self.read_block_px(grid)  # a large grid by blocks onto disk, as ``align`` reads it
        if block_px is not None:
            return read_stack_blocks(scene, bands, grid, block_px)
        return read_stack(scene, bands, grid)

    def align(self, job: ChangeJob, grid: Grid, step: Step) -> AlignedStacks:
        p = self.params
        bands, missing = bands_to_read((job.before, job.after), p.bands)  # a band it can do without: left out, said
        pair = read_aligned(job.before, job.after, bands, grid, p.coreg_band, p.min_coreg_quality, step,
                            local_coreg(p), self.read_block_px(grid), p.max_coreg_shift_px)
        shift, model = pair.shift, pair.model
        excluded, snow = None, {}
        if can_judge(pair.before):
            excluded, snow_shares = snow_on_pair(pair.before, pair.after, job.aoi)
            snow = {"snow": snow_shares}
        return AlignedStacks(pair.before, pair.after, {
            "coregistration": shift.to_dict(grid) if shift else None,
            "coregistration_local": model.summary(grid.shape, grid) if model is not None else None,
            "coregistration_applied": pair.applied, **snow,
            **({"bands_missing": [m.to_dict() for m in missing]} if missing else {}),
        }, (*(m.warning() for m in missing), *pair.warnings),
            excluded if excluded is not None and excluded.any() else None, SNOW_WHY)

    def detect(self, job: ChangeJob, pair: AlignedStacks, grid: Grid, inside: np.ndarray,
               identity: PairIdentity, step: Step) -> FoundChanges:
        p, before = self.params, pair.before
        bands = before.bands  # the job's bands the pair has (``bands_to_read``)
        valid = before.valid & pair.after.valid
        if pair.excluded is not None:  # snow on one date only: a season's change, left out as cloud is
            valid &= ~pair.excluded
        release()  # (the masks of a large grid are on disk)
        with step("change statistic"):
            found = self.detector.detect(before.data, pair.after.data, valid, bands, self.runner)
            after_n = found.after_normalised
            release()
        with step("polygonise"):
            levels = scene_levels(before.data, after_n, valid, bands)
            del valid  # (a large grid holds as few whole-grid masks at once as it can)
            min_area = max(p.min_area_px, found.min_area_px)
            labels = change_regions(found.mask & inside, StackDifference(after_n, before.data), min_area, found.edge_px,
                                    compact=True)  # (no arithmetic on them: uint16 when they fit)
            features = region_features(
                polygonize(labels, grid), labels, found.statistic.values, found.strong_threshold, before.data,
                after_n, bands, grid, job.aoi.projected(grid.crs.to_string()), identity, levels,
            )
            release()
        normalisation = {b: f.to_dict() for b, f in zip(bands, found.fits)}
        return FoundChanges(features, found.statistic.values, labels > 0, found.summary(),
                            {"normalisation": normalisation})
