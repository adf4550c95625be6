"""Atomic output: a run's folder is written whole into a hidden staging folder beside it and swapped into
place in one step when the job has succeeded, so the folder always holds one complete run, the old or the
new, never a mix: a failed run leaves it as it was, a killed one leaves the old run or the new.

The swap is ``renameat2(RENAME_EXCHANGE)`` on Linux (one system call: there is no moment without a folder);
elsewhere, or on file systems without it, two renames (``out`` -> ``.out.<pid>-<token>.old``, stage ->
``out``), and a run killed between them has its old folder put back by the next run or reader
(``recover_output_dir``). Staging and old folders carry their owner's pid in their name, so the next run into
the same folder removes those of dead owners. ``MARKER`` is written last into the staging folder: it says the
folder is a complete run (readers refuse a folder without it) and lists the run's files, so that files a user
added to a run folder are carried over to the next run, and a folder that is not a run is refused, not
replaced.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from geo.errors import OutputError
from geo.output_kinds import OutputKind, refusal
from geo.rename_exchange import rename_exchange

log = logging.getLogger(__name__)

MARKER = ".geo-complete.json"
STAGING, OLD = "partial", "old"
_OWNED = re.compile(r"(?P<pid>\d+)-[0-9a-f]{8}\.(?P<kind>partial|old)")
_LONGEST_PID = 4194304  # PID_MAX_LIMIT of 64-bit Linux: the longest pid a staging name holds
# Files that programs leave beside a run's own file (SQLite journals of the GeoPackage opened in QGIS, GDAL
# statistics, editor backups): they describe the old file, so they go with it.
SIDECARS = ("-wal", "-shm", "-journal", ".aux.xml", ".ovr", "~")


# ---------------------------------------------------------------- checks before any work


def _absolute(path: Path) -> Path:
    """``path`` made absolute (``..`` resolved by name); a symlink to a folder is followed, so the swap
    replaces the folder it names and the link stays."""
    path = Path(os.path.abspath(path))
    return path.resolve() if os.path.islink(path) else path  # os.path: False, not an error, for long names


def _shown(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 160 else f"{text[:80]}...{text[-60:]}"


def existing_ancestor(path: Path) -> Path:
    while not os.path.lexists(path):  # False, not an error, for names too long to look up
        path = path.parent
    return path


def _limits(path: Path) -> tuple[int, int]:
    """NAME_MAX and PATH_MAX (bytes) of the file system holding ``path``."""
    ancestor = existing_ancestor(path)
    try:
        return os.pathconf(ancestor, "PC_NAME_MAX"), os.pathconf(ancestor, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):  # no pathconf (Windows) or no answer: the usual limits
        return 255, 4096


def _check_location(folder: Path, option: str, shown: str, names: Sequence[str] = (), why: str = "") -> None:
    """Entries called ``names`` (and files under them) can be created in ``folder`` (made if missing)."""
    name_max, path_max = _limits(folder)
    for part in folder.parts[1:]:
        if len(os.fsencode(part)) > name_max:
            raise OutputError(f"{option} {shown}: folder name {part[:40]}... too long ({len(os.fsencode(part))} "
                              f"bytes; the file system allows {name_max})")
    first = len(os.fsencode(names[0])) if names else 0
    overhead = max((len(os.fsencode(name)) - first for name in names), default=0)  # what names made from it add
    if first + overhead > name_max:
        raise OutputError(f"{option} {shown}: name too long ({first} bytes; at most {name_max - overhead} here: the "
                          f"file system allows {name_max} per name{why})")
    length = len(os.fsencode(str(folder))) + 1 + first
    if length + overhead + 1 + name_max > path_max:  # room for a file inside the longest name made
        raise OutputError(f"{option} {shown}: path too long ({length} bytes; with the files written inside "
                          f"it must stay under the file system's {path_max})")
    ancestor = existing_ancestor(folder)
    if not ancestor.is_dir():
        raise OutputError(f"{option} {shown}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {shown}: cannot write there ({ancestor} is not writable)")
    # os.access answers from the permission bits, and root passes them: a special place (/proc, /sys) or a
    # read-only mount refuses only when tried. An empty file made and removed at once is the try.
    try:
        handle, probe = tempfile.mkstemp(prefix=".geo-write-check-", dir=ancestor)
    except OSError as exc:
        raise OutputError(f"{option} {shown}: cannot write there ({ancestor} takes no new file: "
                          f"{exc.strerror or exc})") from None
    os.close(handle)
    os.remove(probe)


def _owned_name(out: Path, kind: str, pid: int, token: str) -> Path:
    return out.with_name(f".{out.name}.{pid}-{token}.{kind}")


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The completion marker of a run folder, or None when there is none (or it is unreadable)."""
    try:
        marker = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return marker if isinstance(marker, dict) and isinstance(marker.get("files"), list) else None


