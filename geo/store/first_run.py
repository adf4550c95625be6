"""Opening the store for a re-check so that a first re-check that does not finish leaves no store behind.

The store file appears when it is opened (its schema is written then), but what makes it anybody's results
(its AOIs, its first run) is written at the end of the first re-check. Stopped in between (Ctrl-C, SIGTERM,
an error), it would leave a store that looks made and holds nothing, and the next ``geo recheck`` would say
its AOIs are unknown. So a store holding no run when the writer's block fails is removed again: one this
call created, or one left blank by a first re-check killed outright (SIGKILL, power loss).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from geo.store.store import Store

log = logging.getLogger(__name__)


def is_blank(store: Store) -> bool:
    """No run recorded and no AOI registered: nothing in the store is a result."""
    return store.count("runs") == 0 and store.count("aois") == 0


def remove_store_files(path: Path) -> None:
    """The store file and SQLite's files beside it (write-ahead log, shared memory), once closed."""
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)


@contextmanager
def open_for_writing(path: Path) -> Iterator[Store]:
    """``Store.open(path)`` for a writer holding the lock (``writer_lock``); when the block raises anything
    (an interrupt too) and the store still holds no run, the store file is removed before the error goes on."""
    path = Path(path)
    existed = path.exists()
    try:
        store = Store.open(path)
    except BaseException:  # stopped while writing the schema
        if not existed:
            remove_store_files(path)
        raise
    blank = is_blank(store)
    try:
        yield store
    except BaseException:
        blank = blank and _still_blank(store)  # the block may have recorded a run before it failed
        store.close()
        if blank:
            remove_store_files(path)
            log.info("%s: removed again (no re-check finished in it)", path)
        raise
    store.close()


def _still_blank(store: Store) -> bool:
    try:
        return is_blank(store)
    except sqlite3.Error:  # unreadable now: leave it for the next run to name
        return False
