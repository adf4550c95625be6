"""The store is a GeoPackage GDAL reads as written, migrates old schemas, and refuses what it is not."""

from __future__ import annotations

import json
import sqlite3
import struct
import xml.etree.ElementTree as ET
from datetime import date, datetime, timezone

import geopandas
import numpy as np
import pyogrio
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from geo.errors import StoreError
from geo.vector.feature import ChangeFeature
from geo.store import ReadFailure, SceneRef, Store, gpkg, schema, writer_lock

WHEN = datetime(2021, 4, 1, 10, 30, 12, 345000, tzinfo=timezone.utc)


def _props(change_id: str, area: float) -> dict:
    return {"change_id": change_id, "aoi_id": "x", "claim_ids": ["c1"], "before_scene": "B", "after_scene": "A",
            "before_date": "2021-03-01", "after_date": "2021-04-01", "area_m2": area, "score": 41.5,
            "confidence": 0.9, "change_type": "new_bright_surface", "type_confidence": 0.8, "pixels": 40,
            "algorithm_version": "v"}


def _store_with_changes(path, geometries):
    with writer_lock(path), Store.open(path) as store, store.transaction():
        run_id = store.insert_run("2021-01-01T00:00:00.000Z", "src", "v", "0", "h", 1, {}, None)
        store.add_pair("x", "v", SceneRef("B", WHEN), SceneRef("A", WHEN), "done", "", 1.0, len(geometries), None,
                       run_id)
        store.add_changes([ChangeFeature.from_properties(g, _props(f"id{i}", g.area)) for i, g in enumerate(geometries)],
                          WHEN, run_id,
                          "2021-01-01T00:00:00.000Z")
    return run_id


@pytest.mark.parametrize("geometry", [
    box(3.0, 45.0, 3.001, 45.002),
    Polygon([(0, 0), (1, 0), (1, 1), (0, 1)], [[(0.2, 0.2), (0.2, 0.4), (0.4, 0.4), (0.4, 0.2)]]),
    MultiPolygon([box(0, 0, 1, 1), box(2, 2, 3, 3.5)]),
    MultiPolygon(),
])
def test_geometry_blob_round_trip(geometry):
    blob = gpkg.encode(geometry)
    assert blob[:2] == b"GP"
    assert shapely.equals_exact(gpkg.decode(blob), geometry, 0) or (geometry.is_empty and gpkg.decode(blob).is_empty)


def test_gdal_reads_the_changes_layer_exactly(tmp_path):
    path = tmp_path / "s.gpkg"
    geometries = [box(3.0, 45.0, 3.001, 45.002), MultiPolygon([box(3.01, 45.01, 3.02, 45.02), box(3.03, 45.0, 3.04, 45.01)])]
    _store_with_changes(path, geometries)
    layers = dict(pyogrio.list_layers(path))
    assert layers["changes"] == "MultiPolygon" and layers["aois"] == "MultiPolygon"
    assert {"claims", "scenes", "runs", "pairs", "verdicts", "chains"} <= set(layers)
    frame = geopandas.read_file(path, layer="changes")
    assert frame.crs.to_epsg() == 4326
    assert list(frame["change_id"]) == ["id0", "id1"]
    for got, want in zip(frame.geometry, geometries):
        assert got.equals_exact(gpkg.as_multipolygon(want), 0)
    assert str(frame["first_seen"].dtype).startswith("datetime64")
    assert frame["first_seen"][0] == WHEN  # a UTC timestamp, to the millisecond
    assert frame["area_m2"].dtype == float
    info = pyogrio.read_info(path, layer="changes")
    np.testing.assert_allclose(info["total_bounds"], [3.0, 45.0, 3.04, 45.02])


def test_store_reads_back_what_it_wrote(tmp_path):
    path = tmp_path / "s.gpkg"
    geometries = [box(3.0, 45.0, 3.001, 45.002)]
    run_id = _store_with_changes(path, geometries)
    with Store.open(path, create=False) as store:
        [feature] = store.changes(run_id=run_id)
        assert feature.geometry.equals_exact(gpkg.as_multipolygon(geometries[0]), 0)
        assert feature.claim_ids == ("c1",) and feature.extra["first_seen"] == "2021-04-01T10:30:12.345Z"
        assert feature.properties() == {**_props("id0", geometries[0].area), **feature.extra}
        assert dict(feature.extra) == {"first_seen": "2021-04-01T10:30:12.345Z", "run_id": run_id}
        assert [(p.before.id, p.after.id, p.after.datetime) for p in store.pairs("x", "v")] == [("B", "A", WHEN)]
        assert store.changes(run_id=run_id + 1) == []


