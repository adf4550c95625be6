"""The store's log of re-check runs: each run's row, its summary, and what is still owed to whoever asked to
be told (an ``--on-new`` command that failed, a ``--notify`` alert no webhook took)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from geo.errors import StoreError
from geo.store.times import now_utc


class RunLog:
    """The ``runs`` table's reads and writes (writes inside the store's ``transaction()``)."""

    path: Path
    conn: sqlite3.Connection

    def run_ids(self) -> list[int]:
        return [r[0] for r in self.conn.execute("SELECT run_id FROM runs ORDER BY run_id")]

    def last_started(self) -> str | None:
        """When the latest re-check recorded began (the store's UTC text, which sorts as time does)."""
        row = self.conn.execute("SELECT max(started_at) FROM runs").fetchone()
        return str(row[0]) if row and row[0] else None

    def run_summary(self, run_id: int) -> dict[str, Any]:
        row = self.conn.execute("SELECT summary FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: no run {run_id}")
        summary: dict[str, Any] = json.loads(row[0])
        return summary

    def pending_notifications(self) -> list[tuple[int, str]]:
        """(run id, command) of runs whose --on-new command has not yet succeeded."""
        return list(self.conn.execute(
            "SELECT run_id, on_new FROM runs WHERE has_new AND on_new IS NOT NULL AND notified_at IS NULL "
            "ORDER BY run_id"
        ))

    def pending_alerts(self) -> list[int]:
        """Runs whose ``--notify`` alert no webhook has taken yet, oldest first."""
        return [r[0] for r in self.conn.execute("SELECT run_id FROM runs WHERE alert_pending ORDER BY run_id")]

    def insert_run(self, started_at: str, source: str, algorithm_version: str, workbench_version: str,
                   host: str, pid: int, arguments: Mapping[str, Any], on_new: str | None) -> int:
        cursor = self.conn.execute(
            "INSERT INTO runs (started_at, finished_at, source, algorithm_version, workbench_version, host, pid, "
            "arguments, summary, on_new) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}', ?)",
            (started_at, started_at, source, algorithm_version, workbench_version, host, pid,
             json.dumps(dict(arguments), sort_keys=True), on_new),
        )
        assert cursor.lastrowid is not None  # sqlite sets it after every INSERT
        return cursor.lastrowid

    def finish_run(self, run_id: int, finished_at: str, summary: Mapping[str, Any]) -> None:
        self.conn.execute(
            "UPDATE runs SET finished_at = ?, n_aois = ?, n_pairs = ?, n_new_changes = ?, n_failed_aois = ?, "
            "has_new = ?, summary = ? WHERE run_id = ?",
            (finished_at, len(summary["aois"]), summary["n_pairs"], summary["n_new_changes"],
             len(summary["failed_aois"]), bool(summary["has_new"]), json.dumps(summary, sort_keys=True), run_id),
        )

    def set_source(self, source: str, collections: Sequence[str] = ()) -> None:
        """Keep the source the store is re-checked with and the Sentinel-2 collections searched there (none: the
        archive's own; ``geo.recheck.source_choice``): keys of ``store_meta``."""
        upsert = "INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        self.conn.execute(upsert, ("source", source))
        if collections:
            self.conn.execute(upsert, ("collections", json.dumps(list(collections))))
        else:
            self.conn.execute("DELETE FROM store_meta WHERE key = 'collections'")

    def mark_notified(self, run_id: int) -> None:
        self.conn.execute("UPDATE runs SET notified_at = ? WHERE run_id = ?", (now_utc(), run_id))

    def set_alert_pending(self, run_ids: Sequence[int], pending: bool) -> None:
        self.conn.executemany("UPDATE runs SET alert_pending = ? WHERE run_id = ?", [(pending, r) for r in run_ids])
