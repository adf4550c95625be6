"""The store's schema as numbered migrations.

``store_meta.schema_version`` says how far a store has been migrated; opening a store applies the missing
migrations in order, each in the caller's transaction. A store from a newer workbench is refused rather
than guessed at. Never edit a released migration: add the next one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from geo.store import gpkg
from geo.store.qgis import changes_qml

Migration = Callable[[sqlite3.Connection], None]

# Feature layers (lon/lat MULTIPOLYGON) and attribute tables, with what QGIS shows as their description.
FEATURE_LAYERS = {
    "aois": "areas of interest under re-check (as first registered, updated when the AOI file changes)",
    "changes": "every change polygon found by re-checks; first_seen = acquisition time of the scene showing it",
}
ATTRIBUTE_TABLES = {
    "claims": "claims tested on the store's AOIs (latest version of each)",
    "scenes": "scenes seen over each AOI, with the run that first saw them",
    "chains": "per AOI and algorithm version: the baseline scene and the newest usable after-scene",
    "runs": "one row per re-check that recorded something; summary = what was new",
    "pairs": "scene pairs processed (done) or skipped (too cloudy / unreadable); key = AOI, scenes, algorithm",
    "verdicts": "verdict history: per pair, and per claim window over the chain of pairs covering it",
}

_V1_TABLES = (
    "CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE aois (
        fid INTEGER PRIMARY KEY AUTOINCREMENT, geom MULTIPOLYGON, aoi_id TEXT NOT NULL UNIQUE, name TEXT,
        kind TEXT, country TEXT, source TEXT, approximate BOOLEAN, area_km2 REAL, feature TEXT NOT NULL,
        first_run INTEGER NOT NULL, updated_run INTEGER NOT NULL)""",
    """CREATE TABLE claims (
        fid INTEGER PRIMARY KEY AUTOINCREMENT, claim_id TEXT NOT NULL UNIQUE, stance TEXT, aoi_ids TEXT,
        window_start DATE, window_end DATE, signatures TEXT, claimant TEXT, statement TEXT, summary TEXT NOT NULL,
        updated_run INTEGER NOT NULL)""",
    """CREATE TABLE scenes (
        fid INTEGER PRIMARY KEY AUTOINCREMENT, aoi_id TEXT NOT NULL, scene_id TEXT NOT NULL, datetime DATETIME NOT NULL,
        collection TEXT, platform TEXT, cloud_cover REAL, source TEXT, first_seen_run INTEGER NOT NULL,
        UNIQUE (aoi_id, scene_id))""",
    """CREATE TABLE chains (
        fid INTEGER PRIMARY KEY AUTOINCREMENT, aoi_id TEXT NOT NULL, algorithm_version TEXT NOT NULL,
        baseline_scene TEXT NOT NULL, baseline_datetime DATETIME NOT NULL, baseline_reason TEXT,
        head_scene TEXT NOT NULL, head_datetime DATETIME NOT NULL, updated_run INTEGER NOT NULL,
        UNIQUE (aoi_id, algorithm_version))""",
    """CREATE TABLE runs (
        run_id INTEGER PRIMARY KEY AUTOINCREMENT, started_at DATETIME NOT NULL, finished_at DATETIME NOT NULL,
        source TEXT, algorithm_version TEXT, workbench_version TEXT, host TEXT, pid INTEGER, arguments TEXT,
        n_aois INTEGER, n_pairs INTEGER, n_new_changes INTEGER, n_failed_aois INTEGER, has_new BOOLEAN,
        summary TEXT NOT NULL, on_new TEXT, notified_at DATETIME)""",
    """CREATE TABLE pairs (
        fid INTEGER PRIMARY KEY AUTOINCREMENT, aoi_id TEXT NOT NULL, before_scene TEXT NOT NULL,
        after_scene TEXT NOT NULL, algorithm_version TEXT NOT NULL, before_datetime DATETIME, after_datetime DATETIME,
        status TEXT NOT NULL CHECK (status IN ('done', 'skipped')), reason TEXT, clear_fraction REAL,
        n_changes INTEGER, coreg_dx_px REAL, coreg_dy_px REAL, coreg_quality REAL, manifest TEXT,
        run_id INTEGER NOT NULL REFERENCES runs(run_id),
        UNIQUE (aoi_id, before_scene, after_scene, algorithm_version))""",
    """CREATE TABLE changes (
        fid INTEGER PRIMARY KEY AUTOINCREMENT, geom MULTIPOLYGON, change_id TEXT NOT NULL UNIQUE,
        aoi_id TEXT NOT NULL, claim_ids TEXT, before_scene TEXT NOT NULL, after_scene TEXT NOT NULL,
        before_date DATE, after_date DATE, first_seen DATETIME NOT NULL, area_m2 REAL, score REAL, confidence REAL,
        change_type TEXT, type_confidence REAL, pixels INTEGER, algorithm_version TEXT NOT NULL,
        run_id INTEGER NOT NULL REFERENCES runs(run_id), recorded_at DATETIME NOT NULL)""",
    "CREATE INDEX changes_pair ON changes (aoi_id, algorithm_version, after_scene)",
    """CREATE TABLE verdicts (
        fid INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL CHECK (kind IN ('pair', 'window')),
        aoi_id TEXT NOT NULL, claim_id TEXT NOT NULL, before_scene TEXT NOT NULL, after_scene TEXT NOT NULL,
        algorithm_version TEXT NOT NULL, verdict TEXT NOT NULL, confidence REAL, rationale TEXT, n_changes INTEGER,
        n_matching INTEGER, clear_fraction REAL, covers_window BOOLEAN, evidence TEXT, details TEXT,
        run_id INTEGER NOT NULL REFERENCES runs(run_id), recorded_at DATETIME NOT NULL,
        UNIQUE (kind, aoi_id, claim_id, before_scene, after_scene, algorithm_version))""",
)