def check_output_dir(out: Path, option: str = "--out", replace_any: bool = False,
                     kind: OutputKind | None = None) -> None:
    """Refuse, before any work, an output folder the run cannot create and swap into place: a file, a name
    or path too long for the file system (with the staging names made beside it), an unwritable place, the
    current folder, a non-empty folder that is not a run's (unless ``replace_any``: a folder only the
    workbench writes), or another command's than ``kind``'s (``geo.output_kinds``)."""
    shown = _shown(out)
    out = _absolute(Path(out))
    if out.parent == out:
        raise OutputError(f"{option} {shown}: is the root folder; give a folder for the run")
    staging = _owned_name(out, STAGING, _LONGEST_PID, "0" * 8).name
    _check_location(out.parent, option, shown, [out.name, staging],
                    f" and the run stages the folder beside it as .NAME.<pid>-<token>.{STAGING}")
    if not os.path.lexists(out):
        return
    if not out.is_dir():
        raise OutputError(f"{option} {shown}: exists and is not a folder")
    cwd = Path(os.path.realpath(Path.cwd()))
    if os.path.realpath(out) in (str(cwd), *map(str, cwd.parents)):
        raise OutputError(f"{option} {shown}: is the current folder or holds it (a run replaces the whole folder); "
                          "give another folder")
    marker = None if replace_any else read_marker(out)
    why = refusal(marker["files"], kind) if marker is not None and kind is not None else None
    if why is not None:
        raise OutputError(f"{option} {shown}: {why}")
    if not replace_any and marker is None:
        entries = sorted(p.name for p in out.iterdir())
        if entries:
            listed = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
            raise OutputError(f"{option} {shown}: not empty ({listed}) and not a complete geo run folder (no "
                              f"{MARKER}); a run replaces the whole folder: give a new or empty one")


def check_output_file(path: Path, option: str = "--out", unique: bool = False,
                      suffixes_beside: Sequence[str] = ()) -> None:
    """Refuse, before any work, an output file that cannot be written through ``replacing(path, unique)``,
    nor the files named ``path`` + each of ``suffixes_beside`` (SQLite's ``-journal``)."""
    shown = _shown(path)
    path = Path(os.path.abspath(path))
    if os.path.isdir(path):
        raise OutputError(f"{option} {shown}: is a folder; give the file to write")
    beside = [path.name + suffix for suffix in suffixes_beside]
    why = " and files are written beside it" if beside else \
        " and the file is written as a temporary file beside it first"
    temporary = _temporary(path, unique, _LONGEST_PID).name  # the longest a process's can be
    _check_location(path.parent, option, shown, [path.name, temporary, *beside], why)


def check_output_root(out: Path, option: str = "--out") -> None:
    """Refuse, before any work, a folder that outputs are added to (not replaced) which cannot be: a file,
    a name or path too long for the file system, an unwritable place."""
    shown = _shown(out)
    out = _absolute(Path(out))
    if os.path.lexists(out) and not out.is_dir():
        raise OutputError(f"{option} {shown}: exists and is not a folder")
    _check_location(out, option, shown)


