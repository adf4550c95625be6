"""Areas of interest: one GeoJSON Feature per file in ``aoi/``, validated into an immutable ``AOI``."""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import shapely
from pyproj import CRS, Geod
from pyproj.exceptions import CRSError
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from geo.antimeridian import centre, checked_lon_lat, unwrapped
from geo.aoi_files import (GEOJSON_SUFFIXES, ID_PATTERN, KINDS, AoiFeature, approximate_flag, close_id_hint,
                           close_kind_hint, feature_properties, folder_error, index_aois, names_a_file, out_of_range_hint,
                           missing_file_error, polygon_coordinates, read_geojson, registry_feature, validity_advice,
                           wrong_type)
from geo.aoi_vector import read_vector_layer
from geo.errors import AOIError
from geo.slips import known_list
from geo.geometry import WGS84, collection_polygons, polygon_parts, reproject, right_handed

if TYPE_CHECKING:  # rasterio (a fifth of a second to import) only where pixels are involved: a re-check
    from geo.grid import Grid  # with nothing new loads AOIs and reads none

log = logging.getLogger(__name__)

MIN_AREA_KM2 = 0.01
MAX_AREA_KM2 = 15_000.0  # a whole Sentinel-2 tile (~12,000 km2) with room; its job runs out of core in ~2 GiB
# Beyond this an AOI is refused (simplify it first): a detailed coastline of a 10,000 km2 AOI needs far fewer.
MAX_AOI_VERTICES = 100_000
_GEOD = Geod(ellps="WGS84")
_SLUG_CHARS = 64  # of an id made from a file name


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
        """A UTM grid covering the AOI (plus ``margin_m`` on each side), snapped to ``resolution``
        (``Grid.from_aoi``, where the jobs make theirs)."""
        from geo.grid import Grid

        return Grid.from_aoi(self, resolution, margin_m)

    def projected(self, crs: str) -> BaseGeometry:
        return reproject(self.geometry, WGS84, crs)

    def pixel_mask(self, grid: Grid) -> np.ndarray:
        """The pixels of ``grid`` inside the AOI: those whose centres fall in it, and every pixel a part narrower
        than a pixel touches (``geo.grid.polygon_mask``)."""
        from geo.grid import polygon_mask

        return polygon_mask(self.projected(grid.crs.to_string()), grid)

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
    # pyproj sums the rings' signed areas: a hole wound like its exterior (as many tools write it) would be added
    return abs(_GEOD.geometry_area_perimeter(right_handed(geometry))[0])


def validate_geometry(geometry: BaseGeometry, where: str) -> Polygon | MultiPolygon:
    """Check a lon/lat polygon is usable as an AOI; raise ``AOIError`` naming ``where`` if not."""
    if not isinstance(geometry, (Polygon, MultiPolygon)):
        raise AOIError(f"{where}: geometry must be a Polygon or MultiPolygon, got {geometry.geom_type}")
    if geometry.is_empty:
        raise AOIError(f"{where}: geometry is empty")
    vertices = shapely.get_num_coordinates(geometry)
    if vertices > MAX_AOI_VERTICES:
        raise AOIError(f"{where}: polygon has {vertices:,} vertices, over the limit of {MAX_AOI_VERTICES:,} "
                       "(simplify it, e.g. QGIS Vector > Geometry Tools > Simplify)")
    # cut at 180 (RFC 7946) when drawn beyond it or across it uncut: one area either side, as the outputs write it
    geometry = checked_lon_lat(geometry, where, out_of_range_hint(*geometry.bounds))
    _check_valid(geometry, where)
    area_km2 = geodesic_area_m2(geometry) / 1e6
    if area_km2 < MIN_AREA_KM2:
        # under a square metre no one drew: lon/lat degrees read as metres (a CRS in metres declared for them)
        advice = "draw a larger area" if area_km2 * 1e6 >= 1 else "lon/lat degrees read as metres? check the file's CRS"
        raise AOIError(
            f"{where}: area {area_km2 * 1e6:,.0f} m2 is below the minimum of {MIN_AREA_KM2 * 1e6:,.0f} m2 "
            f"({MIN_AREA_KM2 * 1e4:.0f} pixels of 10 m, a {MIN_AREA_KM2 ** 0.5 * 1000:.0f} m square): {advice}"
        )
    if area_km2 > MAX_AREA_KM2:  # swapped lon/lat or metres read as degrees do not make an area larger
        raise AOIError(
            f"{where}: area {area_km2:,.0f} km2 is over the {MAX_AREA_KM2:,.0f} km2 one job's grid covers (a whole "
            "Sentinel-2 tile is ~12,000 km2); split it into smaller AOIs"
        )
    _check_extent(geometry, where)
    return geometry


