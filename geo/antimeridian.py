"""Areas across the antimeridian (180°). RFC 7946 (3.1.9) cuts a geometry crossing it into parts on each side,
as geojson.io, QGIS and Earth Search's footprints write it: lon/lat geometries here are kept so (an AOI, the
outputs), and read as one area where it matters (its centre, extent and UTM zone) by unwrapping the western
parts past 180. Edges are straight in lon/lat, as RFC 7946 draws them: the cut is planar (the ``antimeridian``
package's is great-circle, and it cannot take a hole beyond 180)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from geo.errors import AOIError
from geo.geometry import polygon_parts, polygonal


def _jumps(ring: np.ndarray) -> bool:
    return bool(len(ring) > 1 and np.abs(np.diff(ring[:, 0])).max() > 180.0)


def _rings(polygon: Polygon) -> list[np.ndarray]:
    return [np.asarray(polygon.exterior.coords), *(np.asarray(r.coords) for r in polygon.interiors)]


def needs_cut(geometry: BaseGeometry) -> bool:
    """Whether a lon/lat (multi)polygon has longitudes beyond ±180 or an edge jumping across 180 (a ring drawn
    across it, uncut): RFC 7946 wants it cut there."""
    west, _, east, _ = geometry.bounds
    if west < -180.0 or east > 180.0:
        return True
    # no edge jumps over 180 degrees when the whole spans less: the change polygons of a tile (~20,000) pass here
    return east - west > 180.0 and any(_jumps(r) for p in polygon_parts(geometry) for r in _rings(p))


def _unwrapped_polygon(polygon: Polygon) -> Polygon:
    """The polygon with each ring's longitudes made continuous (an edge is read the short way round, under 180
    degrees: 179.9 -> -179.9 is 0.2 degrees east), its holes moved by whole turns next to its exterior."""
    rings: list[np.ndarray] = []
    for ring in _rings(polygon):
        lon = np.unwrap(ring[:, 0].astype(float), period=360.0)
        if rings:  # a hole: the whole turn putting it nearest the exterior's start
            lon = lon + 360.0 * round((rings[0][0, 0] - lon[0]) / 360.0)
        rings.append(np.column_stack([lon, ring[:, 1]]))
    return Polygon(rings[0], rings[1:])


def cut_at_antimeridian(geometry: BaseGeometry) -> BaseGeometry:
    """A lon/lat (multi)polygon with every longitude within ±180, cut at 180 where it crosses (RFC 7946): parts
    drawn beyond (179.9..180.1, -180.1..-179.9, 190..191) moved by a whole turn, a ring jumping across 180 read
    the short way. Any other geometry, or one needing nothing, is returned as it is."""
    if not isinstance(geometry, (Polygon, MultiPolygon)) or geometry.is_empty or not needs_cut(geometry):
        return geometry
    pieces: list[Polygon] = []
    for polygon in polygon_parts(geometry):
        unwrapped = _unwrapped_polygon(polygon)
        west, _, east, _ = unwrapped.bounds
        for turn in range(int(np.floor((west + 180.0) / 360.0)), int(np.floor((east + 180.0) / 360.0)) + 1):
            window = box(360.0 * turn - 180.0, -90.0, 360.0 * turn + 180.0, 90.0)
            try:
                piece = polygonal(affinity.translate(unwrapped.intersection(window), -360.0 * turn))
            except shapely.errors.GEOSException:  # an invalid ring (a bow-tie): left for the caller to name
                return geometry
            pieces.extend(polygon_parts(piece) if not piece.is_empty else [])
    merged = polygonal(shapely.union_all(pieces))
    parts = polygon_parts(merged)
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def unwrapped(geometry: BaseGeometry) -> BaseGeometry:
    """A lon/lat geometry cut at 180 (RFC 7946) as one area: its parts west of 0 moved a turn east when it spans
    over 180 degrees (179.95..180 and -180..-179.95 -> 179.95..180.05); else itself."""
    west, _, east, _ = geometry.bounds
    if geometry.is_empty or east - west <= 180.0:
        return geometry
    parts = [affinity.translate(p, 360.0) if p.centroid.x < 0 else p for p in polygon_parts(geometry)]
    return shapely.union_all(parts) if parts else geometry


def wrap_lon(lon: float) -> float:
    """A longitude within [-180, 180)."""
    return (lon + 180.0) % 360.0 - 180.0


def centre(geometry: BaseGeometry) -> tuple[float, float]:
    """(lon, lat) of the centroid of a lon/lat geometry, across 180 too (the split parts' own centroid is near 0)."""
    point = unwrapped(geometry).centroid
    return wrap_lon(point.x), point.y


def bbox(geometry: BaseGeometry) -> tuple[float, float, float, float]:
    """RFC 7946 (5.2) bounding box (west, south, east, north): across 180 its west is greater than its east."""
    west, south, east, north = unwrapped(geometry).bounds
    return (west, south, east - 360.0 if east > 180.0 else east, north)


def union_bbox(geometries: Sequence[BaseGeometry]) -> tuple[float, float, float, float]:
    """The RFC 7946 bounding box of lon/lat geometries together, its west-east span the shorter way round: AOIs on
    both sides of 180 give a box across it (west over east), not -180..180. Each geometry's span (``bbox``) is
    an arc of the circle; the box starts at the arc's start after which the others reach least far east (it
    follows the widest gap between them). The whole circle when no gap is left; -180..180 x -90..90 for none."""
    boxes = [bbox(g) for g in geometries if not g.is_empty]
    if not boxes:
        return (-180.0, -90.0, 180.0, 90.0)
    south, north = min(b[1] for b in boxes), max(b[3] for b in boxes)
    arcs = [(w if -180.0 <= w < 180.0 else wrap_lon(w), e, 360.0 if e - w >= 360.0 else (e - w) % 360.0)
            for w, _, e, _ in boxes]

    def reach(start: float) -> tuple[float, float]:  # (span from start, east) to the east end farthest on
        return max(((other - start) % 360.0 + length, east) for other, east, length in arcs)

    west, (span, east) = min(((start, reach(start)) for start, _, _ in arcs), key=lambda arc: arc[1][0])
    return (-180.0, south, 180.0, north) if span >= 360.0 else (west, south, east, north)


def _pole_enclosed(geometry: Polygon | MultiPolygon) -> str:
    """'North Pole' or 'South Pole' when an exterior ring goes all the way round in longitude: a cap drawn as a
    lon/lat box from -180 to 180 (an edge along a whole parallel, which unwrapping reads as no edge at all) or a
    ring circling the pole; else ''. Read as a plane, such a ring encloses nothing (its area was 0 m2, said to
    be "lon/lat degrees read as metres")."""
    for polygon in polygon_parts(geometry):
        ring = np.asarray(polygon.exterior.coords)
        turns = abs(np.unwrap(ring[:, 0], period=360.0)[-1] - ring[0, 0]) >= 359.0
        if turns or np.abs(np.diff(ring[:, 0])).max(initial=0.0) >= 360.0:
            return "North Pole" if ring[:, 1].mean() > 0 else "South Pole"
    return ""


def checked_lon_lat(geometry: Polygon | MultiPolygon, where: str, hint: str) -> Polygon | MultiPolygon:
    """An AOI's lon/lat polygon cut at 180 (RFC 7946), or ``AOIError``: coordinates beyond lon/lat (``hint`` says
    what they look like), or an area over half the globe wide even read across 180."""
    west, south, east, north = geometry.bounds
    if west < -360 or east > 360 or south < -90 or north > 90:
        raise AOIError(f"{where}: coordinates out of lon/lat range (bounds {geometry.bounds}); AOIs are RFC 7946 "
                       f"lon/lat (EPSG:4326){hint}")
    pole = _pole_enclosed(geometry)
    if pole:
        raise AOIError(f"{where}: the polygon goes around the {pole} (its outline runs all 360 degrees of longitude): "
                       "an area around a pole is not taken, Sentinel-1 and -2 do not image the poles; draw the area "
                       "itself, within 180 degrees of longitude")
    cut = cut_at_antimeridian(geometry)
    west, _, east, _ = unwrapped(cut).bounds
    if east - west > 180.0:
        raise AOIError(f"{where}: polygon spans {east - west:.1f} degrees of longitude, over half the globe (one "
                       "AOI is a place: draw the area itself)")
    return cut if isinstance(cut, (Polygon, MultiPolygon)) else geometry
