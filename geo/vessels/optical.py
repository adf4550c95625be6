"""Ship detection in Sentinel-2: bright, compact objects on water.

Water absorbs near infrared; hulls, decks and containers reflect it (B08 0.1-0.3 against ~0.01 for water),
so NIR is the detection band. Per pixel:

1. Local water background: mean and standard deviation of NIR over water pixels in a square ring
   (guard window inside), trimmed of a first lenient pass, as in the SAR CFAR.
2. Robust z = (NIR - mean) / max(sd, noise floor). The threshold is the standard normal's upper
   quantile at ``pfa``, and the excess over water must also exceed ``min_contrast`` reflectance.
   Water NIR is not exactly Gaussian (waves, wakes), so ``pfa`` is a nominal level, checked on synthetic
   water in the tests and benchmark, not a calibrated rate on every sea.
3. Glint: sun glint raises water NIR and its texture over whole areas; the local sd rises with it, so
   the same z asks for more contrast there. The scene's glint level (median SWIR 1.6 um over water,
   which is ~0 for glint-free water) is reported.
4. Cloud: cloud pixels are invalid already where the scene has SCL (classes 3, 8, 9, 10). Without SCL,
   regions bright in blue (> 0.2) and larger than any ship are thick cloud; bright NIR regions larger
   than any ship are haze or structures. They and a buffer are unobserved (left out of backgrounds and
   of the observed sea), and detections touching them (cloud edges) are dropped. A small isolated cumulus that SCL misses can still
   count as a vessel: that is the optical detector's known weakness; SAR has none of it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import ndimage as ndi
from scipy import stats

from geo.change.labels import EIGHT
from geo.grid import Grid
from geo.change.threshold import drop_small
from geo.vessels.cfar import local_background
from geo.vessels.cluster import clusters, seeded_clusters
from geo.vessels.model import DetectorOutput
from geo.vessels.ship_model import keep_hulls, shipped_model

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class OpticalParams:
    pfa: float = 1e-6
    grow_pfa: float = 1e-2
    censor_pfa: float = 1e-3
    min_contrast: float = 0.03  # NIR reflectance above the local water
    noise_floor: float = 0.003  # floor of the local sd (quantisation, mirror-calm water)
    guard_px: int = 12
    background_px: int = 32
    min_background_px: int = 200
    min_pixels: int = 2
    # Glint sparkle and wave crests are single bright pixels with a heavy tail; a hull of >= 25 m puts two
    # or more pixels above the threshold.
    min_seed_pixels: int = 2
    max_length_m: float = 500.0
    max_area_m2: float = 400.0 * 70.0  # brighter regions larger than this are cloud (or structure)
    cloud_buffer_px: int = 3
    cloud_blue: float = 0.2  # blue reflectance of thick cloud (water, glint and most hulls stay below)
    glint_swir: float = 0.02  # median water SWIR above this: the scene is glint-affected
    # Surf, whitecaps and wakes are foam: white in the visible, far less bright in SWIR than in NIR (water
    # under the foam absorbs SWIR); hulls, decks and containers are about as bright in SWIR as in NIR.
    foam_swir_ratio: float = 0.3
    # Keep only candidates the shipped hull model (geo.vessels.ship_model) takes for hulls: quay-side
    # containers, cranes and shore pieces that a single-scene land model keeping berthed ships lets through.
    ship_model: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _larger_than(mask: np.ndarray, pixel_area: float, max_area_m2: float) -> np.ndarray:
    """The 8-connected regions of ``mask`` covering more than ``max_area_m2``."""
    return drop_small(mask, math.floor(max_area_m2 / pixel_area) + 1)


def _drop_foam(labels: np.ndarray, bands: Mapping[str, np.ndarray], water: np.ndarray,
               p: OpticalParams) -> tuple[np.ndarray, int]:
    """Clusters whose excess over the water is foam-like (SWIR excess < ``foam_swir_ratio`` x NIR excess and
    green excess > NIR excess) are dropped; needs green and swir16, else nothing is dropped."""
    count = int(labels.max())
    if count == 0 or "swir16" not in bands or "green" not in bands:
        return labels, 0
    index = np.arange(1, count + 1)
    excess = {}
    for name in ("nir", "swir16", "green"):
        band = np.nan_to_num(np.asarray(bands[name], dtype=np.float64))
        excess[name] = np.asarray(ndi.mean(band, labels, index)) - float(np.median(band[water]))
    foam = (excess["swir16"] < p.foam_swir_ratio * excess["nir"]) & (excess["green"] > excess["nir"])
    drop = np.concatenate([[True], foam])
    relabelled, _ = ndi.label((labels > 0) & ~drop[labels], structure=EIGHT)
    return relabelled, int(foam.sum())


def _ring_stats(values: np.ndarray, use: np.ndarray, p: OpticalParams) -> tuple[np.ndarray, np.ndarray]:
    """Local mean and sd of ``values`` over ``use`` in the ring, widening where the ring is thin (the SAR
    detector's background, of the values and of their squares)."""
    mean = local_background(values, use, p)
    square = local_background(values * values, use, p)
    sd = np.sqrt(np.maximum(square - mean**2, 0.0))
    return mean, np.maximum(sd, p.noise_floor)


def detect_optical(
    bands: Mapping[str, np.ndarray], valid: np.ndarray, sea: np.ndarray, grid: Grid,
    params: OpticalParams = OpticalParams(),
) -> DetectorOutput:
    """Ships in reflectance ``bands`` (needs ``nir``; ``swir16`` for the glint figure) on ``grid``.
    ``valid``: not nodata and not cloud (e.g. ``Stack.valid``); ``sea``: the water mask."""
    p = params
    nir = np.asarray(bands["nir"], dtype=np.float64)
    # Thick cloud first (bright in blue and larger than any ship), so it never enters a background.
    blue = np.nan_to_num(np.asarray(bands["blue"], dtype=np.float64))
    cloud = _larger_than(valid & (blue > p.cloud_blue), grid.pixel_area, p.max_area_m2) | ~valid
    unobservable = ndi.binary_dilation(cloud, structure=EIGHT, iterations=p.cloud_buffer_px)
    water = sea & ~unobservable & np.isfinite(nir)
    if water.sum() < p.min_background_px:
        return DetectorOutput((), np.zeros(grid.shape, bool), {"skipped": f"only {int(water.sum())} clear water pixels"})
    values = np.where(water, nir, 0.0)
    # Pass 1 (lenient) marks bright pixels to leave out of the background; pass 2 is the test.
    mean, sd = _ring_stats(values, water, p)
    bright = water & ((values - mean) / sd > stats.norm.isf(p.censor_pfa))
    mean, sd = _ring_stats(values, water & ~ndi.binary_dilation(bright, iterations=2), p)
    z = np.where(water, (values - mean) / sd, 0.0)
    contrast = values - mean
    seeds = (z > stats.norm.isf(p.pfa)) & (contrast > p.min_contrast)
    grow = water & (z > stats.norm.isf(p.grow_pfa)) & (contrast > p.min_contrast / 2)
    labels = seeded_clusters(grow, seeds, p.min_seed_pixels)

    # Bright regions larger than any ship are haze/cloud the blue test missed (or structures), and
    # hulls touching cloud are cloud edges: neither counts, and both are unobserved.
    too_big = _larger_than(labels > 0, grid.pixel_area, p.max_area_m2)
    unobservable |= ndi.binary_dilation(too_big, structure=EIGHT, iterations=p.cloud_buffer_px)
    near_cloud = ndi.binary_dilation(unobservable, structure=EIGHT)
    touching = np.zeros(int(labels.max()) + 1, bool)
    touching[np.unique(labels[near_cloud & (labels > 0)])] = True
    touching[0] = False
    labels, _ = ndi.label((labels > 0) & ~touching[labels], structure=EIGHT)
    labels, foam = _drop_foam(labels, bands, water, p)

    def score(peak: Mapping[str, float]) -> tuple[float, float]:
        value = peak["z"]
        return round(min(-math.log10(max(float(stats.norm.sf(value)), 1e-300)), 300.0), 2), round(value, 2)

    detections, rejected = clusters(labels, grid, {"z": z}, score, p.min_pixels, p.max_length_m)
    if p.ship_model:
        hulls = keep_hulls(detections, bands, ~sea, grid, shipped_model())
        rejected["not_hull"] = len(detections) - len(hulls)
        detections = list(hulls)
    observed = water & ~unobservable
    swir = bands.get("swir16")
    glint = float(np.nanmedian(np.asarray(swir)[water])) if swir is not None else None
    diagnostics = {
        "threshold_z": round(float(stats.norm.isf(p.pfa)), 3),
        "seed_pixels": int(seeds.sum()),
        "clusters_rejected": {**rejected, "touching_cloud_or_too_large": int(touching.sum()),
                              "foam": foam},
        "water_nir_median": round(float(np.median(nir[water])), 4),
        "water_swir16_median": None if glint is None else round(glint, 4),
        "glint": None if glint is None else glint > p.glint_swir,
        "cloud_fraction_of_sea": round(float((sea & unobservable).sum() / max(int(sea.sum()), 1)), 4),
    }
    return DetectorOutput(tuple(detections), observed, diagnostics)
