"""QGIS layer definitions (``.qlr``): layers QGIS adds as a project would (*Layer > Add from Layer Definition
File*, or drag and drop), with their data source, CRS, style and time settings.

Why beside a GeoJSON with its ``.qml``: a FeatureCollection without features says nothing of its geometry
type, so QGIS (3.22) opens an empty ``vessels.geojson`` or ``changes.geojson`` as a table without geometry
or CRS, which no style can change; and QGIS applies a ``.qml``'s time settings only after *Restore default
style*. A layer definition names the type in its data source (OGR's ``geometrytype=``) and keeps the time
settings, as a project does.
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from geo.outputs.qgis_project import ProjectLayer

WGS84 = "EPSG:4326"


def typed_geojson(path: str) -> str:
    """An RFC 7946 file of (multi)polygons as a QGIS data source that is a lon/lat polygon layer also when the
    file has no feature (QGIS's OGR provider reads ``geometrytype=Polygon`` as polygons and multipolygons)."""
    return f"{path}|geometrytype=Polygon"


def layer_definition(layers: Sequence[ProjectLayer]) -> str:
    """The ``.qlr`` text of ``layers`` (top of the Layers panel first; sources relative to the file)."""
    # qgis_project pulls in rasterio: imported here, so a re-check with nothing new does not load it
    from geo.outputs.qgis_project import _maplayer, _tree

    root = ET.Element("qlr")
    _tree(root, list(layers))
    maplayers = ET.SubElement(root, "maplayers")
    for layer in layers:
        _maplayer(maplayers, layer)
    ET.indent(root)
    return "<!DOCTYPE qgis-layer-definition>\n" + ET.tostring(root, encoding="unicode") + "\n"


# A column's QGIS field type (QVariant id, OGR's name) from the pandas dtype the GeoPackage writer gives it: as
# QGIS reads the column from a GeoJSON file with features (a count is an Integer there)
_FIELD_TYPES = {"object": (10, "String"), "float64": (6, "Real"), "int64": (2, "Integer"), "bool": (1, "Boolean")}
_DATE, _DATETIME, _LIST = (14, "Date"), (16, "DateTime"), (11, "StringList")  # a list: of strings (subType)


def declared_fields(columns: Mapping[str, str], dates: Collection[str] = (), datetimes: Collection[str] = (),
                    lists: Collection[str] = ()) -> ET.Element:
    """``<expressionfields>``: ``columns`` (name: pandas dtype; ``dates``, ``datetimes``, ``lists``: names of ISO
    days, instants and lists of strings) as QGIS fields of NULL value, for a GeoJSON file without feature, whose
    fields OGR cannot know (it reads them from the features): the empty layer's attribute table, filters and
    style find the columns, and their types, of one with features."""
    root = ET.Element("expressionfields")
    for name, dtype in columns.items():
        kind, type_name = (_DATE if name in dates else _DATETIME if name in datetimes else _LIST if name in lists
                           else _FIELD_TYPES[dtype])
        ET.SubElement(root, "field", name=name, expression="NULL", type=str(kind), typeName=type_name, length="0",
                      precision="0", comment="", subType="10" if name in lists else "0")
    return root


class GeoJSONLayer(NamedTuple):
    """A GeoJSON file of lon/lat polygons in the ``.qlr``'s folder as a layer: ``fields`` (``declared_fields``)
    when the file has no feature."""

    file: str
    title: str
    style: ET.Element
    shown: bool
    fields: ET.Element | None = None
    metadata: ET.Element | None = None  # <resourceMetadata> (geo.outputs.layer_metadata)


def geojson_definition(layers: Sequence[GeoJSONLayer]) -> str:
    """A ``.qlr`` for GeoJSON files of lon/lat polygons in its folder."""
    from geo.outputs.qgis_project import ProjectLayer

    definitions = []
    for layer in layers:
        style = layer.style
        if layer.fields is not None:
            style = copy.deepcopy(style)
            style.append(layer.fields)
        definitions.append(ProjectLayer(f"geo_{re.sub('[^A-Za-z0-9_]', '_', layer.file.rsplit('.', 1)[0])}_layer",
                                        layer.title, "vector", typed_geojson(f"./{layer.file}"), WGS84, style,
                                        layer.shown, metadata=layer.metadata))
    return layer_definition(definitions)
