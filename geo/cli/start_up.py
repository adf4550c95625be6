"""What a short command does before it imports numpy and rasterio, so that start-up is not most of its time.

``geo coreg`` of a small pair measures in ~0.1 s; importing what it needs costs more. Two costs there are
not the command's own, and are avoided here (measured, whole process, against ``geo --version``):

* OpenBLAS, loaded with numpy, starts a worker thread per core that spins waiting for work (~0.05 s of CPU
  on two cores); the shift's linear algebra is 2 x 2 systems, which never use them;
* rasterio imports boto3 whenever it is installed (~0.13 s with botocore and urllib3) but uses it only to
  sign S3 requests (``rasterio.session.AWSSession``); it is imported at that first use instead.

And one at the end: the interpreter's teardown (every module of numpy and rasterio emptied object by object,
GDAL's own clean-up; ~0.01 s of CPU) frees memory the system takes back anyway. A command that has printed its
result and left no thread or file open asks for a quick end (``quick_end_wanted``); ``geo.cli.main`` then runs
the exit handlers (``atexit``: logging's flush, ``weakref.finalize``) and ends the process (``end_now``).
"""

from __future__ import annotations

import atexit
import gc
import importlib
import importlib.util
import os
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

# a user's own setting wins; the thread count of every other command is left alone
BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "1"}
_QUICK_END = {"wanted": False}  # set by a command that has finished its work (this process's, not a module's state)


class DeferredModule(types.ModuleType):
    """Stands in for a module in the one that imported it: the real module is imported at the first use
    of one of its attributes (by the import system, whose per-module lock makes that safe across threads)."""

    def __getattr__(self, attribute: str) -> object:  # only for attributes the stand-in does not have
        return getattr(importlib.import_module(self.__name__), attribute)


def light_start() -> None:
    """Before the first import of numpy and rasterio: one BLAS thread, and boto3 imported by rasterio only
    when it signs an S3 request. Nothing is done once they are imported (a caller in the same process)."""
    if "numpy" not in sys.modules:
        for name, value in BLAS_THREADS.items():
            os.environ.setdefault(name, value)
    if "rasterio" in sys.modules or "boto3" in sys.modules or importlib.util.find_spec("boto3") is None:
        return
    sys.modules["boto3"] = DeferredModule("boto3")
    try:
        import rasterio.session  # noqa: F401  (binds the stand-in as its ``boto3``)
    finally:  # anyone else importing boto3 gets the real module
        del sys.modules["boto3"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a block of imports, and what they created frozen (kept out of
    later collections): importing numpy, rasterio and the command's modules creates tens of thousands of
    objects that live as long as the process, and a collection set off every few hundred allocations would
    walk them again and again. Back on afterwards (if it was on)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_on:
            gc.enable()


def want_quick_end() -> None:
    """Called by a command once its result is printed and nothing it started is left running or open: the
    process may end without the interpreter's teardown (``end_now``)."""
    _QUICK_END["wanted"] = True


def quick_end_wanted() -> bool:
    return _QUICK_END["wanted"]


def end_now(code: int) -> NoReturn:
    """End the process with ``code``: the output streams flushed and the exit handlers run as at a normal
    exit, then ``os._exit``, which skips emptying every module and the libraries' own clean-up. A stream
    that cannot be flushed (a closed pipe) is left to the normal exit, which reports it."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)
    atexit._run_exitfuncs()
    os._exit(code)