# ---------------------------------------------------------------- the swap and its recovery


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill would end it: keep the folder
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def recover_output_dir(out: Path) -> None:
    """Tidy after runs into ``out`` that were killed: put back the old folder of a run killed between the two
    renames of its swap (when ``out`` is missing), and remove the staging and old folders of dead runs."""
    out = _absolute(Path(out))
    prefix = f".{out.name}."
    try:
        siblings = [p for p in out.parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return
    for path in sorted(siblings, key=lambda p: not p.name.endswith(OLD)):  # restore before removing
        match = _OWNED.fullmatch(path.name[len(prefix):])
        if match is None or _alive(int(match["pid"])):
            continue
        try:
            if match["kind"] == OLD and not os.path.lexists(out):
                os.rename(path, out)
                log.warning("%s: put back the previous run (a run killed while replacing it left it at %s)",
                            out, path.name)
            else:
                shutil.rmtree(path)
                log.info("removed %s, left by a killed run (pid %s)", path, match["pid"])
        except OSError as exc:  # another process got there first
            log.debug("could not tidy %s: %s", path, exc)


def _swap(stage: Path, out: Path) -> Path | None:
    """Put ``stage`` at ``out``; returns where the old folder went (to remove), None if there was none."""
    if rename_exchange(stage, out):
        return stage
    for _attempt in range(3):  # another run may put its folder there between our steps
        if not os.path.lexists(out):
            try:
                os.rename(stage, out)
                return None
            except OSError as exc:
                if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
                continue
        old = _owned_name(out, OLD, os.getpid(), secrets.token_hex(4))
        try:
            os.rename(out, old)
        except FileNotFoundError:
            continue
        try:
            os.rename(stage, out)  # killed before this: out is missing, recover_output_dir puts old back
        except OSError:
            os.rename(old, out)
            raise
        return old
    raise OSError(errno.EBUSY, "other runs keep replacing it", str(out))


def _remove_empty(folders: Sequence[Path]) -> None:
    for path in folders:  # deepest first
        try:
            path.rmdir()
        except OSError:
            return


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; returns those this call created, deepest first."""
    missing = []
    while not os.path.lexists(folder):
        missing.append(folder)
        folder = folder.parent
    made: list[Path] = []
    try:
        for path in reversed(missing):
            try:
                path.mkdir()
            except FileExistsError:  # made by another run meanwhile: not ours to remove
                continue
            made.insert(0, path)
    except OSError as exc:
        _remove_empty(made)
        raise OutputError(f"{path}: cannot create the output folder ({exc})") from None
    return made


def _link_or_copy(source: str | Path, target: str | Path) -> None:
    try:
        os.link(source, target, follow_symlinks=False)  # no copy, and the file survives in the old folder too
    except OSError:
        shutil.copy2(source, target, follow_symlinks=False)


def _carry_over(out: Path, stage: Path, own: Sequence[str]) -> None:
    """Entries a user added to the previous run folder ``out``, linked into ``stage``; the previous run's files
    and their sidecars stay behind."""
    previous = read_marker(out) if out.is_dir() else None
    if previous is None:
        return
    theirs = {str(name) for name in previous["files"]}
    for entry in sorted(out.iterdir()):
        name = entry.name
        if name == MARKER or name in theirs or any(name == f"{f}{s}" for f in theirs for s in SIDECARS):
            continue
        if name in own:
            log.warning("%s: %s is replaced by the run's file of that name", out, name)
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, stage / name, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(entry, stage / name)
        log.info("%s: kept %s (not a file of the run)", out, name)


@contextmanager
def staged_dir(out: Path, replace_any: bool = False, kind: OutputKind | None = None) -> Iterator[Path]:
    """Yield a staging folder beside ``out``; when the block succeeds, write ``MARKER`` into it and swap it
    into place whole (see the module docstring). On any exception ``out`` stays as it was and nothing is
    left behind; a kill leaves at most the staging folder, which the next run into ``out`` removes.
    ``replace_any``: ``out`` is a folder only the workbench writes (replace it whatever it holds, carry
    nothing over); ``kind``: the command's (another command's folder is refused)."""
    check_output_dir(out, replace_any=replace_any, kind=kind)
    out = _absolute(Path(out))
    created = _make_parents(out.parent)
    recover_output_dir(out)
    stage = _owned_name(out, STAGING, os.getpid(), secrets.token_hex(4))
    remove: Path | None = stage
    try:
        try:
            stage.mkdir()
        except OSError as exc:  # the place changed since it was checked
            raise OutputError(f"{out}: cannot make the run's folder beside it ({exc.strerror or exc})") from None
        try:
            yield stage
        except OutputError as exc:  # a file of the run that could not be written: named where the user looks
            raise OutputError(str(exc).replace(str(stage), str(out))) from None
        own = sorted(p.name for p in stage.iterdir() if not p.name.startswith("."))
        if not replace_any:
            try:
                _carry_over(out, stage, own)
            except OSError as exc:
                raise OutputError(f"{out}: cannot keep the files added to it in the new run folder ({exc})") from None
        write_json(stage / MARKER, {"files": own})  # no time or pid: reruns that agree write the same bytes
        try:
            remove = _swap(stage, out)
        except OSError as exc:
            raise OutputError(f"{out}: cannot move the outputs into place ({exc})") from None
        created = []
    finally:
        if remove is not None:
            shutil.rmtree(remove, ignore_errors=True)
        _remove_empty(created)  # a failed run leaves no folders either


# ---------------------------------------------------------------- single files


def write_text(path: Path, text: str) -> None:
    """Write text through a temporary file and rename (``replacing``), so readers never see half a file."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (``write_text``)."""
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _temporary(path: Path, unique: bool, pid: int | None = None) -> Path:
    token = f".{pid or os.getpid()}-{secrets.token_hex(4)}" if unique else ""
    return path.with_name(f".{path.stem}{token}.tmp{path.suffix}")


@contextmanager
def replacing(path: Path, unique: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same extension, so drivers that check it are happy); on
    success rename it over ``path``, on any exception remove it. ``unique`` gives every call its own
    temporary name, for paths that several threads or processes may write at once (last rename wins)."""
    path = Path(path)
    tmp = _temporary(path, unique)
    tmp.unlink(missing_ok=True)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
