"""A store blocked for long: the re-checks refused it in a row, noted beside it in ``<store>.blocked``
(``geo.store.lock.note_path``).

A re-check refused the store (exit 3: another re-check holds its lock past ``--wait``, or another program has held
a write transaction on it for ``BUSY_TIMEOUT_S``: QGIS editing it in a transaction group) is quiet for cron and
systemd, since the next run picks the work up. But a QGIS transaction left open over a weekend, or a hung re-check
holding the lock, blocks every run for days, told to nobody. So each refused run notes the episode in a small JSON
file beside the store (SQLite's ``-wal`` and ``-shm`` and the lock file are there: the folder is writable): when its
first refused run was, how many runs were refused, what held the store at the last. A run refused once the episode
is older than ``--blocked-alert`` hours says so on one line and exits 6, which cron and systemd take as a failure.
The next run that gets the store removes the file (``holding``): as soon as it holds the lock, unless the runs were
refused by another program's write transaction after they got the lock (then when it ends refused by none, a crash
included: a run that crashed or was killed holding the store left the note, and a later refused run counted from its
old time, raising the exit-6 alert too early). A note that is missing or cannot be read (or dated after now: a clock
set back) is no episode, and a new one begins with the run refused.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from geo.errors import StoreLockedError
from geo.words import counted

log = logging.getLogger(__name__)

DEFAULT_ALERT_H = 24.0
# The byte of the store's lock file whose POSIX record lock the note's writers take in turn: far past what the lock's
# holder writes into it, and apart from its flock (Linux keeps the two kinds apart).
_COUNT_BYTE = 1 << 30
_COUNT_WAIT_S = 2.0


@dataclass(frozen=True)
class Episode:
    """The runs refused in a row: the first one's time, how many, and what held the store at the last."""

    since: datetime
    runs: int
    by_recheck: bool
    holder: dict[str, Any] | None

    def as_json(self, last: datetime) -> dict[str, Any]:
        return {"since": _iso(self.since), "runs": self.runs, "last": _iso(last),
                "held_by": "re-check" if self.by_recheck else "another program", "holder": self.holder}


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _read(path: Path, now: datetime) -> tuple[datetime, int] | None:
    """The episode's start and runs refused so far, as the file says; None when there is none to go on."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        since, runs = datetime.fromisoformat(data["since"].replace("Z", "+00:00")), data["runs"]
        if since.tzinfo is None or not isinstance(runs, int) or isinstance(runs, bool) or runs < 1:
            raise ValueError("not an episode")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.info("%s: not read (%s): a new episode begins", path, exc)
        return None
    return (since, runs) if since <= now else None  # a clock set back: counted from now


@contextmanager
def _in_turn(store: Path) -> Iterator[None]:
    """The note read and written by one run at a time: runs refused at the same moment (two cron lines on one store)
    each read the count and wrote it plus one, and one was lost. A record lock on a byte of the store's lock file
    (``_COUNT_BYTE``); not had within ``_COUNT_WAIT_S`` (a file system whose flock is such a lock on the whole file:
    NFS), the note is read and written without it, as before."""
    import fcntl

    from geo.store.lock import lock_path

    try:
        fd = os.open(lock_path(Path(store)), os.O_RDWR | os.O_CREAT, 0o664)
    except OSError:
        yield  # (the note cannot be written either: said by its writer)
        return
    try:
        deadline = time.monotonic() + _COUNT_WAIT_S
        while True:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _COUNT_BYTE)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    log.info("%s: the refused runs' count is written without its lock", store)
                    break
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)  # (releases the record lock)


def note_refused(store: Path, exc: StoreLockedError, now: datetime | None = None) -> Episode:
    """Count this refused run in the store's episode (begun now when there is none), written whole; a note that
    cannot be written is a warning (the run is refused all the same: exit 3)."""
    from geo.atomic import write_text
    from geo.store.lock import note_path  # (the re-check imported it: a command's --help does not)

    now = now or datetime.now(timezone.utc)
    path = note_path(Path(store))
    with _in_turn(store):
        earlier = _read(path, now)
        since, runs = earlier if earlier else (now, 0)
        episode = Episode(since, runs + 1, exc.by_recheck, exc.holder)
        try:
            write_text(path, json.dumps(episode.as_json(now), indent=2) + "\n")
        except OSError as err:
            log.warning("%s: cannot note the refused run (%s): a store blocked for long is not told by exit 6",
                        path, err.strerror or err)
    return episode


def clear(store: Path) -> None:
    """The episode is over: a run got the store."""
    from geo.store.lock import note_path

    path = note_path(Path(store))
    try:
        with _in_turn(store):  # not between a refused run's read of the count and its write
            path.unlink()
    except FileNotFoundError:
        return
    except OSError as exc:
        log.warning("%s: cannot remove it (%s): remove it by hand, or a later refused run counts from its time",
                    path, exc.strerror or exc)
        return
    log.info("%s: removed (the store is no longer blocked)", path)


def _by_program(path: Path) -> bool:
    """Whether the note says another program's write transaction refused the last run (not the re-checks' lock)."""
    try:
        return bool(json.loads(path.read_text(encoding="utf-8")).get("held_by") == "another program")
    except (OSError, ValueError, AttributeError):
        return False


@contextmanager
def holding(store: Path, wait_s: float) -> Iterator[None]:
    """The store's writer lock held (``geo.store.lock.writer_lock``), which ends the episode of runs refused the store:
    at once when they were refused the lock (this run got it: a kill later leaves nothing behind), else when this run
    ends with anything but another program's refusal (a crash included: the run was not refused)."""
    from geo.store.lock import note_path, writer_lock

    with writer_lock(Path(store), wait_s):
        if not _by_program(note_path(Path(store))):
            clear(store)
        try:
            yield
        except StoreLockedError:
            raise
        except BaseException:
            clear(store)
            raise
        clear(store)


