"""The store's vessel land masks, per sensor and (since migration 8) instrument mode: a mask kept by schema 7 (one
per sensor, whatever the modes of its scenes) reads back with mode None, beside which each mode gets its own."""

from __future__ import annotations

import json
import sqlite3
import zlib

import numpy as np

from geo.store import Store, schema, writer_lock
from geo.store.vessels import set_vessel_mask, vessel_masks

GRID = {"crs": "EPSG:32630", "transform": [10.0, 0.0, 500000.0, 0.0, -10.0, 5000000.0], "shape": [4, 6]}
VERSION = "vessels/0.1"


def _mask(*land: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(GRID["shape"], bool)
    for rc in land:
        mask[rc] = True
    return mask


def test_migration_8_keeps_a_sensors_mask_of_unknown_mode_beside_one_per_mode(tmp_path):
    path = tmp_path / "v7.gpkg"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    assert schema.migrate(conn, 0, upto=7) == [1, 2, 3, 4, 5, 6, 7]
    conn.execute("INSERT INTO runs (started_at, finished_at, summary) VALUES ('t', 't', '{}')")
    old = _mask((0, 0), (1, 1))
    conn.execute("INSERT INTO vessel_masks (aoi_id, algorithm_version, sensor, grid, method, mask, run_id) VALUES "
                 "('port', ?, 's1', ?, 'sar-temporal-median/6 scenes', ?, 1)",
                 (VERSION, json.dumps(GRID, sort_keys=True), zlib.compress(np.packbits(old.ravel()).tobytes())))
    conn.execute("COMMIT")
    conn.close()

    iw, ew, again = _mask((2, 2)), _mask((3, 3), (3, 4)), _mask((0, 5))
    with writer_lock(path), Store.open(path) as store:
        assert store.schema_version == schema.LATEST == 13
        [(key, kept)] = vessel_masks(store, "port", VERSION, GRID).items()
        assert key == ("s1", None) and kept.run_id == 1 and kept.method == "sar-temporal-median/6 scenes"
        assert np.array_equal(kept.mask, old)
        with store.transaction():
            set_vessel_mask(store, "port", "s1", "IW", VERSION, GRID, "sar-temporal-median/3 scenes", iw, 1)
            set_vessel_mask(store, "port", "s1", "EW", VERSION, GRID, "sar-temporal-median/4 scenes", ew, 1)
            set_vessel_mask(store, "port", "s1", "EW", VERSION, GRID, "later", again, 1)  # the first one stays
            set_vessel_mask(store, "port", "s2", "", VERSION, GRID, "water-index-temporal-median/3 scenes", iw, 1)
        masks = vessel_masks(store, "port", VERSION, GRID)
        assert {k: (v.method, int(v.mask.sum())) for k, v in masks.items()} == {
            ("s1", None): ("sar-temporal-median/6 scenes", 2), ("s1", "IW"): ("sar-temporal-median/3 scenes", 1),
            ("s1", "EW"): ("sar-temporal-median/4 scenes", 2), ("s2", ""): ("water-index-temporal-median/3 scenes", 1)}
        assert np.array_equal(masks[("s1", "EW")].mask, ew)
        moved = {**GRID, "transform": [10.0, 0.0, 500010.0, 0.0, -10.0, 5000000.0]}  # the AOI redrawn
        assert vessel_masks(store, "port", VERSION, moved) == {}
        [(description,)] = store.conn.execute(
            "SELECT description FROM gpkg_contents WHERE table_name = 'vessel_masks'").fetchall()
    assert description.startswith("per AOI, sensor and instrument mode:")
