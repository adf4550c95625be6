"""Atomic output: everything is written into a hidden staging folder and moved into place only when the
whole job has succeeded, so a failed run leaves no partial files behind."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from geo.errors import OutputError


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


def check_output_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: output path exists and is not a folder")
    ancestor = _existing_ancestor(out)
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK):
        raise OutputError(f"{out}: cannot create output folder ({ancestor} is not writable)")


@contextmanager
def staged_dir(out: Path) -> Iterator[Path]:
    """Yield a staging folder; on success move its files into ``out`` (created if needed), atomically
    per file; on any exception remove the staging folder and leave ``out`` as it was."""
    out = Path(out)
    check_output_dir(out)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=_existing_ancestor(out.parent)))
    try:
        yield stage
        created = not out.exists()
        out.mkdir(parents=True, exist_ok=True)
        try:
            for item in sorted(stage.iterdir()):
                os.replace(item, out / item.name)
        except OSError as exc:
            if created:
                shutil.rmtree(out, ignore_errors=True)
            raise OutputError(f"{out}: cannot move outputs into place ({exc})") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def write_text(path: Path, text: str) -> None:
    """Write text through a temporary file and rename, so readers never see half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (``write_text``)."""
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


@contextmanager
def replacing(path: Path, unique: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same extension, so drivers that check it are happy); on
    success rename it over ``path``, on any exception remove it. ``unique`` gives every call its own
    temporary name, for paths that several threads or processes may write at once (last rename wins)."""
    path = Path(path)
    token = f".{os.getpid()}-{secrets.token_hex(4)}" if unique else ""
    tmp = path.with_name(f".{path.stem}{token}.tmp{path.suffix}")
    tmp.unlink(missing_ok=True)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
