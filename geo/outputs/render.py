"""Pictures for the report: stretched true colour as inlined images, polygons as SVG paths in pixel space,
and the map furniture of each picture (scale bar, north arrow, corner coordinates) computed from its grid.

The stretch is per band and per date (2nd to 98th percentile of the valid pixels outside the changes and the
ground not compared, snow on one date only) so
each date reads well on its own and ground that did not change looks alike in both, however bright or wide a
change is; the same stretch goes into the true-colour COGs' QGIS styles.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from affine import Affine
from PIL import Image
from pyproj import Geod
from shapely.geometry import LineString, MultiPoint
from shapely.geometry.base import BaseGeometry

from geo.antimeridian import unwrapped
from geo.change.sampling import percentiles, sample_in_order
from geo.geometry import WGS84, polygon_parts, reproject
from geo.grid import Grid
from geo.scenes.scratch import release

Stretch = tuple[tuple[float, float], ...]
# A vertex nearer than this to the line between its neighbours draws no differently: a wide view averages many
# 10 m pixels into one, and a polygon's every pixel corner drawn there doubled a report of thousands of changes
OUTLINE_TOLERANCE_PX = 0.25
PERCENTILES = (2.0, 98.0)
GAMMA = 1.0 / 1.4  # lifts dark water and shadow so structure there stays visible
NODATA_GREY = 40


MIN_UNCHANGED_SHARE = 0.05  # below this share of the valid pixels left by the changes, stretch on them all


def display_stretch(rgb: np.ndarray | Sequence[np.ndarray], changed: np.ndarray | None = None) -> Stretch:
    """(low, high) reflectance per band from the valid pixels of a (3, rows, cols) stack (from at most a
    million of them: a display stretch needs no more), leaving out the ``changed`` (rows, cols) pixels: a change
    filling more than 2 % of the image would otherwise set the date's stretch, and the unchanged ground would
    show darker (or brighter) on that date only. All valid pixels when the changes leave under
    ``MIN_UNCHANGED_SHARE`` of them."""
    out = []
    for band in rgb:
        left, counts = changed, None
        if left is not None:
            counts = _strip_counts(band, left)
            if sum(counts) < MIN_UNCHANGED_SHARE * sum(_strip_counts(band)):
                left, counts = None, None
        values = _finite_sample(band, left, counts)
        if values.size == 0:
            out.append((0.0, 0.3))
            continue
        low, high = percentiles(values, PERCENTILES)
        out.append((float(low), float(max(high, low + 1e-4))))
    return tuple(out)


def _strip_counts(band: np.ndarray, changed: np.ndarray | None = None, strip_rows: int = 1024) -> list[int]:
    """The count of finite pixels outside ``changed`` of each strip of ``strip_rows`` rows."""
    counts = []
    for top in range(0, band.shape[0], strip_rows):
        counts.append(int(np.count_nonzero(_wanted(band, changed, top, strip_rows))))
        release()
    return counts


def _wanted(band: np.ndarray, changed: np.ndarray | None, top: int, strip_rows: int) -> np.ndarray:
    """The finite pixels of one strip of rows, less the changed ones."""
    wanted: np.ndarray = np.isfinite(band[top:top + strip_rows])
    if changed is not None:
        wanted &= ~np.asarray(changed[top:top + strip_rows], dtype=bool)
    return wanted


def _finite_sample(band: np.ndarray, changed: np.ndarray | None = None, counts: list[int] | None = None,
                   strip_rows: int = 1024) -> np.ndarray:
    """The finite values of a (row, col) band outside ``changed``, or the fixed sample of them ``sample_index``
    picks (as ``band[wanted][pick]`` in another order: a percentile does not depend on it). Two
    passes over strips of rows, a scratch band's pages handed back after each: one counts (unless ``counts``,
    ``_strip_counts``' of the same strips, are given), one picks (no mask or index of the whole band)."""
    strips = range(0, band.shape[0], strip_rows)
    counts = _strip_counts(band, changed, strip_rows) if counts is None else counts
    ends = np.cumsum(counts)
    pick = sample_in_order(int(ends[-1]) if counts else 0)  # in order: each strip's picks read forwards
    wanted: list[np.ndarray | None] = [None] * len(counts)  # each strip's ranks (None: all its wanted values)
    if pick is not None:
        strip_of = np.searchsorted(ends, pick, side="right")
        wanted = [pick[strip_of == index] - (ends[index] - counts[index]) for index in range(len(counts))]
    parts = []
    for top, chosen in zip(strips, wanted):
        if chosen is not None and not chosen.size:
            continue
        values = np.asarray(band[top:top + strip_rows])[_wanted(band, changed, top, strip_rows)]
        parts.append(values if chosen is None else values[chosen])
        release()
    return np.concatenate(parts) if parts else np.empty(0, np.float32)


