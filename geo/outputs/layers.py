"""The files of change polygons (lon/lat) a run folder holds, one registry for ``geo run`` and ``geo recheck``:
each a name, its file and ``write(path, features, title)``; and ``changes.qml``, the QGIS style QGIS applies to
``changes.geojson`` when it opens it, and ``changes.qlr``, the layer as QGIS should add it (typed also when
empty). A new format of change layer is one writer and one line in ``CHANGE_LAYERS``. Light to import (no
raster stack): a re-check imports it to write its run folders."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.outputs.geojson import write_feature_collection
from geo.outputs.kml import KML, write_kml
from geo.outputs.layer_metadata import resource_metadata, sentinel_credit, with_caveats
from geo.outputs.run_data import CHANGES
from geo.outputs.styles import changes_style, to_qml
from geo.vector.feature import ChangeFeature

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry


# The columns a sensor adds to the contract's (``geo.vector.sensor_columns``): name -> type
Columns = Mapping[str, type]


@dataclass(frozen=True)
class LayerFacts:
    """What a change layer says of itself beside its features: its ``title``; the ``columns`` the features'
    sensor adds to the contract's (a file with no feature may declare them); the ``days`` of the scenes the
    changes were looked for in (their data's credit names the years also when no change was found); the
    ``caveats`` the run warned of (``geo.results.run_caveats``: in the layer's metadata, for a QGIS user)."""

    title: str
    columns: Columns = field(default_factory=dict)
    days: tuple[date | str, ...] = ()  # dates, or ISO text
    caveats: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangeLayer:
    """A file of change polygons (lon/lat): ``write(path, features, facts)``."""

    name: str
    file: str
    write: Callable[[Path, Sequence[ChangeFeature], LayerFacts], object]


def as_written(features: Sequence[ChangeFeature]) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    """The features as their files hold them: geometry and attribute dict (``ChangeFeature.properties``)."""
    return [(f.geometry, f.properties()) for f in features]


def _days(features: Sequence[ChangeFeature], facts: LayerFacts) -> list[date | str]:
    """The days of the data the layer is made of (its credit's years): the scenes', and its changes' pairs'."""
    return [*facts.days, *(day for f in features for day in (f.before_date, f.after_date))]


CHANGES_STYLE = "changes.qml"


def write_changes_style(path: Path, features: Sequence[ChangeFeature], _facts: LayerFacts) -> None:
    """The QGIS style of ``changes.geojson`` beside it (a sidecar of the same name: QGIS applies it on open),
    with the change types these features have."""
    path.write_text(to_qml(changes_style(sorted({f.change_type for f in features}))), encoding="utf-8")


CHANGES_LAYER = "changes.qlr"


def write_changes_definition(path: Path, features: Sequence[ChangeFeature], facts: LayerFacts) -> None:
    """``changes.qlr``: ``changes.geojson`` as QGIS should open it, a lon/lat polygon layer also when the run
    found no change (``geo.outputs.qlr``), styled as ``changes.qml`` styles it; declaring, as QGIS reads them
    from a file with changes, the columns no feature has: with no change, the contract's and ``columns``; with
    changes, those of ``columns`` none of them has (a re-check's run whose Sentinel-1 AOIs found nothing, beside
    Sentinel-2 changes of others; a dating no change got)."""
    from geo.outputs.qlr import GeoJSONLayer, declared_fields, geojson_definition

    style = changes_style(sorted({f.change_type for f in features}))
    fields = None
    title, columns = facts.title, facts.columns
    missing = [name for name in columns if not any(name in f.extra for f in features)]
    if not features or missing:
        from geo.outputs.gpkg import DATE_COLUMNS, change_columns  # geopandas: only for columns no change has

        written = {name: dtype for name, dtype in change_columns(columns).items()
                   if name != "evidence_for" and (not features or name in missing)}
        fields = declared_fields(written, (*DATE_COLUMNS, "before_date", "after_date"), lists=("claim_ids",))
    about = resource_metadata(title, with_caveats(f"{title}: change polygons geo workbench found between a before and "
                                                  "an after Sentinel scene, each with its kind, area, score, confidence "
                                                  "and the claims it bears on.", facts.caveats),
                              sentinel_credit(_days(features, facts)))
    path.write_text(geojson_definition([GeoJSONLayer(CHANGES, "changes", style, True, fields, about)]), encoding="utf-8")


CHANGE_LAYERS: tuple[ChangeLayer, ...] = (
    ChangeLayer("geojson", CHANGES, lambda path, features, facts: write_feature_collection(
        path, as_written(features), sentinel_credit(_days(features, facts)))),  # handed on alone, it credits the data
    ChangeLayer("kml", KML, lambda path, features, facts: write_kml(path, as_written(features), facts.title,
                                                                    sentinel_credit(_days(features, facts)))),
    ChangeLayer("qgis style", CHANGES_STYLE, write_changes_style),
    ChangeLayer("qgis layer", CHANGES_LAYER, write_changes_definition),
)


def write_change_layers(folder: Path, features: Sequence[ChangeFeature], facts: LayerFacts,
                        layers: Sequence[ChangeLayer] = CHANGE_LAYERS) -> None:
    for layer in layers:
        layer.write(folder / layer.file, features, facts)
