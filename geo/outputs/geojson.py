"""RFC 7946 GeoJSON: EPSG:4326 lon/lat, right-hand rings, no ``crs`` member."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geo.atomic import write_json
from geo.geometry import right_handed

COORDINATE_PRECISION = 1e-7  # ~1 cm: far below a pixel, keeps files small


def rfc7946_geometry(geometry: BaseGeometry) -> dict[str, Any]:
    """A lon/lat geometry snapped to 1e-7 degrees (staying valid) with RFC 7946 ring orientation."""
    snapped = shapely.set_precision(geometry, COORDINATE_PRECISION)
    return mapping(right_handed(snapped))


def feature_collection(features: Sequence[tuple[BaseGeometry, Mapping[str, Any]]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [_feature(geom, props) for geom, props in features]}


def _feature(geometry: BaseGeometry, properties: Mapping[str, Any]) -> dict[str, Any]:
    """A Feature whose ``id`` is the change's (or the AOI's) id; without one, no ``id`` member: RFC 7946 allows
    only a string or a number there, not null."""
    feature: dict[str, Any] = {"type": "Feature"}
    identifier = properties.get("change_id", properties.get("id"))
    if identifier is not None:
        feature["id"] = identifier
    return {**feature, "geometry": rfc7946_geometry(geometry), "properties": dict(properties)}


def write_feature_collection(path: Path, features: Sequence[tuple[BaseGeometry, Mapping[str, Any]]]) -> None:
    write_json(path, feature_collection(features))
