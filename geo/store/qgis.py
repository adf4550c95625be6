"""How QGIS shows the store: the run outputs' styles (``geo.outputs.styles``), with the cumulative ``changes``
layer on the time slider by ``first_seen`` — each change appears when a scene first shows it, and stays.

The style goes two ways: as the layer's default style inside the store (``layer_styles``; QGIS 3.22 applies
its temporal part only from *Layer Properties > Style > Default*, see ``geo.outputs.qgis_project``), and in a
layer definition file (``.qlr``) beside the run outputs, which QGIS opens (drag and drop, or *Layer > Add
from Layer Definition File*) styled and with the time slider set up.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

# The XML and QGIS writers are imported where used (geo.outputs.qgis_project pulls in rasterio): a re-check
# with nothing new opens the store, and checks its .qlr, without them.
if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

TEMPORAL_FIELD = "first_seen"


def changes_style_over_time(field: str = TEMPORAL_FIELD) -> ET.Element:
    """The run outputs' change style, but alive from the instant in ``field`` on (no end: accumulating)."""
    from geo.outputs.styles import as_datetime, changes_style

    style = changes_style()
    temporal = style.find("temporal")
    assert temporal is not None  # changes_style always carries temporal settings
    temporal.attrib.update({"startField": field, "endField": "", "startExpression": as_datetime(field),
                            "endExpression": ""})
    return style


def changes_qml() -> str:
    from geo.outputs.styles import to_qml

    return to_qml(changes_style_over_time())


def changes_source(store: Path, folder: Path) -> str:
    """The data source of the store's ``changes`` layer in a layer definition saved in ``folder``: the store
    named relative to ``folder``, so both can move together."""
    return f"{os.path.relpath(Path(store).absolute(), Path(folder).absolute())}|layername=changes"


def layer_definition(store: Path, folder: Path, span: Sequence[str] = ()) -> str:
    """A QGIS layer definition (.qlr) to be saved in ``folder``: the store's AOIs and its ``changes`` on the
    time slider (``changes_source``), the changes crediting the Sentinel data of ``span`` (``Store.pair_span``:
    the first and last times of the pairs compared; () before any)."""
    from geo.outputs.layer_metadata import resource_metadata, sentinel_credit
    from geo.outputs.qgis_project import ProjectLayer
    from geo.outputs.qlr import layer_definition as definition
    from geo.outputs.styles import aois_style

    path = os.path.relpath(Path(store).absolute(), Path(folder).absolute())
    title = f"Changes found by the re-checks of {Path(store).name}"
    about = resource_metadata(title, f"{title}: each change polygon found between two Sentinel scenes of an area's "
                              "chain, on the time slider from the run that first saw it (first_seen).",
                              sentinel_credit(span))
    return definition([
        ProjectLayer("geo_recheck_aois_layer", "areas of interest", "vector", f"{path}|layername=aois", "EPSG:4326",
                     aois_style()),
        ProjectLayer("geo_recheck_changes_layer", "changes (re-checks)", "vector", changes_source(store, folder),
                     "EPSG:4326", changes_style_over_time(), metadata=about),
    ])
