"""The store's count of failed reads: per AOI, chain (algorithm version) and scene, the consecutive re-checks
in which reading the scene failed (5xx, timeouts, a truncated file), so that a scene its host never serves is
at last skipped (``geo.recheck.give_up``) rather than failing its AOI at every run."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from geo.store.rows import ReadFailure
from geo.store.times import parse_utc


class ReadFailureLog:
    """The ``read_failures`` table's reads and writes (writes inside the store's ``transaction()``)."""

    conn: sqlite3.Connection

    def read_failures(self, aoi_id: str, algorithm_version: str) -> dict[str, ReadFailure]:
        rows = self.conn.execute(
            "SELECT scene_id, n_runs, first_failed_at, last_error FROM read_failures "
            "WHERE aoi_id = ? AND algorithm_version = ?", (aoi_id, algorithm_version))
        return {scene: ReadFailure(scene, int(n), parse_utc(first), error) for scene, n, first, error in rows}

    def note_read_failure(self, aoi_id: str, algorithm_version: str, scene_id: str, error: str, run_id: int,
                          at: str) -> None:
        """One more run in which reading the scene failed (the first: counted from ``at``)."""
        self.conn.execute(
            "INSERT INTO read_failures (aoi_id, algorithm_version, scene_id, n_runs, first_failed_at, last_failed_at, "
            "last_error, last_run_id) VALUES (?, ?, ?, 1, ?, ?, ?, ?) "
            "ON CONFLICT (aoi_id, scene_id, algorithm_version) DO UPDATE SET n_runs = n_runs + 1, "
            "last_failed_at = excluded.last_failed_at, last_error = excluded.last_error, "
            "last_run_id = excluded.last_run_id",
            (aoi_id, algorithm_version, scene_id, at, at, error, run_id))

    def clear_read_failures(self, aoi_id: str, algorithm_version: str, scene_ids: Iterable[str]) -> None:
        """The scenes were read (or recorded skipped): their count starts again."""
        self.conn.executemany(
            "DELETE FROM read_failures WHERE aoi_id = ? AND algorithm_version = ? AND scene_id = ?",
            [(aoi_id, algorithm_version, s) for s in scene_ids])
