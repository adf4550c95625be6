"""Small geometry helpers shared by the AOI, vector and link stages."""

from __future__ import annotations

from functools import lru_cache
from typing import TypeVar

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry, BaseMultipartGeometry
from shapely.geometry.polygon import orient

WGS84 = "EPSG:4326"
GeometryT = TypeVar("GeometryT", bound=BaseGeometry)


@lru_cache(maxsize=32)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def reproject(geometry: GeometryT, src: str, dst: str) -> GeometryT:
    """``geometry`` moved from CRS ``src`` to ``dst`` (any pyproj input; axis order x/lon first), same kind."""
    if src == dst:
        return geometry
    transformer = _transformer(src, dst)

    def _apply(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, _apply)


def right_handed(geometry: BaseGeometry) -> BaseGeometry:
    """RFC 7946 ring order: exteriors counter-clockwise, holes clockwise (lon/lat axes)."""
    if isinstance(geometry, shapely.Polygon):
        return orient(geometry, sign=1.0)
    if isinstance(geometry, shapely.MultiPolygon):
        return shapely.MultiPolygon([orient(p, sign=1.0) for p in geometry.geoms])
    return geometry


def polygon_parts(geometry: BaseGeometry) -> list[shapely.Polygon]:
    """``geometry`` itself if a polygon, else the polygon members of a multi-part geometry (not flattened)."""
    if isinstance(geometry, shapely.Polygon):
        return [geometry]
    if isinstance(geometry, BaseMultipartGeometry):
        return [part for part in geometry.geoms if isinstance(part, shapely.Polygon)]
    return []


def collection_polygons(collection: BaseGeometry) -> tuple[BaseGeometry, list[str]]:
    """A GeometryCollection's polygons as one MultiPolygon, and the kinds of its other members (points, lines);
    the collection itself, and nothing, when it holds no polygon."""
    members = list(collection.geoms) if isinstance(collection, BaseMultipartGeometry) else []
    polygons = [polygon for member in members for polygon in polygon_parts(member)]
    if not polygons:
        return collection, []
    return shapely.MultiPolygon(polygons), sorted({m.geom_type for m in members if not polygon_parts(m)})


def polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """Keep only the polygonal part of ``geometry`` (make_valid can return collections with lines)."""
    if isinstance(geometry, (shapely.Polygon, shapely.MultiPolygon)):
        return geometry
    parts: list[BaseGeometry] = list(geometry.geoms) if isinstance(geometry, BaseMultipartGeometry) else []
    flat: list[shapely.Polygon] = []
    for part in parts:
        if isinstance(part, shapely.MultiPolygon):
            flat.extend(part.geoms)
        elif isinstance(part, shapely.Polygon):
            flat.append(part)
    if not flat:
        return shapely.Polygon()
    return flat[0] if len(flat) == 1 else shapely.MultiPolygon(flat)