# Vessel counts by class (migration 4), nullable: rows of older stores have none.
VESSEL_CLASS_COLUMNS = ("n_100m", "n_at_berth", "n_at_anchor", "n_100m_at_berth")
# Per pair, the share of the AOI its before and after scene do not hold (migration 6), nullable: unknown before.
NODATA_COLUMNS = ("before_nodata_fraction", "after_nodata_fraction")

def _v1(conn: sqlite3.Connection) -> None:
    gpkg.create_core(conn)
    for sql in _V1_TABLES:
        conn.execute(sql)
    for table, description in FEATURE_LAYERS.items():
        gpkg.register_features(conn, table, description)
    for table, description in ATTRIBUTE_TABLES.items():
        gpkg.register_attributes(conn, table, description)


def _v2(conn: sqlite3.Connection) -> None:
    """QGIS loads a layer's default style from ``layer_styles``: make ``changes`` temporal on open."""
    conn.execute(
        """CREATE TABLE IF NOT EXISTS layer_styles (
            id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
            f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
            useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
            update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""
    )
    if not conn.execute("SELECT 1 FROM gpkg_contents WHERE table_name = 'layer_styles'").fetchone():
        gpkg.register_attributes(conn, "layer_styles", "QGIS layer styles")
    conn.execute(
        """INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName,
               styleQML, styleSLD, useAsDefault, description, owner, ui)
           VALUES ('', '', 'changes', 'geom', 'changes over time', ?, '', 1,
                   'time slider: each change appears at first_seen and stays', '', '')""",
        (changes_qml(),),
    )


# Added by migration 3 (kept apart from ATTRIBUTE_TABLES: migration 1 registers exactly those).
VESSEL_TABLES = {
    "vessel_series": "vessel counts per AOI and scene (geo vessels), appended by re-checks of AOIs whose claims "
                     "predict ships; the evidence is recomputed over the whole stored series each run",
    "vessel_masks": "per AOI and sensor: the time-series land mask of the AOI's first vessel run, kept so later "
                    "runs judge their new scenes against the same sea",
}

_V3_VERDICTS = """CREATE TABLE verdicts_v3 (
        fid INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL CHECK (kind IN ('pair', 'window', 'vessels')),
        aoi_id TEXT NOT NULL, claim_id TEXT NOT NULL, before_scene TEXT NOT NULL, after_scene TEXT NOT NULL,
        algorithm_version TEXT NOT NULL, verdict TEXT NOT NULL, confidence REAL, rationale TEXT, n_changes INTEGER,
        n_matching INTEGER, clear_fraction REAL, covers_window BOOLEAN, evidence TEXT, details TEXT,
        run_id INTEGER NOT NULL REFERENCES runs(run_id), recorded_at DATETIME NOT NULL,
        UNIQUE (kind, aoi_id, claim_id, before_scene, after_scene, algorithm_version))"""


def _v3(conn: sqlite3.Connection) -> None:
    """Vessel count series and land masks; verdict history of kind 'vessels' (the count evidence over the
    stored series: before/after scene = its first and last scene)."""
    conn.execute(
        """CREATE TABLE vessel_series (
            fid INTEGER PRIMARY KEY AUTOINCREMENT, aoi_id TEXT NOT NULL, algorithm_version TEXT NOT NULL,
            scene_id TEXT NOT NULL, sensor TEXT NOT NULL, date DATE NOT NULL, datetime DATETIME NOT NULL,
            n_vessels INTEGER NOT NULL, n_large INTEGER NOT NULL, total_area_m2 REAL, large_area_m2 REAL,
            observed_fraction REAL NOT NULL, observed_km2 REAL, land_mask TEXT,
            run_id INTEGER NOT NULL REFERENCES runs(run_id), recorded_at DATETIME NOT NULL,
            UNIQUE (aoi_id, scene_id, algorithm_version))"""
    )
    conn.execute(
        """CREATE TABLE vessel_masks (
            fid INTEGER PRIMARY KEY AUTOINCREMENT, aoi_id TEXT NOT NULL, algorithm_version TEXT NOT NULL,
            sensor TEXT NOT NULL, grid TEXT NOT NULL, method TEXT, mask BLOB NOT NULL,
            run_id INTEGER NOT NULL REFERENCES runs(run_id), UNIQUE (aoi_id, sensor, algorithm_version))"""
    )
    for table, description in VESSEL_TABLES.items():
        gpkg.register_attributes(conn, table, description)
    # SQLite cannot change a CHECK constraint in place: copy the history into the new table, swap.
    conn.execute(_V3_VERDICTS)
    conn.execute("INSERT INTO verdicts_v3 SELECT * FROM verdicts")
    conn.execute("DROP TABLE verdicts")
    conn.execute("ALTER TABLE verdicts_v3 RENAME TO verdicts")


def _v4(conn: sqlite3.Connection) -> None:
    """Size classes and berths of the vessel counts (``geo.vessels.series``): rows stored before stay NULL there,
    and a series holding such rows is tested on ``n_large`` (``geo.vessels.evidence``)."""
    for column in VESSEL_CLASS_COLUMNS:
        conn.execute(f"ALTER TABLE vessel_series ADD COLUMN {column} INTEGER")


def _v5(conn: sqlite3.Connection) -> None:
    """Webhook alerts (``--notify``) not yet delivered: a run keeps its alert pending until a webhook takes it,
    so a receiver that was down gets it at a later re-check (runs recorded before: none pending)."""
    conn.execute("ALTER TABLE runs ADD COLUMN alert_pending BOOLEAN NOT NULL DEFAULT 0")


def _v6(conn: sqlite3.Connection) -> None:
    """What re-checks did not record before: the share of the AOI each scene of a pair does not hold (outside its
    footprint), which window verdicts name as the part of the AOI outside the scenes, and whether an AOI was
    drawn (given as a file) rather than read from the aoi/ registry, so that an unreadable registry file is not
    taken for its own. Rows recorded before stay NULL, unknown, but for AOIs marked as this workbench marks a
    drawn file (``geo.aoi.drawn_aoi_from_geojson``'s source) when it has no source property of its own."""
    for column in NODATA_COLUMNS:
        conn.execute(f"ALTER TABLE pairs ADD COLUMN {column} REAL")
    conn.execute("ALTER TABLE aois ADD COLUMN drawn BOOLEAN")
    conn.execute("UPDATE aois SET drawn = 1 WHERE source LIKE 'drawn area (%'")


def _v7(conn: sqlite3.Connection) -> None:
    """Each vessel count's instrument mode (Sentinel-1's ``sar:instrument_mode``, IW or EW; '' for Sentinel-2 or an
    item that does not say), so a re-check tests each mode against its own baseline as ``geo vessels`` does. Rows
    counted before stay NULL, unknown: ``geo.vessels.series.place_unknown_modes`` says where they go."""
    conn.execute("ALTER TABLE vessel_series ADD COLUMN instrument_mode TEXT")


# what QGIS shows of vessel_masks since migration 8 (migration 3 wrote VESSEL_TABLES')
VESSEL_MASKS_V8 = ("per AOI, sensor and instrument mode: the time-series land mask of the AOI's first vessel run "
                   "with that mode, kept so later runs judge their new scenes against the same sea")
_V8_MASKS = """CREATE TABLE vessel_masks_v8 (
        fid INTEGER PRIMARY KEY AUTOINCREMENT, aoi_id TEXT NOT NULL, algorithm_version TEXT NOT NULL,
        sensor TEXT NOT NULL, grid TEXT NOT NULL, method TEXT, mask BLOB NOT NULL,
        run_id INTEGER NOT NULL REFERENCES runs(run_id), instrument_mode TEXT,
        UNIQUE (aoi_id, sensor, instrument_mode, algorithm_version))"""


def _v8(conn: sqlite3.Connection) -> None:
    """Land masks per instrument mode as well as sensor (an EW pass judged against its own sea, not one made of IW
    scenes). Masks kept before stay, mode NULL: made of their run's scenes of that sensor, whatever their modes
    (``geo.recheck.vessels`` reads one as a mode's when those scenes' counts are all of that mode)."""
    # SQLite cannot change a UNIQUE constraint in place: copy into the new table, swap (its description stays)
    conn.execute(_V8_MASKS)
    conn.execute("INSERT INTO vessel_masks_v8 (fid, aoi_id, algorithm_version, sensor, grid, method, mask, run_id) "
                 "SELECT fid, aoi_id, algorithm_version, sensor, grid, method, mask, run_id FROM vessel_masks")
    conn.execute("DROP TABLE vessel_masks")
    conn.execute("ALTER TABLE vessel_masks_v8 RENAME TO vessel_masks")
    conn.execute("UPDATE gpkg_contents SET description = ? WHERE table_name = 'vessel_masks'",
                 (VESSEL_MASKS_V8,))


def _v9(conn: sqlite3.Connection) -> None:
    """The zone whose days each claim's window counts (``geo.claim_days``), per AOI: ``window_time_zone``, a JSON
    object of AOI id -> zone name (``DayZone.name``, as ``claims.json``'s ``window_time_zone``). A store's claims
    are filled from the verdicts recorded of them, each AOI's latest (one recorded before verdicts named their
    zone counted UTC days); a claim never judged stays NULL until a re-check records it again."""
    conn.execute("ALTER TABLE claims ADD COLUMN window_time_zone TEXT")
    zones: dict[str, dict[str, str]] = {}
    for claim_id, aoi_id, details in conn.execute("SELECT claim_id, aoi_id, details FROM verdicts ORDER BY fid"):
        try:
            zone = json.loads(details or "{}").get("window_time_zone", "UTC")
        except (ValueError, AttributeError):
            continue  # not a JSON object: nothing to learn from it
        zones.setdefault(claim_id, {})[aoi_id] = str(zone)
    conn.executemany("UPDATE claims SET window_time_zone = ? WHERE claim_id = ?",
                     [(json.dumps(dict(sorted(z.items()))), claim_id) for claim_id, z in zones.items()])


# What a Sentinel-1 pair adds to a change (``geo.vector.sensor_columns``: every polarisation, the omnibus dating),
# with their SQL types (migration 10): NULL for a Sentinel-2 change, one recorded before, or a pair not dated.
SAR_CHANGE_COLUMNS = {
    "sensor": "TEXT", "backscatter": "TEXT", "db_change_vv": "REAL", "db_change_vh": "REAL", "db_change_hh": "REAL",
    "db_change_hv": "REAL", "water_share": "REAL", "omnibus_share": "REAL", "change_first_seen": "DATE",
    "change_first_scene": "TEXT", "change_last_unchanged": "DATE", "change_date_agreement": "REAL",
}


def _v10(conn: sqlite3.Connection) -> None:
    """A Sentinel-1 change's own attributes (``SAR_CHANGE_COLUMNS``), which ``changes.geojson`` and
    ``changes.gpkg`` of a ``geo run --sensor s1`` have: changes recorded before stay NULL there, unknown."""
    for column, kind in SAR_CHANGE_COLUMNS.items():
        conn.execute(f"ALTER TABLE changes ADD COLUMN {column} {kind}")


# Added by migration 11 (registered as a GeoPackage attribute table, so QGIS lists it with its description).
READ_FAILURES = ("per AOI, chain and scene: the consecutive re-checks in which reading the scene failed (host 5xx, "
                 "timeouts, a truncated file); a scene failing in 3 runs over at least 24 h is skipped, its pair "
                 "recorded with why")


def _v11(conn: sqlite3.Connection) -> None:
    """The count of failed reads per scene (``geo.store.read_failures``): a store migrated has none, each scene's
    count starts at its next failure."""
    conn.execute(
        """CREATE TABLE read_failures (
            fid INTEGER PRIMARY KEY AUTOINCREMENT, aoi_id TEXT NOT NULL, algorithm_version TEXT NOT NULL,
            scene_id TEXT NOT NULL, n_runs INTEGER NOT NULL, first_failed_at DATETIME NOT NULL,
            last_failed_at DATETIME NOT NULL, last_error TEXT NOT NULL,
            last_run_id INTEGER NOT NULL REFERENCES runs(run_id), UNIQUE (aoi_id, scene_id, algorithm_version))"""
    )
    gpkg.register_attributes(conn, "read_failures", READ_FAILURES)


def _v12(conn: sqlite3.Connection) -> None:
    """AOIs and claims no longer in the registry marked rather than re-checked on or dropped: ``aois.retired_run``,
    the run that found no file of aoi/ defining the AOI (removed, or its id changed), and ``claims.retired_run``, the
    run that found the claim in no seeds file; NULL while current (``geo.recheck.retire``). A store migrated has
    every AOI and claim current."""
    conn.execute("ALTER TABLE aois ADD COLUMN retired_run INTEGER")
    conn.execute("ALTER TABLE claims ADD COLUMN retired_run INTEGER")


def _v13(conn: sqlite3.Connection) -> None:
    """``verdicts.evidence`` (the change ids a verdict rests on) as JSON text, ``["c1", "c12"]``, as ``changes.claim_ids``
    and ``claims.aoi_ids`` are: comma text, ``c1,c12``, had a QGIS or ogr SQL filter ``evidence LIKE '%c1%'`` find the
    verdicts on c12 too, where ``LIKE '%"c1"%'`` is exact. Each row is written again from its details' ``evidence``
    (the list recorded), else from its comma text (change ids hold no comma); none is ``[]``."""
    rows = []
    for fid, evidence, details in conn.execute("SELECT fid, evidence, details FROM verdicts"):
        try:
            listed = json.loads(details or "{}").get("evidence")
        except (ValueError, AttributeError):
            listed = None
        if not isinstance(listed, list):
            listed = [e for e in (evidence or "").split(",") if e]
        rows.append((json.dumps([str(e) for e in listed]), fid))
    conn.executemany("UPDATE verdicts SET evidence = ? WHERE fid = ?", rows)


MIGRATIONS: tuple[tuple[int, str, Migration], ...] = (
    (1, "GeoPackage core; AOIs, claims, scenes, chains, runs, pairs, changes, verdicts", _v1),
    (2, "QGIS default style for changes: temporal by first_seen, accumulating", _v2),
    (3, "vessel count series and land masks; vessel verdicts in the history", _v3),
    (4, "vessel counts by size class (>= 100 m) and berth", _v4),
    (5, "webhook alerts pending delivery", _v5),
    (6, "scenes' share of the AOI outside them per pair; drawn AOIs marked", _v6),
    (7, "instrument mode of each vessel count", _v7),
    (8, "vessel land masks per instrument mode", _v8),
    (9, "the zone of each claim's window days per AOI", _v9),
    (10, "Sentinel-1 attributes of changes", _v10),
    (11, "count of failed reads per scene", _v11),
    (12, "AOIs and claims no longer in the registry marked retired", _v12),
    (13, "verdicts' evidence as JSON text, as changes' claim_ids", _v13),
)
LATEST = MIGRATIONS[-1][0]


def schema_version(conn: sqlite3.Connection) -> int | None:
    """The store's schema version; 0 for an empty database; None when it holds tables but is no store."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return 0
    if "store_meta" not in tables:
        return None
    row = conn.execute("SELECT value FROM store_meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else None


def migrate(conn: sqlite3.Connection, current: int, upto: int = LATEST) -> list[int]:
    """Apply migrations ``current+1 .. upto`` (inside the caller's transaction); return those applied."""
    applied = []
    for version, _description, apply in MIGRATIONS:
        if current < version <= upto:
            apply(conn)
            conn.execute(
                "INSERT INTO store_meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(version),),
            )
            applied.append(version)
    return applied
