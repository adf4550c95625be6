"""A full disk (or a file-size limit) told as such. SQLite says "database or disk is full" (SQLITE_FULL), or, when it cannot grow the
shared-memory index of its WAL journal, "disk I/O error"; Python says ``[Errno 28]``. Unsaid, a full disk reads
as a broken store ("not a results store") or a bug (exit 2), when the fix is to free some space."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

_SQLITE_FULL, _SQLITE_IOERR = 13, 10  # primary result codes (the low byte of an extended code)
LOW_BYTES = 1 << 20  # an I/O error (SQLite's, GDAL's) with less than this left on the device is taken for a full disk
FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def free_bytes(folder: Path) -> int | None:
    """Bytes an unprivileged writer may still use on the device of ``folder``; None when it cannot be asked."""
    try:
        stat = os.statvfs(folder)
    except OSError:
        return None
    return stat.f_bavail * stat.f_frsize


def file_size_limit() -> int | None:
    """The largest file this process may write (``ulimit -f``, RLIMIT_FSIZE; a shell's, a systemd unit's
    ``LimitFSIZE=``), in bytes; None when there is none. Past it a write fails with EFBIG, which GDAL's COG
    driver does not report: its tiles past the limit read as nodata."""
    try:
        import resource
    except ImportError:  # not a Unix
        return None
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    return None if soft == resource.RLIM_INFINITY else soft


def beyond_size_limit(needed: int) -> str | None:
    """``"more than the largest file this process may write: N bytes, ulimit -f or LimitFSIZE="`` when ``needed``
    bytes would pass the file-size limit, else None: said before writing, as GDAL meets EFBIG silently."""
    limit = file_size_limit()
    if limit is None or limit >= needed:
        return None
    return f"more than the largest file this process may write: {limit} bytes, ulimit -f or LimitFSIZE="


def _at_size_limit(folder: Path) -> str | None:
    """The file-size limit said, with the file of ``folder`` that reached it, when one did; else None."""
    limit = file_size_limit()
    if limit is None:
        return None
    near = limit - min(1 << 16, limit // 4)  # a write stops short of it by less than one write (SQLite's pages)
    try:
        reached = sorted(p.name for p in folder.iterdir() if p.is_file() and p.stat().st_size > near)
    except OSError:
        return None
    if not reached:
        return None
    return (f"the largest file this process may write is {limit} bytes (ulimit -f or LimitFSIZE=), and "
            f"{', '.join(reached)} reached it")


def no_space(exc: BaseException, folder: Path) -> str | None:
    """``"no space left on the device of FOLDER (N bytes free)"`` when ``exc`` is what writing into ``folder``
    raises on a full disk (or quota), the file-size limit when a file there reached it (EFBIG: SQLite says
    "disk I/O error"), else None."""
    free = free_bytes(folder)
    if isinstance(exc, sqlite3.Error):
        code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
        full = code == _SQLITE_FULL or (code == _SQLITE_IOERR and free is not None and free < LOW_BYTES)
        if not full and code == _SQLITE_IOERR:
            return _at_size_limit(folder)
    else:
        full = isinstance(exc, OSError) and exc.errno in FULL_ERRNOS
        if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
            return _at_size_limit(folder)
    if not full:
        return None
    return f"no space left on the device of {folder}" + (f" ({free} bytes free)" if free is not None else "")