def overdue(episode: Episode, alert_h: float, now: datetime | None = None) -> bool:
    return (now or datetime.now(timezone.utc)) - episode.since >= timedelta(hours=alert_h)


def _when(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _for(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    if hours < 1:
        return f"{hours * 60:.0f} min"
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.1f} days"


def _hours(alert_h: float) -> str:
    return f"{alert_h:g} h"


def refused_words(episode: Episode, alert_h: float) -> str:
    """What a refused run adds to its line once it is not the first of its episode."""
    if episode.runs < 2:
        return ""
    return (f" ({episode.runs} runs refused in a row since {_when(episode.since)}; past {_hours(alert_h)} a refused "
            "run exits 6: --blocked-alert)")


def alert_line(store: Path, episode: Episode, alert_h: float, now: datetime | None = None) -> str:
    """The one line of a run refused past ``--blocked-alert``: the store, since when, how many runs, what to do."""
    now = now or datetime.now(timezone.utc)
    head = (f"{store}: every re-check for {_for(now - episode.since)} was refused the store ("
            f"{counted(episode.runs, 'run')} in a row since {_when(episode.since)}, nothing recorded; --blocked-alert "
            f"{_hours(alert_h)}): ")
    if not episode.by_recheck:
        return head + ("another program holds a write transaction on it (QGIS editing a layer of it in a transaction "
                       "group, or an SQLite tool): save or end those edits (in QGIS: Save Layer Edits, or stop "
                       "editing), and the next re-check does the work")
    holder = episode.holder
    if not holder:
        return head + ("another re-check holds its lock (its lock file does not say which): if it is stuck, find it "
                       f"(fuser {store}.lock) and stop it; the next re-check does the work")
    import socket

    here = "" if holder["host"] == socket.gethostname() else f" on {holder['host']}"
    return head + (f"another re-check holds its lock, pid {holder['pid']} on {holder['host']} since {holder['since']}: "
                   f"if it is stuck, stop it (kill {holder['pid']}{here}); the next re-check does the work")
