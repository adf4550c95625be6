"""The scene cache: windows of remote assets already read onto a grid, so a rerun reads nothing remote.

One GeoTIFF per (item id, asset href, grid, resampling) under ``scenes/cache/<item id>/`` holding the raw
values on the grid (DN, before scale/offset) with their nodata, plus the item's STAC JSON per source
(``item-<hash of the source>.json``: two archives may hold items with the same id, and a lookup must get
its own archive's item and hrefs). Entries are written to a temporary file and renamed into place only
after the whole window was read, so a crashed or failed download leaves no entry that a later run could
mistake for data; a leftover temporary file (a run killed mid-write: SIGKILL, a power cut) is never read, and
is removed by the first use of the cache once it is ``STALE_TEMPORARY_S`` old, or by ``clear``. An entry that no
longer opens is dropped and read again.

Item ids come from archives, so they are checked before they name a folder: a safe id is a plain name (not
``.`` or ``..``, no ``/``, ``\\``, NUL or other control character, at most ``MAX_ID_BYTES``) whose folder
resolves to a direct child of the cache root. Anything else raises ``SceneError``; nothing is ever
written or removed outside the root.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.errors import RasterioError

from geo import paths
from geo.atomic import replacing
from geo.disk import beyond_size_limit, free_bytes, no_space
from geo.errors import SceneError
from geo.grid import Grid
from geo.scenes.ids import shown_id, unsafe_id_reason

log = logging.getLogger(__name__)

CACHE_VERSION = 2  # 2: windows keyed by their file's href too
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
# A window is written in seconds: a temporary file this old is a killed run's, not another process's write.
STALE_TEMPORARY_S = 6 * 3600
_SWEPT: set[Path] = set()  # cache roots this process has swept of stale temporary files
_SWEPT_LOCK = threading.Lock()


@dataclass(frozen=True)
class CacheKey:
    """What a cached window depends on: the item, the asset and its file, the target grid and the
    resampling. The href (without its query: signatures expire) tells apart two archives' items of one id."""

    item_id: str
    asset: str
    grid: Grid
    resampling: str
    variant: str = ""  # anything else the values depend on (e.g. a co-registration model's fingerprint)
    href: str = ""

    @property
    def digest(self) -> str:
        transform = [round(v, 6) for v in list(self.grid.transform)[:6]]
        text = json.dumps([CACHE_VERSION, self.item_id, self.asset, self.grid.crs.to_wkt(), transform,
                           list(self.grid.shape), self.resampling, self.variant, self.href.split("?")[0]])
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class CacheEntry:
    path: Path
    item_id: str
    asset: str
    crs: str
    shape: tuple[int, int]
    resolution: float
    resampling: str
    size_bytes: int
    created: str

    def to_dict(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "asset": self.asset, "crs": self.crs, "shape": list(self.shape),
                "resolution": self.resolution, "resampling": self.resampling, "bytes": self.size_bytes,
                "created": self.created, "path": str(self.path)}


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name)[:64] or "_"


def _source_key(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:16]


# The cache folders a write to failed, in this process: warned of once, not written to again.
_UNWRITABLE: set[Path] = set()
_UNWRITABLE_LOCK = threading.Lock()


def _gone(exc: Exception) -> bool:
    """Whether ``exc`` (Python's, or GDAL's naming the C library's words) says a file or folder was missing."""
    return isinstance(exc, FileNotFoundError) or os.strerror(errno.ENOENT) in str(exc)


def _make_folder(folder: Path) -> None:
    """``folder`` made if missing. ``Path.mkdir(exist_ok=True)`` says 'File exists' of a folder there when it
    tried and gone when it looked (removed meanwhile): tried again, then said missing, as it is. What is there
    is looked at once per try (checking 'a folder?' then 'anything?' raced with another thread making it)."""
    for _ in range(3):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            return
        except FileExistsError:
            try:
                mode = folder.stat().st_mode
            except FileNotFoundError:  # removed meanwhile: try again
                continue
            if stat.S_ISDIR(mode):  # made again meanwhile
                return
            raise  # a file where the folder should be
    raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(folder))


