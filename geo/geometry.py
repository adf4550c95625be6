"""Small geometry helpers shared by the AOI, vector and link stages."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

WGS84 = "EPSG:4326"


@lru_cache(maxsize=32)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def reproject(geometry: BaseGeometry, src: str, dst: str) -> BaseGeometry:
    """``geometry`` moved from CRS ``src`` to ``dst`` (any pyproj input; axis order x/lon first)."""
    if src == dst:
        return geometry
    transformer = _transformer(src, dst)

    def _apply(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, _apply)


def right_handed(geometry: BaseGeometry) -> BaseGeometry:
    """RFC 7946 ring order: exteriors counter-clockwise, holes clockwise (lon/lat axes)."""
    if geometry.geom_type == "Polygon":
        return orient(geometry, sign=1.0)
    if geometry.geom_type == "MultiPolygon":
        return shapely.MultiPolygon([orient(p, sign=1.0) for p in geometry.geoms])
    return geometry


def polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """Keep only the polygonal part of ``geometry`` (make_valid can return collections with lines)."""
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = [g for g in getattr(geometry, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    flat = []
    for part in parts:
        flat.extend(part.geoms if part.geom_type == "MultiPolygon" else [part])
    if not flat:
        return shapely.Polygon()
    return flat[0] if len(flat) == 1 else shapely.MultiPolygon(flat)
