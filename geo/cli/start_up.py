"""How a short command imports numpy and rasterio, and ends, so that start-up is not most of its time.

``geo coreg`` of a small pair measures in ~0.03 s; importing what it needs costs more. Costs there that are
not the command's own are avoided here (measured, whole process, against ``geo --version``):

* OpenBLAS, loaded with numpy, starts a worker thread per core that spins waiting for work (~0.05 s of CPU
  on two cores); the shift's linear algebra is 2 x 2 systems, which never use them;
* rasterio imports boto3 whenever it is installed (~0.13 s with botocore and urllib3) but uses it only to
  sign S3 requests (``rasterio.session.AWSSession``); it is imported at that first use instead;
* smaller ones: numpy sets the docstrings of its compiled functions one by one as it is imported (~0.005 s),
  which no result reads (skipped); numpy imports ctypes for an array's ``.ctypes`` and rasterio the XML
  parser for VRT documents (~0.001 s each; at first use instead); and Python loads compiled modules with
  every symbol of the libraries they pull in (GDAL's tens of thousands) looked up at once (``RTLD_NOW``):
  lazy binding looks up those called (~0.004 s).

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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

# a user's own setting wins; the thread count of every other command is left alone
BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "1"}
# numpy's docstrings for its compiled functions and types, set one by one at import (~0.005 s of CPU); a
# command's results never read them (help() shows less in that process)
NUMPY_DOCSTRINGS = ("numpy._core._add_newdocs", "numpy._core._add_newdocs_scalars")
NUMPY_DEFERRED = ("ctypes",)  # numpy imports it for an array's ``.ctypes`` attribute: at that first use instead
# rasterio imports boto3 (if installed) to sign S3 requests, and the XML parser for VRT documents (a boundless
# read, ~0.0015 s): both stand-ins for the real modules until an attribute is used (a rasterio on GDAL 3.11 or
# later uses the parser as rasterio._warp imports, for GDAL's list of warp options: the real one from there)
RASTERIO_DEFERRED = ("boto3", "xml.etree.ElementTree")
# numpy's submodules it imports at the first access of ``numpy.<name>``, which scipy's array API layer makes for
# every name of numpy as scipy.ndimage is imported (it copies numpy's namespace): f2py (with charset_normalizer),
# testing (with unittest) and matlib, ~0.1-0.2 s of CPU that a job never uses; stand-ins while it imports
NUMPY_UNUSED = ("f2py", "testing", "matlib")
_QUICK_END = {"wanted": False}  # set by a command that has finished its work (this process's, not a module's state)


class DeferredModule(types.ModuleType):
    """Stands in for a module in the one that imported it: the real module is imported at the first use
    of one of its attributes (by the import system, whose per-module lock makes that safe across threads)."""

    def __getattr__(self, attribute: str) -> object:  # only for attributes the stand-in does not have
        if sys.modules.get(self.__name__) is self:
            # used while it still stands in (rasterio 1.5 reads the XML parser as its modules import): the real
            # module now, in its place; importing the name again would find this stand-in and recurse
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attribute)


def light_start() -> None:
    """Import numpy and rasterio for a short command: one BLAS thread, numpy without its docstrings, lazy
    binding, and what they import for paths the command may not take (ctypes, boto3, the VRT XML parser)
    imported at their first use. Nothing is done for a library already imported (a caller in the same process)."""
    with _lazy_binding():
        if "numpy" not in sys.modules:
            one_blas_thread()
            deferred = [name for name in NUMPY_DEFERRED if importlib.util.find_spec(name) is not None]
            with _standing_in(NUMPY_DOCSTRINGS, types.ModuleType), _standing_in(deferred, DeferredModule):
                import numpy  # noqa: F401
    light_rasterio()


def one_blas_thread() -> None:
    """OpenBLAS (loaded with numpy, not yet imported) starts one thread, not a worker per core: a command's
    linear algebra is 2 x 2 systems (``geo coreg``) or products with six bands for an inner dimension (``geo
    run``: IR-MAD's 6 x 6 by 6 x 30,000 products took 12-17 ms each with the default threads on two busy
    cores, 1 ms on one; the same values). A user's own setting wins."""
    if "numpy" not in sys.modules:
        for name, value in BLAS_THREADS.items():
            os.environ.setdefault(name, value)


