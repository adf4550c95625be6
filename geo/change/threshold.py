"""Thresholds that come from the statistic's distribution, and spatial regularisation of the decision."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from scipy import special
from skimage.filters import apply_hysteresis_threshold, threshold_otsu

from geo.change.labels import EIGHT, label_compact, label_means, label_regions, labelled_pixels, region_sizes
from geo.change.normalised_stack import NormalisedStack, stack_pixels
from geo.scenes.scratch import take_pixels


def chi2_threshold(dof: int, alpha: float) -> float:
    """The D² above which a no-change pixel falls with probability ``alpha`` (chi-square's inverse survival
    function, as ``scipy.stats.chi2.isf`` computes it, without importing scipy.stats: ~0.5 s per job)."""
    return float(special.chdtri(dof, alpha))


def otsu_threshold(statistic: np.ndarray, valid: np.ndarray) -> float:
    """Otsu's split of the statistic's histogram over valid pixels (the classic unsupervised baseline)."""
    values = statistic[valid & np.isfinite(statistic)]
    return float(threshold_otsu(values)) if values.size and values.min() < values.max() else float("inf")


def drop_small(mask: np.ndarray, min_pixels: int, most_regions: int | None = None) -> np.ndarray:
    """``mask`` without its 8-connected regions smaller than ``min_pixels``. ``most_regions``: a bound on
    their count, when the caller knows one (the labels are then uint16 if it fits: ``label_compact``)."""
    if min_pixels <= 1 or not mask.any():
        return mask
    labels, count = label_compact(mask, EIGHT, most_regions)
    sizes = region_sizes(labels, count)
    keep = sizes >= min_pixels
    keep[0] = False
    kept: np.ndarray = keep[labels]
    return kept


def change_mask(
    statistic: np.ndarray, valid: np.ndarray, dof: int, alpha: float, alpha_grow: float
) -> np.ndarray:
    """Significant change: seeds at ``alpha``, grown through neighbours significant at ``alpha_grow``
    (hysteresis keeps whole objects without admitting isolated weak pixels), then a 3×3 opening."""
    high, low = chi2_threshold(dof, alpha), chi2_threshold(dof, alpha_grow)
    values = np.where(valid, statistic, 0.0)
    mask = apply_hysteresis_threshold(values, low, high)
    mask = ndi.binary_opening(mask, structure=EIGHT)
    changed: np.ndarray = mask & valid
    return changed


@dataclass(frozen=True)
class StackDifference:
    """``after - before`` of two (band, row, col) stacks, computed only at the pixels asked for: the whole
    difference would be a third stack in memory, and trimming needs it only on change regions."""

    after: np.ndarray | NormalisedStack
    before: np.ndarray

    def at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        pixels = rows * self.after.shape[-1] + cols  # scratch stacks are read in strips (``take_pixels``)
        values: np.ndarray = stack_pixels(self.after, pixels) - take_pixels(self.before, pixels)
        return values


def _difference_at(difference: np.ndarray | StackDifference, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """(band, n) change vectors at the pixels (``rows``, ``cols``), NaN as 0."""
    values = difference.at(rows, cols) if isinstance(difference, StackDifference) else difference[:, rows, cols]
    filled: np.ndarray = np.nan_to_num(values)
    return filled


def trim_mixed_edges(labels: np.ndarray, difference: np.ndarray | StackDifference, edge_px: int = 2) -> np.ndarray:
    """Drop edge pixels of each change region whose change is less than half the region's own.

    A pixel straddling the border of a changed object carries part of its change; any significance test
    keeps it, so regions come out a ring of pixels too large. Projecting each pixel's band-difference
    vector on the region's core change vector gives the changed fraction of the pixel; the half-maximum
    contour is the object's edge. Only pixels near the region's border are trimmed, so heterogeneous
    change inside a region is never cut out. ``difference`` is (band, row, col), or the two stacks it
    comes from; returns a mask.
    """
    mask = labels > 0
    if not mask.any():
        return mask
    edge = ndi.binary_erosion(mask, iterations=edge_px, border_value=0)  # in place from here: a large grid's
    np.logical_not(edge, out=edge)  # masks are 120 MB each
    np.logical_and(edge, mask, out=edge)
    count = int(labels.max())
    # A region's core change: mean difference of its interior (or of all its pixels when it is thin).
    where, selected = labelled_pixels(labels)
    in_core = ~edge.ravel()[where]  # the labelled pixels off the edge
    bands = list(_difference_at(difference, *np.divmod(where, labels.shape[1])))
    core_means = label_means(selected[in_core], [band[in_core] for band in bands], count)
    has_core = np.bincount(selected[in_core], minlength=count + 1)[1:] > 0
    vectors = np.where(has_core, core_means, label_means(selected, bands, count)).T
    norm2 = (vectors**2).sum(axis=1)
    rows, cols = np.nonzero(edge)
    v = vectors[labels[rows, cols] - 1]
    d = _difference_at(difference, rows, cols).T
    fraction = (d * v).sum(axis=1) / np.maximum(norm2[labels[rows, cols] - 1], 1e-12)
    out = mask  # (its own: made above)
    out[rows[fraction < 0.5], cols[fraction < 0.5]] = False
    return out


def change_regions(mask: np.ndarray, difference: np.ndarray | StackDifference, min_area_px: int,
                   edge_px: int = 2, compact: bool = False) -> np.ndarray:
    """Labelled change regions (0 = none) as the job outputs them: regions under ``min_area_px`` sieved
    away, mixed edge pixels within ``edge_px`` of a border trimmed, sieved again. The evaluation scores
    exactly this. ``compact``: uint16 labels when their count fits (``label_regions``)."""
    labels, _ = label_regions(mask, min_area_px, compact)
    trimmed = trim_mixed_edges(labels, difference, edge_px)
    del labels  # a large grid's labels are 2-4 bytes a pixel: one set at a time
    labels, _ = label_regions(trimmed, min_area_px, compact)
    return labels
