"""Objects on the water, berthed ones included: which non-water pixels of one scene are not land.

A single scene cannot tell a ship moored along a quay from the quay by brightness or size (both are
bright, dry and joined), but it can by shape against the water. Walk a straight line through a non-water
pixel: if the non-water run it lies on is shorter than the longest ship *and* has water at both ends, the
pixel is on something the water surrounds along that line. A ship alongside a quay is such a run along its
own length (water beyond bow and stern) and not across it (the quay); a pier or a breakwater is such a run
only *across* its length (its root is on land), a beach and its surf line in neither direction (longer
than any ship). So, per direction, the connected pieces of such runs are kept as ship candidates when they
are elongated *along* that direction, of a ship's length and width; pieces elongated across it (piers) and
everything else non-water stay land. Ships moored side by side are each bounded by water at bow and stern,
so they are kept too; a ship in a dock closed at both ends (a dry dock) is not.

Runs are found with a binary closing of the water by a line of the longest ship's length: a pixel is
filled exactly when its non-water run along the line is shorter than the line and bracketed by water.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from skimage.draw import line

from geo.change.labels import EIGHT

DIRECTIONS = 8  # 22.5 degrees apart: a ship's axis is within 11.25 degrees of one of them


@dataclass(frozen=True)
class BerthParams:
    max_length_m: float = 450.0  # longest ship; also the line the water is closed with
    min_length_m: float = 40.0  # shortest candidate along its direction
    max_width_m: float = 80.0
    min_elongation: float = 2.0  # length / width of a ship candidate
    max_axis_deg: float = 25.0  # candidate's long axis within this of the direction it was found along
    min_width_px: float = 1.8  # thinner pieces are gaps between specks of noisy water, not hulls
    min_fill: float = 0.5  # pixels / (length x width): a hull is solid, a web of specks is not


def line_footprint(length_px: int, degrees: float) -> np.ndarray:
    """A one-pixel line of ``length_px`` through the centre of a square footprint, at ``degrees``
    counter-clockwise from the column axis."""
    half = max(length_px // 2, 1)
    dr = int(round(-half * math.sin(math.radians(degrees))))
    dc = int(round(half * math.cos(math.radians(degrees))))
    footprint = np.zeros((2 * half + 1, 2 * half + 1), bool)
    rows, cols = line(half - dr, half - dc, half + dr, half + dc)
    footprint[rows, cols] = True
    return footprint


def _axis(rows: np.ndarray, cols: np.ndarray) -> tuple[float, float, float]:
    """(length_px, width_px, axis degrees counter-clockwise from the column axis, in [0, 180))."""
    if rows.size < 2:
        return 1.0, 1.0, 0.0
    cov = np.cov(np.vstack([cols, -rows]).astype(np.float64))
    eigenvalues, vectors = np.linalg.eigh(cov)
    minor, major = np.maximum(eigenvalues, 0.0)
    ex, ey = vectors[:, 1]
    return math.sqrt(12 * major + 1), math.sqrt(12 * minor + 1), math.degrees(math.atan2(ey, ex)) % 180.0


def _elongated_along(pieces: np.ndarray, degrees: float, pixel_m: float, p: BerthParams) -> np.ndarray:
    """The pieces (8-connected) of ``pieces`` shaped like a ship lying along ``degrees``."""
    labels, count = ndi.label(pieces, structure=EIGHT)
    keep = np.zeros(count + 1, bool)
    for label, region in enumerate(ndi.find_objects(labels), start=1):
        if region is None:
            continue
        rows, cols = np.nonzero(labels[region] == label)
        length, width, axis = _axis(rows, cols)
        off_axis = abs((axis - degrees + 90.0) % 180.0 - 90.0)
        keep[label] = (p.min_length_m <= length * pixel_m <= p.max_length_m and width * pixel_m <= p.max_width_m
                       and width >= p.min_width_px and length >= p.min_elongation * width
                       and off_axis <= p.max_axis_deg and rows.size >= p.min_fill * length * width)
    return keep[labels]


def objects_on_water(non_water: np.ndarray, pixel_m: float, p: BerthParams = BerthParams()) -> np.ndarray:
    """Non-water pixels (True in ``non_water``) that belong to ship-shaped objects on the water, joined to
    land or not (see the module's docstring)."""
    water = ~non_water
    length_px = max(int(round(p.max_length_m / pixel_m)), 3)
    pad = length_px // 2 + 1
    padded = np.pad(water, pad, constant_values=False)  # beyond the image is not water: no bracket there
    kept = np.zeros(non_water.shape, bool)
    for k in range(DIRECTIONS):
        degrees = 180.0 * k / DIRECTIONS
        closed = ndi.binary_closing(padded, line_footprint(length_px, degrees))[pad:-pad, pad:-pad]
        kept |= _elongated_along(closed & non_water, degrees, pixel_m, p)
    return kept
