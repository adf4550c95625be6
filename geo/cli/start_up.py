"""What a short command does before it imports numpy and rasterio, so that start-up is not most of its time.

``geo coreg`` of a small pair measures in ~0.1 s; importing what it needs costs more. Two costs there are
not the command's own, and are avoided here (measured, whole process, against ``geo --version``):

* OpenBLAS, loaded with numpy, starts a worker thread per core that spins waiting for work (~0.05 s of CPU
  on two cores); the shift's linear algebra is 2 x 2 systems, which never use them;
* rasterio imports boto3 whenever it is installed (~0.13 s with botocore and urllib3) but uses it only to
  sign S3 requests (``rasterio.session.AWSSession``); it is imported at that first use instead.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import os
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager

# a user's own setting wins; the thread count of every other command is left alone
BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "1"}


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
