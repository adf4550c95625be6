"""Which pixels a shift may be measured on: bright things seen on one date only (clouds, glint) are left out.

A cloud is far brighter than the ground and sits in one image only: unmasked, it dominates the
correlation of a whole scene. Bright *ground* (roofs, sand, greenhouses) is just as bright but is there on
both dates, and it is the sharpest texture a small urban image has. So a bright region is masked only when
the other image is not also bright there; a cloud-sized one (``CLOUD_M2``) loses a halo of ``HALO_M``
metres too (a cloud's soft, thinner edge is not bright enough to be caught but still differs between
dates). Distances and areas are in metres, so the mask means the same at 10 m and at 40 m.
"""

from __future__ import annotations

import math

import numpy as np

from geo.align import filters
from geo.align.quantiles import median
from geo.grid import Grid
from geo.scenes.scratch import nth_valid

BRIGHT_SD = 6.0  # robust standard deviations above the median: brighter than any ordinary ground
MATCH_SD = 3.0  # the other date counts as bright there from this level (a roof just under BRIGHT_SD on
# one date is still the same roof)
HALO_M = 100.0  # masked around a one-date bright region (Fmask grows clouds by 3 px of 30 m: 90 m)
MATCH_M = 30.0  # a bright pixel is "seen on both dates" if the other date is bright within this distance:
# Sentinel-2's multi-temporal misregistration (< 12 m spec, a few pixels at worst) plus the object's edge
MATCHED_SHARE = 0.5  # a bright region is ground when the other date has at least half as many bright
# pixels within MATCH_M of it
CLOUD_M2 = 10_000.0  # one-date bright regions of at least a hectare are clouds and get the halo; smaller
# ones (glint, a car, a new roof) are masked alone: their edges fall in the fit's own border margin
STRIP_PX = 1 << 22  # pixels of a strip of rows over which a large image's masks are worked out at once
DEFAULT_PIXEL_M = 10.0  # arrays without a grid: Sentinel-2's finest bands


def pixel_size_m(grid: Grid) -> float:
    """Mean pixel side in metres (geographic grids: at the grid's centre latitude)."""
    width, height = grid.pixel_metres()
    return math.sqrt(abs(width * height))


