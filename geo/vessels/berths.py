"""Objects on the water, berthed ones included: which non-water pixels of one scene are not land.

A single scene cannot tell a ship moored along a quay from the quay by brightness or size (both are
bright, dry and joined), but it can by shape against the water. Walk a straight line through a non-water
pixel: if the non-water run it lies on is shorter than the longest ship *and* has water at both ends, the
pixel is on something the water brackets along that line. A ship alongside a quay is bracketed along its
own length (water beyond bow and stern), end to end; a pier, a breakwater or a bridge is bracketed only
*across* its length, or by short slanting runs (its ends are on land); a beach and its surf line in no
direction (longer than any ship). So, per direction, the connected pieces of bracketed runs are kept as
ship candidates when they lie *along* that direction, their runs span most of the piece's length, and
they have a ship's length, width and make-up; everything else non-water stays land. Ships moored side
by side are each bracketed at bow and stern, so they are kept too; a ship in a dock closed at both ends
(a dry dock) is not.

Runs are measured along image rows after rotating the masks so that the direction is horizontal (nearest
neighbour, and an index image to carry the result back to the original pixels).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage as ndi

from geo.change.labels import EIGHT, object_boxes
from geo.grid import Grid
from geo.vessels.model import VesselDetection

DIRECTIONS = 16  # 11.25 degrees apart: a ship's axis is within 5.6 degrees of one of them


@dataclass(frozen=True)
class BerthParams:
    max_length_m: float = 450.0  # longest ship: longer bracketed runs are not one ship
    min_length_m: float = 40.0
    max_width_m: float = 80.0
    min_elongation: float = 2.0  # length / width of a ship candidate
    max_axis_deg: float = 8.0  # candidate's long axis within this of the direction it was bracketed along
    min_width_px: float = 1.8  # thinner pieces are gaps between specks of noisy water, not hulls
    min_fill: float = 0.5  # pixels / (length x width): a hull is solid, a web of specks is not
    min_run_fraction: float = 0.6  # median bracketed run / piece length: a hull is bracketed end to end
    max_not_hull: float = 0.2  # fraction of a piece that may be what no hull is (e.g. vegetation)
    # Re-test each kept object along its own long axis (nearest direction): pixels not bracketed there are
    # land. A pier is bracketed by slanting lines across its tip; along its axis its run reaches land.
    own_axis: bool = False


def bracketed_runs(non_water: np.ndarray, water: np.ndarray) -> np.ndarray:
    """Per pixel, the length of the horizontal non-water run it lies on when water lies at both ends of the
    run (0 elsewhere, and for runs reaching the image edge)."""
    rows, cols = non_water.shape
    before = np.pad(non_water, ((0, 0), (1, 0)))[:, :-1]
    after = np.pad(non_water, ((0, 0), (0, 1)))[:, 1:]
    starts, ends = non_water & ~before, non_water & ~after
    run = np.cumsum(starts.ravel()).reshape(rows, cols) * non_water
    lengths = np.bincount(run.ravel())
    water_before = np.pad(water, ((0, 0), (1, 0)))[:, :-1]
    water_after = np.pad(water, ((0, 0), (0, 1)))[:, 1:]
    open_start = np.zeros(lengths.size, bool)
    open_start[run[starts]] = water_before[starts]
    open_end = np.zeros(lengths.size, bool)
    open_end[run[ends]] = water_after[ends]
    bracketed = open_start & open_end
    bracketed[0] = False
    return np.where(bracketed[run], lengths[run], 0)


def _axis(rows: np.ndarray, cols: np.ndarray) -> tuple[float, float, float]:
    """(length_px, width_px, axis degrees from the row direction, in (-90, 90])."""
    if rows.size < 2:
        return 1.0, 1.0, 0.0
    cov = np.cov(np.vstack([cols, rows]).astype(np.float64))
    eigenvalues, vectors = np.linalg.eigh(cov)
    minor, major = np.maximum(eigenvalues, 0.0)
    ex, ey = vectors[:, 1]
    axis = math.degrees(math.atan2(ey, ex))
    axis = axis - 180.0 if axis > 90.0 else axis + 180.0 if axis <= -90.0 else axis
    return math.sqrt(12 * major + 1), math.sqrt(12 * minor + 1), axis


def _ship_shaped(runs: np.ndarray, not_hull: np.ndarray, pixel_m: float, p: BerthParams) -> np.ndarray:
    """Pieces (8-connected) of bracketed pixels (``runs`` > 0) shaped like a ship lying along the rows."""
    labels, count = ndi.label(runs > 0, structure=EIGHT)
    keep = np.zeros(count + 1, bool)
    for label, region in object_boxes(labels):  # labels are 1..count: no gaps
        inside = labels[region] == label
        rows, cols = np.nonzero(inside)
        length, width, axis = _axis(rows, cols)
        keep[label] = (
            p.min_length_m <= length * pixel_m <= p.max_length_m and width * pixel_m <= p.max_width_m
            and width >= p.min_width_px and length >= p.min_elongation * width and abs(axis) <= p.max_axis_deg
            and rows.size >= p.min_fill * length * width
            and np.median(runs[region][inside]) >= p.min_run_fraction * (np.ptp(cols) + 1)
            and not_hull[region][inside].mean() <= p.max_not_hull
        )
    return keep[labels]


def objects_on_water(non_water: np.ndarray, pixel_m: float, p: BerthParams = BerthParams(),
                     not_hull: np.ndarray | None = None) -> np.ndarray:
    """Non-water pixels (True in ``non_water``) that belong to ship-shaped objects on the water, joined to
    land or not (see the module's docstring). ``not_hull``: pixels that cannot be part of a ship (e.g.
    vegetation); a piece made of more than ``max_not_hull`` of them stays land."""
    not_hull = np.zeros(non_water.shape, bool) if not_hull is None else not_hull
    kept = np.zeros(non_water.shape, bool)
    for k in range(DIRECTIONS):
        kept |= _along(non_water, k, pixel_m, p, not_hull)
    # nearest-neighbour rotation skips a pixel here and there: close those pinholes within the non-water
    closed: np.ndarray = ndi.binary_closing(kept, structure=EIGHT) & non_water
    return _on_own_axis(closed, non_water, pixel_m, p) if p.own_axis else closed


def _along(non_water: np.ndarray, k: int, pixel_m: float, p: BerthParams, not_hull: np.ndarray | None) -> np.ndarray:
    """Pixels bracketed along direction ``k`` (of ``DIRECTIONS``): of ship-shaped pieces lying along it
    when ``not_hull`` is given, else every bracketed pixel."""
    rows, cols = non_water.shape
    index = np.arange(1, rows * cols + 1, dtype=np.int32).reshape(rows, cols)
    degrees = 180.0 * k / DIRECTIONS

    def turned(a: np.ndarray) -> np.ndarray:
        out: np.ndarray = ndi.rotate(a, degrees, order=0, reshape=True, cval=0, prefilter=False)
        return out

    source = turned(index)
    inside = source > 0
    dry = turned(non_water.astype(np.uint8)) > 0
    runs = bracketed_runs(dry & inside, ~dry & inside)
    runs = np.where(runs < p.max_length_m / pixel_m, runs, 0)
    hits = runs > 0 if not_hull is None else _ship_shaped(runs, turned(not_hull.astype(np.uint8)) > 0, pixel_m, p)
    kept = np.zeros(rows * cols, bool)
    kept[source[hits] - 1] = True
    return kept.reshape(rows, cols)


def _rectangle_axis(rows: np.ndarray, cols: np.ndarray) -> float:
    """Direction (degrees from the row direction, rows down) of the long side of the smallest rectangle
    around the pixels: the axis of straight-sided objects, even squat or lopsided ones (hulls abreast of
    unequal lengths), where the second moments tilt."""
    from shapely import oriented_envelope
    from shapely.geometry import MultiPoint, Polygon

    corners = [(c + dc, r + dr) for r, c in zip(rows.tolist(), cols.tolist()) for dr in (0, 1) for dc in (0, 1)]
    rectangle = oriented_envelope(MultiPoint(corners))
    if not isinstance(rectangle, Polygon):  # pixel corners always span an area: this only narrows the type
        return 0.0
    xs, ys = rectangle.exterior.coords.xy
    sides = [(xs[i + 1] - xs[i], ys[i + 1] - ys[i]) for i in range(2)]
    dx, dy = max(sides, key=lambda side: math.hypot(*side))
    return math.degrees(math.atan2(dy, dx)) % 180.0


def _on_own_axis(objects: np.ndarray, non_water: np.ndarray, pixel_m: float, p: BerthParams) -> np.ndarray:
    """``objects`` without the pixels that are not bracketed along their object's own long axis (the
    nearest of the directions)."""
    labels, count = ndi.label(objects, structure=EIGHT)
    direction = np.zeros(count + 1, np.int64)
    for label, region in object_boxes(labels):
        rows, cols = np.nonzero(labels[region] == label)
        direction[label] = int(round(_rectangle_axis(rows, cols) / (180.0 / DIRECTIONS))) % DIRECTIONS
    keep = np.zeros(objects.shape, bool)
    for k in np.unique(direction[1:]):
        members = objects & (direction[labels] == k)
        keep |= members & ndi.binary_closing(_along(non_water, int(k), pixel_m, p, None), structure=EIGHT)
    return keep


@dataclass(frozen=True)
class ProtrusionParams:
    """Fingers of non-water sticking out into the water (``protrusions``). Measured, not adopted: off by
    default (``radius_px`` 0); ``benchmarks/vessel_protrusions.py`` scores radii 2-6 px."""

    radius_px: int = 0  # disk of the opening: non-water narrower than about 2 x radius + 1 px sticks out; 0: off
    min_length_m: float = 20.0
    max_length_m: float = 150.0
    max_width_m: float = 90.0
    min_water_share: float = 0.3  # of the piece's outline (1 px out) on water: it sticks out into the water
    max_not_hull: float = 0.2  # fraction of the piece that may be what no hull is (e.g. vegetation)


def protrusions(non_water: np.ndarray, water: np.ndarray, pixel_m: float, p: ProtrusionParams = ProtrusionParams(),
                not_hull: np.ndarray | None = None) -> np.ndarray:
    """Narrow fingers of non-water sticking out of wider land into the water: the non-water a disk of
    ``radius_px`` cannot reach (outside the morphological opening of ``non_water``), in pieces of a ship's
    size with water along at least ``min_water_share`` of their outline (boats moored bow-on off a quay,
    a bow sticking out past a quay's corner). A quay or a yard is wider than the disk and stays land, and
    so does a straight quay edge (the disk reaches it), except the few pixels a round disk cannot reach in
    a square corner (of a pier, or of land at the image's edge)."""
    if p.radius_px <= 0:
        return np.zeros(non_water.shape, bool)
    r = p.radius_px
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    disk = xx * xx + yy * yy <= r * r + r
    narrow = non_water & ~ndi.binary_opening(non_water, structure=disk)
    labels, count = ndi.label(narrow, structure=EIGHT)
    keep = np.zeros(count + 1, bool)
    not_hull = np.zeros(non_water.shape, bool) if not_hull is None else not_hull
    for label, region in object_boxes(labels):
        grown = tuple(slice(max(s.start - 1, 0), s.stop + 1) for s in region)  # room for the outline
        inside = labels[grown] == label
        rows, cols = np.nonzero(inside)
        length, width, _ = _axis(rows, cols)
        outline = ndi.binary_dilation(inside, structure=EIGHT) & ~inside
        keep[label] = (p.min_length_m <= length * pixel_m <= p.max_length_m and width * pixel_m <= p.max_width_m
                       and water[grown][outline].mean() >= p.min_water_share
                       and not_hull[grown][inside].mean() <= p.max_not_hull)
    kept: np.ndarray = keep[labels]
    return kept


def mark_at_berth(detections: Sequence[VesselDetection], land: np.ndarray, grid: Grid,
                  berth_m: float = 30.0) -> tuple[VesselDetection, ...]:
    """``detections`` with ``at_berth`` set: a hull whose side lies within ``berth_m`` of ``land`` (its
    centre within half its width plus ``berth_m``), or of a hull at berth (moored side by side)."""
    if not detections:
        return tuple(detections)
    pixel = math.sqrt(grid.pixel_area)
    distance = ndi.distance_transform_edt(~land) * pixel
    inverse = ~grid.transform
    berthed = []
    for d in detections:
        col, row = inverse @ (d.x, d.y)
        r, c = min(max(int(row), 0), grid.height - 1), min(max(int(col), 0), grid.width - 1)
        berthed.append(bool(distance[r, c] - d.width_m / 2 <= berth_m))
    changed = True
    while changed:  # side by side: next to a hull at berth, hull edge to hull edge
        changed = False
        for i, d in enumerate(detections):
            if berthed[i]:
                continue
            if any(berthed[j] and math.hypot(d.x - o.x, d.y - o.y) - (d.width_m + o.width_m) / 2 <= berth_m
                   and math.hypot(d.x - o.x, d.y - o.y) <= (d.length_m + o.length_m) / 2
                   for j, o in enumerate(detections)):
                berthed[i] = changed = True
    return tuple(replace(d, at_berth=b) for d, b in zip(detections, berthed))
