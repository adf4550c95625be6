"""The results store of scheduled re-checks: one GeoPackage (SQLite) file.

Feature layers ``aois`` and ``changes`` open directly in QGIS (``changes`` is temporal by ``first_seen``);
the attribute tables hold claims, scenes seen, per-AOI chains, runs, pairs and the verdict history (see
``schema.py``). Writers must hold ``lock.writer_lock`` and write a whole re-check inside one
``transaction()``: a crash at any point leaves the store as it was before the run.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.disk import no_space
from geo.errors import StoreError, StoreLockedError
from geo.store import gpkg, schema
from geo.store.changes import ChangeLog
from geo.store.rows import Chain, PairRow, SceneRef
from geo.store.read_failures import ReadFailureLog
from geo.store.runs import RunLog
from geo.store.times import iso_utc, now_utc, parse_utc

if TYPE_CHECKING:  # shapely (and the AOIs') only where geometry is written or read: a re-check with nothing
    from geo.aoi import AOI  # new reads its store without them (geo.recheck.quick)
    from geo.claims import Claim

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 60.0  # other SQLite users (QGIS reading) only ever hold the database briefly


def _checked_version(conn: sqlite3.Connection, path: Path) -> int:
    version = schema.schema_version(conn)
    if version is None:
        raise StoreError(f"{path}: an SQLite/GeoPackage file, but not a results store (no store_meta table)")
    if version > schema.LATEST:
        raise StoreError(
            f"{path}: store schema version {version} is newer than this workbench supports ({schema.LATEST}); upgrade geo"
        )
    return version


def _unusable(path: Path, exc: sqlite3.DatabaseError) -> str:
    """Why the store at ``path`` cannot be opened: a full disk (the store unharmed), else not a store."""
    full = no_space(exc, path.absolute().parent)
    if full:
        return f"{path}: cannot open the store: {full} (the store is as it was: free some space)"
    return f"{path}: not a results store (not a readable SQLite/GeoPackage file: {exc})"


class Store(RunLog, ChangeLog, ReadFailureLog):
    """An open results store. Use ``Store.open``; close it (or use it as a context manager) when done."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self.migrated_from: int | None = None  # the schema version the store had when opened, when migrated

    # -- opening ---------------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, create: bool = True) -> Store:
        """Open (and, with ``create``, create or migrate) the store at ``path``. Migrating writes, so the
        caller must hold the writer lock when ``create`` is true."""
        path = Path(path)
        cls.check(path)
        if not path.exists() and not create:
            raise StoreError(f"{path}: no such results store")
        if create:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{path}: cannot create the store's folder ({exc.strerror or exc})") from None
        try:
            conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the results store ({exc})") from None
        gpkg.register_functions(conn)
        store = cls(path, conn)
        try:
            store._prepare(create)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(_unusable(path, exc)) from None
        except BaseException:
            conn.close()
            raise
        return store

    @staticmethod
    def check(path: Path) -> None:
        """Raise ``StoreError`` unless ``path`` is missing or a store this workbench can use; writes nothing."""
        path = Path(path)
        if path.is_dir():
            raise StoreError(f"{path}: the store path is a folder; give a file such as {path / 'recheck.gpkg'}")
        if not path.exists():
            return
        try:
            conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the results store ({exc})") from None
        try:
            _checked_version(conn, path)
        except sqlite3.DatabaseError as exc:
            raise StoreError(_unusable(path, exc)) from None
        finally:
            conn.close()

    def _prepare(self, create: bool) -> None:
        self.conn.execute("PRAGMA foreign_keys = ON")
        version = _checked_version(self.conn, self.path)
        if version < schema.LATEST and not create:
            raise StoreError(f"{self.path}: store schema version {version} needs migrating; open it for writing")
        if create:
            # WAL: readers (QGIS) never block the writer and never see a half-written run.
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = FULL")
        if version < schema.LATEST:
            with self.transaction():
                applied = schema.migrate(self.conn, version)
            log.info("%s: schema migrated %d -> %d (%s)", self.path, version, schema.LATEST, applied)
            self.migrated_from = version or None  # 0: a store being created

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction: everything inside commits together or not at all. ``StoreLockedError`` when
        another program holds a write transaction on the store for ``BUSY_TIMEOUT_S`` (QGIS editing it in a
        transaction group holds one until its edits are saved)."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
            raise StoreLockedError(
                f"{self.path}: another program has been writing the store for {BUSY_TIMEOUT_S:.0f} s (QGIS editing a "
                "layer of it in a transaction group, or an SQLite tool): nothing of this run recorded; save or end "
                "those edits, and the next re-check does the work") from None
        try:
            yield
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            full = no_space(exc, self.path.absolute().parent) if isinstance(exc, sqlite3.Error) else None
            if full:  # the usual case: SQLite writes the WAL at COMMIT
                raise StoreError(f"{self.path}: cannot write the store: {full}; nothing of this write was "
                                 "recorded (the store is as it was: a re-check does its work again once there is room)") from None
            raise

    @contextmanager
    def savepoint(self, name: str) -> Iterator[None]:
        """A nested part of the open ``transaction()``: on an error only this part is undone, and the error
        goes on to the caller, who may keep the rest of the transaction."""
        self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            if self.conn.in_transaction:  # some errors (disk full, I/O) already rolled everything back
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
            raise
        self.conn.execute(f"RELEASE {name}")

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    @property
    def schema_version(self) -> int:
        return schema.schema_version(self.conn) or 0

    # -- reads -----------------------------------------------------------------------------------------
    def aoi_ids(self, retired: bool = True) -> list[str]:
        """The AOIs of the store, in id order; without the ``retired`` ones (``retired``): those a scheduled
        re-check takes up."""
        where = "" if retired else " WHERE retired_run IS NULL"
        return [r[0] for r in self.conn.execute(f"SELECT aoi_id FROM aois{where} ORDER BY aoi_id")]

    def aoi_feature(self, aoi_id: str) -> dict[str, Any] | None:
        """The stored AOI as a GeoJSON Feature; None when not stored; {} when its ``feature`` is not a JSON object
        (a row an analyst added to the aois layer in QGIS, typing something in that NOT NULL column)."""
        row = self.conn.execute("SELECT feature FROM aois WHERE aoi_id = ?", (aoi_id,)).fetchone()
        if not row:
            return None
        try:
            feature = json.loads(row[0])
        except (TypeError, ValueError):
            return {}
        return feature if isinstance(feature, dict) else {}

    def retired(self, table: str = "aois") -> dict[str, int]:
        """The AOIs retired (no file of aoi/ defined them; ``table`` 'claims': the claims in no seeds file), each
        with the run that found so; not re-checked by a scheduled run until back (``geo.recheck.retire``)."""
        key = {"aois": "aoi_id", "claims": "claim_id"}[table]
        return dict(self.conn.execute(f"SELECT {key}, retired_run FROM {table} WHERE retired_run IS NOT NULL"))

    def aoi_drawn(self, aoi_id: str) -> bool | None:
        """Whether the stored AOI came from a drawn file (``--aoi FILE``) rather than the aoi/ registry; None when
        not known (or not stored). A store from before schema 6 did not record it: an AOI that the run registering
        it named by its id was aoi/'s (a drawn file is named by its path), so it can be retired too."""
        row = self.conn.execute(
            "SELECT a.drawn, EXISTS (SELECT 1 FROM runs r, json_each(r.arguments, '$.aoi') j WHERE r.run_id = "
            "a.first_run AND j.value = a.aoi_id) FROM aois a WHERE a.aoi_id = ?", (aoi_id,)).fetchone()
        return None if row is None else bool(row[0]) if row[0] is not None else (False if row[1] else None)

    def holds_other_area(self, aoi: AOI) -> bool:
        """Whether the store holds ``aoi.id`` with another area than ``aoi``'s (compared as stored)."""
        stored = self.aoi_feature(aoi.id)
        return stored is not None and stored.get("geometry") != json.loads(_aoi_feature_text(aoi))["geometry"]

    def registered_since(self, aoi_id: str) -> date | None:
        """``--since`` of the re-check that registered the AOI: where its chains start when that run could not
        start them (its search failed), so that a later run without --since starts them there."""
        row = self.conn.execute("SELECT r.arguments FROM aois a JOIN runs r ON r.run_id = a.first_run "
                                "WHERE a.aoi_id = ?", (aoi_id,)).fetchone()
        since = json.loads(row[0]).get("since") if row else None
        return date.fromisoformat(since) if since else None

    def chain(self, aoi_id: str, algorithm_version: str) -> Chain | None:
        row = self.conn.execute(
            "SELECT baseline_scene, baseline_datetime, baseline_reason, head_scene, head_datetime FROM chains "
            "WHERE aoi_id = ? AND algorithm_version = ?", (aoi_id, algorithm_version),
        ).fetchone()
        if row is None:
            return None
        return Chain(SceneRef(row[0], parse_utc(row[1])), row[2] or "", SceneRef(row[3], parse_utc(row[4])))

    def pair_span(self, run_id: int | None = None) -> tuple[str, ...]:
        """The first and last acquisition times (ISO text) of the scenes the compared pairs are made of, of the
        whole store or of one run: the days of its changes' data; () before any pair."""
        first, last = self.conn.execute(
            "SELECT MIN(MIN(before_datetime), MIN(after_datetime)), MAX(MAX(before_datetime), MAX(after_datetime)) "
            "FROM pairs WHERE status = 'done' AND (? IS NULL OR run_id = ?)", (run_id, run_id)).fetchone()
        return (str(first), str(last)) if first and last else ()

    def seen_scene_ids(self, aoi_id: str) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT scene_id FROM scenes WHERE aoi_id = ?", (aoi_id,))}

    def pairs(self, aoi_id: str, algorithm_version: str, status: str = "done") -> list[PairRow]:
        rows = self.conn.execute(
            "SELECT before_scene, before_datetime, after_scene, after_datetime, status, clear_fraction, run_id, "
            f"{', '.join(schema.NODATA_COLUMNS)}, json_extract(manifest, '$.cloud_masked.before'), "
            "json_extract(manifest, '$.cloud_masked.after') FROM pairs WHERE aoi_id = ? AND algorithm_version = ? "
            "AND status = ? ORDER BY after_datetime, fid", (aoi_id, algorithm_version, status),
        )
        return [PairRow(SceneRef(r[0], parse_utc(r[1])), SceneRef(r[2], parse_utc(r[3])), r[4], r[5], r[6],
                        (r[7], r[8]), None if r[9] is None or r[10] is None else bool(r[9] and r[10])) for r in rows]

    def chained_scenes(self, aoi_id: str, algorithm_version: str) -> dict[str, datetime | None]:
        """The scenes of the chain's pairs (done or skipped, before and after): a pair is processed once and the
        chain does not go back, so the planner never offers them again, whatever date an archive gives them later;
        with the acquisition time of those read into the chain (None: the after scene of a skipped pair), with
        which no other item is new either (``geo.recheck.plan``)."""
        rows = self.conn.execute("SELECT before_scene, before_datetime, after_scene, after_datetime, status FROM pairs "
                                 "WHERE aoi_id = ? AND algorithm_version = ?", (aoi_id, algorithm_version))
        chained: dict[str, datetime | None] = {}
        for before, before_at, after, after_at, status in rows:
            chained[before] = parse_utc(before_at) if before_at else None
            chained.setdefault(after, parse_utc(after_at) if after_at and status == "done" else None)
        return chained

    def latest_verdict(self, kind: str, aoi_id: str, claim_id: str, algorithm_version: str) -> dict[str, Any] | None:
        """The newest verdict of ``kind`` ('window', 'vessels', ...) on a claim and AOI, or None."""
        row = self.conn.execute(
            "SELECT details FROM verdicts WHERE kind = ? AND aoi_id = ? AND claim_id = ? "
            "AND algorithm_version = ? ORDER BY fid DESC LIMIT 1", (kind, aoi_id, claim_id, algorithm_version),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def verdict_keys(self, kind: str, aoi_id: str, algorithm_version: str) -> set[tuple[str, str, str]]:
        """(claim id, before scene, after scene) of every verdict of ``kind`` recorded on the AOI: with the kind,
        AOI and algorithm version, the verdicts' unique key."""
        return {(r[0], r[1], r[2]) for r in self.conn.execute(
            "SELECT claim_id, before_scene, after_scene FROM verdicts WHERE kind = ? AND aoi_id = ? "
            "AND algorithm_version = ?", (kind, aoi_id, algorithm_version))}

    def latest_window_verdict(self, aoi_id: str, claim_id: str, algorithm_version: str) -> dict[str, Any] | None:
        return self.latest_verdict("window", aoi_id, claim_id, algorithm_version)

    def count(self, table: str) -> int:
        if table not in {**schema.FEATURE_LAYERS, **schema.ATTRIBUTE_TABLES, **schema.VESSEL_TABLES}:
            raise ValueError(f"unknown store table {table!r}")
        return int(self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    # -- writes (inside transaction()) -----------------------------------------------------------------
    def mark_drawn(self, aoi_id: str, drawn: bool) -> None:
        """Record whether the stored AOI was last taken from a drawn file (``--aoi FILE``) or the aoi/ registry."""
        self.conn.execute("UPDATE aois SET drawn = ? WHERE aoi_id = ?", (drawn, aoi_id))

    def set_retired(self, aoi_ids: Sequence[str], run_id: int | None, table: str = "aois") -> None:
        """Mark the AOIs (``table`` 'claims': the claims) retired by ``run_id``, or (None) current again."""
        key = {"aois": "aoi_id", "claims": "claim_id"}[table]
        self.conn.executemany(f"UPDATE {table} SET retired_run = ? WHERE {key} = ?", [(run_id, a) for a in aoi_ids])

    def upsert_aoi(self, aoi: AOI, run_id: int) -> None:
        text = _aoi_feature_text(aoi)
        if self.aoi_feature(aoi.id) == json.loads(text):
            return
        self.conn.execute(
            "INSERT INTO aois (geom, aoi_id, name, kind, country, source, approximate, area_km2, feature, "
            "first_run, updated_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (aoi_id) DO UPDATE SET "
            "geom = excluded.geom, name = excluded.name, kind = excluded.kind, country = excluded.country, "
            "source = excluded.source, approximate = excluded.approximate, area_km2 = excluded.area_km2, "
            "feature = excluded.feature, updated_run = excluded.updated_run",
            (gpkg.encode(gpkg.as_multipolygon(aoi.geometry)), aoi.id, aoi.name, aoi.kind, aoi.country, aoi.source,
             aoi.approximate, round(aoi.area_km2, 4), text, run_id, run_id),
        )
        gpkg.touch(self.conn, "aois", now_utc(), [aoi.geometry])

    def claim_summaries(self) -> dict[str, dict[str, Any]]:
        """Each claim's summary as last re-checked (``Claim.summary``), by claim id."""
        return {r[0]: json.loads(r[1]) for r in self.conn.execute("SELECT claim_id, summary FROM claims")
                if r[1]}

    def upsert_claim(self, claim: Claim, run_id: int, aoi_id: str, window_time_zone: str) -> None:
        """The claim as re-checked over ``aoi_id``, its window's days counted in ``window_time_zone``
        (``geo.claim_days.claim_zone``'s name): the row's zones keep the other AOIs of the claim's."""
        summary = json.dumps(claim.summary(), sort_keys=True)
        row = self.conn.execute("SELECT summary, window_time_zone FROM claims WHERE claim_id = ?",
                                (claim.id,)).fetchone()
        kept = {a: z for a, z in json.loads(row[1] or "{}").items() if a in claim.aoi_ids} if row else {}
        zones = json.dumps(dict(sorted({**kept, aoi_id: window_time_zone}.items())))
        if row and (row[0], row[1]) == (summary, zones):
            return
        self.conn.execute(
            "INSERT INTO claims (claim_id, stance, aoi_ids, window_start, window_end, window_time_zone, signatures, "
            "claimant, statement, summary, updated_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
            "(claim_id) DO UPDATE SET stance = excluded.stance, aoi_ids = excluded.aoi_ids, "
            "window_start = excluded.window_start, window_end = excluded.window_end, "
            "window_time_zone = excluded.window_time_zone, signatures = excluded.signatures, "
            "claimant = excluded.claimant, statement = excluded.statement, summary = excluded.summary, "
            "updated_run = excluded.updated_run",
            (claim.id, str(claim.stance), json.dumps(list(claim.aoi_ids)), claim.window.start.isoformat(),
             claim.window.end.isoformat(), zones, json.dumps(list(claim.signatures)), claim.claimant,
             claim.statement, summary, run_id),
        )

    def add_scene(self, aoi_id: str, summary: Mapping[str, Any], source: str, run_id: int) -> None:
        self.conn.execute(
            "INSERT INTO scenes (aoi_id, scene_id, datetime, collection, platform, cloud_cover, source, "
            "first_seen_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (aoi_id, scene_id) DO NOTHING",
            (aoi_id, summary["id"], iso_utc(parse_utc(str(summary["datetime"]))), summary.get("collection"),
             summary.get("platform"), summary.get("eo:cloud_cover"), source, run_id),
        )

    def set_chain(self, aoi_id: str, algorithm_version: str, baseline: SceneRef, baseline_reason: str,
                  head: SceneRef, run_id: int) -> None:
        self.conn.execute(
            "INSERT INTO chains (aoi_id, algorithm_version, baseline_scene, baseline_datetime, baseline_reason, "
            "head_scene, head_datetime, updated_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (aoi_id, algorithm_version) DO UPDATE SET baseline_scene = excluded.baseline_scene, "
            "baseline_datetime = excluded.baseline_datetime, baseline_reason = excluded.baseline_reason, "
            "head_scene = excluded.head_scene, "
            "head_datetime = excluded.head_datetime, updated_run = excluded.updated_run",
            (aoi_id, algorithm_version, baseline.id, iso_utc(baseline.datetime), baseline_reason, head.id,
             iso_utc(head.datetime), run_id),
        )

    def add_pair(self, aoi_id: str, algorithm_version: str, before: SceneRef, after: SceneRef, status: str,
                 reason: str, clear_fraction: float | None, n_changes: int, manifest: Mapping[str, Any] | None,
                 run_id: int, nodata_fractions: tuple[float | None, float | None] = (None, None)) -> None:
        """Record a pair; ``nodata_fractions``: the share of the AOI its before and after scene do not hold."""
        shift = (manifest or {}).get("coregistration") or {}
        self.conn.execute(
            "INSERT INTO pairs (aoi_id, before_scene, after_scene, algorithm_version, before_datetime, "
            "after_datetime, status, reason, clear_fraction, n_changes, coreg_dx_px, coreg_dy_px, coreg_quality, "
            f"manifest, run_id, {', '.join(schema.NODATA_COLUMNS)}) VALUES ({', '.join('?' * 17)})",
            (aoi_id, before.id, after.id, algorithm_version, iso_utc(before.datetime), iso_utc(after.datetime),
             status, reason, clear_fraction, n_changes, shift.get("dx_px"), shift.get("dy_px"), shift.get("quality"),
             json.dumps(manifest, sort_keys=True, default=str) if manifest else None, run_id, *nodata_fractions),
        )

    def add_verdict(self, kind: str, verdict: Mapping[str, Any], before: str, after: str, algorithm_version: str,
                    covers_window: bool, run_id: int, recorded_at: str, replace: bool = False) -> bool:
        """Record a verdict; False (and nothing written) when this exact one is already recorded, unless
        ``replace`` (a claim edited since: its verdict on the same scenes is recorded anew, as the newest)."""
        if replace:
            self.conn.execute("DELETE FROM verdicts WHERE kind = ? AND aoi_id = ? AND claim_id = ? AND before_scene = ? "
                              "AND after_scene = ? AND algorithm_version = ?",
                              (kind, verdict["aoi_id"], verdict["claim_id"], before, after, algorithm_version))
        cursor = self.conn.execute(
            "INSERT INTO verdicts (kind, aoi_id, claim_id, before_scene, after_scene, algorithm_version, verdict, "
            "confidence, rationale, n_changes, n_matching, clear_fraction, covers_window, evidence, details, run_id, "
            "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (kind, verdict["aoi_id"], verdict["claim_id"], before, after, algorithm_version, verdict["verdict"],
             verdict.get("confidence"), verdict["rationale"], verdict.get("n_changes"), verdict.get("n_matching"),
             verdict.get("clear_fraction"), covers_window, json.dumps(list(verdict.get("evidence", []))),
             json.dumps(dict(verdict), sort_keys=True, default=str), run_id, recorded_at),
        )
        return cursor.rowcount == 1

    def withdraw_verdicts(self, kind: str, aoi_id: str, claim_id: str, algorithm_version: str) -> None:
        """Delete the claim's verdicts of ``kind`` over the AOI: the claim was edited to a window they do not
        judge."""
        self.conn.execute("DELETE FROM verdicts WHERE kind = ? AND aoi_id = ? AND claim_id = ? AND algorithm_version = ?",
                          (kind, aoi_id, claim_id, algorithm_version))


def _aoi_feature_text(aoi: AOI) -> str:
    """``aoi`` as the store keeps it: a GeoJSON Feature, JSON with sorted keys."""
    from shapely.geometry import mapping

    feature = {"type": "Feature", "geometry": mapping(aoi.geometry),
               "properties": {"id": aoi.id, "name": aoi.name, "country": aoi.country, "kind": aoi.kind,
                              "source": aoi.source, "approximate": aoi.approximate}}
    return json.dumps(feature, sort_keys=True)
