"""The single-writer lock of a store: an exclusive ``flock`` on ``<store>.lock``.

The kernel releases the lock when its holder exits for any reason (SIGKILL included), so a crashed
re-check never leaves a stale lock. The holder writes who it is into the file, so a refused re-check can
say which process it is waiting for. The lock file is not deleted: deleting it would let a waiter lock a
file nobody else can see any more. One exception: a writer that created the store's folder and stops with an
error or an interrupt leaving nothing but the lock file in it removes the folder (a first re-check naming a new
folder leaves no trace; ``geo.store.first_run`` removes the blank store file before). So a waiter that gets the
lock checks that its file is still the one at the path, and else locks the one there anew.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from geo.errors import StoreError, StoreLockedError

log = logging.getLogger(__name__)

POLL_S = 0.1


def lock_path(store: Path) -> Path:
    return store.with_name(store.name + ".lock")


def note_path(store: Path) -> Path:
    """The note of the re-checks refused the store in a row (``geo.recheck.blocked``)."""
    return store.with_name(store.name + ".blocked")


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _remove_created(lock: Path, created: list[Path]) -> None:
    """The folders ``created`` for the store (deepest first), if the lock file is all they hold (and the note of a
    re-check refused meanwhile, ``note_path``, of a store that is no more)."""
    note = note_path(lock.with_name(lock.name.removesuffix(".lock")))
    if not created or not {lock.name} <= {p.name for p in created[0].iterdir()} <= {lock.name, note.name}:
        return
    note.unlink(missing_ok=True)
    lock.unlink()
    for folder in created:
        try:
            folder.rmdir()
        except OSError:  # not empty (something else was put there meanwhile): keep it and its parents
            return
    log.info("%s: removed again (created for the store; no re-check finished in it)", created[-1])


def _holder_info(fd: int) -> dict[str, object] | None:
    """What the holder wrote into the lock file (``pid``, ``host``, ``since``), when it can be read."""
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
        return info if isinstance(info, dict) and {"pid", "host", "since"} <= info.keys() else None
    except (OSError, ValueError):
        return None


def holder_words(info: dict[str, object] | None) -> str:
    return f"pid {info['pid']} on {info['host']}, since {info['since']}" if info else "another process"


def _holder(fd: int) -> str:
    return holder_words(_holder_info(fd))


def _same_file(fd: int, path: Path) -> bool:
    """Whether the open lock file ``fd`` is still the file at ``path`` (not removed or replaced meanwhile)."""
    try:
        here, held = os.stat(path), os.fstat(fd)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (held.st_dev, held.st_ino)


def _open(path: Path) -> tuple[int, list[Path]]:
    """The lock file opened (made if missing, with its folders); the folders this made, deepest first."""
    created = _missing_folders(path.parent)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o664), created
    except OSError as exc:
        raise StoreError(f"{path}: cannot create the store's lock file ({exc.strerror or exc})") from None


def _locked(store: Path, path: Path, wait_s: float) -> tuple[int, list[Path]]:
    """The lock file opened and locked; waits up to ``wait_s`` seconds for it, else ``StoreLockedError``. A lock
    taken on a file no longer at ``path`` (its holder, a first re-check that stopped, removed it with the folder it
    made) is let go and taken again on the file there: a lock on a file nobody else can see keeps nobody out."""
    deadline = time.monotonic() + max(wait_s, 0.0)
    waiting = False
    while True:
        fd, created = _open(path)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not waiting and wait_s > 0:
                        waiting = True
                        log.info("%s is locked by %s; waiting up to %g s", store, _holder(fd), wait_s)
                    if time.monotonic() >= deadline:
                        waited = f"waited {wait_s:g} s" if wait_s > 0 else "use --wait SECONDS to wait for it"
                        holder = _holder_info(fd)
                        raise StoreLockedError(
                            f"{store}: another re-check is writing this store ({holder_words(holder)}); {waited}",
                            by_recheck=True, holder=holder) from None
                    time.sleep(POLL_S)
        except BaseException:
            os.close(fd)
            raise
        if _same_file(fd, path):
            return fd, created
        log.debug("%s was removed while this re-check waited for it; locking it anew", path)
        os.close(fd)  # (releases the lock on the removed file)


@contextmanager
def writer_lock(store: Path, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the store's writer lock; wait up to ``wait_s`` seconds for it, else ``StoreLockedError``."""
    path = lock_path(Path(store))
    fd, created = _locked(Path(store), path, wait_s)
    try:
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
        except OSError as exc:  # who holds it is a courtesy to a re-check refused; a full disk is said by the store
            log.info("%s: cannot note the lock's holder (%s)", path, exc.strerror or exc)
        log.info("lock acquired on %s", store)
        try:
            yield
        except BaseException:
            _remove_created(path, created)  # still locked: no other writer is in the folder
            raise
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
