"""Results store for scheduled re-checks: one GeoPackage file, versioned schema, single writer."""

from geo.store.first_run import open_for_writing
from geo.store.lock import lock_path, writer_lock
from geo.store.rows import Chain, PairRow, ReadFailure, SceneRef
from geo.store.store import Store
from geo.store.times import iso_utc, now_utc, parse_utc

__all__ = ["Chain", "PairRow", "ReadFailure", "SceneRef", "Store", "iso_utc", "lock_path", "now_utc", "open_for_writing", "parse_utc", "writer_lock"]
