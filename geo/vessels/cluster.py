"""Target pixels -> one detection per 8-connected cluster, with its footprint, length, width and area.

Length and width come from the second moments of the cluster's pixel centres: a segment of length l
sampled every d metres has variance (l^2 - d^2) / 12 along it, so l = sqrt(12 * lambda + d^2), where
lambda is the covariance eigenvalue along the axis. A one-pixel cluster measures one pixel.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
from scipy import ndimage as ndi

from geo.change.labels import EIGHT, object_boxes
from geo.grid import Grid
from geo.vector.polygonize import polygonize
from geo.vessels.model import VesselDetection

# (per-channel peak value inside the cluster) -> (score, peak)
Scorer = Callable[[Mapping[str, float]], tuple[float, float]]


def seeded_clusters(grow: np.ndarray, seeds: np.ndarray, min_seeds: int = 1,
                    structure: np.ndarray | None = EIGHT) -> np.ndarray:
    """Label the connected components of ``grow | seeds`` (8-connected; ``structure=None``: 4-connected)
    holding at least ``min_seeds`` seed pixels, numbered 1..n."""
    labels, count = ndi.label(grow | seeds, structure=structure)
    if count == 0:
        return labels.astype(np.int32)
    seeded = np.bincount(labels[seeds], minlength=count + 1) >= min_seeds
    seeded[0] = False
    renumber = np.zeros(count + 1, np.int32)
    renumber[seeded] = np.arange(1, int(seeded.sum()) + 1)
    return renumber[labels]


def split_abreast(labels: np.ndarray, core: np.ndarray, grid: Grid, length_per_beam: float,
                  min_beam_m: float) -> np.ndarray:
    """Split clusters of hulls moored side by side (one bright blob in SAR: no water between them at 10 m)
    into equal slabs across their long axis: a cluster whose ``core`` (its brightest pixels: the hulls
    without the side lobes that lengthen the grown cluster) is ``n`` times wider than one hull of its
    length (beam = length / ``length_per_beam``, at least ``min_beam_m``) is ``n`` hulls. Labels
    renumbered 1..m."""
    out = np.zeros_like(labels)
    next_label = 1
    for label, region in object_boxes(labels):  # seeded_clusters numbers 1..n
        rows, cols = np.nonzero(labels[region] == label)
        rows, cols = rows + region[0].start, cols + region[1].start
        strong = core[rows, cols]
        _, _, length, width, heading = shape_of(rows[strong], cols[strong], grid) if strong.sum() >= 2 \
            else shape_of(rows, cols, grid)
        parts = max(1, int(round(width / max(length / length_per_beam, min_beam_m))))
        if parts > 1:
            # across the long axis (heading clockwise from north; rows grow south)
            theta = math.radians(heading)
            across = cols * math.cos(theta) + rows * math.sin(theta)
            edges = np.linspace(across.min(), across.max(), parts + 1)[1:-1]
            slab = np.searchsorted(edges, across)
        else:
            slab = np.zeros(rows.size, np.int64)
        out[rows, cols] = next_label + slab
        next_label += parts
    return out


def shape_of(rows: np.ndarray, cols: np.ndarray, grid: Grid) -> tuple[float, float, float, float, float]:
    """(x, y, length_m, width_m, heading_deg) of pixel centres ``rows``/``cols`` on a north-up ``grid``."""
    xs, ys = grid.xy(cols + 0.5, rows + 0.5)
    x, y = float(np.mean(xs)), float(np.mean(ys))
    pixel = math.sqrt(grid.pixel_area)
    if len(xs) < 2:
        return x, y, pixel, pixel, 0.0
    cov = np.cov(np.vstack([xs, ys]))
    eigenvalues, vectors = np.linalg.eigh(cov)
    minor, major = np.maximum(eigenvalues, 0.0)
    length = math.sqrt(12.0 * major + pixel**2)
    width = math.sqrt(12.0 * minor + pixel**2)
    ex, ey = vectors[:, 1]
    heading = math.degrees(math.atan2(ex, ey)) % 180.0
    return x, y, length, width, heading


def clusters(
    labels: np.ndarray,
    grid: Grid,
    values: Mapping[str, np.ndarray],
    scorer: Scorer,
    min_pixels: int,
    max_length_m: float,
) -> tuple[list[VesselDetection], dict[str, int]]:
    """One ``VesselDetection`` per label of size >= ``min_pixels`` and length <= ``max_length_m``; the counts
    of clusters rejected for being too small or too long are returned alongside."""
    count = int(labels.max())
    rejected = {"too_small": 0, "too_long": 0}
    if count == 0:
        return [], rejected
    index = np.arange(1, count + 1)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    peaks = {name: ndi.maximum(np.nan_to_num(v, nan=-np.inf), labels, index) for name, v in values.items()}
    keep = np.zeros(count + 1, bool)
    measured: dict[int, tuple[float, float, float, float, float]] = {}
    for label, region in object_boxes(labels):
        if sizes[label] < min_pixels:
            rejected["too_small"] += 1
            continue
        rows, cols = np.nonzero(labels[region] == label)
        shape = shape_of(rows + region[0].start, cols + region[1].start, grid)
        if shape[2] > max_length_m:
            rejected["too_long"] += 1
            continue
        keep[label] = True
        measured[int(label)] = shape
    kept_labels = np.where(keep[labels], labels, 0)
    detections = []
    for kept in polygonize(kept_labels, grid):
        x, y, length, width, heading = measured[kept.label]
        score, peak = scorer({name: float(p[kept.label - 1]) for name, p in peaks.items()})
        detections.append(VesselDetection(
            geometry=kept.geometry, x=x, y=y, length_m=round(length, 1), width_m=round(width, 1),
            heading_deg=round(heading, 1), area_m2=round(kept.pixels * grid.pixel_area, 1),
            pixels=kept.pixels, score=score, peak=peak,
        ))
    return detections, rejected