def _check_valid(geometry: BaseGeometry, where: str) -> None:
    if not geometry.is_valid:
        # corners on one line: GEOS calls it a self-intersection, which would send the user looking for a crossing
        if any(part.convex_hull.area == 0 for part in getattr(geometry, "geoms", [geometry])):
            raise AOIError(f"{where}: invalid polygon: it encloses no area (its corners lie on one line): draw the "
                           "area's outline, three corners or more around it")
        reason = shapely.is_valid_reason(geometry)
        raise AOIError(f"{where}: invalid polygon ({reason}){validity_advice(reason)}")


def _check_extent(geometry: BaseGeometry, where: str) -> None:
    """A job's grid covers the AOI's bounding box, not only its polygons: parts drawn far apart (a
    FeatureCollection of areas in two cities) make a grid far larger than their area, which no job can hold."""
    minx, miny, maxx, maxy = unwrapped(geometry).bounds  # across 180: 179.9..180.1, not -180..180
    extent_km2 = geodesic_area_m2(shapely.box(minx, miny, maxx, maxy)) / 1e6
    if extent_km2 > MAX_AREA_KM2:
        width_km = _GEOD.inv(minx, (miny + maxy) / 2, maxx, (miny + maxy) / 2)[2] / 1e3
        height_km = _GEOD.inv(minx, miny, minx, maxy)[2] / 1e3
        advice = ("its parts lie far apart: give each its own AOI file" if isinstance(geometry, MultiPolygon)
                  else "split the area into smaller AOIs")
        raise AOIError(
            f"{where}: the area's extent is {width_km:,.0f} x {height_km:,.0f} km ({extent_km2:,.0f} km2), over the "
            f"{MAX_AREA_KM2:,.0f} km2 one job's grid covers; {advice}"
        )


def aoi_from_geojson(data: object, where: str, path: Path | None = None) -> AOI:
    """Build a registry AOI from a parsed GeoJSON Feature (or a FeatureCollection holding exactly one).

    Registry AOIs (``aoi/``, the store) are strict: a lower-case slug ``id``, a known ``kind``, lon/lat."""
    return aoi_from_feature(registry_feature(data, where, path))


def aoi_from_feature(entry: AoiFeature) -> AOI:
    """The AOI of a registry Feature whose id and kind are checked (``geo.aoi_files``): its geometry checked."""
    props, where = entry.properties, entry.where
    return AOI(
        id=entry.id,
        name=str(props.get("name", entry.id)),
        country=str(props.get("country", "")),
        kind=entry.kind,
        geometry=validate_geometry(_shape(entry.feature.get("geometry"), where), where),
        source=str(props.get("source", "")),
        approximate=approximate_flag(props, where),
        path=entry.path,
    )


