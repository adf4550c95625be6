"""CFAR ship detection on Sentinel-1 intensity (VV and VH) over a sea mask.

Per channel:
1. Local background: the mean intensity of sea pixels in a square ring around each pixel (a guard window
   keeps the ship itself out), computed with box sums so it costs O(pixels) whatever the window.
2. Trimming: pixels of a first, lenient pass (and a margin around them) are left out of the ring, so a
   ship does not raise the background of its neighbours (nested berths, anchorages).
3. Clutter model: the ratio intensity / local mean is fitted by right-truncated ML (``clutter``), gamma
   or K; its upper quantile at the chosen false-alarm rate is the threshold on that ratio.
4. VV and VH are tested each at pfa / 2 (Bonferroni), so the pixel false-alarm rate of the fused
   detector stays at or below ``pfa``. Seed pixels are grown through neighbours above a lenient level
   (hysteresis), so a ship's full extent is measured, and each grown cluster is one detection.

Sea ice (``geo.vessels.ice``) is taken out of the sea first: its floes are not counted as ships, and its water
is not seen.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np
from scipy import ndimage as ndi

from geo.grid import Grid
from geo.vessels.clutter import ClutterFit, ClutterKind, fit_clutter
from geo.vessels.cluster import clusters, seeded_clusters, split_abreast
from geo.vessels.ice import IceParams, sea_ice
from geo.vessels.model import DetectorOutput

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CfarParams:
    pfa: float = 1e-6  # pixel false-alarm rate of the fused VV+VH detector
    grow_pfa: float = 1e-3  # a detected pixel's neighbours join its cluster above this level
    censor_pfa: float = 1e-3  # first pass: pixels above this are left out of the background
    clutter: ClutterKind = "auto"
    guard_px: int = 12  # half-size of the guard window (a 250 m ship fits inside it)
    background_px: int = 32  # half-size of the background window
    min_background_px: int = 200  # fewer sea pixels than this in the ring: use a wider ring, then the scene
    min_pixels: int = 2  # smaller clusters are not counted (a 25 m ship covers >= 2 pixels of 10 m)
    max_length_m: float = 500.0  # longer bright objects are not ships (structures the land mask missed)
    # hulls abreast: a cluster n times wider than one hull of its length (beam ~ length / 6.5, ships are
    # 5-8 beams long) is n hulls; clusters narrower than 1.5 x min_beam_m are never split
    length_per_beam: float = 6.5
    min_beam_m: float = 25.0
    object_margin_db: float = 6.0  # 5x5 mean this far above the sea's median: a target, kept out of the background
    ice: IceParams = IceParams()  # ice fields (floes, pack): not sea, not seen

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ChannelResult:
    ratio: np.ndarray  # intensity / local background, NaN off the sea
    fit: ClutterFit
    threshold: float
    grow_threshold: float


def ring_mean(values: np.ndarray, use: np.ndarray, guard: int, outer: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``values`` over ``use`` pixels in the square ring between half-sizes ``guard`` and ``outer``,
    and how many pixels it averaged. Box sums via uniform filters (zero outside the image)."""
    v = np.where(use, values, 0.0).astype(np.float64)
    w = use.astype(np.float64)

    def box_sum(a: np.ndarray, half: int) -> np.ndarray:
        size = 2 * half + 1
        return ndi.uniform_filter(a, size=size, mode="constant") * size * size

    total = box_sum(v, outer) - box_sum(v, guard)
    count = np.rint(box_sum(w, outer) - box_sum(w, guard))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return mean, count


class RingParams(Protocol):  # read-only members: the parameter classes are frozen dataclasses
    @property
    def guard_px(self) -> int: ...
    @property
    def background_px(self) -> int: ...
    @property
    def min_background_px(self) -> int: ...


def local_background(intensity: np.ndarray, use: np.ndarray, p: RingParams) -> np.ndarray:
    """Ring mean with fallbacks where the ring holds too few sea pixels (narrow basins, coast)."""
    mean, count = ring_mean(intensity, use, p.guard_px, p.background_px)
    wide, wide_count = ring_mean(intensity, use, p.guard_px, 3 * p.background_px)
    background = np.where(count >= p.min_background_px, mean, np.nan)
    background = np.where(np.isnan(background) & (wide_count >= p.min_background_px), wide, background)
    overall = float(np.mean(intensity[use])) if use.any() else np.nan
    return np.where(np.isnan(background), overall, background)


