"""The files of change polygons (lon/lat) a run folder holds, one registry for ``geo run`` and ``geo recheck``:
each a name, its file and ``write(path, features, title)``; and ``changes.qml``, the QGIS style QGIS applies to
``changes.geojson`` when it opens it, and ``changes.qlr``, the layer as QGIS should add it (typed also when
empty). A new format of change layer is one writer and one line in ``CHANGE_LAYERS``. Light to import (no
raster stack): a re-check imports it to write its run folders."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.outputs.geojson import write_feature_collection
from geo.outputs.kml import KML, write_kml
from geo.outputs.run_data import CHANGES
from geo.outputs.styles import changes_style, to_qml
from geo.vector.feature import ChangeFeature

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class ChangeLayer:
    """A file of change polygons (lon/lat): ``write(path, features, title)``."""

    name: str
    file: str
    write: Callable[[Path, Sequence[ChangeFeature], str], object]


def as_written(features: Sequence[ChangeFeature]) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    """The features as their files hold them: geometry and attribute dict (``ChangeFeature.properties``)."""
    return [(f.geometry, f.properties()) for f in features]


CHANGES_STYLE = "changes.qml"


def write_changes_style(path: Path, features: Sequence[ChangeFeature], _title: str) -> None:
    """The QGIS style of ``changes.geojson`` beside it (a sidecar of the same name: QGIS applies it on open),
    with the change types these features have."""
    path.write_text(to_qml(changes_style(sorted({f.change_type for f in features}))), encoding="utf-8")


CHANGES_LAYER = "changes.qlr"


def write_changes_definition(path: Path, features: Sequence[ChangeFeature], _title: str) -> None:
    """``changes.qlr``: ``changes.geojson`` as QGIS should open it, a lon/lat polygon layer also when the run
    found no change (``geo.outputs.qlr``), styled as ``changes.qml`` styles it."""
    from geo.outputs.qlr import GeoJSONLayer, geojson_definition

    style = changes_style(sorted({f.change_type for f in features}))
    path.write_text(geojson_definition([GeoJSONLayer(CHANGES, "changes", style, True)]), encoding="utf-8")


CHANGE_LAYERS: tuple[ChangeLayer, ...] = (
    ChangeLayer("geojson", CHANGES, lambda path, features, _title: write_feature_collection(path, as_written(features))),
    ChangeLayer("kml", KML, lambda path, features, title: write_kml(path, as_written(features), title)),
    ChangeLayer("qgis style", CHANGES_STYLE, write_changes_style),
    ChangeLayer("qgis layer", CHANGES_LAYER, write_changes_definition),
)


def write_change_layers(folder: Path, features: Sequence[ChangeFeature], title: str,
                        layers: Sequence[ChangeLayer] = CHANGE_LAYERS) -> None:
    for layer in layers:
        layer.write(folder / layer.file, features, title)
