"""Where the project's data folders (aoi/, seeds/, scenes/) live.

``GEO_ROOT`` overrides the default, which is the checkout the package was installed from
(``pip install -e .``).  Nothing here touches the disk at import time.
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    env = os.environ.get("GEO_ROOT")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent


def aoi_dir() -> Path:
    return project_root() / "aoi"


def seeds_dir() -> Path:
    return project_root() / "seeds"


def scenes_dir() -> Path:
    return project_root() / "scenes"


def scene_cache_dir() -> Path:
    """Where remote scene windows are cached (``scenes/cache``), or ``$GEO_SCENE_CACHE``."""
    env = os.environ.get("GEO_SCENE_CACHE")
    return Path(env) if env else scenes_dir() / "cache"


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