def test_every_migration_applies_in_order_from_an_old_store(tmp_path):
    path = tmp_path / "old.gpkg"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    assert schema.migrate(conn, 0, upto=1) == [1]
    conn.execute("COMMIT")
    conn.close()
    assert not _tables(path) >= {"layer_styles"}
    with writer_lock(path), Store.open(path) as store:
        assert store.schema_version == schema.LATEST == 13
    assert "layer_styles" in _tables(path)
    conn = sqlite3.connect(path)
    [(qml,)] = conn.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = 'changes' AND useAsDefault")
    temporal = ET.fromstring(qml.split("\n", 1)[1]).find("temporal")
    # from first_seen on, with no end: each change stays once shown
    assert (temporal.get("startExpression"), temporal.get("endExpression")) == ('to_datetime("first_seen")', "")
    assert conn.execute("PRAGMA application_id").fetchone()[0] == gpkg.APPLICATION_ID


def test_migration_3_keeps_the_verdict_history_and_adds_the_vessel_tables(tmp_path):
    path = tmp_path / "v2.gpkg"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    assert schema.migrate(conn, 0, upto=2) == [1, 2]
    conn.execute("INSERT INTO runs (started_at, finished_at, summary) VALUES ('t', 't', '{}')")
    conn.execute("INSERT INTO verdicts (kind, aoi_id, claim_id, before_scene, after_scene, algorithm_version, verdict, "
                 "rationale, run_id, recorded_at) VALUES ('window', 'x', 'c', 'B', 'A', 'v', 'no evidence found', "
                 "'why', 1, 't')")
    conn.execute("COMMIT")
    with pytest.raises(sqlite3.IntegrityError):  # version 2 knows no vessel verdicts
        conn.execute("INSERT INTO verdicts (kind, aoi_id, claim_id, before_scene, after_scene, algorithm_version, "
                     "verdict, run_id, recorded_at) VALUES ('vessels', 'x', 'c', 'B', 'A', 'v', 'v', 1, 't')")
    conn.close()
    with writer_lock(path), Store.open(path) as store:
        assert store.schema_version == schema.LATEST
        assert store.count("verdicts") == 1 and store.count("vessel_series") == 0
        with store.transaction():
            assert store.add_verdict("vessels", {"aoi_id": "x", "claim_id": "c", "verdict": "not tested",
                                                 "rationale": "no scene"}, "B", "A", "vessels/0.1", False, 1, "t")
        rows = store.conn.execute("SELECT kind, verdict, rationale FROM verdicts ORDER BY fid").fetchall()
    assert rows == [("window", "no evidence found", "why"), ("vessels", "not tested", "no scene")]
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert {"verdicts", "vessel_series", "vessel_masks"} <= layers  # registered GeoPackage attribute tables