def to_rgb8(rgb: np.ndarray, stretch: Stretch) -> np.ndarray:
    """(rows, cols, 3) uint8 display image; nodata shown dark grey."""
    channels = []
    for band, (low, high) in zip(rgb, stretch):
        scaled = np.clip((np.nan_to_num(band, nan=low) - low) / (high - low), 0.0, 1.0) ** GAMMA
        channels.append(np.round(scaled * 255).astype(np.uint8))
    image = np.dstack(channels)
    image[~np.all(np.isfinite(rgb), axis=0)] = NODATA_GREY
    return image


def data_uri(image: np.ndarray, fmt: str = "PNG", quality: int = 88) -> str:
    """An RGB uint8 array as a ``data:`` URI (PNG lossless; JPEG for large views)."""
    buffer = io.BytesIO()
    picture = Image.fromarray(image, mode="RGB")
    if fmt == "JPEG":
        picture.save(buffer, format="JPEG", quality=quality, optimize=True)
    else:
        picture.save(buffer, format="PNG", optimize=True)
    mime = "image/jpeg" if fmt == "JPEG" else "image/png"
    return f"data:{mime};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement: chips show the real 10 m pixels, not a smoothed guess."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


@dataclass(frozen=True)
class PixelFrame:
    """Maps lon/lat geometries into the pixel space of a (possibly scaled, cropped) image of a grid."""

    grid: Grid
    scale: float = 1.0
    col_off: float = 0.0
    row_off: float = 0.0

    def _to_pixels(self) -> Affine:
        inverse: Affine = ~self.grid.transform  # affine's ``~`` is unannotated
        return Affine.scale(self.scale) @ Affine.translation(-self.col_off, -self.row_off) @ inverse

    def svg_path(self, geometry: BaseGeometry) -> str:
        """An SVG path (even-odd rings) of a lon/lat polygon in this frame's pixel units."""
        # a polygon cut at 180 (RFC 7946) drawn whole, without its cut as an edge
        projected = reproject(unwrapped(geometry), WGS84, self.grid.crs.to_string())
        to_px = self._to_pixels()
        parts = []
        for polygon in polygon_parts(projected):
            if polygon.is_empty:
                continue
            for ring in (polygon.exterior, *polygon.interiors):
                points = _drawn(LineString([to_px @ xy for xy in ring.coords]))
                parts.append("M" + " L".join(points) + " Z")
        return " ".join(parts)

    def cover(self, geometries: Sequence[BaseGeometry], shape: tuple[int, int]) -> np.ndarray | None:
        """A (rows, cols) mask of the pixels of a ``shape`` image in this frame that lon/lat ``geometries``
        touch (an averaged view's pixel partly inside counts), or None when there is none."""
        from rasterio.features import rasterize

        shapes = [reproject(unwrapped(g), WGS84, self.grid.crs.to_string()) for g in geometries]
        shapes = [g for g in shapes if not g.is_empty]
        if not shapes:
            return None
        mask: np.ndarray = rasterize(shapes, out_shape=shape, transform=~self._to_pixels(), all_touched=True,
                                     dtype="uint8").astype(bool)
        return mask

    def pixel_bounds(self, geometry: BaseGeometry) -> tuple[float, float, float, float]:
        """(col_min, row_min, col_max, row_max) of a lon/lat geometry on the full-resolution grid."""
        left, bottom, right, top = reproject(geometry, WGS84, self.grid.crs.to_string()).bounds
        inverse = ~self.grid.transform
        c0, r0 = inverse @ (left, top)
        c1, r1 = inverse @ (right, bottom)
        return min(c0, c1), min(r0, r1), max(c0, c1), max(r0, r1)


