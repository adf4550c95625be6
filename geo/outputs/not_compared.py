"""The areas of a run's AOI not compared, as a layer (``not_compared.geojson``, the ``not_compared`` layer of
``changes.gpkg`` and ``project.qgz``): one feature per reason, so that a map shows where nobody saw the ground
(cloud, no data, snow on one date only), which the changes layer alone shows as ground without change.

Made once per run folder (``geo.outputs.writers.write_run``) from the aligned pair on the grid
(``geo.vector.unseen_areas``); ``geo report`` reads the file back. A run that compared all of its AOI writes an
empty layer: the same files and layers in every run folder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from geo.atomic import write_text
from geo.geometry import WGS84, reproject
from geo.outputs.geojson import lonlat_as_written, write_feature_collection
from geo.outputs.layer_metadata import resource_metadata, sentinel_credit, with_caveats
from geo.outputs.run_data import NOT_COMPARED
from geo.outputs.styles import NOT_COMPARED_CATEGORIES, not_compared_style, to_qml
from geo.results import NOT_COMPUTED, GeoFeature, JobResult, run_caveats

NOT_COMPARED_STYLE = "not_compared.qml"
# the layer as QGIS should add it: a lon/lat polygon layer also when empty (QGIS opens an empty FeatureCollection as
# a table without geometry or CRS, which no style changes: the demo's), as changes.qlr does the changes
NOT_COMPARED_LAYER = "not_compared.qlr"

# the ``reason`` field's values (short, for filters) and their legend labels (QGIS's categories, the report's)
NO_DATA_REASON, CLOUD_REASON, SNOW_REASON, LEFT_OUT_REASON = "no data", "cloud", "snow", "left out"
REASON_WORDS = {reason: label for reason, (label, _) in NOT_COMPARED_CATEGORIES.items()}
# the columns, in order (a run that compared all of its AOI has them too)
COLUMNS = {"aoi_id": "object", "reason": "object", "detail": "object", "area_m2": "float64",
           "aoi_fraction": "float64", "before_scene": "object", "after_scene": "object", "before_date": "object",
           "after_date": "object"}


def _left_out(manifest: Mapping[str, Any]) -> tuple[str, str]:
    """The reason and its words of the ground seen on both dates but left out, as the manifest says it."""
    from geo.scenes.snow import WHY as SNOW_WHY

    why = str((manifest.get("not_compared") or {}).get("why") or "")
    if why == SNOW_WHY:
        return SNOW_REASON, f"seen on both dates, {SNOW_WHY}"
    statistic = manifest.get("statistic") or {}
    if not why and statistic.get("name") == NOT_COMPUTED:
        why = str(statistic.get("reason") or "")
    return LEFT_OUT_REASON, f"seen on both dates, left out of the comparison{f': {why}' if why else ''}"


def not_compared_features(result: JobResult) -> tuple[GeoFeature, ...]:
    """The features of the run's areas not compared (lon/lat, as written), largest reason first."""
    from geo.vector.unseen_areas import CLOUD, LEFT_OUT, NO_DATA, not_compared_regions

    if result.aoi is None:
        raise ValueError("JobResult without its AOI: cannot say which of it was not compared")
    manifest = result.manifest.to_dict()
    regions = not_compared_regions(result.before, result.after, result.statistic, result.aoi)
    crs = result.before.grid.crs.to_string()
    aoi_area = result.aoi.projected(crs).area or 1.0
    scenes = manifest["scenes"]
    reasons = {NO_DATA: (NO_DATA_REASON, "no data on a date: outside its scene's footprint, or a gap in the scene"),
               CLOUD: (CLOUD_REASON, "cloud, cirrus or cloud shadow on a date (its scene classification's, and 40 m "
                                     "round them)"),
               LEFT_OUT: _left_out(manifest)}
    out = []
    for code, geometry in sorted(regions.items(), key=lambda item: -item[1].area):
        reason, detail = reasons[code]
        out.append((lonlat_as_written(reproject(geometry, crs, WGS84)), {
            "aoi_id": result.aoi.id, "reason": reason, "detail": detail, "area_m2": round(geometry.area, 1),
            "aoi_fraction": round(geometry.area / aoi_area, 4),
            "before_scene": scenes["before"]["id"], "after_scene": scenes["after"]["id"],
            "before_date": scenes["before"]["datetime"], "after_date": scenes["after"]["datetime"]}))
    return tuple(out)


def legend_words(features: Sequence[GeoFeature]) -> str:
    """The report legend's words for the areas not compared ("cloud or cloud shadow 5%; ..."), or ''."""
    parts = []
    for _, props in features:
        share = float(props.get("aoi_fraction") or 0.0)  # under 1% as '<1%': a sliver is still not compared
        parts.append(f"{REASON_WORDS.get(str(props.get('reason')), str(props.get('reason')))} "
                     f"{'<1%' if 0 < share < 0.005 else f'{share:.0%}'}")
    return "; ".join(parts)


def with_not_compared(result: JobResult) -> JobResult:
    """``result`` with its areas not compared, made unless it has them."""
    return result if result.not_compared is not None else replace(result, not_compared=not_compared_features(result))


def write_not_compared(result: JobResult, out: Path) -> JobResult:
    """``not_compared.geojson`` (RFC 7946), crediting the data it is made of, and its style ``not_compared.qml``; returns ``result`` with the areas, for
    the writers after it (``geo.outputs.writers.write_run``)."""
    result = with_not_compared(result)
    days = [result.manifest.scenes[role]["datetime"][:10] for role in ("before", "after")]
    write_feature_collection(out / NOT_COMPARED, list(result.not_compared or ()), sentinel_credit(days))
    # its QGIS style beside it (a sidecar of the same name: QGIS applies it when it opens the file, as changes.qml)
    write_text(out / NOT_COMPARED_STYLE, to_qml(not_compared_style()))
    write_text(out / NOT_COMPARED_LAYER, _definition(result, days))
    return result


def _definition(result: JobResult, days: Sequence[str]) -> str:
    """``not_compared.qlr``: ``not_compared.geojson`` as a lon/lat polygon layer styled by reason, declaring its
    columns when it has no feature (OGR reads them from the features), typed as QGIS reads them from a file with some."""
    from geo.outputs.qgis_project import NOT_COMPARED_NAME
    from geo.outputs.qlr import GeoJSONLayer, declared_fields, geojson_definition

    fields = None if result.not_compared else declared_fields(COLUMNS, datetimes=("before_date", "after_date"))
    area = f"{result.aoi.name} ({result.aoi.id})" if result.aoi is not None else "the area"
    about = resource_metadata(f"Not compared over {area}", with_caveats(
        f"The parts of {area} the Sentinel scenes did not both show clear, or that were left out of the comparison "
        "(cloud, no data, snow on one date only), one polygon per reason: no change could be found there, nothing is "
        "known of them.", run_caveats(result.manifest.to_dict())), sentinel_credit(days))
    return geojson_definition([GeoJSONLayer(NOT_COMPARED, NOT_COMPARED_NAME, not_compared_style(), True, fields, about)])
