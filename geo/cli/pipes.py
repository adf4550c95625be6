"""A reader that stops early: ``geo claims list | head -3``, ``geo run ... | grep -m1 claim``.

Python ignores SIGPIPE, so a write to a pipe nobody reads any more fails with BrokenPipeError; rich and click each
answer it with a silent exit 1, which a script reads as a user error, and where the write came mid-command
(``geo recheck --json --export-stac DIR | head -1``) what followed it (the export) was never done. Here instead the
output that nobody reads goes to /dev/null and the command finishes its work; it then exits 141 (128 + SIGPIPE),
silently, as ``git log | head -1`` or ``seq 100000 | head -1`` ends, which ``set -o pipefail`` reports the same way.
A command that fails exits with its own code (1, 2, 4 ...), its message on stderr if anyone still reads it.
"""

from __future__ import annotations

import os
import select
import signal
import sys
from typing import IO

EXIT_READER_GONE = 128 + signal.SIGPIPE  # 141, what a shell reports for a command ended by SIGPIPE
_GONE: list[int] = []  # the file descriptors whose reader went away (module state: a process has one stdout)


def reader_gone(stream: IO[str]) -> None:
    """``stream``'s reader went away: what is still to be written there goes to /dev/null from now on."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError):  # not a real file (a test's StringIO): nothing to redirect
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
    if fd not in _GONE:
        _GONE.append(fd)


def any_reader_gone() -> bool:
    """Whether a write to stdout or stderr failed because its reader went away."""
    return bool(_GONE)


def broken_output() -> bool:
    """After a BrokenPipeError that reached click (a ``click.echo``, its ``--help``): whether it was stdout's or
    stderr's reader that went away (a pipe with its read end closed); those are sent to /dev/null, so that the
    interpreter's last flush does not fail on them too."""
    for stream in (sys.stdout, sys.stderr):
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            continue
        if fd not in _GONE and _closed_pipe(fd):
            reader_gone(stream)
    return bool(_GONE)


def _closed_pipe(fd: int) -> bool:
    """A pipe whose read end is closed (poll reports an error condition on its write end)."""
    try:
        poller = select.poll()
        poller.register(fd, 0)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll (Windows), or not a pollable descriptor
        return False
