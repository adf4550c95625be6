"""Areas of interest: one GeoJSON Feature per file in ``aoi/``, validated into an immutable ``AOI``."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from geo.errors import AOIError
from geo.geometry import WGS84, reproject

if TYPE_CHECKING:  # rasterio (a fifth of a second to import) only where pixels are involved: a re-check
    from geo.grid import Grid  # with nothing new loads AOIs and reads none

log = logging.getLogger(__name__)

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
KINDS = ("port", "base", "city", "training_ground", "mine", "demo", "other")
MIN_AREA_KM2 = 0.01
MAX_AREA_KM2 = 10_000.0
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class AOI:
    """A validated area of interest; ``geometry`` is a lon/lat (EPSG:4326) polygon."""

    id: str
    name: str
    country: str
    kind: str
    geometry: Polygon | MultiPolygon
    source: str
    approximate: bool = True
    path: Path | None = None

    @property
    def area_km2(self) -> float:
        return geodesic_area_m2(self.geometry) / 1e6

    def utm_grid(self, resolution: float = 10.0, margin_m: float = 0.0) -> Grid:
        """A UTM grid covering the AOI (plus ``margin_m`` on each side), snapped to ``resolution``."""
        from geo.grid import Grid, utm_crs_for

        crs = utm_crs_for(self.geometry.centroid.x, self.geometry.centroid.y)
        left, bottom, right, top = self.projected(crs.to_string()).bounds
        bounds = (left - margin_m, bottom - margin_m, right + margin_m, top + margin_m)
        return Grid.covering(crs, bounds, resolution)

    def projected(self, crs: str) -> BaseGeometry:
        return reproject(self.geometry, WGS84, crs)

    def pixel_mask(self, grid: Grid) -> np.ndarray:
        """True for the pixels of ``grid`` whose centres fall inside the AOI."""
        from rasterio import features as rio_features

        shape = self.projected(grid.crs.to_string())
        return rio_features.geometry_mask([shape], grid.shape, grid.transform, invert=True, all_touched=False)

    def summary(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "country": self.country,
            "kind": self.kind,
            "area_km2": round(self.area_km2, 3),
            "approximate": self.approximate,
            "source": self.source,
        }


def geodesic_area_m2(geometry: BaseGeometry) -> float:
    return abs(_GEOD.geometry_area_perimeter(geometry)[0])


def validate_geometry(geometry: BaseGeometry, where: str) -> Polygon | MultiPolygon:
    """Check a lon/lat polygon is usable as an AOI; raise ``AOIError`` naming ``where`` if not."""
    if not isinstance(geometry, (Polygon, MultiPolygon)):
        raise AOIError(f"{where}: geometry must be a Polygon or MultiPolygon, got {geometry.geom_type}")
    if geometry.is_empty:
        raise AOIError(f"{where}: geometry is empty")
    minx, miny, maxx, maxy = geometry.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise AOIError(
            f"{where}: coordinates out of lon/lat range (bounds {geometry.bounds}); "
            "AOIs are RFC 7946 lon/lat (EPSG:4326)"
        )
    if maxx - minx > 180:
        raise AOIError(
            f"{where}: polygon spans {maxx - minx:.1f} degrees of longitude, so it crosses the "
            "antimeridian; split it into one AOI on each side of 180 degrees"
        )
    if not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry)
        raise AOIError(f"{where}: invalid polygon ({reason})")
    area_km2 = geodesic_area_m2(geometry) / 1e6
    if not MIN_AREA_KM2 <= area_km2 <= MAX_AREA_KM2:
        raise AOIError(
            f"{where}: area {area_km2:.4g} km2 is outside the sane range "
            f"[{MIN_AREA_KM2}, {MAX_AREA_KM2}] km2 (lon/lat swapped, or degrees mistaken for metres?)"
        )
    return geometry


def aoi_from_geojson(data: object, where: str, path: Path | None = None) -> AOI:
    """Build an AOI from a parsed GeoJSON Feature (or a FeatureCollection holding exactly one)."""
    if isinstance(data, Mapping) and data.get("type") == "FeatureCollection":
        features = data.get("features") or []
        if len(features) != 1:
            raise AOIError(f"{where}: a FeatureCollection AOI must hold exactly 1 feature, found {len(features)}")
        data = features[0]
    if not isinstance(data, Mapping) or data.get("type") != "Feature":
        raise AOIError(f"{where}: expected a GeoJSON Feature with id/name properties")
    props = data.get("properties") or {}
    if not isinstance(props, Mapping):
        raise AOIError(f"{where}: 'properties' must be an object")
    aoi_id = props.get("id", data.get("id"))
    if not isinstance(aoi_id, str) or not ID_PATTERN.match(aoi_id):
        raise AOIError(f"{where}: property 'id' must be a lower-case slug like 'vladivostok-port', got {aoi_id!r}")
    kind = props.get("kind", "other")
    if kind not in KINDS:
        raise AOIError(f"{where}: property 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    try:
        geometry = shape(data.get("geometry"))
    except Exception as exc:  # shapely raises several types for malformed GeoJSON geometry
        raise AOIError(f"{where}: malformed geometry ({exc})") from None
    return AOI(
        id=aoi_id,
        name=str(props.get("name", aoi_id)),
        country=str(props.get("country", "")),
        kind=kind,
        geometry=validate_geometry(geometry, where),
        source=str(props.get("source", "")),
        approximate=bool(props.get("approximate", True)),
        path=path,
    )


def load_aoi(path: Path) -> AOI:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AOIError(f"{path}: cannot read AOI file ({exc.strerror or exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AOIError(f"{path}: malformed GeoJSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    return aoi_from_geojson(data, str(path), path)


def load_aois(directory: Path) -> dict[str, AOI]:
    """All AOIs in ``directory`` keyed by id; duplicate ids are an error, not a silent overwrite."""
    aois: dict[str, AOI] = {}
    for path in sorted(Path(directory).glob("*.geojson")):
        aoi = load_aoi(path)
        if aoi.id in aois:
            raise AOIError(f"{path}: AOI id {aoi.id!r} is already defined in {aois[aoi.id].path}")
        aois[aoi.id] = aoi
    return aois


def resolve_aoi(ref: str, directory: Path) -> AOI:
    """``ref`` is an AOI id from ``directory`` or a path to a GeoJSON file."""
    candidate = Path(ref)
    if ref.endswith((".geojson", ".json")) or candidate.exists():
        if not candidate.exists():
            raise AOIError(f"{ref}: AOI file does not exist")
        return load_aoi(candidate)
    aois = load_aois(directory)
    if ref not in aois:
        known = ", ".join(sorted(aois)) or "none"
        raise AOIError(f"unknown AOI id {ref!r} (known in {directory}: {known})")
    return aois[ref]