def drawn_aoi_from_geojson(data: object, path: Path) -> AOI:
    """An AOI from a file a user drew or exported (geojson.io, QGIS, another tool): any polygon GeoJSON.

    A Feature, a FeatureCollection of one or more polygon features (their union is the AOI; points and lines
    beside them are ignored, with a warning) or a bare Polygon/MultiPolygon. The id is the ``id`` property when it is a slug, else the file name slugified; the
    name is the ``name`` property (features' names joined), else the file name. A ``crs`` member naming
    another CRS than lon/lat (old GeoJSON, QGIS exports) is honoured by reprojecting to lon/lat.
    """
    where = str(path)
    if not isinstance(data, Mapping):
        raise AOIError(f"{where}: expected a GeoJSON object (Feature, FeatureCollection or Polygon)")
    kind_of = data.get("type")
    if kind_of == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list) or not features:
            raise AOIError(f"{where}: the FeatureCollection holds no features")
    elif kind_of == "Feature":
        features = [data]
    elif kind_of in ("Polygon", "MultiPolygon"):
        features = [{"type": "Feature", "properties": {}, "geometry": data}]
    else:
        raise AOIError(f"{where}: expected a GeoJSON Feature, FeatureCollection, Polygon or MultiPolygon; "
                       f"{wrong_type(kind_of)}")
    source_crs = _declared_crs(data, where)
    parts, names, kept, others = [], [], [], []
    for index, feature in enumerate(features):
        at = f"{where}: feature {index + 1}" if len(features) > 1 else where
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            raise AOIError(f"{at}: expected a GeoJSON Feature")
        geometry = shapely.force_2d(_shape(feature.get("geometry"), at))
        if geometry.geom_type == "GeometryCollection":  # a KML MultiGeometry: an area and its pin in one placemark
            geometry, rest = collection_polygons(geometry)
            if rest:
                log.warning("%s: part(s) of no area ignored (%s): the AOI is the polygons'", at, ", ".join(rest))
        if not isinstance(geometry, (Polygon, MultiPolygon)):
            others.append((at, geometry.geom_type))  # a pin beside the area (Google Earth, geojson.io, overpass)
            continue
        kept.append(feature)
        if source_crs is not None:
            geometry = reproject(geometry, source_crs, WGS84)
        # Each polygon checked alone, then all merged: a ring crossing itself is refused (GEOS cannot union it),
        # while parts overlapping each other (two features, or a multi-part feature from QGIS) are one area.
        polygons = polygon_parts(geometry)
        for polygon in polygons:
            _check_valid(polygon, at)
        # each cut at 180 before the union: a plain union of rings drawn across it uncut (each read the long way
        # round, spanning the globe) lost what one covered beside the other
        if not geometry.is_empty:
            geometry = checked_lon_lat(geometry, at, out_of_range_hint(*geometry.bounds))
        parts.extend(polygon_parts(geometry))
        name = feature_properties(feature, at).get("name")
        if isinstance(name, str) and name.strip() and name.strip() not in names:
            names.append(name.strip())
    if not kept:
        at, kind_found = others[0]
        raise AOIError(f"{at}: geometry must be a Polygon or MultiPolygon, got {kind_found}")
    if others:
        found = ", ".join(sorted({kind_found for _, kind_found in others}))
        log.warning("%s: %d feature(s) of no area ignored (%s): the AOI is the polygons'", where, len(others), found)
    geometry = parts[0] if len(parts) == 1 else shapely.union_all(parts)
    props = feature_properties(kept[0], where) if len(kept) == 1 else {}
    given_id = props.get("id", kept[0].get("id") if len(kept) == 1 else None)
    aoi_id = given_id if isinstance(given_id, str) and ID_PATTERN.match(given_id) else slugify(path.stem)
    given_kind = props.get("kind")
    kind = given_kind if isinstance(given_kind, str) and given_kind in KINDS else "other"
    if given_kind is not None and kind != given_kind:  # taken all the same: a drawn area's kind only labels it
        log.warning("%s: property 'kind' %r is not one of %s: read as 'other'%s", where, given_kind, ", ".join(KINDS),
                    close_kind_hint(given_kind))
    return AOI(
        id=aoi_id,
        name=" + ".join(names) or path.stem,
        country=str(props.get("country", "")),
        kind=kind,
        geometry=validate_geometry(geometry, where),
        source=str(props.get("source") or f"drawn area ({path.name}, {len(kept)} feature(s))"),
        approximate=approximate_flag(props, where),
        path=path,
    )


def slugify(text: str) -> str:
    """'Área 51 (draft)' -> 'area-51-draft': a lower-case slug usable as an AOI id and in file names. Letters
    that do not fold to ASCII are dropped, so a name that loses any ('Владивосток 2' -> '2-<digest>'), or is
    cut to 64 characters, ends with a digest of the whole name: two names never meet in one id (the report
    and the store key AOIs by id). A name with no Latin letter or digit is 'aoi-<digest>'."""
    folded = unicodedata.normalize("NFKD", text)  # 'ŭ' -> 'u' + a combining breve (no letter of its own)
    slug = re.sub(r"[^a-z0-9]+", "-", folded.encode("ascii", "ignore").decode("ascii").lower()).strip("-")
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    if not slug:
        return f"aoi-{digest}"
    if len(slug) > _SLUG_CHARS or any(not ch.isascii() and ch.isalnum() for ch in folded):
        return f"{slug[:_SLUG_CHARS - len(digest) - 1].rstrip('-')}-{digest}"
    return slug


def _shape(geometry: object, where: str) -> BaseGeometry:
    if geometry is None:
        raise AOIError(f"{where}: the feature has no geometry")
    kind = geometry.get("type") if isinstance(geometry, Mapping) else None
    if isinstance(kind, str) and isinstance(geometry, Mapping) and "coordinates" in geometry:
        # checked and cut to lon/lat here: shapely's errors are Python's ('float' object is not iterable), a
        # position of 4 values or mixed 2 and 3 stops it, and an infinite one stops GEOS later
        geometry = {"type": kind, "coordinates": polygon_coordinates(kind, geometry["coordinates"], where)}
    try:
        return shape(cast("dict[str, Any]", geometry))  # shapely rejects any other value: caught below
    except Exception as exc:  # shapely raises several types for malformed GeoJSON geometry
        raise AOIError(f"{where}: malformed geometry ({exc})") from None


