"""Connected regions of a change (or water, or vessel) mask: 8-connected, labelled 1..n."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rasterio import features
from scipy import ndimage as ndi

EIGHT = np.ones((3, 3), dtype=bool)


def label_regions(mask: np.ndarray, min_pixels: int, compact: bool = False) -> tuple[np.ndarray, int]:
    """Sieve away regions smaller than ``min_pixels`` (8-connected), then label what is left 1..n (int32;
    ``compact``: uint16 when the count fits, for a caller that does no arithmetic on the labels that could
    pass 65,535)."""
    # (the mask's own bytes as 0/1, and the sieved bytes labelled as they are: no copies of a large grid)
    as_bytes = np.ascontiguousarray(mask, dtype=bool).view(np.uint8)
    sieved = features.sieve(as_bytes, size=min_pixels, connectivity=8) if mask.any() else as_bytes
    # (each region left has min_pixels, and a first pixel: the bound is the tighter of the two)
    most = min(int(np.count_nonzero(sieved)) // max(min_pixels, 1), most_regions(sieved, eight=True)) if compact else None
    return label_compact(sieved, EIGHT, most)


def label_compact(mask: np.ndarray, structure: np.ndarray, most: int | None) -> tuple[np.ndarray, int]:
    """``ndi.label(mask, structure)`` as uint16 when ``most`` (the count expected at most) fits in it, else
    int32: a Sentinel-2 tile's labels are 240 MB instead of 480. The same numbers either way; scipy checks
    they fit (it raises if they do not: then they are made again as int32)."""
    if most is not None and most <= np.iinfo(np.uint16).max:
        try:
            small = np.empty(mask.shape, np.uint16)  # (scipy's stubs list only int32 and intp outputs)
            return small, int(ndi.label(mask, structure=structure, output=small))  # type: ignore[arg-type]
        except RuntimeError:  # more regions than ``most``
            pass
    labels = np.empty(mask.shape, np.int32)
    return labels, int(ndi.label(mask, structure=structure, output=labels))


def most_regions(mask: np.ndarray, eight: bool = False, rows: int = 1024) -> int:
    """A bound on the 4- (or ``eight``-) connected regions of ``mask``: its pixels with none of the
    neighbours before them in row order in it (each region's first pixel is one), counted in strips of rows."""
    most = 0
    for start in range(0, mask.shape[0], rows):
        strip = mask[start:start + rows]
        up = np.zeros_like(strip)
        up[1:] = strip[:-1]
        if start:
            up[0] = mask[start - 1]
        earlier = up.copy()
        if eight:
            earlier[:, 1:] |= up[:, :-1]
            earlier[:, :-1] |= up[:, 1:]
        earlier[:, 1:] |= strip[:, :-1]
        most += int(np.count_nonzero(strip & ~earlier))
    return most


def labelled_pixels(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(flat indices, labels) of the labelled pixels, in image order: per-region statistics then read only
    them (a few percent of an image) instead of making a full pass per statistic."""
    where = np.flatnonzero(labels)
    return where, labels.ravel()[where]


def label_means(selected_labels: np.ndarray, values: list[np.ndarray], count: int) -> np.ndarray:
    """(len(values), count) mean of each of ``values`` (given at the labelled pixels, ``labelled_pixels``
    order) per label 1..count; NaN for a label with no pixel. Summed in image order, as
    ``scipy.ndimage.mean`` does, so the figures are the same."""
    pixels = np.bincount(selected_labels, minlength=count + 1)[1:]
    sums = np.stack([np.bincount(selected_labels, weights=v, minlength=count + 1)[1:] for v in values])
    with np.errstate(invalid="ignore", divide="ignore"):
        means: np.ndarray = sums / pixels
    return means


def region_sizes(labels: np.ndarray, count: int, rows: int = 1024) -> np.ndarray:
    """Pixels per label 0..count, counted in strips of rows: ``bincount`` of a whole grid's labels would
    first copy them as 8-byte integers (1 GB at a Sentinel-2 tile)."""
    sizes = np.zeros(count + 1, np.int64)
    for start in range(0, labels.shape[0], rows):
        sizes += np.bincount(labels[start:start + rows].ravel(), minlength=count + 1)
    return sizes


def object_boxes(labels: np.ndarray) -> list[tuple[int, tuple[slice, ...]]]:
    """(label, bounding box) of each label 1..max that has pixels: ``ndi.find_objects`` without the None it
    gives a label with none (a gap in the numbering; scipy-stubs 1.18 types it, 1.17 did not)."""
    boxes: Sequence[tuple[slice, ...] | None] = ndi.find_objects(labels)
    return [(label, box) for label, box in enumerate(boxes, start=1) if box is not None]
