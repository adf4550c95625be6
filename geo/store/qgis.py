"""What QGIS needs to show the store over time: the temporal settings of the ``changes`` layer.

They go two ways: as the layer's default style inside the store (``layer_styles``; QGIS applies it from
"Layer Properties > Style > Default", and some QGIS versions on load), and as a layer definition file
(``.qlr``) beside the run outputs, which QGIS opens (drag and drop, or Layer > Add from Layer Definition
File) with the time slider already set up: each change appears at ``first_seen`` and stays.
"""

from __future__ import annotations

import os
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

TEMPORAL_FIELD = "first_seen"


def temporal_element(field: str = TEMPORAL_FIELD, indent: str = " ") -> str:
    """QGIS temporal settings: features appear at the instant in ``field`` and accumulate."""
    return (
        f'{indent}<temporal enabled="1" mode="1" startField={quoteattr(field)} endField="" durationField=""'
        ' durationUnit="min" fixedDuration="0" startExpression="" endExpression="" accumulate="1" limitMode="0">\n'
        f"{indent} <fixedRange><start></start><end></end></fixedRange>\n"
        f"{indent}</temporal>\n"
    )


def temporal_qml(field: str = TEMPORAL_FIELD) -> str:
    """A QGIS style holding only the Temporal category."""
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            '<qgis version="3.22.0" styleCategories="Temporal">\n' + temporal_element(field) + "</qgis>\n")


def _maplayer(layer_id: str, source: str, name: str, temporal: bool) -> str:
    return (
        '  <maplayer type="vector" geometry="Polygon" wkbType="MultiPolygon">\n'
        f"   <id>{layer_id}</id>\n   <datasource>{escape(source)}</datasource>\n   <layername>{name}</layername>\n"
        "   <srs><spatialrefsys><authid>EPSG:4326</authid></spatialrefsys></srs>\n"
        '   <provider encoding="UTF-8">ogr</provider>\n'
        + (temporal_element(indent="   ") if temporal else "")
        + "  </maplayer>\n"
    )


def layer_definition(store: Path, folder: Path) -> str:
    """A QGIS layer definition (.qlr) to be saved in ``folder``: the store's ``changes`` (temporal) and
    ``aois`` layers, the store named relative to ``folder`` so both can move together."""
    path = os.path.relpath(Path(store).absolute(), Path(folder).absolute())
    layers = (("geo_recheck_changes", "changes", True), ("geo_recheck_aois", "aois", False))
    tree = "".join(
        f'  <layer-tree-layer expanded="1" providerKey="ogr" id="{i}" name="{n}" checked="Qt::Checked"'
        f" source={quoteattr(f'{path}|layername={n}')}/>\n" for i, n, _ in layers
    )
    maps = "".join(_maplayer(i, f"{path}|layername={n}", n, t) for i, n, t in layers)
    return ("<!DOCTYPE qgis-layer-definition>\n<qlr>\n"
            f' <layer-tree-group expanded="1" name="" checked="Qt::Checked">\n{tree} </layer-tree-group>\n'
            f" <maplayers>\n{maps} </maplayers>\n</qlr>\n")