def robust_level(image: np.ndarray, valid: np.ndarray) -> tuple[float, float] | None:
    """(median, robust standard deviation) of the valid pixels; None without any."""
    n = int(np.count_nonzero(valid))  # a subsample pins the median; read at its pixels only
    ranks = np.arange(0, n, max(1, n // 20_000))
    values = image.ravel()[ranks if n == valid.size else nth_valid(valid, ranks)]  # all valid: the ranks
    if values.size == 0:
        return None
    middle = median(values)
    return middle, 1.4826 * median(np.abs(values - middle))


def bright_outliers(image: np.ndarray, valid: np.ndarray, k: float = BRIGHT_SD,
                    level: tuple[float, float] | None = None) -> np.ndarray:
    """Valid pixels more than ``k`` robust standard deviations above the median (``level``, if known)."""
    level = level or robust_level(image, valid)
    if level is None:
        return np.zeros(image.shape, bool)
    bright: np.ndarray = valid & (image > level[0] + k * level[1])
    return bright


def one_date_bright(bright: np.ndarray, other_bright: np.ndarray, other_valid: np.ndarray, match_px: int,
                    cloud_px: int) -> tuple[np.ndarray, np.ndarray]:
    """(all, cloud-sized): the connected regions of ``bright`` the other date does not also show, and
    those of them of at least ``cloud_px`` pixels. A region is shown by the other date when at least
    ``MATCHED_SHARE`` as many ``other_bright`` pixels as the region has (where the other date saw) lie
    within ``match_px`` of it. (Counts, not overlap: among dense bright roofs any cloud is near one.)"""
    if not bright.any():
        return bright, bright
    labels, n = filters.label(bright)
    # the other date's bright pixels within reach of each region, each counted for one region: where the
    # reaches of two regions meet, the highest label takes them in one count and the lowest in the other.
    size = 2 * match_px + 1
    counted = other_bright & other_valid
    at = np.flatnonzero(bright)  # the labelled pixels: counts and results are read and written there only
    region = labels.ravel()[at]
    if np.count_nonzero(counted) * size * size <= labels.size:  # few: their neighbourhoods alone
        highest, lowest = _reach_at(labels, n, counted, match_px)
        seen = np.bincount(region[other_valid.ravel()[at]], minlength=n + 1)
    else:
        highest, lowest, seen = _reach_filtered(labels, n, counted, other_valid, match_px)
    matched = np.maximum(np.bincount(highest, minlength=n + 2), np.bincount(lowest, minlength=n + 2))[: n + 1]
    one_date = matched < MATCHED_SHARE * np.maximum(seen, 1)
    one_date[0] = False
    cloud = one_date & (np.bincount(region, minlength=n + 1) >= cloud_px)
    alone, cloudy = np.zeros(bright.shape, bool), np.zeros(bright.shape, bool)
    alone.flat[at], cloudy.flat[at] = one_date[region], cloud[region]
    return alone, cloudy


def _reach_filtered(labels: np.ndarray, n: int, counted: np.ndarray, other_valid: np.ndarray, match_px: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(highest label, lowest label (n + 1: none) within ``match_px`` of each ``counted`` pixel, pixels of
    each label where the other date saw) by maximum filters over the whole image, in strips of rows with a
    halo of the reach: the filters' temporaries stay a strip's."""
    size = 2 * match_px + 1
    highest, lowest, seen = [], [], np.zeros(n + 1, np.int64)
    rows = max(STRIP_PX // max(labels.shape[1], 1), size)
    for top in range(0, labels.shape[0], rows):
        r0, r1 = max(top - match_px, 0), min(top + rows + match_px, labels.shape[0])
        part, core = labels[r0:r1], np.s_[top - r0:top - r0 + rows]
        here = counted[top:top + rows]
        highest.append(filters.maximum_filter(part, size)[core][here])
        lowest.append(-filters.maximum_filter(np.where(part > 0, -part, -(n + 1)), size)[core][here])
        seen += np.bincount(labels[top:top + rows][other_valid[top:top + rows]], minlength=n + 1)
    return np.concatenate(highest), np.concatenate(lowest), seen


def _reach_at(labels: np.ndarray, n: int, counted: np.ndarray, match_px: int) -> tuple[np.ndarray, np.ndarray]:
    """``_reach_filtered``'s labels read from each ``counted`` pixel's own square (mirrored at the image's
    edges as the filter is): the same values at a cost in proportion to those pixels, a few of them."""
    offsets = np.arange(-match_px, match_px + 1)

    def mirrored(at: np.ndarray, length: int) -> np.ndarray:
        at = at % (2 * length)
        return np.where(at >= length, 2 * length - 1 - at, at)

    rows, cols = np.nonzero(counted)
    near = labels[mirrored(rows[:, None] + offsets, labels.shape[0])[:, :, None],
                  mirrored(cols[:, None] + offsets, labels.shape[1])[:, None, :]].reshape(len(rows), offsets.size ** 2)
    highest = near.max(axis=1, initial=0)
    lowest = np.where(near > 0, near, n + 1).min(axis=1, initial=n + 1)
    return highest, lowest


def clean_masks(
    ref: np.ndarray, tgt: np.ndarray, ref_valid: np.ndarray, tgt_valid: np.ndarray,
    pixel_m: float = DEFAULT_PIXEL_M,
) -> tuple[np.ndarray, np.ndarray]:
    """Validity masks without non-finite values and without bright regions seen on one date only (clouds
    the scene's mask missed, glint), cloud-sized ones with their ``HALO_M`` halo; ``pixel_m`` is the
    pixel side."""
    ref_valid, tgt_valid = ref_valid & np.isfinite(ref), tgt_valid & np.isfinite(tgt)
    levels = robust_level(ref, ref_valid), robust_level(tgt, tgt_valid)
    bright = [bright_outliers(x, v, BRIGHT_SD, lv) for x, v, lv in zip((ref, tgt), (ref_valid, tgt_valid), levels)]
    light = [bright_outliers(x, v, MATCH_SD, lv) for x, v, lv in zip((ref, tgt), (ref_valid, tgt_valid), levels)]
    match_px = max(2, math.ceil(MATCH_M / pixel_m))
    halo_px = max(1, math.ceil(HALO_M / pixel_m))
    cloud_px = max(1, math.ceil(CLOUD_M2 / pixel_m**2))
    out = []
    for valid, own, other_light, other_valid in ((ref_valid, bright[0], light[1], tgt_valid),
                                                 (tgt_valid, bright[1], light[0], ref_valid)):
        alone, cloud = one_date_bright(own, other_light, other_valid, match_px, cloud_px)
        out.append(valid & ~alone & ~_grow(cloud, halo_px) if cloud.any() else valid & ~alone)
    return out[0], out[1]


def _grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """``mask`` dilated by at least ``pixels`` (square). Wide dilations run on cells of up to 4 px
    (over-growing by less than a cell): a wide maximum filter at full resolution over a whole scene
    costs far more."""
    block = max(1, min(4, pixels // 3))
    if block == 1:
        exact: np.ndarray = filters.maximum_filter(mask, 2 * pixels + 1)
        return exact
    rows, cols = mask.shape
    pr, pc = -rows % block, -cols % block
    coarse = np.pad(mask, ((0, pr), (0, pc))).reshape((rows + pr) // block, block, (cols + pc) // block, block)
    coarse = filters.maximum_filter(np.asarray(coarse.any(axis=(1, 3))), 2 * (-(-pixels // block)) + 1)
    grown: np.ndarray = np.repeat(np.repeat(coarse, block, axis=0), block, axis=1)[:rows, :cols] | mask
    return grown