def _tables(path):
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def test_a_store_from_a_newer_workbench_is_refused(tmp_path):
    path = tmp_path / "new.gpkg"
    with writer_lock(path), Store.open(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute("UPDATE store_meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=r"new\.gpkg: store schema version 99 is newer"):
        Store.open(path)


@pytest.mark.parametrize("content, message", [
    (b"not a database at all, just text\n" * 10, "not a readable SQLite/GeoPackage file"),
    (None, r"not a results store \(no store_meta table\)"),
])
def test_files_that_are_not_stores_are_refused(tmp_path, content, message):
    path = tmp_path / "other.gpkg"
    if content is None:
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE something (x)")
        conn.commit()
        conn.close()
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    with pytest.raises(StoreError, match=message) as info:
        Store.open(path)
    assert "other.gpkg" in str(info.value)
    assert path.read_bytes() == before


def test_a_folder_is_not_a_store(tmp_path):
    with pytest.raises(StoreError, match="is a folder"):
        Store.open(tmp_path)


def test_a_failed_transaction_leaves_nothing(tmp_path):
    path = tmp_path / "s.gpkg"
    _store_with_changes(path, [box(0, 0, 1, 1)])
    with writer_lock(path), Store.open(path) as store:
        with pytest.raises(RuntimeError), store.transaction():
            store.insert_run("2021-01-02T00:00:00.000Z", "src", "v", "0", "h", 1, {}, None)
            store.add_changes([ChangeFeature.from_properties(box(5, 5, 6, 6), _props("new", 1.0))], WHEN, 2, "2021-01-02T00:00:00.000Z")
            raise RuntimeError("killed half way")
        assert store.run_ids() == [1]
        assert [f.change_id for f in store.changes()] == ["id0"]


def test_migration_4_adds_the_vessel_size_classes_and_old_rows_say_they_have_none(tmp_path):
    from geo.store.vessels import add_vessel_rows, vessel_rows

    path = tmp_path / "v3.gpkg"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    assert schema.migrate(conn, 0, upto=3) == [1, 2, 3]
    conn.execute("INSERT INTO runs (started_at, finished_at, summary) VALUES ('t', 't', '{}')")
    conn.execute("INSERT INTO vessel_series (aoi_id, algorithm_version, scene_id, sensor, date, datetime, n_vessels, "
                 "n_large, observed_fraction, run_id, recorded_at) VALUES ('port', 'vessels/0.1', 'OLD', 's1', "
                 "'2021-04-01', '2021-04-01T06:00:00.000Z', 5, 3, 0.98, 1, 't')")
    conn.execute("COMMIT")
    conn.close()
    new = {"scene": "NEW", "sensor": "s1", "date": "2021-04-13", "datetime": "2021-04-13T06:00:00Z", "n_vessels": 6,
           "n_large": 4, "total_area_m2": 1.0, "large_area_m2": 1.0, "observed_fraction": 0.97, "observed_km2": 2.0,
           "land_mask": "sar-temporal-median/0.1", "n_100m": 2, "n_at_berth": 4, "n_at_anchor": 2, "n_100m_at_berth": 1}
    with writer_lock(path), Store.open(path) as store:
        assert store.schema_version == schema.LATEST == 13
        with store.transaction():
            assert add_vessel_rows(store, "port", "vessels/0.1", [new], 1, "t") == 1
        old_row, new_row = vessel_rows(store, "port", "vessels/0.1")
    assert old_row["scene"] == "OLD" and not set(schema.VESSEL_CLASS_COLUMNS) & set(old_row)
    assert {c: new_row[c] for c in schema.VESSEL_CLASS_COLUMNS} == {c: new[c] for c in schema.VESSEL_CLASS_COLUMNS}


def test_migration_7_reads_old_vessel_counts_of_unknown_mode_and_records_it_once_known(tmp_path):
    """Counts stored before schema 7 read with mode None (unknown, not ''); new ones keep theirs ('' where the item
    says none); a mode learned later is recorded only where it was unknown."""
    from geo.store.vessels import add_vessel_rows, set_vessel_modes, unknown_mode_scenes, vessel_rows

    path = tmp_path / "v6.gpkg"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    assert schema.migrate(conn, 0, upto=6) == [1, 2, 3, 4, 5, 6]
    conn.execute("INSERT INTO runs (started_at, finished_at, summary) VALUES ('t', 't', '{}')")
    for scene, day in (("OLD1", 1), ("OLD2", 7)):
        conn.execute("INSERT INTO vessel_series (aoi_id, algorithm_version, scene_id, sensor, date, datetime, "
                     "n_vessels, n_large, observed_fraction, run_id, recorded_at) VALUES ('port', 'vessels/0.1', ?, "
                     "'s1', ?, ?, 5, 3, 0.98, 1, 't')", (scene, f"2021-04-{day:02d}", f"2021-04-{day:02d}T06:00:00.000Z"))
    conn.execute("COMMIT")
    conn.close()
    row = {"sensor": "s1", "n_vessels": 6, "n_large": 4, "total_area_m2": 1.0, "large_area_m2": 1.0,
           "observed_fraction": 0.97, "observed_km2": 2.0, "land_mask": "sar-temporal-median/0.1"}
    new = [{**row, "scene": "IW", "instrument_mode": "IW", "date": "2021-04-13", "datetime": "2021-04-13T06:00:00Z"},
           {**row, "scene": "UNSAID", "instrument_mode": "", "date": "2021-04-19", "datetime": "2021-04-19T06:00:00Z"}]
    with writer_lock(path), Store.open(path) as store:
        assert store.schema_version == schema.LATEST == 13
        with store.transaction():
            assert add_vessel_rows(store, "port", "vessels/0.1", new, 1, "t") == 2
        assert sorted(unknown_mode_scenes(store, "port", "vessels/0.1")) == ["OLD1", "OLD2"]
        assert [(r["scene"], r["instrument_mode"]) for r in vessel_rows(store, "port", "vessels/0.1")] == [
            ("OLD1", None), ("OLD2", None), ("IW", "IW"), ("UNSAID", "")]
        with store.transaction():  # a mode for a count that has one already is not taken
            assert set_vessel_modes(store, "port", "vessels/0.1", {"OLD1": "EW", "IW": "EW", "UNSAID": "IW"}) == 1
        assert [(r["scene"], r["instrument_mode"]) for r in vessel_rows(store, "port", "vessels/0.1")] == [
            ("OLD1", "EW"), ("OLD2", None), ("IW", "IW"), ("UNSAID", "")]


def test_migration_6_keeps_old_pairs_readable_their_outside_share_unknown(tmp_path):
    """Pairs stored before schema 6 did not record their scenes' nodata share: read as unknown (None), not 0; AOIs
    this workbench stored from a drawn file (its source) are marked drawn, the others unknown."""
    path = tmp_path / "v5.gpkg"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    assert schema.migrate(conn, 0, upto=5) == [1, 2, 3, 4, 5]
    conn.execute("INSERT INTO runs (started_at, finished_at, summary) VALUES ('t', 't', '{}')")
    conn.execute("INSERT INTO pairs (aoi_id, before_scene, after_scene, algorithm_version, before_datetime, "
                 "after_datetime, status, clear_fraction, run_id) VALUES ('x', 'B', 'A', 'v', "
                 "'2021-04-01T10:30:12.345Z', '2021-05-01T10:30:12.345Z', 'done', 0.7, 1)")
    for aoi_id, source in (("harbour", "drawn area (harbour.geojson, 1 feature(s))"), ("port", "OSM")):
        conn.execute("INSERT INTO aois (aoi_id, source, feature, first_run, updated_run) VALUES (?, ?, '{}', 1, 1)",
                     (aoi_id, source))
    conn.execute("COMMIT")
    conn.close()
    with writer_lock(path), Store.open(path) as store:
        assert store.schema_version == schema.LATEST == 13
        old, = store.pairs("x", "v")
        assert old.clear_fraction == 0.7 and old.nodata_fractions == (None, None) and old.outside_fraction is None
        assert (store.aoi_drawn("harbour"), store.aoi_drawn("port"), store.aoi_drawn("none")) == (True, None, None)
        with store.transaction():
            store.add_pair("x", "v", SceneRef("A", WHEN), SceneRef("N", WHEN), "done", "", 0.68, 0, None, 1,
                           (0.3166, 0.1))
        new, = [p for p in store.pairs("x", "v") if p.after.id == "N"]
        assert new.nodata_fractions == (0.3166, 0.1) and new.outside_fraction == 0.3166


def test_migration_9_records_each_claims_window_zone_per_aoi_from_its_verdicts(tmp_path):
    """A store of schema 8 kept its claims' windows as bare dates. Migrated, each claim says the zone of its window's
    days per AOI, as its latest verdict there used it (a verdict from before verdicts named it: UTC days); a claim
    with no verdict, unknown (NULL). A re-check then records the zone over each AOI it checks, keeping the others."""
    from geo.claims import Claim, Stance, TimeWindow

    path = tmp_path / "v8.gpkg"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    assert schema.migrate(conn, 0, upto=8) == [1, 2, 3, 4, 5, 6, 7, 8]
    conn.execute("INSERT INTO runs (started_at, finished_at, summary) VALUES ('t', 't', '{}')")
    for claim_id in ("ships", "troops", "unjudged"):
        conn.execute("INSERT INTO claims (claim_id, window_start, window_end, summary, updated_run) VALUES "
                     "(?, '2021-06-10', '2021-06-13', '{}', 1)", (claim_id,))
    verdicts = [("window", "east", "ships", "B", "A", {"window_time_zone": "UTC"}),
                ("vessels", "east", "ships", "B", "C", {"window_time_zone": "UTC+08:48"}),  # the latest over east
                ("window", "west", "ships", "B", "A", {"window_time_zone": "Asia/Vladivostok"}),
                ("window", "east", "troops", "B", "A", {"verdict": "no evidence found"})]  # before zones were named
    for kind, aoi_id, claim_id, before, after, details in verdicts:
        conn.execute("INSERT INTO verdicts (kind, aoi_id, claim_id, before_scene, after_scene, algorithm_version, "
                     "verdict, details, run_id, recorded_at) VALUES (?, ?, ?, ?, ?, 'v', 'x', ?, 1, 't')",
                     (kind, aoi_id, claim_id, before, after, json.dumps(details)))
    conn.execute("COMMIT")
    conn.close()

    def zones(store):
        return {c: z and json.loads(z) for c, z in store.conn.execute("SELECT claim_id, window_time_zone FROM claims")}

    with writer_lock(path), Store.open(path) as store:
        assert store.schema_version == schema.LATEST == 13
        assert zones(store) == {"ships": {"east": "UTC+08:48", "west": "Asia/Vladivostok"},
                                "troops": {"east": "UTC"}, "unjudged": None}
        ships = Claim("ships", "x", "y", "z", date(2021, 6, 20), Stance.ASSERT, ("east", "north"),
                      TimeWindow(date(2021, 6, 10), date(2021, 6, 13)), ("large_vessels_at_berth",))
        with store.transaction():
            store.upsert_claim(ships, 1, "north", "UTC+08:40")
        # west is no AOI of the claim any more; east's zone stays until a re-check of east records it again
        assert zones(store)["ships"] == {"east": "UTC+08:48", "north": "UTC+08:40"}
        with store.transaction():
            store.upsert_claim(ships, 1, "east", "UTC+08:48")
        assert zones(store)["ships"] == {"east": "UTC+08:48", "north": "UTC+08:40"}
    frame = pyogrio.read_dataframe(path, layer="claims")  # what QGIS shows of it
    assert frame.set_index("claim_id").loc["ships", "window_time_zone"] == (
        '{"east": "UTC+08:48", "north": "UTC+08:40"}')


def test_migration_10_keeps_a_sentinel1_changes_own_attributes_old_ones_unknown(tmp_path):
    """Changes recorded before schema 10 read with the contract's attributes alone (their Sentinel-1 ones were not
    kept); a Sentinel-1 change recorded since reads back with them, in the order a run writes them, before
    first_seen and run_id; a Sentinel-2 change has none."""
    path = tmp_path / "v9.gpkg"
    _store_with_changes(path, [box(3.0, 45.0, 3.001, 45.002)])
    with sqlite3.connect(path) as conn:
        for column in schema.SAR_CHANGE_COLUMNS:
            conn.execute(f"ALTER TABLE changes DROP COLUMN {column}")
        conn.execute("DROP TABLE read_failures")  # migration 11's
        conn.execute("ALTER TABLE aois DROP COLUMN retired_run")  # migration 12's
        conn.execute("ALTER TABLE claims DROP COLUMN retired_run")
        conn.execute("DELETE FROM gpkg_contents WHERE table_name = 'read_failures'")
        conn.execute("UPDATE store_meta SET value = '9' WHERE key = 'schema_version'")
    conn.close()
    own = {"sensor": "s1", "backscatter": "increase", "db_change_hh": 7.76, "db_change_hv": 7.63, "water_share": 0.0,
           "omnibus_share": 0.8, "change_first_seen": "2021-03-20", "change_first_scene": "S1B",
           "change_last_unchanged": "2021-03-08", "change_date_agreement": 0.9}
    sar = ChangeFeature.from_properties(box(3.01, 45.0, 3.011, 45.002), {**_props("sar", 1.0), **own})
    with writer_lock(path), Store.open(path) as store:
        assert store.schema_version == schema.LATEST == 13
        with store.transaction():
            store.add_changes([sar], WHEN, 1, "2021-04-02T00:00:00.000Z")
        old, new = store.changes()
    assert dict(old.extra) == {"first_seen": "2021-04-01T10:30:12.345Z", "run_id": 1}
    assert list(new.extra.items()) == [*own.items(), ("first_seen", "2021-04-01T10:30:12.345Z"), ("run_id", 1)]
    frame = pyogrio.read_dataframe(path, layer="changes")  # what QGIS shows: typed columns, NULL where unknown
    assert frame["db_change_hh"].tolist()[1] == 7.76 and frame["sensor"].isna().tolist() == [True, False]
    assert str(frame["change_first_seen"].dtype).startswith("datetime64")  # a Date column: the time slider's
    assert str(frame["change_first_seen"][1])[:10] == "2021-03-20" and frame["change_first_seen"].isna()[0]


def test_the_store_has_a_column_for_every_attribute_sentinel1_adds():
    """A new attribute of Sentinel-1 changes (geo.vector.sensor_columns) needs a migration adding its column."""
    from geo.scenes.model import SAR_ASSETS
    from geo.vector.sensor_columns import sar_columns

    assert list(sar_columns(SAR_ASSETS, dated=True)) == list(schema.SAR_CHANGE_COLUMNS)


def test_migration_11_counts_failed_reads_in_an_old_store(tmp_path):
    """A store of schema 10 gains ``read_failures``, empty (a scene's count starts at its next failure), registered
    for QGIS; each run adds one to a scene's count from its first failure, and a read clears it."""
    path = tmp_path / "v10.gpkg"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    assert schema.migrate(conn, 0, upto=10) == list(range(1, 11))
    for _ in range(3):
        conn.execute("INSERT INTO runs (started_at, finished_at, summary) VALUES ('t', 't', '{}')")
    conn.execute("COMMIT")
    conn.close()
    with writer_lock(path), Store.open(path) as store:
        assert (store.migrated_from, store.schema_version) == (10, schema.LATEST)
        assert store.read_failures("harbour", "v") == {}
        with store.transaction():
            store.note_read_failure("harbour", "v", "S2B", "HTTP 503", 1, "2026-12-01T22:00:00.000Z")
            store.note_read_failure("harbour", "v", "S2B", "truncated", 2, "2026-12-02T10:00:00.000Z")
            store.note_read_failure("harbour", "v", "S2C", "HTTP 500", 2, "2026-12-02T10:00:00.000Z")
        assert store.read_failures("harbour", "v")["S2B"] == ReadFailure(
            "S2B", 2, datetime(2026, 12, 1, 22, tzinfo=timezone.utc), "truncated")
        assert store.read_failures("harbour", "other") == {} and store.read_failures("port", "v") == {}
        with store.transaction():
            store.clear_read_failures("harbour", "v", ["S2B"])
        assert list(store.read_failures("harbour", "v")) == ["S2C"]
        assert store.conn.execute("SELECT data_type FROM gpkg_contents WHERE table_name = 'read_failures'"
                                  ).fetchone() == ("attributes",)


def test_migration_12_has_every_aoi_of_an_old_store_current(tmp_path):
    """A store of schema 11 gains ``aois.retired_run`` and ``claims.retired_run``, NULL for each (current, as before);
    an AOI retired reads back as such and leaves the AOIs a scheduled re-check takes up."""
    path = tmp_path / "v11.gpkg"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    assert schema.migrate(conn, 0, upto=11) == list(range(1, 12))
    conn.execute("INSERT INTO runs (started_at, finished_at, summary) VALUES ('t', 't', '{}')")
    for aoi_id in ("east", "west"):
        conn.execute("INSERT INTO aois (aoi_id, feature, first_run, updated_run) VALUES (?, '{}', 1, 1)", (aoi_id,))
    conn.execute("COMMIT")
    conn.close()
    with writer_lock(path), Store.open(path) as store:
        assert (store.migrated_from, store.schema_version) == (11, schema.LATEST)
        assert store.retired() == {} and store.aoi_ids(retired=False) == ["east", "west"]
        with store.transaction():
            store.set_retired(["west"], 1)
        assert store.retired() == {"west": 1}
        assert store.aoi_ids() == ["east", "west"] and store.aoi_ids(retired=False) == ["east"]
        assert store.retired("claims") == {}


def test_migration_13_holds_verdicts_evidence_as_json_text_as_claim_ids(tmp_path):
    """``verdicts.evidence`` was comma text ('c1,c12') where ``changes.claim_ids`` and ``claims.aoi_ids`` are JSON
    text: a QGIS or ogr SQL user's filter, evidence LIKE '%c1%', also found the verdicts resting on c12. A store of
    schema 12 has its rows written again as JSON text, from each verdict's details (its comma text when they hold no
    list), and verdicts recorded since are JSON text too: evidence LIKE '%"c1"%' finds exactly the verdicts on c1."""
    path = tmp_path / "v12.gpkg"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    assert schema.migrate(conn, 0, upto=12) == list(range(1, 13))
    conn.execute("INSERT INTO runs (started_at, finished_at, summary) VALUES ('t', 't', '{}')")
    rows = [("pair", "a", "c1,c12", json.dumps({"evidence": ["c1", "c12"]})), ("window", "b", "c12", "{}"),
            ("vessels", "c", "", json.dumps({"p_value": 0.01})), ("pair", "d", None, None)]
    for kind, claim_id, evidence, details in rows:
        conn.execute("INSERT INTO verdicts (kind, aoi_id, claim_id, before_scene, after_scene, algorithm_version, "
                     "verdict, evidence, details, run_id, recorded_at) VALUES (?, 'x', ?, 'b', 'a', 'v', 'v', ?, ?, 1, "
                     "'t')", (kind, claim_id, evidence, details))
    conn.execute("COMMIT")
    conn.close()
    with writer_lock(path), Store.open(path) as store:
        assert (store.migrated_from, store.schema_version) == (12, schema.LATEST)
        with store.transaction():
            store.add_verdict("window", {"aoi_id": "x", "claim_id": "e", "verdict": "v", "rationale": "r",
                                         "evidence": ["c1"]}, "b", "a", "v", True, 1, "t")
        stored = dict(store.conn.execute("SELECT claim_id, evidence FROM verdicts"))
        assert stored == {"a": '["c1", "c12"]', "b": '["c12"]', "c": "[]", "d": "[]", "e": '["c1"]'}
        found = [r[0] for r in store.conn.execute("""SELECT claim_id FROM verdicts WHERE evidence LIKE '%"c1"%'""")]
        assert sorted(found) == ["a", "e"]


def test_spatial_index_triggers_of_gdal_run_on_the_stores_connection(tmp_path):
    """QGIS's *Create Spatial Index* adds GDAL's rtree triggers, which call ST_IsEmpty and ST_MinX ...: a write
    through the store's connection keeps the index as GDAL would."""
    path = tmp_path / "s.gpkg"
    with Store.open(path) as store:
        store.conn.execute("PRAGMA foreign_keys = OFF")  # rows of no run: the triggers alone are tested
        store.conn.execute("CREATE VIRTUAL TABLE rtree_changes_geom USING rtree(id, minx, maxx, miny, maxy)")
        store.conn.execute(
            'CREATE TRIGGER rtree_changes_geom_insert AFTER INSERT ON changes WHEN (new.geom NOT NULL AND NOT '
            'ST_IsEmpty(NEW.geom)) BEGIN INSERT OR REPLACE INTO rtree_changes_geom VALUES (NEW.fid, ST_MinX(NEW.geom), '
            'ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END')
        for name, geometry in (("c1", box(1, 2, 3, 4)), ("c2", MultiPolygon())):
            store.conn.execute("INSERT INTO changes (geom, change_id, aoi_id, before_scene, after_scene, first_seen, "
                               "algorithm_version, run_id, recorded_at) VALUES (?, ?, 'a', 'b', 'c', 'd', 'v', 1, 'r')",
                               (gpkg.encode(gpkg.as_multipolygon(geometry)), name))
        assert store.conn.execute("SELECT * FROM rtree_changes_geom").fetchall() == [(1, 1.0, 3.0, 2.0, 4.0)]
        point = shapely.to_wkb(shapely.Point(5, 6), byte_order=0)  # big-endian, no envelope (as GDAL writes points)
        blob = struct.pack(">2sBBi", b"GP", 0, 0, 4326) + point
        assert store.conn.execute("SELECT ST_IsEmpty(?), ST_MinX(?), ST_MaxY(?), ST_IsEmpty(NULL)",
                                  (blob, blob, blob)).fetchone() == (0, 5.0, 6.0, None)