def _declared_crs(data: Mapping[str, object], where: str) -> str | None:
    """The CRS a pre-RFC 7946 ``crs`` member names, or None for lon/lat (absent, CRS84 or EPSG:4326)."""
    member = data.get("crs")
    if member is None:
        return None
    name = (member.get("properties") or {}).get("name") if isinstance(member, Mapping) else None
    if not isinstance(name, str):
        raise AOIError(f"{where}: cannot read the 'crs' member {member!r} (expected a named CRS)")
    try:
        crs = CRS.from_user_input(name)
    except CRSError:
        raise AOIError(f"{where}: unknown CRS {name!r} in the 'crs' member") from None
    if crs.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        return None
    if crs.is_geocentric or not (crs.is_geographic or crs.is_projected):  # a typo (EPSG:4362) may name one
        kind = crs.type_name.split()[0].lower()  # geocentric, vertical...
        shown = crs.name if f"({kind})" in crs.name else f"{crs.name} ({kind})"
        raise AOIError(f"{where}: CRS {name!r} in the 'crs' member is {shown}, not one of map coordinates (lon/lat or a projection): a typo? (lon/lat is EPSG:4326, or "
                       "leave the member out)")
    return crs.to_string()


def load_aoi(path: Path) -> AOI:
    """A registry AOI file (strict: see ``aoi_from_geojson``)."""
    return aoi_from_geojson(read_geojson(path), str(path), Path(path))


def load_drawn_aoi(path: Path) -> AOI:
    """A user's own AOI file (lenient: see ``drawn_aoi_from_geojson``): GeoJSON, or any polygon layer GDAL reads
    (a GeoPackage or shapefile from QGIS, KML from Google Earth, FlatGeobuf...) in whatever CRS it declares."""
    path = Path(path)
    if path.suffix.lower() in GEOJSON_SUFFIXES:
        return drawn_aoi_from_geojson(read_geojson(path), path)
    return drawn_aoi_from_geojson(read_vector_layer(path), path)


def load_aois(directory: Path, problems: list[AOIError] | None = None) -> dict[str, AOI]:
    """All AOIs in ``directory`` keyed by id; duplicate ids are an error, not a silent overwrite. Given a
    ``problems`` list, the files that cannot be taken are added to it and skipped (``index_aois``)."""
    aois: dict[str, AOI] = {}
    for aoi_id, entry in index_aois(directory, problems).items():
        try:
            aois[aoi_id] = aoi_from_feature(entry)
        except AOIError as exc:
            if problems is None:
                raise
            problems.append(exc)
    return aois


def check_same_place(aoi: AOI, registry: Mapping[str, AOI]) -> None:
    """Refuse a drawn area whose id (its file name's, or its ``id`` property) is a registry AOI's that it does not
    touch: the claims naming that id would be judged on other ground ('musudan.geojson' drawn over Nantes). A
    redrawn outline of the same place is taken."""
    known = registry.get(aoi.id)
    if known is None or known.geometry.intersects(aoi.geometry):
        return
    here, there = centre(aoi.geometry), centre(known.geometry)  # across 180 too
    km = _GEOD.inv(*here, *there)[2] / 1e3
    raise AOIError(f"{aoi.path or aoi.source}: its id {aoi.id!r} is that of the AOI {known.path or known.source}, "
                   f"{km:,.0f} km away, so the claims naming {aoi.id!r} would be judged on this area; rename the file "
                   "or give it another 'id' property")


def resolve_aoi(ref: str, directory: Path, problems: list[AOIError] | None = None,
                registry: Mapping[str, AOI] | None = None, advice: str = "give --aoi {id}") -> AOI:
    """``ref`` is an AOI id from ``directory`` (strict) or a path to a polygon file, GeoJSON or GDAL vector (drawn).
    Given a ``problems`` list, the other files of ``directory`` that cannot be taken go there (see ``load_aois``);
    when ``ref`` is none of the good ones, the first of them is raised (the broken file may be the one meant).
    ``registry``: the directory's AOIs when the caller has loaded them already (``problems`` from that load).
    ``advice``: what to type for a registry file's name given as ``ref`` (see ``missing_file_error``)."""
    candidate = Path(ref)
    if names_a_file(ref):
        if not candidate.is_file():
            raise missing_file_error(ref, directory, advice)
        return load_drawn_aoi(candidate)
    aois = load_aois(directory, problems) if registry is None else registry
    if ref not in aois:
        if problems:
            raise problems[0]
        if candidate.is_dir():  # spelled as an id, but none: the folder was meant
            raise folder_error(ref)
        known = known_list(ref, aois, "AOIs", "geo aoi list") or (
            "none" if Path(directory).is_dir() else "no such folder")
        # Ids are the files' 'id' property, not their names: say so when a file bears the name asked for.
        hint = next((f"{a.path.name} has id {a.id!r}; " for a in aois.values() if a.path and a.path.stem == ref), "")
        hint = hint or close_id_hint(ref, aois)
        raise AOIError(f"unknown AOI id {ref!r} ({hint}known in {directory}: {known})")
    return aois[ref]
