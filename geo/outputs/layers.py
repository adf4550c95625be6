"""The files of change polygons (lon/lat) a run folder holds, one registry for ``geo run`` and ``geo recheck``:
each a name, its file and ``write(path, features, title)``. A new format of change layer is one writer and
one line in ``CHANGE_LAYERS``. Light to import (no raster stack): a re-check imports it to write its run folders."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.outputs.geojson import write_feature_collection
from geo.outputs.kml import KML, write_kml
from geo.outputs.run_data import CHANGES
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


CHANGE_LAYERS: tuple[ChangeLayer, ...] = (
    ChangeLayer("geojson", CHANGES, lambda path, features, _title: write_feature_collection(path, as_written(features))),
    ChangeLayer("kml", KML, lambda path, features, title: write_kml(path, as_written(features), title)),
)


def write_change_layers(folder: Path, features: Sequence[ChangeFeature], title: str,
                        layers: Sequence[ChangeLayer] = CHANGE_LAYERS) -> None:
    for layer in layers:
        layer.write(folder / layer.file, features, title)
