"""The grid value type: CRS + affine transform + shape, passed everywhere instead of loose tuples."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from affine import Affine
from rasterio.crs import CRS as RioCRS

if TYPE_CHECKING:  # pyproj and shapely are imported where used: reading and co-registering rasters needs neither
    import numpy as np
    from shapely.geometry.base import BaseGeometry


def metres_per_degree(latitude: float) -> tuple[float, float]:
    """Metres on the WGS 84 ellipsoid per degree of longitude and of latitude at ``latitude`` (degrees): the
    usual series, good to ~1 m per degree (one constant for each was 0.6 % off at 50 degrees)."""
    phi = math.radians(latitude)
    return (111_412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi),
            111_132.92 - 559.82 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi))


class Located(Protocol):
    """Anything with a lon/lat ``geometry`` (an ``geo.aoi.AOI``; the grid module sits below it)."""

    @property
    def geometry(self) -> BaseGeometry: ...


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid. ``shape`` is (rows, cols); pixel (0, 0) is the top-left corner."""

    crs: RioCRS
    transform: Affine
    shape: tuple[int, int]

    def __post_init__(self) -> None:
        rows, cols = self.shape
        if rows <= 0 or cols <= 0:
            raise ValueError(f"grid shape must be positive, got {self.shape}")

    @property
    def height(self) -> int:
        return self.shape[0]

    @property
    def width(self) -> int:
        return self.shape[1]

    @property
    def res(self) -> tuple[float, float]:
        return (abs(self.transform.a), abs(self.transform.e))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) in the grid's CRS."""
        left, top = self.transform @ (0, 0)
        right, bottom = self.transform @ (self.width, self.height)
        return (min(left, right), min(top, bottom), max(left, right), max(top, bottom))

    def xy(self, cols: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map x, y of the pixel positions ``cols``, ``rows`` (arrays; n + 0.5 is a pixel centre): the
        transform applied element-wise, as ``transform @ (cols, rows)`` does (whose annotations say scalars)."""
        t = self.transform
        return cols * t.a + rows * t.b + t.c, cols * t.d + rows * t.e + t.f

    @property
    def pixel_area(self) -> float:
        return abs(self.transform.a * self.transform.e - self.transform.b * self.transform.d)

    def pixel_metres(self) -> tuple[float, float]:
        """A pixel's width and height on the ground in metres, signed as the transform's ``a`` and ``e`` (a
        north-up grid: east positive, north negative); a lon/lat grid's degrees at its centre latitude."""
        a, e = self.transform.a, self.transform.e
        if is_geographic(self.crs):
            lon_m, lat_m = metres_per_degree((self.bounds[1] + self.bounds[3]) / 2)
            return (a * lon_m, e * lat_m)
        factor = self.crs.linear_units_factor[1] if self.crs.is_projected else 1.0  # a grid in feet converted
        scale = self._ground_scale(factor) if self.crs.is_projected else 1.0
        return (a * factor * scale, e * factor * scale)

    def _ground_scale(self, factor: float) -> float:
        """Ground metres per metre of the projection at the grid's centre when they differ by more than 2 %
        (Web Mercator's metres are 1/cos(latitude) of the ground's: 1.65 at 53 degrees N); else 1 (UTM's
        0.9996-1.0004 is exact as it is, and finer than this estimate)."""
        if 'PROJECTION["Transverse_Mercator"]' in self.crs.to_wkt():  # UTM: no PROJ transform to build (~3 ms)
            return 1.0
        from rasterio.warp import transform as transform_points  # rasterio is imported by whoever reads the grid

        left, bottom, right, top = self.bounds
        x, y, step = (left + right) / 2, (bottom + top) / 2, abs(self.transform.a) * 16
        lons, lats = transform_points(self.crs, "EPSG:4326", [x, x + step, x], [y, y, y + step])
        lon_m, lat_m = metres_per_degree(lats[0])

        def ground(k: int) -> float:  # metres from the centre to point k (a local flat approximation)
            return math.hypot((lons[k] - lons[0]) * lon_m, (lats[k] - lats[0]) * lat_m)

        scale = math.sqrt(ground(1) * ground(2)) / (step * factor)
        return scale if abs(scale - 1) > 0.02 else 1.0

    def shifted(self, dx_px: float, dy_px: float) -> Grid:
        """The same grid moved by (dx_px, dy_px) pixels (columns east, rows south)."""
        return Grid(self.crs, self.transform @ Affine.translation(dx_px, dy_px), self.shape)

    def window(self, row0: int, col0: int, rows: int, cols: int) -> Grid:
        """The ``rows`` x ``cols`` part of the grid starting at pixel (``row0``, ``col0``)."""
        return Grid(self.crs, self.transform @ Affine.translation(col0, row0), (rows, cols))

    def to_dict(self) -> dict[str, object]:
        return {
            "crs": self.crs.to_string(),
            "transform": list(self.transform)[:6],
            "shape": list(self.shape),
        }

    @classmethod
    def covering(
        cls, crs: RioCRS, bounds: tuple[float, float, float, float], resolution: float
    ) -> Grid:
        """The smallest grid of ``resolution`` snapped to multiples of it that covers ``bounds``."""
        left, bottom, right, top = bounds
        left = math.floor(left / resolution) * resolution
        top = math.ceil(top / resolution) * resolution
        cols = max(1, math.ceil((right - left) / resolution - 1e-9))
        rows = max(1, math.ceil((top - bottom) / resolution - 1e-9))
        return cls(crs, Affine(resolution, 0.0, left, 0.0, -resolution, top), (rows, cols))

    @classmethod
    def from_aoi(cls, aoi: Located, resolution: float = 10.0, margin_m: float = 0.0, min_side_m: float = 0.0) -> Grid:
        """The UTM grid of a job on ``aoi``: covering it plus ``margin_m`` on each side (context for
        co-registration, a speckle filter or a CFAR ring), that margin grown on an axis where the grid would
        be under ``min_side_m`` (``context_margins``), snapped to ``resolution``, in the UTM zone of its
        centroid (across 180 too: zone 60 or 1, not the split parts' mean near 0°)."""
        return cls.with_margins(aoi, resolution, margin_m, min_side_m)[0]

    @classmethod
    def with_margins(cls, aoi: Located, resolution: float, margin_m: float, min_side_m: float
                     ) -> tuple[Grid, tuple[float, float]]:
        """``from_aoi``'s grid and the (x, y) margins it used (what a job's manifest records)."""
        from geo.antimeridian import centre
        from geo.geometry import WGS84, reproject

        crs = utm_crs_for(*centre(aoi.geometry))
        left, bottom, right, top = reproject(aoi.geometry, WGS84, crs.to_string()).bounds
        mx, my = context_margins((left, bottom, right, top), margin_m, min_side_m)
        return cls.covering(crs, (left - mx, bottom - my, right + mx, top + my), resolution), (mx, my)


def context_margins(bounds: tuple[float, float, float, float], margin_m: float, min_side_m: float
                    ) -> tuple[float, float]:
    """(x, y) margins around ``bounds``: ``margin_m``, or more on an axis whose side with it would be under
    ``min_side_m`` (the grid is then ``min_side_m`` wide there, centred on the area)."""
    left, bottom, right, top = bounds
    return (max(margin_m, (min_side_m - (right - left)) / 2), max(margin_m, (min_side_m - (top - bottom)) / 2))


def utm_crs_for(lon: float, lat: float) -> RioCRS:
    """The WGS 84 / UTM zone CRS containing (lon, lat) — the grid Sentinel-2 itself uses: the MGRS zones, whose
    exceptions widen zone 32 over south-west Norway and leave Svalbard to zones 31, 33, 35 and 37."""
    return RioCRS.from_epsg((32600 if lat >= 0 else 32700) + utm_zone(lon, lat))


def utm_zone(lon: float, lat: float) -> int:
    """The MGRS/UTM zone number of (lon, lat): 6-degree zones from 180°W, but for the two exceptions of band V
    (56-64°N: 32V spans 3-12°E) and band X (72-84°N: 31X 0-9°E, 33X 9-21°E, 35X 21-33°E, 37X 33-42°E)."""
    if 56.0 <= lat < 64.0 and 3.0 <= lon < 12.0:
        return 32
    if 72.0 <= lat < 84.0 and 0.0 <= lon < 42.0:
        return 31 if lon < 9.0 else 33 if lon < 21.0 else 35 if lon < 33.0 else 37
    return min(60, max(1, int((lon + 180.0) // 6.0) + 1))


_COUNT_ROWS = 512


def polygon_mask(geometry: BaseGeometry, grid: Grid) -> np.ndarray:
    """True for the pixels of ``grid`` whose centres fall inside ``geometry`` (a (multi)polygon in the grid's CRS),
    and for every pixel touched by a part the centres under-count (under half its area: a strip narrower than a
    pixel, between two rows of centres, or a fleck of a MultiPolygon). Without it such a part held no pixel: it
    was said to be unseen ("outside the scenes, no data or cloud") and no change could be found in it."""
    import numpy as np
    from rasterio import features

    from geo.geometry import polygon_parts

    parts = polygon_parts(geometry)
    if not parts:
        return np.zeros(grid.shape, bool)
    # a byte a pixel for up to 254 parts, as a mask's; counted in strips of rows (bincount takes 8 bytes a pixel)
    dtype = "uint8" if len(parts) < 255 else "uint16" if len(parts) < 65535 else "uint32"
    labels = features.rasterize([(part, k) for k, part in enumerate(parts, start=1)], out_shape=grid.shape,
                                transform=grid.transform, fill=0, all_touched=False, dtype=dtype)
    counts = np.zeros(len(parts) + 1, np.int64)
    if len(parts) == 1:  # most areas: counting the non-zero bytes is ~30 times faster than bincount
        counts[1] = np.count_nonzero(labels)
    else:
        for row in range(0, grid.height, _COUNT_ROWS):
            counts += np.bincount(labels[row:row + _COUNT_ROWS].ravel(), minlength=len(parts) + 1)
    thin = [part for k, part in enumerate(parts, start=1) if counts[k] * grid.pixel_area < 0.5 * part.area]
    mask: np.ndarray = labels > 0
    if thin:
        mask |= features.geometry_mask(thin, grid.shape, grid.transform, invert=True, all_touched=True)
    return mask


def is_geographic(crs: RioCRS) -> bool:
    if crs.is_projected:  # rasterio knows that much; pyproj (and its import) only for the others
        return False
    from pyproj import CRS

    return bool(CRS.from_user_input(crs.to_wkt()).is_geographic)


def bilinear(lattice: np.ndarray, rows_at: np.ndarray, cols_at: np.ndarray) -> np.ndarray:
    """``lattice`` values at fractional lattice coordinates: (len(rows_at), len(cols_at)) by bilinear
    interpolation, one axis after the other (a few passes over the output, no coordinate arrays);
    coordinates beyond the lattice take its edge values."""
    import numpy as np

    def axis(at: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        at = np.clip(at, 0.0, size - 1)
        low = np.minimum(at.astype(np.intp), max(size - 2, 0))
        return low, np.minimum(low + 1, size - 1), at - low

    r0, r1, fr = axis(rows_at, lattice.shape[0])
    c0, c1, fc = axis(cols_at, lattice.shape[1])
    rows = lattice[r0] * (1 - fr)[:, None] + lattice[r1] * fr[:, None]
    # rows[:, c0] · (1 − fc) + rows[:, c1] · fc, the same numbers with two gathers (``take``) and in place
    dtype = np.result_type(rows, fc)
    values: np.ndarray = np.take(rows, c0, axis=1).astype(dtype, copy=False)
    values *= 1 - fc
    right = np.take(rows, c1, axis=1).astype(dtype, copy=False)
    right *= fc
    values += right
    return values
