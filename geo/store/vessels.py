"""The store's vessel tables (schema migration 3): per-scene vessel counts of re-checked AOIs (by class since
migration 4, with their instrument mode since migration 7), and the land mask each AOI's first vessel run built
of each sensor (and instrument mode, since migration 8), so later runs count their new scenes against the same sea.

Functions over an open ``Store``; writers call them inside its ``transaction()`` like every other write.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from geo.store.schema import VESSEL_CLASS_COLUMNS
from geo.store.store import Store
from geo.store.times import iso_utc, parse_utc

if TYPE_CHECKING:  # numpy for the masks only: a re-check with nothing new reads which scenes are counted
    import numpy as np

SERIES_FIELDS = ("scene_id", "sensor", "instrument_mode", "date", "datetime", "n_vessels", "n_large", "total_area_m2",
                 "large_area_m2", "observed_fraction", "observed_km2", "land_mask", "run_id", *VESSEL_CLASS_COLUMNS)


def vessel_scenes(store: Store, aoi_id: str, algorithm_version: str) -> dict[str, tuple[str, datetime]]:
    """The scenes counted over the AOI: id -> (sensor, acquisition time)."""
    return {r[0]: (str(r[1]), parse_utc(str(r[2]))) for r in store.conn.execute(
        "SELECT scene_id, sensor, datetime FROM vessel_series WHERE aoi_id = ? AND algorithm_version = ?",
        (aoi_id, algorithm_version))}


def unknown_mode_scenes(store: Store, aoi_id: str, algorithm_version: str) -> dict[str, tuple[str, datetime]]:
    """The scenes counted over the AOI before the store kept their instrument mode: id -> (sensor, time)."""
    return {r[0]: (str(r[1]), parse_utc(str(r[2]))) for r in store.conn.execute(
        "SELECT scene_id, sensor, datetime FROM vessel_series WHERE aoi_id = ? AND algorithm_version = ? "
        "AND instrument_mode IS NULL", (aoi_id, algorithm_version))}


def set_vessel_modes(store: Store, aoi_id: str, algorithm_version: str, modes: Mapping[str, str]) -> int:
    """Record the instrument mode (scene id -> mode) of rows whose mode is unknown; returns how many."""
    cursor = store.conn.executemany(
        "UPDATE vessel_series SET instrument_mode = ? WHERE aoi_id = ? AND algorithm_version = ? AND scene_id = ? "
        "AND instrument_mode IS NULL", [(mode, aoi_id, algorithm_version, scene) for scene, mode in modes.items()])
    return cursor.rowcount


def add_vessel_rows(store: Store, aoi_id: str, algorithm_version: str, rows: Sequence[Mapping[str, Any]],
                    run_id: int, recorded_at: str) -> int:
    """Append per-scene rows (``geo.vessels.series.scene_row``); a scene already stored is kept as it was.
    Returns how many were added."""
    cursor = store.conn.executemany(
        "INSERT INTO vessel_series (aoi_id, algorithm_version, scene_id, sensor, instrument_mode, date, datetime, "
        f"n_vessels, n_large, total_area_m2, large_area_m2, observed_fraction, observed_km2, land_mask, run_id, "
        f"recorded_at, {', '.join(VESSEL_CLASS_COLUMNS)}) VALUES ({', '.join('?' * (16 + len(VESSEL_CLASS_COLUMNS)))}) "
        "ON CONFLICT DO NOTHING",
        [(aoi_id, algorithm_version, r["scene"], r["sensor"], r.get("instrument_mode") or "", r["date"],
          iso_utc(parse_utc(str(r["datetime"]))), r["n_vessels"], r["n_large"], r["total_area_m2"], r["large_area_m2"],
          r["observed_fraction"], r["observed_km2"], r["land_mask"], run_id, recorded_at,
          *(r.get(c) for c in VESSEL_CLASS_COLUMNS))
         for r in rows],
    )
    return cursor.rowcount


def vessel_rows(store: Store, aoi_id: str, algorithm_version: str) -> list[dict[str, Any]]:
    """The AOI's stored per-scene rows, oldest first, in the form ``scene_row`` made them; ``instrument_mode`` is
    None in rows stored before migration 7 (unknown: ``geo.vessels.series.place_unknown_modes``)."""
    cursor = store.conn.execute(
        f"SELECT {', '.join(SERIES_FIELDS)} FROM vessel_series WHERE aoi_id = ? AND algorithm_version = ? "
        "ORDER BY datetime, scene_id", (aoi_id, algorithm_version))
    rows = []
    for values in cursor:
        row = dict(zip(SERIES_FIELDS, values))
        row["scene"] = row.pop("scene_id")
        for column in VESSEL_CLASS_COLUMNS:  # none in rows stored before migration 4: the series says so
            if row[column] is None:
                del row[column]
        rows.append(row)
    return rows


class StoredMask(NamedTuple):
    mask: np.ndarray  # bool, True = land
    method: str
    run_id: int  # the run that built it, of its scenes


def vessel_masks(store: Store, aoi_id: str, algorithm_version: str,
                 grid: Mapping[str, Any]) -> dict[tuple[str, str | None], StoredMask]:
    """The AOI's stored land masks on ``grid`` by (sensor, instrument mode); masks made on another grid (the AOI
    changed) are left out. Mode None: a mask kept before migration 8, made of its run's scenes of that sensor
    whatever their modes."""
    import numpy as np

    rows, cols = grid["shape"]
    wanted = json.loads(json.dumps(dict(grid)))

    def unpacked(blob: bytes) -> np.ndarray:
        bits = np.frombuffer(zlib.decompress(blob), np.uint8)
        return np.unpackbits(bits, count=rows * cols).astype(bool).reshape(rows, cols)

    stored = store.conn.execute("SELECT sensor, instrument_mode, grid, method, mask, run_id FROM vessel_masks "
                                "WHERE aoi_id = ? AND algorithm_version = ?", (aoi_id, algorithm_version))
    return {(str(sensor), mode): StoredMask(unpacked(blob), str(method), int(run_id))
            for sensor, mode, on_grid, method, blob, run_id in stored if json.loads(on_grid) == wanted}


def set_vessel_mask(store: Store, aoi_id: str, sensor: str, mode: str, algorithm_version: str,
                    grid: Mapping[str, Any], method: str, mask: np.ndarray, run_id: int) -> None:
    """Keep ``mask`` (packed bits, deflated: a few kB) of ``sensor`` in instrument ``mode`` unless the AOI already
    has one on the same grid."""
    import numpy as np

    if (sensor, mode) in vessel_masks(store, aoi_id, algorithm_version, grid):
        return
    blob = zlib.compress(np.packbits(np.asarray(mask, bool).ravel()).tobytes(), 9)
    store.conn.execute(
        "INSERT INTO vessel_masks (aoi_id, algorithm_version, sensor, instrument_mode, grid, method, mask, run_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (aoi_id, sensor, instrument_mode, algorithm_version) DO UPDATE "
        "SET grid = excluded.grid, method = excluded.method, mask = excluded.mask, run_id = excluded.run_id",
        (aoi_id, algorithm_version, sensor, mode, json.dumps(dict(grid), sort_keys=True), method, blob, run_id),
    )
