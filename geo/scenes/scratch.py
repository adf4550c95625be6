"""Arrays on disk for grids too large to hold: a large job's stacks, statistic and masks live in nameless
scratch files mapped into memory, and are used as any numpy array.

A scratch array is a file opened without a name (``O_TMPFILE``, or created and unlinked at once) in the
scratch folder (``$GEO_SCRATCH``, else the system's temporary folder; it must be on disk, not ``tmpfs``:
a warning says so),
mapped shared: nothing is ever left behind, whether the job ends, fails or is killed, and its pages are
written back to the file by the kernel instead of being held. Pages a computation reads or writes stay in
the process until ``release()`` hands them back to the page cache (``MADV_DONTNEED``: the data stays in
the file), so code that walks a large grid by windows calls it after each window and the process's
memory stays that of a window.
"""

from __future__ import annotations

import errno
import functools
import logging
import mmap
import os
import tempfile
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from geo.errors import ScratchError

if TYPE_CHECKING:  # numpy.typing is not imported at run time (a short command's start-up)
    from numpy.typing import DTypeLike

SCRATCH_ENV = "GEO_SCRATCH"
MEMORY_FILE_SYSTEMS = frozenset({"tmpfs", "ramfs"})

log = logging.getLogger(__name__)

_live: weakref.WeakSet[mmap.mmap] = weakref.WeakSet()


def scratch_folder() -> Path:
    """Where scratch arrays are made: ``$GEO_SCRATCH``, else the system's temporary folder."""
    return Path(os.environ.get(SCRATCH_ENV) or tempfile.gettempdir())


def scratch_array(shape: tuple[int, ...], dtype: DTypeLike = np.float32, folder: Path | None = None) -> np.ndarray:
    """A new array of zeros of ``shape`` in a nameless scratch file, freed with the array."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape))
    size = max(count * dtype.itemsize, 1)
    where = folder or scratch_folder()
    _warn_if_in_memory(where)
    try:
        with tempfile.TemporaryFile(dir=where) as handle:  # no name: nothing to clean up
            _reserve(handle.fileno(), size)
            mapped = mmap.mmap(handle.fileno(), size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    except OSError as exc:
        raise ScratchError(
            f"{where}: cannot hold a {size / 2**20:,.0f} MiB scratch array of this large job "
            f"({exc.strerror or exc}); set {SCRATCH_ENV} to a folder on a disk with room (a whole tile needs ~7 GB)"
        ) from None
    _live.add(mapped)
    array: np.ndarray = np.frombuffer(mapped, dtype=dtype, count=count).reshape(shape)
    return array


def file_system_of(folder: Path, mountinfo: str | None = None) -> str | None:
    """The type of the file system ``folder`` is on (``ext4``, ``tmpfs`` ...) from the kernel's mount table
    (``/proc/self/mountinfo``: the last mount of the longest mount point holding the folder wins), or None
    where there is no such table."""
    if mountinfo is None:
        try:
            mountinfo = Path("/proc/self/mountinfo").read_text()
        except OSError:
            return None
    target = os.path.realpath(folder)
    best: tuple[int, str] | None = None
    for line in mountinfo.splitlines():
        fields, _, after = line.partition(" - ")
        parts = fields.split()
        if len(parts) < 5 or not after:
            continue
        point = parts[4].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= best[0]):
            best = (len(point), after.split()[0])
    return None if best is None else best[1]


@functools.lru_cache(maxsize=None)
def _warn_if_in_memory(folder: Path) -> None:
    """Say once per folder when scratch files there are RAM (``tmpfs``): the job then holds its scratch
    arrays in memory after all, which is what they exist to avoid."""
    kind = file_system_of(folder)
    if kind in MEMORY_FILE_SYSTEMS:
        log.warning(
            "scratch folder %s is in memory (%s): this large job's scratch arrays will take RAM, not disk "
            "(a whole tile needs ~7 GB); set %s to a folder on disk", folder, kind, SCRATCH_ENV,
        )


def _reserve(fd: int, size: int) -> None:
    """Give the file its blocks now: a sparse file on a full disk would fail later, when a page is written
    through the mapping, as a crash (SIGBUS) instead of an error. A file system that cannot reserve
    (no ``fallocate``) gets a sparse file."""
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
            raise
        os.ftruncate(fd, size)


def release() -> None:
    """Hand the pages of every live scratch array back to the page cache (their data stays in the files)."""
    for mapped in list(_live):
        mapped.madvise(mmap.MADV_DONTNEED)


def is_scratch(array: np.ndarray) -> bool:
    """True when ``array`` (or the array it is a view of) lives in a scratch file."""
    base: object = array
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, memoryview):
        base = base.obj
    return isinstance(base, mmap.mmap) and base in _live


def take_pixels(stack: np.ndarray, pixels: np.ndarray, strip_rows: int = 512) -> np.ndarray:
    """(band, n) values of a (band, row, col) ``stack`` at flat pixel indices, as ``stack.reshape(k, -1)[:,
    pixels]`` gives them; a scratch stack is read in strips of rows, its pages handed back after each."""
    k, height, width = stack.shape
    flat = stack.reshape(k, -1)
    if not is_scratch(stack):
        values: np.ndarray = np.take(flat, pixels, axis=1)  # the same values in half the time of flat[:, pixels]
        return values
    in_order = bool(np.all(pixels[1:] >= pixels[:-1]))  # a sorted sample or mask's indices: no sort, no scatter
    order = None if in_order else np.argsort(pixels, kind="stable")
    ordered = pixels if order is None else pixels[order]
    out = np.empty((k, pixels.size), stack.dtype)
    step = strip_rows * width
    bounds = np.searchsorted(ordered, np.arange(0, height * width + step, step))
    for start, end in zip(bounds[:-1], bounds[1:]):
        if end > start:
            out[:, slice(start, end) if order is None else order[start:end]] = flat[:, ordered[start:end]]
            release()
    return out


def nth_valid(valid: np.ndarray, ranks: np.ndarray | None = None, strip_px: int = 1 << 22) -> np.ndarray:
    """``np.flatnonzero(valid)[ranks]`` (all of them when ``ranks`` is None) without the index of every valid
    pixel of a large grid (8 bytes each): the ranks are found in strips of rows of about ``strip_px``."""
    height, width = valid.shape
    rows = max(1, strip_px // max(width, 1))
    if ranks is None or rows >= height:
        every = np.flatnonzero(valid)
        return every if ranks is None else every[ranks]
    counts = np.array([np.count_nonzero(valid[top:top + rows]) for top in range(0, height, rows)])
    ends = np.cumsum(counts)
    strip_of = np.searchsorted(ends, ranks, side="right")
    out = np.empty(ranks.shape, np.int64)
    for strip in np.flatnonzero(np.bincount(strip_of)):  # the strips holding a rank (np.unique, without its hash)
        chosen = strip_of == strip
        top = int(strip) * rows
        out[chosen] = np.flatnonzero(valid[top:top + rows])[ranks[chosen] - (ends[strip] - counts[strip])] + top * width
    return out
