"""Provenance without the machine: local paths in a run's manifest and report are written so they name
the same thing on any machine and leak nothing about this one (user names, folder layout).

A path inside the project (``geo.paths.project_root``: the shipped ``scenes/demo/catalog.json``, the scene
cache) is written relative to the project; any other local path as its folder and file name (the
catalog's name, e.g. ``my-scenes/catalog.json``). URLs are kept as they are. Paths inside messages
(a warning naming the catalog it searched) are rewritten the same way.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path, PurePath, PurePosixPath
from typing import Any
from urllib.parse import quote, urlparse

from geo import paths


def _is_local_path(text: str) -> bool:
    if not text or "\n" in text:
        return False
    scheme = urlparse(text).scheme
    if scheme == "file":
        return True
    if scheme and len(scheme) > 1:  # http, https, s3 ... (a one-letter scheme is a Windows drive)
        return False
    return PurePath(text).is_absolute() or (len(text) > 2 and text[1] == ":" and text[2] in "/\\")


def portable_path(text: str) -> str:
    """``text`` itself unless it is an absolute local path; then the project-relative path or its last two
    parts (module docstring)."""
    if not _is_local_path(text):
        return text
    local = urlparse(text).path if text.startswith("file:") else text
    path = PurePosixPath(local.replace("\\", "/"))
    root = PurePosixPath(str(paths.project_root().resolve()).replace("\\", "/"))
    try:
        return str(path.relative_to(root))
    except ValueError:
        return "/".join(path.parts[-2:]) if len(path.parts) > 2 else path.name


# An absolute POSIX path inside a message: starts a word (not part of a URL or of "km/h"), two slashes or more.
EMBEDDED_PATH = re.compile(r"(?<![\w.:/~-])/[^\s'\"<>/]+(?:/[^\s'\"<>/]+)+")


def portable_text(text: str) -> str:
    """``text`` with its absolute local paths made portable, whether it is one or mentions some."""
    if _is_local_path(text):
        return portable_path(text)
    return EMBEDDED_PATH.sub(lambda match: _trimmed(match.group(0)), text)


def _trimmed(path: str) -> str:
    """A path found in prose, without the punctuation that ends its sentence."""
    stripped = path.rstrip(".,;:)]")
    return portable_path(stripped) + path[len(stripped):]


def portable(value: Any) -> Any:
    """A copy of a JSON-like value with every absolute local path made portable (``portable_text``)."""
    if isinstance(value, str):
        return portable_text(value)
    if isinstance(value, dict):
        return {k: portable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [portable(v) for v in value]
    return value


def as_json(value: Any) -> Any:
    """``value`` as its JSON file holds it (tuples as lists, dates as text): what a reader of the folder sees."""
    return json.loads(json.dumps(value, default=str))


def run_folder(folder: Path, out: Path | None) -> dict[str, str] | None:
    """The run folder as a report written to ``out`` names and links it (relative to the report: the link still
    leads there when the report and the runs move together; the report's own folder as such: a report of several
    areas written into one of their folders); None for no ``out``."""
    if out is None:
        return None
    base, target = Path(out).resolve().parent, Path(folder).resolve()
    if target == base:
        return {"text": "this report's own folder", "href": "./"}
    try:
        relative = Path(os.path.relpath(target, base))
    except ValueError:  # another drive (Windows): no relative path leads there
        return None
    return {"text": str(relative), "href": quote(relative.as_posix()) + "/"}