def _existing(folder: Path) -> Path:
    """``folder`` or its nearest existing parent (the device an entry would be written on)."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


class SceneCache:
    """A folder of cached windows (see module doc). Safe to share between threads and processes."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    @classmethod
    def default(cls) -> SceneCache:
        return cls(paths.scene_cache_dir())

    def item_dir(self, item_id: str) -> Path:
        """The folder of ``item_id``'s entries; ``SceneError`` unless it is a safe name inside the root."""
        reason = unsafe_id_reason(item_id)
        folder = self.root / item_id
        if reason is None and folder.resolve().parent != self.root.resolve():
            reason = "its folder resolves outside the cache (a link?)"
        if reason is not None:
            raise SceneError(f"item id {shown_id(item_id)} cannot name a scene cache folder in {self.root}: {reason}")
        return folder

    def _sweep(self) -> None:
        """Remove the stale temporary files (``geo.atomic.replacing``'s ``.<name>.<pid>-<token>.tmp.<suffix>``) that
        runs killed mid-write left in the item folders: they are never read, only fill the disk. Once per process."""
        with _SWEPT_LOCK:
            if self.root in _SWEPT:
                return
            _SWEPT.add(self.root)
        if not self.root.is_dir():
            return
        cutoff, removed, freed = time.time() - STALE_TEMPORARY_S, 0, 0
        for path in self.root.glob("*/.*.tmp.*"):
            try:
                if path.parent.is_symlink() or not path.is_file() or path.is_symlink():
                    continue  # nothing outside the cache is touched
                stat = path.stat()
                if stat.st_mtime < cutoff:
                    path.unlink()
                    removed, freed = removed + 1, freed + stat.st_size
            except OSError:  # gone meanwhile, or a read-only cache: nothing to do
                continue
        if removed:
            log.info("scene cache: removed %d temporary file(s) (%d bytes) of writes killed runs left", removed, freed)

    def path_for(self, key: CacheKey) -> Path:
        return self.item_dir(key.item_id) / f"{_safe(key.asset)}-{key.digest[:16]}.tif"

    def _count(self, hit: bool) -> None:
        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1

    def load(self, key: CacheKey) -> np.ma.MaskedArray | None:
        """The cached window (masked where nodata), or None on a miss."""
        self._sweep()
        path = self.path_for(key)
        if not path.exists():
            self._count(False)
            return None
        try:
            with rasterio.open(path) as src:
                if src.tags().get("GEO_CACHE_KEY") != key.digest or src.shape != key.grid.shape:
                    raise ValueError("key mismatch")
                data: np.ma.MaskedArray = src.read(1, masked=True)
        except (RasterioError, ValueError) as exc:
            if path.exists():  # (else removed meanwhile, by another user's 'geo scenes cache clear': a miss)
                log.warning("dropping unreadable cache entry %s (%s)", path, exc)
                path.unlink(missing_ok=True)
            self._count(False)
            return None
        self._count(True)
        return data

    def store(self, key: CacheKey, data: np.ma.MaskedArray, nodata: float, href: str) -> Path:
        self._sweep()
        path = self.path_for(key)
        if self.root in _UNWRITABLE:
            return path
        grid = key.grid
        # ZSTD level 1: about as small as deflate here, three times faster to write (measured).
        predictor = 3 if np.issubdtype(data.dtype, np.floating) else 2
        profile = dict(driver="GTiff", width=grid.width, height=grid.height, count=1, dtype=data.dtype,
                       crs=grid.crs, transform=grid.transform, nodata=nodata, compress="zstd", zstd_level=1,
                       predictor=predictor)
        if grid.width >= 256 and grid.height >= 256:
            profile.update(tiled=True, blockxsize=256, blockysize=256)
        # libtiff would print a dozen raw lines into cron's log first
        free = free_bytes(_existing(path.parent))
        if free is not None and free < data.nbytes:
            self._cannot_write(path, f"no space left on the device of {self.root} ({free} bytes free, the entry "
                                     f"needs up to {data.nbytes})")
            return path
        if beyond := beyond_size_limit(data.nbytes):
            self._cannot_write(path, f"it needs up to {data.nbytes} bytes, {beyond}")
            return path

        def write(tmp: Path) -> None:
            with rasterio.open(tmp, "w", **profile) as dst:
                dst.write(data.filled(nodata), 1)
                dst.update_tags(GEO_CACHE_KEY=key.digest, GEO_CACHE_ITEM=key.item_id,
                                GEO_CACHE_ASSET=key.asset, GEO_CACHE_RESAMPLING=key.resampling,
                                GEO_CACHE_HREF=href,
                                GEO_CACHE_CREATED=datetime.now(timezone.utc).isoformat(timespec="seconds"))

        self._write(path, write)
        return path

    def _write(self, path: Path, write: Callable[[Path], object]) -> None:
        """``write`` the entry ``path`` through a temporary file in its item folder (made if missing). A folder
        removed meanwhile (another user's ``geo scenes cache clear``) is made again for a second try; the entry
        is let go if that fails too. A cache that cannot be written costs speed, not correctness."""
        for attempt in (1, 2):
            try:
                _make_folder(path.parent)
                with replacing(path, unique=True) as tmp:
                    write(tmp)
                return
            except (OSError, RasterioError) as exc:
                if _gone(exc):  # the folder made, then missing: cleared meanwhile (not a misplaced cache, a
                    # read-only folder or a full disk, which are there to stay)
                    if attempt == 1:
                        continue
                    log.info("scene cache entry %s not kept: its folder was removed while it was written", path)
                    return
                self._cannot_write(path, no_space(exc, _existing(path.parent)) or exc)
                return

    def _item_path(self, item_id: str, source: str) -> Path:
        return self.item_dir(item_id) / f"item-{_source_key(source)}.json"

    def load_item(self, item_id: str, source: str) -> dict[str, Any] | None:
        """The STAC JSON of ``item_id`` as ``source`` (an archive's URL or a catalog's path) gave it."""
        self._sweep()
        path = self._item_path(item_id, source)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, NotADirectoryError):  # (the cache root a file: GEO_SCENE_CACHE mistyped) none
            return None
        except (OSError, ValueError) as exc:
            log.warning("dropping unreadable cached item %s (%s)", path, exc)
            path.unlink(missing_ok=True)
            return None
        if not isinstance(data, dict) or data.get("source") != source:
            return None
        item = data.get("item")
        return item if isinstance(item, dict) and item.get("id") == item_id else None

    def has_item(self, item_id: str, source: str) -> bool:
        return self._item_path(item_id, source).is_file()

    def store_item(self, item: Mapping[str, Any], source: str) -> None:
        self._sweep()
        path = self._item_path(str(item["id"]), source)
        if self.root in _UNWRITABLE:
            return
        text = json.dumps({"source": source, "item": dict(item)}, default=str)
        self._write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))

    def _cannot_write(self, path: Path, why: object) -> None:
        """Warn once per cache folder and command (a file where the folder should be failed every band of every
        scene, a warning each), then write no more there."""
        with _UNWRITABLE_LOCK:
            first = self.root not in _UNWRITABLE
            _UNWRITABLE.add(self.root)
        if first:
            log.warning("cannot write scene cache entry %s (%s); nothing more is cached this time (GEO_SCENE_CACHE "
                        "names the cache folder)", path, why)

    def entries(self) -> list[CacheEntry]:
        """Every complete window in the cache (temporary files of unfinished writes are not entries). One removed
        while it is listed (another user's ``clear``) is left out."""
        found = []
        for path in _windows(self.root):
            try:
                with rasterio.open(path) as src:
                    tags = src.tags()
                    found.append(CacheEntry(
                        path, tags.get("GEO_CACHE_ITEM", path.parent.name), tags.get("GEO_CACHE_ASSET", "?"),
                        src.crs.to_string() if src.crs else "", src.shape, abs(src.transform.a),
                        tags.get("GEO_CACHE_RESAMPLING", "?"), path.stat().st_size,
                        tags.get("GEO_CACHE_CREATED", ""),
                    ))
            except FileNotFoundError:
                continue
            except RasterioError as exc:
                if path.exists():
                    log.warning("unreadable cache entry %s (%s)", path, exc)
        return found

    def clear(self, item_id: str | None = None) -> tuple[int, int]:
        """Delete every entry (or those of one item), leftovers of crashed writes included; what runs write into
        a folder while it is removed goes too. Returns (files removed, bytes freed)."""
        if item_id is not None:
            folders = [self.item_dir(item_id)]  # refuses an id that is not a plain name inside the root
        elif self.root.is_dir():
            folders = [p for p in self.root.iterdir() if p.is_dir() and not p.is_symlink()]
        else:
            folders = []
        files = bytes_ = 0
        for folder in folders:
            if not folder.is_dir() or folder.is_symlink():
                continue
            for path in folder.rglob("*"):
                try:
                    if path.is_file():
                        bytes_ += path.stat().st_size
                        files += 1
                except FileNotFoundError:  # renamed into place, or removed, meanwhile
                    continue
            try:
                _remove_folder(folder)
            except OSError as exc:
                raise SceneError(f"{folder}: cannot clear scene cache ({exc})") from None
        return files, bytes_


def _windows(root: Path) -> list[Path]:
    """The entries' files ``root/<item>/<name>.tif`` (not the hidden temporary ones), sorted; folders removed
    while they are listed are skipped (``Path.glob`` raised)."""
    found = []
    try:
        folders = sorted(os.scandir(root), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []
    for folder in folders:
        try:
            with os.scandir(folder.path) as listing:
                found += [Path(e.path) for e in listing if e.name.endswith(".tif") and not e.name.startswith(".")]
        except (FileNotFoundError, NotADirectoryError):
            continue
    return sorted(found)


def _remove_folder(folder: Path) -> None:
    """``shutil.rmtree``, while a run may write into the folder: a file gone before its turn (a temporary file
    renamed into place) is no error, and a folder that got a new file meanwhile is emptied again."""

    def gone_is_fine(_function: Any, _path: str, info: Any) -> None:
        if not isinstance(info[1], FileNotFoundError):
            raise info[1]

    for attempt in range(3):
        try:
            shutil.rmtree(folder, onerror=gone_is_fine)
            return
        except OSError as exc:
            if exc.errno != errno.ENOTEMPTY or attempt == 2:
                raise