def chip_window(bounds: tuple[float, float, float, float], shape: tuple[int, int], size: int) -> tuple[int, int, int, int]:
    """A ``size`` x ``size`` pixel window (row, col, rows, cols) centred on ``bounds``, kept inside ``shape``;
    larger when the geometry itself is larger (plus a margin)."""
    c0, r0, c1, r1 = bounds
    side = int(max(size, (c1 - c0) * 1.5, (r1 - r0) * 1.5))
    side = min(side, shape[0], shape[1])
    centre_c, centre_r = (c0 + c1) / 2, (r0 + r1) / 2
    col = int(np.clip(round(centre_c - side / 2), 0, shape[1] - side))
    row = int(np.clip(round(centre_r - side / 2), 0, shape[0] - side))
    return row, col, side, side


SCALE_BAR_SHARE = 0.25  # the scale bar is the longest 1-2-5 length up to this share of the picture's width
WGS84_GEOD = Geod(ellps="WGS84")


def nice_length(max_m: float) -> float:
    """The longest 1, 2 or 5 x 10^k metres not above ``max_m``."""
    exponent = math.floor(math.log10(max_m))
    return max(step * 10.0 ** exponent for step in (1, 2, 5) if step * 10.0 ** exponent <= max_m)


def length_label(metres: float) -> str:
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"


def lat_lon_text(lat: float, lon: float, places: int = 5) -> str:
    """47.21234° N, 1.55123° W"""
    return f"{abs(lat):.{places}f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.{places}f}° {'E' if lon >= 0 else 'W'}"


@dataclass(frozen=True)
class Furniture:
    """Scale bar, north arrow and corner coordinates of a picture of a window of a grid."""

    scale_m: float  # length of the scale bar on the ground
    scale_label: str  # "500 m", "1 km"
    scale_percent: float  # the bar's length as a share of the picture's width, in %
    width_m: float  # the picture's width on the ground (geodesic, along its middle row)
    north_deg: float  # true north, clockwise from the picture's up
    corners: dict[str, tuple[float, float]]  # (lat, lon) of the outer corners: nw, ne, sw, se

    def corner_text(self, corner: str) -> str:
        return lat_lon_text(*self.corners[corner], places=4)


def furniture(grid: Grid, window: Sequence[int] | None = None) -> Furniture:
    """The furniture of a picture showing ``window`` (row, col, rows, cols) of ``grid``, whole grid by default."""
    row, col, rows, cols = window or (0, 0, grid.height, grid.width)
    crs = grid.crs.to_string()
    mid = row + rows / 2
    pixel_points = [(col, row), (col + cols, row), (col, row + rows), (col + cols, row + rows),
                    (col, mid), (col + cols, mid), (col + cols / 2, mid)]
    lonlat = list(reproject(MultiPoint([grid.transform @ xy for xy in pixel_points]), crs, WGS84).geoms)
    (nw, ne, sw, se, west, east, centre) = [(p.y, p.x) for p in lonlat]
    width_m = WGS84_GEOD.inv(west[1], west[0], east[1], east[0])[2]
    # True north: a step north from the centre, back onto the grid, as a direction in the picture.
    north = reproject(MultiPoint([(centre[1], centre[0] + 1e-3)]), WGS84, crs).geoms[0]
    centre_px, north_px = pixel_points[-1], ~grid.transform @ (north.x, north.y)
    north_deg = math.degrees(math.atan2(north_px[0] - centre_px[0], centre_px[1] - north_px[1]))
    scale_m = nice_length(SCALE_BAR_SHARE * width_m)
    return Furniture(scale_m, length_label(scale_m), round(100 * scale_m / width_m, 3), width_m, round(north_deg, 2),
                     {"nw": nw, "ne": ne, "sw": sw, "se": se})


def _drawn(ring: LineString) -> list[str]:
    """A closed ring's points (pixel units) as an SVG path draws them, to 0.1 px: those within
    ``OUTLINE_TOLERANCE_PX`` of the outline left out, a repeated point once, the closing point left to "Z". A
    ring smaller than the tolerance is drawn as it is."""
    simple = ring.simplify(OUTLINE_TOLERANCE_PX, preserve_topology=False)
    coords = simple.coords if len(simple.coords) >= 4 else ring.coords
    points: list[str] = []
    for x, y in coords[:-1]:
        point = f"{x:.1f},{y:.1f}"
        if not points or point != points[-1]:
            points.append(point)
    return points
