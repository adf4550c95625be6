"""The files of change polygons (lon/lat) a run folder holds, one registry for ``geo run`` and ``geo recheck``:
each a name, its file and ``write(path, features, title)``. A new format of change layer is one writer and
one line in ``CHANGE_LAYERS``. Light to import (no raster stack): a re-check imports it to write its run folders."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from geo.outputs.geojson import write_feature_collection
from geo.outputs.kml import KML, write_kml
from geo.outputs.run_data import CHANGES
from geo.vector.feature import Feature


@dataclass(frozen=True)
class ChangeLayer:
    """A file of change polygons (lon/lat): ``write(path, features, title)``."""

    name: str
    file: str
    write: Callable[[Path, Sequence[Feature], str], object]


CHANGE_LAYERS: tuple[ChangeLayer, ...] = (
    ChangeLayer("geojson", CHANGES, lambda path, features, _title: write_feature_collection(path, features)),
    ChangeLayer("kml", KML, write_kml),
)


def write_change_layers(folder: Path, features: Sequence[Feature], title: str,
                        layers: Sequence[ChangeLayer] = CHANGE_LAYERS) -> None:
    for layer in layers:
        layer.write(folder / layer.file, features, title)
