"""``changes.kml``: the change polygons for Google Earth and any KML viewer, beside ``changes.geojson``.

One Placemark per change, the same geometry as the GeoJSON (same snapping, lon/lat) and the same attributes
as KML ``ExtendedData``, typed by a ``Schema`` (GDAL, so QGIS, geopandas and ogr2ogr, read untyped ``Data``
as text: numbers sorted and converted as strings); each change type is a shared ``Style`` in the colours of the QGIS styles and the
report (``palette.CHANGE_TYPE_COLOURS``).

Written with ``xml.etree`` rather than a library: GDAL's KML/LIBKML drivers (through pyogrio) write the
attributes but not per-feature styles (a feature style is not a field, and pyogrio cannot set one), and
the KML writers on PyPI are either unmaintained (simplekml, pykml) or bring a geometry stack of their own
(fastkml) for what is a few fixed elements of OGC KML 2.2. GDAL reads the file back in the tests.
"""

from __future__ import annotations

import json
import shlex
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from shapely.geometry.base import BaseGeometry

from geo.geometry import polygon_parts
from geo.atomic import write_text
from geo.outputs.geojson import lonlat_as_written
from geo.outputs.palette import CHANGE_TYPE_COLOURS, change_colour, rgb_triplet

KML = "changes.kml"
SCHEMA_ID = "changes"
KML_NAMESPACE = "http://www.opengis.net/kml/2.2"
FILL_ALPHA = 70  # of 255, as the QGIS changes style: the image stays visible under the fill
LINE_WIDTH = 2.0
# Google My Maps refuses a file of more placemarks (its import just ends "unsuccessful"); Google Earth opens them all
MY_MAPS_MAX_PLACEMARKS = 2000
SUBSET = "confidence >= 0.25"  # a quarter of the pixels at the strong level: 1,057 of a 4,275 km2 run's 5,601


def kml_colour(hex_colour: str, alpha: int = 255) -> str:
    """``#rrggbb`` as KML's ``aabbggrr``."""
    r, g, b = rgb_triplet(hex_colour)
    return f"{alpha:02x}{b:02x}{g:02x}{r:02x}"


def style_id(change_type: str) -> str:
    return f"style-{change_type}"