def light_rasterio() -> None:
    """Import rasterio with lazy binding, and boto3 and the VRT XML parser, which it imports for paths a
    command may not take (S3 request signing, VRT documents), imported at their first use. Nothing is done
    when rasterio is already imported. ``geo run`` and ``geo demo`` start with it too (``job_imports``)."""
    if "rasterio" in sys.modules:
        return
    with _lazy_binding():
        deferred = [name for name in RASTERIO_DEFERRED if importlib.util.find_spec(name) is not None]
        with _standing_in(deferred, DeferredModule):
            import rasterio.session  # noqa: F401  (binds the stand-ins: rasterio.session's boto3, rasterio.vrt's ET)


@contextmanager
def job_imports() -> Iterator[None]:
    """For the imports of the change job's modules (``geo run``, ``geo demo``; inside the command, so that its
    ``--help`` imports none of them): OpenBLAS with one thread (its products have six bands for an inner
    dimension: ``one_blas_thread``) and rasterio without boto3 (``light_rasterio``: ~0.05-0.1 s; their rasters
    are local files or HTTP(S) URLs as a rule), numpy's f2py, testing and matlib not imported by scipy
    (``numpy_unused_deferred``: ~0.1 s), with the collector paused (``collector_paused``: ~0.1 s of a
    small job)."""
    with collector_paused():
        one_blas_thread()
        light_rasterio()
        with numpy_unused_deferred():
            yield


@contextmanager
def numpy_unused_deferred() -> Iterator[None]:
    """numpy's submodules ``NUMPY_UNUSED`` (not yet imported) as stand-ins for a block of imports: an attribute
    access ``numpy.f2py`` finds the stand-in, whose first attribute use imports the real module (what copied
    it, scipy's array API layer, keeps a working reference). Afterwards numpy imports them as it does."""
    import numpy

    added = [name for name in NUMPY_UNUSED if f"numpy.{name}" not in sys.modules and name not in vars(numpy)]
    for name in added:
        setattr(numpy, name, DeferredModule(f"numpy.{name}"))
    try:
        yield
    finally:
        for name in added:
            if isinstance(vars(numpy).get(name), DeferredModule):
                delattr(numpy, name)


@contextmanager
def _lazy_binding() -> Iterator[None]:
    """Compiled modules (and the libraries they load: GDAL, PROJ, OpenBLAS ...) loaded with lazy binding for a
    block of imports: a function's address is looked up at its first call, not every one of the tens of
    thousands GDAL exports at load (Python's default, ``RTLD_NOW``; ~0.004 s of CPU). Back as it was after."""
    flags = sys.getdlopenflags()
    sys.setdlopenflags(flags & ~os.RTLD_NOW | os.RTLD_LAZY)
    try:
        yield
    finally:
        sys.setdlopenflags(flags)


@contextmanager
def _standing_in(names: Sequence[str], kind: type[types.ModuleType]) -> Iterator[None]:
    """Stand-ins of ``kind`` in ``sys.modules`` for the modules ``names`` not yet imported, for a block of
    imports; afterwards anyone importing those names gets the real modules."""
    added = [name for name in names if name not in sys.modules]
    for name in added:
        sys.modules[name] = kind(name)
    try:
        yield
    finally:
        for name in added:
            if isinstance(sys.modules.get(name), kind):  # not a real module imported in its place meanwhile
                del sys.modules[name]


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
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # None: the caller closed it (``geo ... >&-``)
                stream.flush()
    except (OSError, ValueError):
        sys.exit(code)
    atexit._run_exitfuncs()
    os._exit(code)
