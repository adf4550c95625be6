"""QGIS layer definitions (``.qlr``): layers QGIS adds as a project would (*Layer > Add from Layer Definition
File*, or drag and drop), with their data source, CRS, style and time settings.

Why beside a GeoJSON with its ``.qml``: a FeatureCollection without features says nothing of its geometry
type, so QGIS (3.22) opens an empty ``vessels.geojson`` or ``changes.geojson`` as a table without geometry
or CRS, which no style can change; and QGIS applies a ``.qml``'s time settings only after *Restore default
style*. A layer definition names the type in its data source (OGR's ``geometrytype=``) and keeps the time
settings, as a project does.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import TYPE_CHECKING

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


def geojson_definition(layers: Sequence[tuple[str, str, ET.Element, bool]]) -> str:
    """A ``.qlr`` for GeoJSON files of lon/lat polygons in its folder: (file name, layer name, style, shown)."""
    from geo.outputs.qgis_project import ProjectLayer

    return layer_definition([
        ProjectLayer(f"geo_{re.sub('[^A-Za-z0-9_]', '_', name.rsplit('.', 1)[0])}_layer", title, "vector",
                     typed_geojson(f"./{name}"), WGS84, style, shown)
        for name, title, style, shown in layers])
