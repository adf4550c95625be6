"""Pictures for the report: stretched true colour as inlined images, polygons as SVG paths in pixel space.

The stretch is per band and per date (2nd to 98th percentile of the valid pixels) so each date reads
well on its own; the same stretch goes into the true-colour COGs' QGIS styles.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from affine import Affine
from PIL import Image
from shapely.geometry.base import BaseGeometry

from geo.geometry import WGS84, reproject
from geo.grid import Grid

Stretch = tuple[tuple[float, float], ...]
PERCENTILES = (2.0, 98.0)
GAMMA = 1.0 / 1.4  # lifts dark water and shadow so structure there stays visible
NODATA_GREY = 40


def display_stretch(rgb: np.ndarray) -> Stretch:
    """(low, high) reflectance per band from the valid pixels of a (3, rows, cols) stack."""
    out = []
    for band in rgb:
        values = band[np.isfinite(band)]
        if values.size == 0:
            out.append((0.0, 0.3))
            continue
        low, high = np.percentile(values, PERCENTILES)
        out.append((float(low), float(max(high, low + 1e-4))))
    return tuple(out)


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


def thumbnail(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Shrink an image so its longer side is at most ``max_side`` (area-averaged); returns the scale."""
    rows, cols = image.shape[:2]
    scale = min(1.0, max_side / max(rows, cols))
    if scale >= 1.0:
        return image, 1.0
    size = (max(1, round(cols * scale)), max(1, round(rows * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BOX)), scale


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
        return Affine.scale(self.scale) @ Affine.translation(-self.col_off, -self.row_off) @ ~self.grid.transform

    def svg_path(self, geometry: BaseGeometry) -> str:
        """An SVG path (even-odd rings) of a lon/lat polygon in this frame's pixel units."""
        projected = reproject(geometry, WGS84, self.grid.crs.to_string())
        to_px = self._to_pixels()
        polygons = [projected] if projected.geom_type == "Polygon" else list(getattr(projected, "geoms", []))
        parts = []
        for polygon in polygons:
            if polygon.geom_type != "Polygon" or polygon.is_empty:
                continue
            for ring in (polygon.exterior, *polygon.interiors):
                points = [to_px @ xy for xy in ring.coords]
                parts.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points) + " Z")
        return " ".join(parts)

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


def crop(image: np.ndarray, window: Sequence[int]) -> np.ndarray:
    row, col, rows, cols = window
    return image[row:row + rows, col:col + cols]