def kml_value(value: Any) -> str:
    """An attribute as ExtendedData text: lists as JSON text (``claim_ids``: ``["a", "b"]``, as changes.gpkg and the
    re-check store hold them, so one filter, ``"claim_ids" LIKE '%"a"%'``, serves all three), missing values empty."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value))
    return str(value)


def simple_type(values: Iterable[Any]) -> str:
    """The KML ``SimpleField`` type of an attribute's values (missing ones aside): ``int``, ``double``,
    ``bool`` or ``string`` (lists, dates and mixed values are written as text)."""
    kinds = {type(v) for v in values if v is not None}
    if kinds == {bool}:
        return "bool"
    if kinds and kinds <= {int}:
        return "int"
    if kinds and kinds <= {int, float}:
        return "double"
    return "string"


def _schema(document: ET.Element, features: Sequence[tuple[BaseGeometry, Mapping[str, Any]]]) -> None:
    keys = list(dict.fromkeys(key for _, props in features for key in props))
    schema = ET.SubElement(document, "Schema", name=SCHEMA_ID, id=SCHEMA_ID)
    for key in keys:
        kind = simple_type(props.get(key) for _, props in features)
        ET.SubElement(schema, "SimpleField", name=str(key), type=kind)


def _style(document: ET.Element, change_type: str) -> None:
    colour = change_colour(change_type)
    style = ET.SubElement(document, "Style", id=style_id(change_type))
    line = ET.SubElement(style, "LineStyle")
    ET.SubElement(line, "color").text = kml_colour(colour)
    ET.SubElement(line, "width").text = f"{LINE_WIDTH:g}"
    poly = ET.SubElement(style, "PolyStyle")
    ET.SubElement(poly, "color").text = kml_colour(colour, FILL_ALPHA)


def _ring(parent: ET.Element, boundary: str, coordinates: Iterable[Sequence[float]]) -> None:
    ring = ET.SubElement(ET.SubElement(parent, boundary), "LinearRing")
    ET.SubElement(ring, "coordinates").text = " ".join(f"{x:.7f},{y:.7f}" for x, y in coordinates)


def _polygons(parent: ET.Element, geometry: BaseGeometry) -> None:
    """A (multi)polygon as KML ``Polygon`` or ``MultiGeometry``, rings as in the GeoJSON."""
    parts = polygon_parts(lonlat_as_written(geometry))
    container = parent if len(parts) == 1 else ET.SubElement(parent, "MultiGeometry")
    for polygon in parts:
        element = ET.SubElement(container, "Polygon")
        _ring(element, "outerBoundaryIs", polygon.exterior.coords)
        for interior in polygon.interiors:
            _ring(element, "innerBoundaryIs", interior.coords)


def _placemark(document: ET.Element, geometry: BaseGeometry, props: Mapping[str, Any]) -> None:
    kind = str(props.get("change_type", "other"))
    label = kind.replace("_", " ")
    placemark = ET.SubElement(document, "Placemark", id=f"change-{props.get('change_id', '')}")
    ET.SubElement(placemark, "name").text = f"{label}, {float(props.get('area_m2', 0)):,.0f} m²"
    ids = props.get("claim_ids")  # ', ': a balloon wraps the ids of a change linked to dozens of claims
    claims = ", ".join(map(str, ids)) if isinstance(ids, (list, tuple)) else kml_value(ids)
    ET.SubElement(placemark, "description").text = (
        f"{label} between {props.get('before_date', '?')} and {props.get('after_date', '?')}; "
        f"confidence {kml_value(props.get('confidence'))}; claims: {claims or 'none'}"
    )
    if seen := props.get("first_seen") or props.get("after_date"):  # Google Earth's time slider: shown from then on
        ET.SubElement(ET.SubElement(placemark, "TimeSpan"), "begin").text = str(seen)
    ET.SubElement(placemark, "styleUrl").text = f"#{style_id(kind)}"
    data = ET.SubElement(ET.SubElement(placemark, "ExtendedData"), "SchemaData", schemaUrl=f"#{SCHEMA_ID}")
    for key, value in props.items():
        if value is not None:  # left out: a null, where an empty text would read as 0 in a number field
            ET.SubElement(data, "SimpleData", name=str(key)).text = kml_value(value).lower() if isinstance(
                value, bool) else kml_value(value)
    _polygons(placemark, geometry)


def kml_document(features: Sequence[tuple[BaseGeometry, Mapping[str, Any]]], name: str, credit: str = "") -> str:
    """The KML text of ``features`` (lon/lat geometries and their attributes); ``credit``, the data's (the
    Copernicus licence's notice), as the Document's description: Google Earth shows it under the name."""
    root = ET.Element("kml", xmlns=KML_NAMESPACE)  # plain tags in KML's default namespace
    document = ET.SubElement(root, "Document")
    ET.SubElement(document, "name").text = name
    if credit:  # after the name, before the styles: KML 2.2's order in a Feature
        ET.SubElement(document, "description").text = credit
    present = {str(p.get("change_type", "other")) for _, p in features}
    for change_type in [*CHANGE_TYPE_COLOURS, *sorted(present - set(CHANGE_TYPE_COLOURS))]:
        _style(document, change_type)
    if features:  # after the styles, before the placemarks: KML 2.2's order in a Document
        _schema(document, features)
    else:  # GDAL reads a Document of styles alone as no layer at all (QGIS: invalid layer); a Folder is one
        ET.SubElement(ET.SubElement(document, "Folder"), "name").text = name
    for geometry, props in features:
        _placemark(document, geometry, props)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def my_maps_note(path: Path, placemarks: int) -> str | None:
    """What to say of a ``changes.kml`` of more placemarks than Google My Maps imports (None when it takes them):
    the ogr2ogr command taking a subset (GDAL's LIBKML driver keeps the styles, names and time spans)."""
    if placemarks <= MY_MAPS_MAX_PLACEMARKS:
        return None
    return (f"{path} ({placemarks:,} placemarks: more than Google My Maps imports from a file, "
            f"{MY_MAPS_MAX_PLACEMARKS:,}; Google Earth opens it whole; a styled subset for My Maps: "
            f"ogr2ogr -f LIBKML subset.kml {shlex.quote(str(path))} -where {shlex.quote(SUBSET)})")


def write_kml(path: Path, features: Sequence[tuple[BaseGeometry, Mapping[str, Any]]], name: str,
              credit: str = "") -> Path:
    """Write ``changes.kml`` through a temporary file and a rename."""
    write_text(Path(path), kml_document(features, name, credit))
    return Path(path)
