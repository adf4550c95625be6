"""A store written by an older workbench (schema 5: before the pairs' outside shares and drawn AOIs), re-checked
by today's: it is migrated on open, which is a write, so a re-check with nothing new does not call it
"unchanged" (it did); its pairs go on, the old ones' outside share unknown (NULL), the new ones' recorded.
A store of schema 6 (vessel counts without their instrument mode) of a port with EW passes among IW ones: its
counts' modes are learned from the archive where it still lists their scenes, else they follow the rule of
``geo.vessels.series.place_unknown_modes``."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pystac

from geo.link import CONSISTENT
from geo.store import schema
from tests import synthetic
from tests.flows.test_recheck_vessel_modes import EARLY_EW
from tests.flows.test_vessel_modes import in_modes

OLD_SCHEMA = 5


def without_mask_modes(conn: sqlite3.Connection) -> None:
    """What migration 8 added, taken out: one land mask per AOI and sensor, as schema 7 kept (made of all its
    run's scenes of that sensor; here the mask of the mode with the most of them, the nearest to that)."""
    kept: dict[tuple[str, str, str], tuple[int, int]] = {}
    for fid, aoi_id, version, sensor, scenes in conn.execute(
            "SELECT fid, aoi_id, algorithm_version, sensor, (SELECT count(*) FROM vessel_series s WHERE s.aoi_id = "
            "m.aoi_id AND s.sensor = m.sensor AND s.instrument_mode = m.instrument_mode AND s.run_id = m.run_id) "
            "FROM vessel_masks m").fetchall():
        kept[(aoi_id, version, sensor)] = max(kept.get((aoi_id, version, sensor), (-1, 0)), (scenes, -fid))
    conn.execute("""CREATE TABLE masks_v3 (
            fid INTEGER PRIMARY KEY AUTOINCREMENT, aoi_id TEXT NOT NULL, algorithm_version TEXT NOT NULL,
            sensor TEXT NOT NULL, grid TEXT NOT NULL, method TEXT, mask BLOB NOT NULL,
            run_id INTEGER NOT NULL REFERENCES runs(run_id), UNIQUE (aoi_id, sensor, algorithm_version))""")
    conn.executemany("INSERT INTO masks_v3 SELECT fid, aoi_id, algorithm_version, sensor, grid, method, mask, run_id "
                     "FROM vessel_masks WHERE fid = ?", [(-fid,) for _, fid in kept.values()])
    conn.execute("DROP TABLE vessel_masks")
    conn.execute("ALTER TABLE masks_v3 RENAME TO vessel_masks")


def as_schema_8(conn: sqlite3.Connection) -> None:
    """What migrations after 8 added, taken out again (the version left for the caller to set): claims without
    their window's zones, changes without their Sentinel-1 attributes, no count of failed reads, no AOI retired."""
    conn.execute("ALTER TABLE aois DROP COLUMN retired_run")
    conn.execute("ALTER TABLE claims DROP COLUMN retired_run")
    conn.execute("DROP TABLE read_failures")
    conn.execute("DELETE FROM gpkg_contents WHERE table_name = 'read_failures'")
    conn.execute("ALTER TABLE claims DROP COLUMN window_time_zone")
    for column in schema.SAR_CHANGE_COLUMNS:
        conn.execute(f"ALTER TABLE changes DROP COLUMN {column}")


def as_schema_5(store: Path) -> None:
    """What migrations 6 to 8 and later added, taken out again: the store as a workbench of schema 5 left it."""
    with sqlite3.connect(store) as conn:
        as_schema_8(conn)
        without_mask_modes(conn)
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
    assert quiet.stdout.startswith("nothing new: 4 AOIs checked in ")
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


def as_schema_6(store: Path) -> None:
    """The store as a workbench of schema 6 left it: vessel counts without their instrument mode, and one land mask
    per sensor."""
    conn = sqlite3.connect(store)
    with conn:
        as_schema_8(conn)
        without_mask_modes(conn)
        conn.execute("ALTER TABLE vessel_series DROP COLUMN instrument_mode")
        conn.execute("UPDATE store_meta SET value = '6' WHERE key = 'schema_version'")
    conn.close()  # closed, its write-ahead log is folded into the file (copied below)


WINDOW = ("S1A_TEST_20210611", "S1A_TEST_20210613")  # the claim's busy window, in IW


def test_an_old_stores_vessel_counts_learn_their_mode_from_the_archive_or_follow_the_rule(geo_cli, port_project,
                                                                                          tmp_path):
    """The old store's ten baseline counts (four EW among them) had one series: the busy IW window was 'no
    evidence found' against it. After the migration the re-check finds those scenes in the archive again and
    records their modes, so the window is tested against the six IW dates alone. Where the archive lists them
    no more, they stay unknown, and, every new count being IW, join IW's series, named as taken to be IW."""
    modes = in_modes(port_project.catalog, tmp_path / "modes", lambda s: s.id in EARLY_EW)
    items = {i.id: i for i in pystac.Catalog.from_file(str(modes)).get_items(recursive=True)}

    def publish(ids, name):
        return synthetic.write_catalog(tmp_path / name, [items[i].clone() for i in sorted(ids)])

    def recheck(store, source):
        return geo_cli("recheck", "--aoi", "test-port", "--source", str(source), "--aoi-dir", str(port_project.aoi_dir),
                       "--seeds-dir", str(port_project.seeds_dir), "--store", str(store))

    store = tmp_path / "old.gpkg"
    first = recheck(store, publish(set(items) - set(WINDOW), "early"))
    assert first.returncode == 0, first.stderr
    as_schema_6(store)
    moved = tmp_path / "moved.gpkg"  # the same store re-checked against an archive that lists only the new scenes
    shutil.copy(store, moved)

    later = recheck(store, publish(items, "all"))
    assert later.returncode == 0 and "Traceback" not in later.stderr, later.stderr
    assert f"schema migrated from version 6 to {schema.LATEST}" in later.stdout, later.stdout
    with sqlite3.connect(store) as conn:
        stored = dict(conn.execute("SELECT scene_id, instrument_mode FROM vessel_series"))
        masks = {scene: mask for scene, mask in conn.execute("SELECT scene_id, land_mask FROM vessel_series")
                 if scene in WINDOW}
        [summary] = conn.execute("SELECT summary FROM runs WHERE run_id = 2").fetchone()
        [details] = conn.execute("SELECT details FROM verdicts WHERE kind = 'vessels' AND claim_id = 'test-ships' "
                                 "AND run_id = 2").fetchone()
    assert stored == {i: "EW" if i in EARLY_EW else "IW" for i in items}
    # the old store's one s1 mask was made of IW and EW scenes: no mode's sea, not used; two IW dates, one scene each
    assert masks == dict.fromkeys(WINDOW, "sar-single-scene+objects-on-water"), masks
    vessels = json.loads(summary)["aois"][0]["vessels"]
    assert vessels["n_modes_learned"] == 10 and vessels["series"] == {"s1 EW": 4, "s1 IW": 8}, vessels
    ships = json.loads(details)
    assert ships["verdict"] == CONSISTENT and set(ships["tests"]) == {"s1 IW", "s1 IW at berth"}, ships["rationale"]
    assert len(ships["tests"]["s1 IW"]["baseline"]) == 6
    assert f"4 s1 EW scenes left out ({', '.join(sorted(EARLY_EW))})" in ships["rationale"]

    elsewhere = recheck(moved, publish(WINDOW, "window-only"))
    assert elsewhere.returncode == 0 and "Traceback" not in elsewhere.stderr, elsewhere.stderr
    with sqlite3.connect(moved) as conn:
        stored = dict(conn.execute("SELECT scene_id, instrument_mode FROM vessel_series"))
        masks = {scene: mask for scene, mask in conn.execute("SELECT scene_id, land_mask FROM vessel_series")
                 if scene in WINDOW}
        [details] = conn.execute("SELECT details FROM verdicts WHERE kind = 'vessels' AND claim_id = 'test-ships' "
                                 "AND run_id = 2").fetchone()
    assert {s: m for s, m in stored.items() if s in WINDOW} == dict.fromkeys(WINDOW, "IW")
    old = sorted(s for s in stored if s not in WINDOW)
    assert len(old) == 10 and {stored[s] for s in old} == {None}  # unknown, as stored
    # its mask follows its scenes' counts, taken as IW: IW's, kept (without_mask_modes kept the 6 IW scenes' one)
    assert set(masks.values()) == {"sar-temporal-median/6 scenes (kept from an earlier run)"}, masks
    ships = json.loads(details)
    assert set(ships["tests"]) == {"s1", "s1 at berth"} and len(ships["tests"]["s1"]["baseline"]) == 10
    assert (f"10 s1 scenes counted before the store kept the instrument mode taken as IW, the mode of every s1 "
            f"scene that says it ({', '.join(old)})") in ships["rationale"], ships["rationale"]


def test_an_aoi_removed_from_the_registry_of_an_old_store_is_retired(first_run, geo_cli):
    """A store from before schema 6 did not record whether an AOI came from aoi/ or a drawn file (NULL after the
    migration): one removed from aoi/ was re-checked from the store's record for good, said nowhere, as before
    retirements. The run that registered it named it by its id (a drawn file is named by its path): aoi/'s."""
    series, store = first_run
    as_schema_5(store)
    (series.aoi_dir / "site-c.geojson").unlink()
    result = geo_cli(*series.args(store))
    assert result.returncode == 0, result.stdout + result.stderr
    migrated, run, retired, *_ = result.stdout.splitlines()
    assert migrated == f"store schema migrated from version {OLD_SCHEMA} to {schema.LATEST}"
    assert run.startswith("run 2: 0 new pairs") and retired.startswith("  site-c: retired: no file of aoi/ defines it")
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT aoi_id, retired_run FROM aois WHERE retired_run IS NOT NULL").fetchall() == [
            ("site-c", 2)]