def bright_objects(intensity: np.ndarray, positive: np.ndarray, margin_db: float) -> np.ndarray:
    """Pixels whose 5x5 mean is ``margin_db`` above the sea's median: big hulls (and their smear) that
    would fill a ring and raise their own background, kept out of it from the start."""
    values = np.where(positive, intensity, 0.0)
    weight = ndi.uniform_filter(positive.astype(np.float64), 5)
    mean = ndi.uniform_filter(values, 5) / np.maximum(weight, 1e-6)
    level = float(np.median(intensity[positive])) * 10 ** (margin_db / 10)
    bright: np.ndarray = positive & (mean > level)
    return bright


def _channel(intensity: np.ndarray, sea: np.ndarray, pfa: float, p: CfarParams) -> ChannelResult:
    positive = sea & np.isfinite(intensity) & (intensity > 0)
    # Pass 1: background without the obvious targets, lenient level -> pixels to leave out of the
    # background. A gamma fit is enough here (the censoring level need not be exact) and costs a fraction
    # of a K fit.
    objects = bright_objects(intensity, positive, p.object_margin_db)
    ratio = intensity / local_background(intensity, positive & ~objects, p)
    first = fit_clutter(ratio[positive & ~objects], "gamma")
    bright = positive & ((ratio > first.model.isf(p.censor_pfa)) | objects)
    censored = ndi.binary_dilation(bright, iterations=2)
    # Pass 2: trimmed background and the final clutter fit.
    background = local_background(intensity, positive & ~censored, p)
    ratio = np.where(positive, intensity / background, np.nan)
    # the clutter is fitted on the sea without the obvious targets (whose smear would fatten its tail);
    # the remaining speckle tail is handled by the truncated fit
    fit = fit_clutter(ratio[positive & ~ndi.binary_dilation(objects, iterations=2)], p.clutter, seed=1)
    return ChannelResult(ratio, fit, fit.model.isf(pfa), fit.model.isf(p.grow_pfa))


def detect_sar(
    channels: Mapping[str, np.ndarray], sea: np.ndarray, grid: Grid, params: CfarParams = CfarParams()
) -> DetectorOutput:
    """Ship candidates in SAR intensity ``channels`` (e.g. {"vv": .., "vh": ..}, linear power on ``grid``,
    NaN where invalid) over the boolean ``sea`` mask."""
    if not channels:
        raise ValueError("detect_sar needs at least one intensity channel")
    per_channel_pfa = params.pfa / len(channels)
    copol = next((channels[name] for name in ("vv", "hh") if name in channels), next(iter(channels.values())))
    ice = sea_ice(copol, sea, grid, params.ice)
    sea = sea & ~ice  # floes are not ships, nor is ice water seen
    if int(sea.sum()) < params.min_background_px:
        skipped = {"skipped": f"only {int(sea.sum())} sea pixels free of ice"}
        return DetectorOutput((), np.zeros(grid.shape, bool), skipped, ice)
    results = {name: _channel(np.asarray(values, dtype=np.float64), sea, per_channel_pfa, params)
               for name, values in channels.items()}
    seeds = np.zeros(grid.shape, bool)
    grow = np.zeros(grid.shape, bool)
    for r in results.values():
        seeds |= np.nan_to_num(r.ratio) > r.threshold
        grow |= np.nan_to_num(r.ratio) > r.grow_threshold
    observed = sea.copy()
    for values in channels.values():
        observed &= np.isfinite(values)
    grow &= observed
    labels = split_abreast(seeded_clusters(grow, seeds), seeds, grid, params.length_per_beam, params.min_beam_m)

    def score(pixel_values: Mapping[str, float]) -> tuple[float, float]:
        # The most significant channel at the cluster's peak: -log10 of its clutter tail probability.
        best = max(((-math.log10(max(results[n].fit.model.sf(v), 1e-300)), v) for n, v in pixel_values.items()))
        return round(best[0], 2), round(best[1], 2)

    ratios = {name: r.ratio for name, r in results.items()}
    detections, rejected = clusters(labels, grid, ratios, score, params.min_pixels, params.max_length_m)
    diagnostics = {
        "channels": {
            name: {"clutter": r.fit.to_dict(), "threshold_ratio": round(r.threshold, 4),
                   "grow_threshold_ratio": round(r.grow_threshold, 4), "pfa": per_channel_pfa}
            for name, r in results.items()
        },
        "seed_pixels": int(seeds.sum()),
        "clusters_rejected": rejected,
    }
    return DetectorOutput(tuple(detections), observed, diagnostics, ice)
