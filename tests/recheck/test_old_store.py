"""A store written by an older workbench (schema 5: before the pairs' outside shares and drawn AOIs), re-checked
by today's: it is migrated on open, which is a write, so a re-check with nothing new does not call it
"unchanged" (it did); its pairs go on, the old ones' outside share unknown (NULL), the new ones' recorded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from geo.store import schema

OLD_SCHEMA = 5


def as_schema_5(store: Path) -> None:
    """What migrations 6 and 7 added, taken out again: the store as a workbench of schema 5 left it."""
    with sqlite3.connect(store) as conn:
        conn.execute("ALTER TABLE vessel_series DROP COLUMN instrument_mode")
        for column in schema.NODATA_COLUMNS:
            conn.execute(f"ALTER TABLE pairs DROP COLUMN {column}")
        conn.execute("ALTER TABLE aois DROP COLUMN drawn")
        conn.execute("UPDATE store_meta SET value = ? WHERE key = 'schema_version'", (str(OLD_SCHEMA),))


def test_an_old_store_with_nothing_new_says_it_was_migrated_then_goes_on(first_run, geo_cli):
    series, store = first_run
    as_schema_5(store)
    with sqlite3.connect(store) as conn:
        pairs = conn.execute("SELECT aoi_id, before_scene, after_scene, status FROM pairs ORDER BY fid").fetchall()
    quiet = geo_cli(*series.args(store), env={"TZ": "America/New_York"})  # as cron runs it
    assert quiet.returncode == 0 and "Traceback" not in quiet.stderr, quiet.stderr
    assert quiet.stdout.startswith("nothing new: 4 AOI(s) checked in ")
    assert quiet.stdout.rstrip().endswith(f"store unchanged but for its schema migrated from version {OLD_SCHEMA} "
                                          f"to {schema.LATEST}")
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT value FROM store_meta WHERE key = 'schema_version'").fetchone() == (
            str(schema.LATEST),)
        assert conn.execute("SELECT count(*) FROM runs").fetchone() == (1,)
    again = geo_cli(*series.args(store))
    assert again.returncode == 0 and again.stdout.rstrip().endswith("; store unchanged"), again.stdout

    series.publish(4)
    later = geo_cli(*series.args(store), env={"TZ": "Asia/Seoul"})
    assert later.returncode == 0 and "schema migrated" not in later.stdout, later.stdout
    with sqlite3.connect(store) as conn:
        rows = conn.execute("SELECT aoi_id, before_scene, after_scene, status, before_nodata_fraction, "
                            "after_nodata_fraction FROM pairs ORDER BY fid").fetchall()
    assert [r[:4] for r in rows[:len(pairs)]] == pairs and {r[4:] for r in rows[:len(pairs)]} == {(None, None)}
    assert len(rows) == len(pairs) + 4 and {r[4:] for r in rows[len(pairs):]} == {(0.0, 0.0)}
