"""Where the project's data folders (aoi/, seeds/, scenes/) live.

``GEO_ROOT`` overrides the default, which is the checkout the package runs from (``pip install -e .``), else
the copy of the checkout's registry (aoi/, seeds/) and demo scenes installed inside the package, ``geo/_shipped``
(a wheel, ``pip install git+...``: pyproject.toml maps the checkout's root to it). An installed package keeps its
scene cache in the user's cache folder, not among its own files. Nothing here touches the disk at import time.
"""

from __future__ import annotations

import os
from pathlib import Path


def package_dir() -> Path:
    return Path(__file__).resolve().parent


def checkout() -> Path | None:
    """The source checkout ``geo`` runs from (its ``pyproject.toml`` beside the package), or None when the
    package is installed (site-packages)."""
    root = package_dir().parent
    return root if (root / "pyproject.toml").is_file() else None


def project_root() -> Path:
    env = os.environ.get("GEO_ROOT")
    if env:
        return Path(env)
    return checkout() or package_dir() / "_shipped"


def aoi_dir() -> Path:
    return project_root() / "aoi"


def seeds_dir() -> Path:
    return project_root() / "seeds"


def scenes_dir() -> Path:
    return project_root() / "scenes"


def scene_cache_dir() -> Path:
    """Where remote scene windows are cached: ``$GEO_SCENE_CACHE``, else ``scenes/cache`` of ``$GEO_ROOT`` or of
    the checkout, else (an installed package) ``$XDG_CACHE_HOME/geo/scenes`` (``~/.cache/geo/scenes``)."""
    env = os.environ.get("GEO_SCENE_CACHE")
    if env:
        return Path(env)
    if os.environ.get("GEO_ROOT") or checkout() is not None:
        return scenes_dir() / "cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "geo" / "scenes"


def demo_catalog() -> Path:
    return scenes_dir() / "demo" / "catalog.json"


def shared_data() -> Path:
    """The read-only shared data folder (``shared/data`` beside or above the checkout), or
    ``$GEO_SHARED_DATA``. Returned even when absent, so callers can name it in their message."""
    env = os.environ.get("GEO_SHARED_DATA")
    if env:
        return Path(env)
    for parent in project_root().resolve().parents:
        candidate = parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return project_root().parent / "shared" / "data"


def visible_files(folder: Path) -> list[Path]:
    """The files of ``folder`` a user sees in a listing (no dot files, no subfolders), sorted by name."""
    return sorted(path for path in Path(folder).iterdir() if path.is_file() and not path.name.startswith("."))


def named_files(folder: Path, suffix: str) -> list[Path]:
    """The entries of ``folder`` ending in ``suffix``, sorted, but no dot file: a Mac's AppleDouble '._mine.toml'
    (binary, on a copied stick or share) and Emacs's '.#mine.toml' lock (a link to nowhere) are not the user's."""
    return sorted(path for path in Path(folder).glob(f"*{suffix}") if not path.name.startswith("."))


def misnamed_files(folder: Path, suffix: str, also: tuple[str, ...] = ()) -> dict[Path, str]:
    """The files of ``folder`` meant to end in ``suffix`` that a glob for it misses, each with the name it should
    have: another case ('mine.TOML'), '.txt' added (Notepad does, and Windows hides it), or an ending in ``also``
    that tools give the same format ('port.json' for GeoJSON)."""
    if not Path(folder).is_dir():
        return {}
    found = {}
    for path in visible_files(folder):
        if path.match(f"*{suffix}"):
            continue  # globbed, so read (a case-blind glob, as on Windows, reads 'mine.TOML' too)
        name = path.name[:-4] if path.name.lower().endswith(suffix + ".txt") else path.name
        stem, _, ending = name.rpartition(".")
        if stem and f".{ending.lower()}" in (suffix, *also):
            found[path] = f"{stem}{suffix}"
    return found


def nested_files(folder: Path, suffix: str, also: tuple[str, ...] = ()) -> list[Path]:
    """The files ending in ``suffix`` (any case, or an ending in ``also``) one folder down in ``folder``
    ('seeds/2024/mine.toml'): the folder alone is read, so their claims or AOIs would be unknown, unexplained.
    Hidden folders (.git, .ipynb_checkpoints) are not the user's."""
    if not Path(folder).is_dir():
        return []
    endings = (suffix, *also)
    return [path for sub in sorted(Path(folder).iterdir()) if sub.is_dir() and not sub.name.startswith(".")
            for path in visible_files(sub) if path.suffix.lower() in endings]
