"""AOI files read, their ids and kinds checked, their geometry not yet (only the words for what is wrong with
one, which need no geometry library): the light half of ``geo.aoi``.

Apart from ``geo.aoi`` (shapely, pyproj, numpy: a tenth of a second of imports) so that a re-check can list
the project's AOIs by id and validate only those it re-checks; one with nothing new validates none
(``geo.recheck.quick`` compares them with the store, where they were stored validated).
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from geo.errors import AOIError
from geo.paths import misnamed_files, named_files, nested_files
from geo.slips import closest
from geo.text_files import plain_text, read_utf8_text

# The properties of an AOI feature geo reads: names and ids it writes into every output
TEXT_PROPERTIES = ("id", "name", "kind", "country", "source")

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
KINDS = ("port", "base", "city", "training_ground", "mine", "demo", "other")
# Beyond this an AOI file is refused (simplify it first): a detailed coastline of a 10,000 km2 AOI needs far less.
MAX_AOI_FILE_BYTES = 10_000_000
GEOJSON_SUFFIXES = (".geojson", ".json")
# The names old GeoJSON gives lon/lat in its 'crs' member (EPSG:4326, urn:ogc:def:crs:OGC:1.3:CRS84, ...).
LON_LAT_CRS = re.compile(r"(?:CRS84|:4326)$", re.IGNORECASE)


@dataclass(frozen=True)
class AoiFeature:
    """A registry AOI's GeoJSON Feature whose id and kind are checked; its geometry is checked by
    ``geo.aoi.aoi_from_feature``."""

    id: str
    kind: str
    feature: Mapping[str, Any]
    properties: Mapping[str, Any]
    where: str  # names the AOI in messages: its file, or the store
    path: Path | None = None


def gdal_reason(exc: Exception) -> str:
    """The first sentence of a GDAL read error (pyogrio's): what is wrong; the rest suggests driver prefixes."""
    return str(exc).splitlines()[0].split(";")[0]


def check_aoi_file_size(path: Path) -> None:
    """Refuse an AOI file over ``MAX_AOI_FILE_BYTES`` before reading it (a 180 MB file took 88 s, 1.9 GB)."""
    try:
        size = path.stat().st_size
    except OSError:
        return  # reading it reports why
    if size > MAX_AOI_FILE_BYTES:
        raise AOIError(f"{path}: AOI file is {size / 1e6:.1f} MB, over the {MAX_AOI_FILE_BYTES / 1e6:g} MB limit "
                       "(simplify the polygon, e.g. QGIS Vector > Geometry Tools > Simplify)")


def folder_error(ref: str) -> AOIError:
    return AOIError(f"{ref}: is a folder; --aoi takes an AOI id or a polygon file (GeoJSON, GeoPackage...)")


def names_a_file(ref: str) -> bool:
    """Whether an ``--aoi`` value names a file (a drawn AOI) rather than an AOI id: because such a file exists,
    or because no id looks like it (a suffix or a folder in it: 'harbour.kmz', 'areas/quay'), so that a
    mistyped file name is said to be missing rather than an unknown id. A folder is no file: spelled as an id (a
    run's folder named after its AOI, ``--out vladivostok-port``) it is the id, else an error."""
    path = Path(ref)
    if path.is_dir():
        if ID_PATTERN.match(ref):
            return False
        raise folder_error(ref)
    return path.is_file() or not ID_PATTERN.match(ref) and (bool(path.suffix) or "/" in ref or os.sep in ref)


def read_geojson(path: Path) -> object:
    path = Path(path)
    check_aoi_file_size(path)
    text = read_utf8_text(path, "AOI file", "GeoJSON", AOIError)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        what = exc.msg.removesuffix(" at")  # json's "Invalid control character at" (a line break in a string)
        raise AOIError(f"{path}: malformed GeoJSON ({what} at line {exc.lineno} column {exc.colno})"
                       f"{_json_hint(text, exc.pos)}") from None


def _json_hint(text: str, pos: int) -> str:
    """What a hand-edited JSON file gets wrong where the parser stopped, in words, or '' when not known."""
    if not text.strip():
        return "; the file is empty"
    char = text[pos:pos + 1]
    if char in ("}", "]") and text[:pos].rstrip().endswith(","):
        return "; JSON allows no comma after the last member of an object or list"
    if char == "'":
        return "; JSON strings take double quotes \"...\""
    if char in "“”‘’" and char:
        return "; typographic quotes (“ ” ‘ ’) do not quote a JSON string: use straight ones \"...\""
    if text[pos:pos + 2] in ("//", "/*"):
        return "; JSON allows no comments"
    return ""


def out_of_range_hint(minx: float, miny: float, maxx: float, maxy: float) -> str:
    """Why coordinates are beyond lon/lat, when it can be told: metres of a projected CRS, or lat first."""
    if max(abs(minx), abs(miny), abs(maxx), abs(maxy)) > 1000:
        return ("; these look like metres of a projected CRS (Web Mercator, UTM): save the layer in EPSG:4326 "
                "(QGIS: Export > Save Features As, CRS EPSG:4326)")
    if max(abs(minx), abs(maxx)) <= 90 and max(abs(miny), abs(maxy)) <= 180:
        return (f"; latitude {maxy if abs(maxy) > 90 else miny:g} is beyond ±90 while the longitudes are within "
                "it: lon and lat swapped? GeoJSON positions are [longitude, latitude]")
    return ""


# What to do about the faults GEOS names (``is_valid_reason``: 'Self-intersection[x y]').
_VALIDITY_ADVICE = {
    "Self-intersection": "its edges cross (a bow-tie): move the corners so they do not, or let QGIS split it "
                         "(Vector > Geometry Tools > Fix Geometries)",
    "Ring Self-intersection": "its outline touches itself: move the corner it touches",
    "Too few points in geometry component": "a ring needs at least 3 distinct corners",
}


def validity_advice(reason: str) -> str:
    """What to do about an invalid polygon, from the reason GEOS gives (': ...'), or '' for a fault not known here."""
    advice = _VALIDITY_ADVICE.get(reason.split("[", 1)[0])
    return f": {advice}" if advice else ""


def close_id_hint(ref: str, known: Iterable[str]) -> str:
    """'did you mean 'x'? ' for an AOI id a slip away from a known one ('vladivostok' for 'vladivostok-port'), else ''."""
    close = closest(ref, known)
    return f"did you mean {close!r}? " if close else ""


def close_kind_hint(kind: object) -> str:
    """' (did you mean 'port'?)' for a ``kind`` a slip away from a known one ('Port', 'training-ground'), else ''."""
    if not isinstance(kind, str):
        return ""
    close = difflib.get_close_matches(kind.lower().replace("-", "_").replace(" ", "_"), KINDS, n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


# How a polygon's GeoJSON coordinates nest: list levels above a position, and how to write them.
_NESTING = {
    "Polygon": (2, "a list of rings, each a list of [longitude, latitude] positions: [[[lon, lat], [lon, lat], ...]]"),
    "MultiPolygon": (3, "a list of polygons, each a list of rings of [longitude, latitude] positions: "
                        "[[[[lon, lat], [lon, lat], ...]]]"),
}


def wrong_type(kind: object) -> str:
    """What is wrong with a drawn file's GeoJSON ``type``: absent, in another case ('polygon'), or another type."""
    if kind is None:
        return "it has no 'type' member"
    known = {k.lower(): k for k in ("Feature", "FeatureCollection", "Polygon", "MultiPolygon")}
    case = isinstance(kind, str) and kind.lower() in known
    return f"got type {kind!r}" + (f" (GeoJSON types are case-sensitive: {known[str(kind).lower()]!r})" if case else "")


def polygon_coordinates(kind: str, coordinates: object, where: str) -> object:
    """A (Multi)Polygon's coordinates checked by hand-editing's slips (a bracket short or too many, a position
    with a null, NaN or Infinity) and cut to [lon, lat] (heights and measures dropped); others as given."""
    if kind not in _NESTING:
        return coordinates
    levels, nesting = _NESTING[kind]

    def checked(value: object, depth: int) -> object:
        if not isinstance(value, (list, tuple)) or depth == 0 and value and isinstance(value[0], (list, tuple)):
            raise AOIError(f"{where}: malformed {kind}: its coordinates are {nesting}")
        if depth > 0:
            return [checked(item, depth - 1) for item in value]
        numbers = [_finite(v) for v in value[:2]]
        if len(value) < 2 or None in numbers:
            raise AOIError(f"{where}: malformed {kind}: position {json.dumps(value)} is not [longitude, latitude] "
                           "(two finite numbers)")
        return numbers

    return checked(coordinates, levels)


def _finite(value: object) -> float | None:
    """``value`` as a finite number (a numeric string too, as shapely takes it), else None (null, true, NaN...)."""
    try:
        number = float(cast(Any, value)) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def feature_properties(feature: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    props = feature.get("properties") or {}
    if not isinstance(props, Mapping):
        raise AOIError(f"{where}: 'properties' must be an object")
    for key in TEXT_PROPERTIES:  # what geo reads and writes on (names, ids, credits); other members are not read
        if isinstance(props.get(key), str):
            plain_text(props[key], f"property '{key}'", where, AOIError)
    return props


_FLAGS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def approximate_flag(props: Mapping[str, Any], where: str) -> bool:
    """The ``approximate`` property (absent or null, as QGIS exports an empty field: True): a boolean, or as a
    table exports one (1/0, 'yes'/'no'); bool() of a string would read "false" as true."""
    value = props.get("approximate")
    if value is None:
        return True
    flag = _FLAGS.get(str(value).strip().lower()) if isinstance(value, (bool, int, str)) else None
    if flag is None:
        raise AOIError(f"{where}: property 'approximate' must be true or false, got {json.dumps(value)}")
    return flag


def registry_feature(data: object, where: str, path: Path | None = None) -> AoiFeature:
    """The Feature of a registry AOI (or of a FeatureCollection holding exactly one), with its id and kind
    checked: a lower-case slug ``id``, a known ``kind``."""
    if isinstance(data, Mapping) and data.get("type") == "FeatureCollection":
        _check_lon_lat(data, where)
        features = data.get("features") or []
        if len(features) != 1:
            raise AOIError(f"{where}: a FeatureCollection AOI must hold exactly 1 feature, found {len(features)}"
                           f"{_geometry_types(features)}")
        data = features[0]
    if isinstance(data, Mapping) and data.get("type") in ("Polygon", "MultiPolygon"):  # as geojson.io's text shows it
        raise AOIError(f"{where}: a bare {data['type']} has no id: an AOI of the AOI folder is a Feature, "
                       '{"type": "Feature", "properties": {"id": ..., "name": ..., "kind": ...}, "geometry": ...}')
    if not isinstance(data, Mapping) or data.get("type") != "Feature":
        raise AOIError(f"{where}: expected a GeoJSON Feature with id/name properties")
    _check_lon_lat(data, where)
    props = feature_properties(data, where)
    aoi_id = props.get("id", data.get("id"))
    if aoi_id is None:  # 'got None' said it in Python's words: most often a drawn area put in the folder
        raise AOIError(f"{where}: has no 'id' property: a file of the AOI folder is a registry AOI (properties id, "
                       "name, kind); a drawn area runs as --aoi FILE from anywhere")
    if not isinstance(aoi_id, str) or not ID_PATTERN.match(aoi_id):
        raise AOIError(f"{where}: property 'id' must be a lower-case slug like 'vladivostok-port', got {aoi_id!r}")
    kind = props.get("kind", "other")
    if kind not in KINDS:
        raise AOIError(f"{where}: property 'kind' must be one of {', '.join(KINDS)}, got {kind!r}"
                       f"{close_kind_hint(kind)}")
    return AoiFeature(aoi_id, kind, data, props, where, path)


def _geometry_types(features: object) -> str:
    """' (Polygon, Point: one area a file; a pin beside it is not read here)' for a registry file's features."""
    if not isinstance(features, list):
        return ""
    kinds = [f["geometry"].get("type") if isinstance(f, Mapping) and isinstance(f.get("geometry"), Mapping) else None
             for f in features]
    if not kinds or not all(isinstance(kind, str) for kind in kinds):
        return ""
    areas = sum(kind in ("Polygon", "MultiPolygon") for kind in kinds)
    advice = "keep the area's feature alone" if areas == 1 else "one area a file, each with its own id"
    return f" ({', '.join(map(str, kinds))}: {advice})"


def _check_lon_lat(data: Mapping[str, Any], where: str) -> None:
    """Refuse a registry file whose pre-RFC 7946 ``crs`` member names another CRS than lon/lat: its coordinates
    are not degrees (a drawn file's are reprojected, ``geo.aoi``; the registry is kept as the store holds it)."""
    member = data.get("crs")
    if member is None:
        return
    props = member.get("properties") if isinstance(member, Mapping) else None
    name = props.get("name") if isinstance(props, Mapping) else None
    if isinstance(name, str) and LON_LAT_CRS.search(name.strip()):
        return
    raise AOIError(f"{where}: its 'crs' member names {name if isinstance(name, str) else member!r}; the AOIs of aoi/ "
                   "are lon/lat (RFC 7946): save it in EPSG:4326 (QGIS: Export > Save Features As), or give the "
                   "file to --aoi as it is (a drawn area's CRS is honoured)")


def missing_file_error(ref: str, directory: Path, advice: str = "give --aoi {id}") -> AOIError:
    """The error of an ``--aoi`` path that names a file but no regular file: missing, or a pipe or device (``--aoi
    <(curl ...)``, ``cat area.geojson | geo run --aoi /dev/stdin``), which is not read: the AOI's id comes from its file
    name and a re-check reads the file again. ``advice``: what to type instead, ``{id}`` the registry file's id (``geo aoi
    show`` takes no --aoi)."""
    if Path(ref).exists():
        return AOIError(f"{ref}: not a regular file (a pipe or device, as <(...) and /dev/stdin give); "
                        "save the polygon to a file and give its path")
    return AOIError(f"{ref}: AOI file does not exist{registry_file_hint(ref, directory, advice)}")


def registry_file_hint(ref: str, directory: Path, advice: str = "give --aoi {id}") -> str:
    """'here; aoi/x.geojson is the AOI of id 'x': give --aoi x' for the name of a registry file typed from
    another folder (``ls aoi/`` shows file names; --aoi takes their ids), else ''."""
    path = Path(directory) / ref
    if Path(ref).name != ref or not path.is_file():
        return ""
    try:
        aoi_id = registry_feature(read_geojson(path), str(path), path).id
    except AOIError:
        return ""
    return f" here; {path} is the AOI of id {aoi_id!r}: {advice.format(id=aoi_id)}"


def index_aois(directory: Path, problems: list[AOIError] | None = None) -> dict[str, AoiFeature]:
    """The registry AOI files of ``directory`` by id, geometry unchecked; duplicate ids are an error, not a
    silent overwrite. Given a ``problems`` list, a file that cannot be taken, or an id defined twice (then
    neither file's), is added to it and skipped instead: for commands that need not every AOI."""
    found: dict[str, AoiFeature] = {}
    twice: set[str] = set()
    for misnamed, name in misnamed_files(directory, ".geojson", also=(".json",)).items():  # its AOI would be unknown, unexplained
        error = AOIError(f"{misnamed}: not read: an AOI file's name ends in .geojson (rename it {name})")
        if problems is None:
            raise error
        problems.append(error)
    for nested in nested_files(directory, ".geojson", also=(".json",)):
        error = AOIError(f"{nested}: not read: AOI files are read from {directory} itself, not its subfolders "
                         f"(move it to {directory})")
        if problems is None:
            raise error
        problems.append(error)
    for path in named_files(directory, ".geojson"):
        try:
            entry = registry_feature(read_geojson(path), str(path), path)
            if entry.id in found:
                twice.add(entry.id)
                raise AOIError(f"{path}: AOI id {entry.id!r} is already defined in {found[entry.id].path}")
        except AOIError as exc:
            if problems is None:
                raise
            problems.append(exc)
            continue
        found[entry.id] = entry
    for aoi_id in twice:
        del found[aoi_id]
    return found
