"""The run as one GeoPackage for QGIS: layers ``changes``, ``not_compared`` (the AOI's areas not compared, one
per reason), ``aois`` and ``claims`` (and ``vessels``, the vessel detections, when a claim predicted vessels), each with its default style in the ``layer_styles``
table (the table and columns QGIS itself creates), DateTime fields for the temporal controller, EPSG:4326
like the GeoJSON.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import geopandas
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.raw
from pyogrio.errors import DataSourceError, FieldError, GeometryError

from geo.atomic import replacing
from geo.claim_days import zone_named
from geo.errors import OutputError
from geo.geometry import WGS84
from geo.outputs.layer_metadata import vector_metadata, write_geopackage_metadata
from geo.outputs.run_data import RunData
from geo.outputs.styles import (QGIS_VERSION, aois_style, changes_style, claims_style, not_compared_style, to_qml,
                                vessels_style)
from geo.vector.feature import ChangeFeature
from geo.vector.sensor_columns import extra_columns

GEOMETRY_COLUMN = "geom"
GPKG_VERSION = "1.2"  # GDAL 3.10 writes 1.4 by default, which the GDAL under QGIS 3.22 warns about
SQLITE_SYNC = "OGR_SQLITE_SYNCHRONOUS"


def _utc(values: Sequence[datetime]) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), utc=True)).astype("datetime64[ms, UTC]")


def _window_time(entry: Mapping[str, Any], end: bool) -> datetime:
    """Claim windows are whole days of their zone (``window_time_zone``, UTC in entries written before it):
    from its 00:00 to its 23:59:59, as UTC instants."""
    zone = zone_named(entry.get("window_time_zone", "UTC"))
    day = date.fromisoformat(entry["window"]["end" if end else "start"])
    return zone.start(day + timedelta(days=1)) - timedelta(seconds=1) if end else zone.start(day)


# The columns of a layer with no row, of the types a row gives them: QGIS reads an empty layer as the layer
# of a run that found something (same table; merging runs' layers works).
_CHANGE_TYPES = {"str": "object", "float": "float64", "int": "int64", "tuple[str, ...]": "object"}
_CHANGE_FIELDS = {f.name: _CHANGE_TYPES[str(f.type)] for f in fields(ChangeFeature)
                  if f.name not in ("geometry", "extra")}
# in the order ChangeFeature.properties() writes them (claim_ids third, as the contract lists it): the
# attribute table of a run that found nothing has its columns where a busy run's has them
CHANGE_COLUMNS = {**{name: _CHANGE_FIELDS[name] for name in ("change_id", "aoi_id", "claim_ids")},
                  **_CHANGE_FIELDS, "evidence_for": "object"}
CLAIM_COLUMNS = {
    "claim_id": "object", "aoi_id": "object", "stance": "object", "claimant": "object", "statement": "object",
    "source": "object", "source_url": "object", "window_start": "object", "window_end": "object",
    "window_time_zone": "object", "verdict": "object", "confidence": "float64", "confidence_label": "object",
    "rationale": "object",
    "n_changes": "int64", "n_matching": "int64", "clear_fraction": "float64", "verdict_source": "object",
    "vessel_verdict": "object", "vessel_p_value": "float64", "before_scene": "object", "after_scene": "object",
}
# Every layer holds (multi)polygons, also with no row: an empty layer of unknown geometry type opens in QGIS
# as an attribute table, without its style and off the map.
POLYGONS = "MultiPolygon"


def _empty(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})


def change_columns(extra: Mapping[str, type]) -> dict[str, str]:
    """The contract's columns and ``extra``, those a sensor adds (``geo.vector.sensor_columns``: a Sentinel-1
    run that found no change has the columns of one that did), as pandas dtypes, ``evidence_for`` last."""
    contract = {name: dtype for name, dtype in CHANGE_COLUMNS.items() if name != "evidence_for"}
    return {**contract, **{name: _CHANGE_TYPES[kind.__name__] for name, kind in extra.items()},
            "evidence_for": CHANGE_COLUMNS["evidence_for"]}


def _change_columns(runs: Sequence[RunData]) -> dict[str, str]:
    return change_columns({name: kind for run in runs for name, kind in extra_columns(run.manifest).items()})


def changes_frame(runs: Sequence[RunData]) -> geopandas.GeoDataFrame:
    rows, geometries = [], []
    columns = _change_columns(runs)
    for run in runs:
        before, after = run.scene_datetime("before"), run.scene_datetime("after")
        evidence: dict[str, list[str]] = {}
        for claim in run.claims:
            for change in claim.get("evidence", []):
                evidence.setdefault(change, []).append(claim["claim_id"])
        for feature in run.features:
            row = feature.properties()
            # JSON text, as the re-check store holds them: one exact filter in both, claim_ids LIKE '%"id"%'
            row["claim_ids"] = json.dumps(list(feature.claim_ids))
            row["evidence_for"] = json.dumps(evidence.get(feature.change_id, []))
            row["before_date"], row["after_date"] = before, after
            rows.append(row)
            geometries.append(feature.geometry)
    frame = pd.DataFrame(rows) if rows else _empty(columns)
    for name, dtype in columns.items():  # a column none of the rows has (a series that dated no change)
        if name not in frame:
            frame.insert(frame.columns.get_loc("evidence_for"), name, pd.Series([None] * len(frame), dtype=dtype))
    frame["before_date"] = _utc(frame["before_date"].tolist())
    frame["after_date"] = _utc(frame["after_date"].tolist())
    return geopandas.GeoDataFrame(frame, geometry=geopandas.GeoSeries(geometries, crs=WGS84), crs=WGS84)


def not_compared_frame(runs: Sequence[RunData]) -> geopandas.GeoDataFrame:
    """The runs' areas not compared (``geo.outputs.not_compared``), the pair's dates as DateTime (as the changes')."""
    from geo.outputs.not_compared import COLUMNS

    pairs = [(geometry, props) for run in runs for geometry, props in run.not_compared]
    frame = pd.DataFrame([{k: p.get(k) for k in COLUMNS} for _, p in pairs], columns=list(COLUMNS)).astype(COLUMNS)
    frame["before_date"] = _utc(frame["before_date"].tolist())
    frame["after_date"] = _utc(frame["after_date"].tolist())
    return geopandas.GeoDataFrame(frame, geometry=geopandas.GeoSeries([g for g, _ in pairs], crs=WGS84), crs=WGS84)


def aois_frame(runs: Sequence[RunData]) -> geopandas.GeoDataFrame:
    rows = {}
    for run in runs:
        rows[run.aoi_id] = ({
            "id": run.aoi_id, "name": run.aoi.get("name", run.aoi_id), "country": run.aoi.get("country", ""),
            "kind": run.aoi.get("kind", ""), "area_km2": run.aoi.get("area_km2"),
            "approximate": bool(run.aoi.get("approximate", True)), "source": run.aoi.get("source", ""),
            "clear_fraction": run.manifest.get("clear_fraction"),
        }, run.aoi_geometry)
    frame = pd.DataFrame([r for r, _ in rows.values()])
    return geopandas.GeoDataFrame(frame, geometry=geopandas.GeoSeries([g for _, g in rows.values()], crs=WGS84))


def claims_frame(runs: Sequence[RunData]) -> geopandas.GeoDataFrame:
    rows, geometries = [], []
    for run in runs:
        for entry in run.claims:
            claim = entry.get("claim", {})
            rows.append({
                "claim_id": entry["claim_id"], "aoi_id": entry["aoi_id"], "stance": entry.get("stance", ""),
                "claimant": claim.get("claimant", ""), "statement": claim.get("statement", ""),
                "source": claim.get("source", ""), "source_url": claim.get("source_url", ""),
                "window_start": _window_time(entry, end=False),
                "window_end": _window_time(entry, end=True),
                "window_time_zone": entry.get("window_time_zone", "UTC"),  # whose days start and end bound
                "verdict": entry["verdict"], "confidence": entry.get("confidence"),
                "confidence_label": entry.get("confidence_label", ""), "rationale": entry.get("rationale", ""),
                "n_changes": entry.get("n_changes", 0), "n_matching": entry.get("n_matching", 0),
                "clear_fraction": entry.get("clear_fraction"),
                # with vessel evidence (geo.vessels.merged_verdicts): which line of evidence decided, the counts' own
                "verdict_source": entry.get("verdict_source", "change polygons"),
                "vessel_verdict": (entry.get("vessel_evidence") or {}).get("verdict", ""),
                "vessel_p_value": (entry.get("vessel_evidence") or {}).get("p_value"),
                "before_scene": run.manifest["scenes"]["before"]["id"],
                "after_scene": run.manifest["scenes"]["after"]["id"],
            })
            geometries.append(run.aoi_geometry)
    frame = (pd.DataFrame(rows) if rows else _empty(CLAIM_COLUMNS)).astype(CLAIM_COLUMNS)
    frame["window_start"] = _utc(frame["window_start"].tolist())
    frame["window_end"] = _utc(frame["window_end"].tolist())
    return geopandas.GeoDataFrame(frame, geometry=geopandas.GeoSeries(geometries, crs=WGS84), crs=WGS84)


# with their types, so that a series without ships has the same table (not text columns) as one with ships
VESSEL_COLUMNS = {
    "detection_id": "object", "aoi_id": "object", "scene": "object", "sensor": "object", "datetime": "object",
    "date": "object", **dict.fromkeys(("length_m", "width_m", "heading_deg", "area_m2"), "float64"),
    "pixels": "int64", **dict.fromkeys(("score", "peak"), "float64"), "at_berth": "bool", "lon": "float64",
    "lat": "float64", "algorithm_version": "object",
}


def vessels_frame(runs: Sequence[RunData]) -> geopandas.GeoDataFrame | None:
    """Vessel detections of the runs that made them (None when none did); ``datetime`` = acquisition time."""
    found = [run.vessels for run in runs if run.vessels is not None]
    if not found:
        return None
    pairs = [detection for vessels in found for detection in vessels.detections]
    frame = pd.DataFrame([{k: p.get(k) for k in VESSEL_COLUMNS} for _, p in pairs], columns=list(VESSEL_COLUMNS))
    frame["at_berth"] = [bool(v) for v in frame["at_berth"]]  # None: a run's detections from before the berth test
    frame = frame.astype(VESSEL_COLUMNS)
    frame["datetime"] = _utc(frame["datetime"].tolist())
    return geopandas.GeoDataFrame(frame, geometry=geopandas.GeoSeries([g for g, _ in pairs], crs=WGS84), crs=WGS84)


def styles_frame(styles: dict[str, str]) -> pd.DataFrame:
    """Rows of QGIS's ``layer_styles`` table: one default style per layer."""
    now = datetime.now(timezone.utc)
    return pd.DataFrame([
        {
            "f_table_catalog": "", "f_table_schema": "", "f_table_name": layer,
            "f_geometry_column": GEOMETRY_COLUMN, "styleName": layer, "styleQML": qml, "styleSLD": "",
            "useAsDefault": True, "description": f"default style of {layer} (geo workbench)", "owner": "",
            "ui": "", "update_time": now,
        }
        for layer, qml in styles.items()
    ]).astype({"update_time": "datetime64[ms, UTC]"})


@contextmanager
def _unsynced() -> Iterator[None]:
    """SQLite without its fsync calls while the GeoPackage is written (GDAL's ``OGR_SQLITE_SYNCHRONOUS=OFF``:
    the same file, ~0.02-0.04 s less for a run's layers, each written in its own transaction). The file is
    written under a temporary name and renamed, as every file of a run folder, none of which is synced
    either. A user's own setting of the option wins."""
    if pyogrio.get_gdal_config_option(SQLITE_SYNC) is not None:
        yield
        return
    pyogrio.set_gdal_config_options({SQLITE_SYNC: "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({SQLITE_SYNC: None})


# Columns of days (ISO dates: the vessels' acquisition date, a SAR change's omnibus dating) as GeoPackage DATE
# fields, which QGIS filters, sorts and puts on the time slider as dates; as TEXT they were strings.
DATE_COLUMNS = ("date", "change_first_seen", "change_last_unchanged")


def _field(column: pd.Series, day: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """A column as pyogrio's raw writer takes it, with its null mask: ISO days as ``datetime64[D]`` (a DATE
    field), UTC times as naive ``datetime64[ms]`` (their zone given apart, as ``write_dataframe`` does)."""
    if day:  # a missing day is None or NaN (pandas' str columns)
        return np.array([v if isinstance(v, str) and v else None for v in column.tolist()],
                        dtype="datetime64[D]"), None
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return column.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ms]"), None
    if isinstance(column.dtype, pd.api.extensions.ExtensionDtype):  # pandas' str: NaN where missing
        return np.asarray(column.array), np.asarray(column.isna())
    return column.to_numpy(), None


def _write_layer(path: Path, name: str, frame: geopandas.GeoDataFrame, geometry_type: str) -> None:
    """One layer into the GeoPackage. pyogrio's ``write_dataframe`` writes a column of date strings as TEXT
    and has no way to say DATE short of pyarrow: a layer with such columns is written by its raw writer, in
    one call. (Created empty and then appended to, the layer's DateTime values lost their milliseconds,
    '2021-05-01T10:30:00Z', which GeoPackage 1.2 does not allow: GDAL warned on every read.)"""
    options = {"GEOMETRY_NAME": GEOMETRY_COLUMN, "SPATIAL_INDEX": "YES", "VERSION": GPKG_VERSION}
    columns = [c for c in frame.columns if c != frame.geometry.name]
    days = [c for c in columns if c in DATE_COLUMNS]
    if not days:
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", promote_to_multi=True,
                                geometry_type=geometry_type, **options)
        return
    data = [_field(frame[c], c in days) for c in columns]
    zones = {c: np.full(len(frame), 100) for c in columns  # GDAL's mark for UTC
             if isinstance(frame[c].dtype, pd.DatetimeTZDtype)}
    pyogrio.raw.write(path, geometry=geopandas.array.to_wkb(frame.geometry.values), fields=columns,
                      field_data=[values for values, _ in data], field_mask=[mask for _, mask in data],
                      driver="GPKG", layer=name, geometry_type=geometry_type, promote_to_multi=True, crs=WGS84,
                      gdal_tz_offsets=zones, **options)


def write_geopackage(path: Path, runs: Sequence[RunData]) -> Path:
    """Write the runs' changes, AOIs and claim verdicts with their default styles; replace atomically."""
    path = Path(path)
    changes = changes_frame(runs)
    types = changes["change_type"].dropna().unique() if len(changes) else ()
    layers: dict[str, tuple[geopandas.GeoDataFrame, str, str]] = {
        "changes": (changes, to_qml(changes_style(types)), POLYGONS),
        "not_compared": (not_compared_frame(runs), to_qml(not_compared_style()), POLYGONS),
        "aois": (aois_frame(runs), to_qml(aois_style()), POLYGONS),
        "claims": (claims_frame(runs), to_qml(claims_style()), POLYGONS),
    }
    vessels = vessels_frame(runs)
    if vessels is not None:
        layers["vessels"] = (vessels, to_qml(vessels_style()), POLYGONS)
    try:
        with replacing(path) as tmp, _unsynced():
            for name, (frame, _, geometry_type) in layers.items():
                _write_layer(tmp, name, frame, geometry_type)
            pyogrio.write_dataframe(styles_frame({n: qml for n, (_, qml, _) in layers.items()}), tmp,
                                    layer="layer_styles", driver="GPKG", FID="id")
            write_geopackage_metadata(tmp, {name: metadata for name, metadata in vector_metadata(runs).items()
                                            if name in layers}, QGIS_VERSION)
    except (DataSourceError, FieldError, GeometryError, OSError, sqlite3.Error) as exc:
        raise OutputError(f"{path}: cannot write GeoPackage ({exc})") from None
    return path
