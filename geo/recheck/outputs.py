"""Files a re-check leaves beside its store, all derived from the store after the run is committed:

``<out>/runs/<run>/changes.geojson`` (RFC 7946, the run's new change polygons) and ``changes.kml`` (the same,
for Google Earth), ``<out>/runs/<run>/summary.json``
(what was new), ``<out>/latest.json`` (the newest run's summary) and ``<out>/<store>.qlr`` (QGIS layer
definition: the store's cumulative ``changes`` layer on the time slider, and its AOIs). Because they are pure
functions of the store, a re-check that died after committing rewrites them identically on its next start
(``repair``).
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.atomic import check_output_file, check_output_root, staged_dir, write_json, write_text
from geo.disk import no_space
from geo.errors import OutputError
from geo.store import Store
from geo.store.qgis import changes_source, layer_definition
from geo.words import counted

if TYPE_CHECKING:
    import subprocess

log = logging.getLogger(__name__)

HOOK_TIMEOUT_S = 600.0  # --on-new-timeout's default
HOOK_GRACE_S = 5.0  # between SIGTERM and SIGKILL of a command that timed out
_CHANGES_SOURCE = re.compile(r'source="([^"|]+)\|layername=changes"')  # a store's layer definition (.qlr)


def default_out(store: Path) -> Path:
    return store.with_name(f"{store.stem}-outputs")


def check_out(out: Path, store: Path, given: bool) -> None:
    """Refuse, before any work, a store or an output folder whose files could not be written."""
    if not store.is_dir():  # (a folder: Store.check names it)
        # SQLite writes -journal (or -wal, -shm) and the lock beside it, even to read
        check_output_file(store, "--store", suffixes_beside=("-journal", ".lock"))
    check_output_root(out, "--out" if given else "--store")  # the default folder is named after the store
    check_output_file(out / f"{store.stem}.qlr", "--store")
    other = _other_store(out, store)
    if other is not None:  # its runs/000001 ... would be replaced by this store's of the same numbers
        raise OutputError(f"--out {out}: holds the outputs of another store, {other} (runs numbered as this store's "
                          "are: each would replace the other's); give each store an --out of its own")


def _other_store(out: Path, store: Path) -> Path | None:
    """Another store whose outputs ``out`` holds: a layer definition there (``<store>.qlr``) names it, and it is
    there. (A store renamed leaves its old layer definition naming a store gone: its folder goes on.)"""
    try:
        definitions = sorted(p for p in out.glob("*.qlr") if p.stem != store.stem)
    except OSError:
        return None
    for definition in definitions:
        try:
            found = _CHANGES_SOURCE.search(definition.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        if found is None:
            continue
        other = out / html.unescape(found[1])
        if other.is_file() and not (store.exists() and os.path.samefile(other, store)):
            return Path(os.path.normpath(other))
    return None


def run_dir(out: Path, run_id: int) -> Path:
    return out / "runs" / f"{run_id:06d}"


def run_files(out: Path, run_id: int) -> dict[str, str]:
    """The files a run writes into its folder (``geo.outputs.layers.CHANGE_LAYERS`` and its summary), relative to
    ``out``: the terminal's ``files:`` line, the summary's ``files`` and the alert's list them all."""
    folder = run_dir(out, run_id).relative_to(out)
    return {"changes": str(folder / "changes.geojson"), "kml": str(folder / "changes.kml"),
            "qml": str(folder / "changes.qml"), "qlr": str(folder / "changes.qlr"),
            "summary": str(folder / "summary.json")}


def layer_definition_path(store: Store, out: Path) -> Path:
    return out / f"{store.path.stem}.qlr"


def write_layer_definition(store: Store, out: Path) -> Path:
    path = layer_definition_path(store, out)
    text = layer_definition(store.path, out, store.pair_span())
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        out.mkdir(parents=True, exist_ok=True)
        write_text(path, text)
    return path


def _names_store(store: Store, out: Path) -> bool:
    """Whether the layer definition exists and points at the store where it is now: a cheap check for a run
    with nothing new (a run with news rewrites the file whenever its text differs)."""
    try:
        text = layer_definition_path(store, out).read_text(encoding="utf-8")
    except OSError:
        return False
    return changes_source(store.path, out) in text


def write_run_outputs(store: Store, run_id: int, out: Path) -> Path:
    """The run's GeoJSON and summary, their folder swapped into place whole (``staged_dir``); a full disk is
    said to be one, with what is recorded and what happens next."""
    try:
        return _write_run_outputs(store, run_id, out)
    except OSError as exc:
        full = no_space(exc, out.absolute())
        if not full:
            raise
        raise OutputError(f"run {run_id} is recorded in {store.path}, but its files could not be written into "
                          f"{out}: {full}; the next re-check writes them") from None


def _write_run_outputs(store: Store, run_id: int, out: Path) -> Path:
    from geo.outputs.layers import LayerFacts, write_change_layers  # shapely: not for a re-check with nothing new

    folder = run_dir(out, run_id)
    folder.parent.mkdir(parents=True, exist_ok=True)  # so the staging folder is made in runs/
    with staged_dir(folder, replace_any=True) as stage:  # derived from the store: replaced whatever it holds
        write_change_layers(stage, store.changes(run_id=run_id), LayerFacts(
            f"Changes new in re-check run {run_id}", run_columns(store, run_id), store.pair_span(run_id),
            pairs_caveats(store, run_id)))
        write_json(stage / "summary.json", store.run_summary(run_id))
    latest = store.run_ids()[-1]
    if latest == run_id:
        write_json(out / "latest.json", store.run_summary(run_id))
    write_layer_definition(store, out)
    log.info("run %d outputs written to %s", run_id, folder)
    return folder / "summary.json"


def pairs_caveats(store: Store, run_id: int) -> tuple[str, ...]:
    """What the run's pairs warned of (``geo.results.run_caveats`` of each pair's manifest), each named by its AOI
    and pair: the caveats its ``changes.qlr`` gives a QGIS user, as a ``geo run`` folder's layers do."""
    from geo.results import run_caveats

    rows = store.conn.execute("SELECT aoi_id, before_scene, after_scene, manifest FROM pairs WHERE run_id = ? AND "
                              "status = 'done' AND manifest IS NOT NULL ORDER BY fid", (run_id,)).fetchall()
    return tuple(f"{aoi}, {before} to {after}: {caveat}" for aoi, before, after, manifest in rows
                 for caveat in run_caveats(json.loads(manifest)))


def run_columns(store: Store, run_id: int) -> dict[str, type]:
    """The columns the sensors of a run's pairs add to the contract's (``geo.vector.sensor_columns``: a run
    with Sentinel-1 pairs has theirs, whichever AOIs its changes are of), in the order its pairs were recorded."""
    from geo.vector.sensor_columns import extra_columns

    columns: dict[str, type] = {}
    for manifest in store.run_manifests(run_id):
        columns.update(extra_columns(manifest))
    return columns


def _remove_stale_staging(out: Path) -> None:
    """Staging (and swapped-out) folders and temporary files left by a re-check killed while writing. They are
    only ever created under the writer lock, which the caller holds, so none of them is in use; a run folder
    they leave missing is rewritten from the store by ``repair``."""
    for path in [*(out / "runs").glob(".*.partial"), *(out / "runs").glob(".*.old")]:
        shutil.rmtree(path, ignore_errors=True)
    for path in out.glob(".*.tmp"):
        path.unlink(missing_ok=True)


def repair(store: Store, out: Path) -> list[int]:
    """Write the outputs of committed runs whose files are missing (a re-check killed after its commit, or a
    store moved or copied without its outputs folder)."""
    _remove_stale_staging(out)
    repaired = [r for r in store.run_ids() if not (run_dir(out, r) / "summary.json").exists()]
    for run_id in repaired:
        write_run_outputs(store, run_id, out)
    ids = store.run_ids()
    if ids and ids[-1] not in repaired:
        latest = out / "latest.json"
        try:
            current = json.loads(latest.read_text()).get("run_id")
        except (OSError, ValueError):
            current = None
        if current != ids[-1]:
            write_json(latest, store.run_summary(ids[-1]))
        if not _names_store(store, out):  # missing, or the store moved
            write_layer_definition(store, out)
    if repaired:
        # Either cause is harmless (the files are derived from the store), and the user should know which.
        former = _former_outputs(store.path, out)
        log.warning("wrote the missing files of run(s) %s into %s from the store (%s)", repaired, out,
                    "a re-check stopped after its commit, or the store was moved or copied without that folder"
                    if former is None else f"the store renamed? {former} beside it holds the outputs of "
                    f"{former.name.removesuffix('-outputs')}{store.path.suffix}, no longer there: remove it")
    return repaired


def _former_outputs(store: Path, out: Path) -> Path | None:
    """The default outputs folder beside ``store`` of a store no longer there (``store`` renamed since: its layer
    definition names the old name), when ``out`` is ``store``'s default one; None otherwise."""
    if out.name != default_out(store).name or not out.parent.samefile(store.parent):
        return None
    for folder in sorted(out.parent.glob("*-outputs")):
        old = folder.name.removesuffix("-outputs")
        if (folder.name != out.name and (folder / "latest.json").is_file() and (folder / f"{old}.qlr").is_file()
                and not store.with_name(f"{old}{store.suffix}").exists()):
            return folder
    return None


def _hook_text(store: Store, summary: dict[str, Any], out: Path) -> str:
    """What the run found in a few lines ($GEO_RECHECK_TEXT, e.g. a mail's body); its first line alone when
    the rest cannot be built (a bug here must not fail a recorded run)."""
    from geo.recheck import notify  # only runs with news call it

    try:
        return notify.plain_text(store, summary, out)
    except Exception as exc:
        log.warning("--on-new: run %s: cannot list the changes: %s: %s", summary["run_id"], type(exc).__name__, exc)
        return f"geo recheck run {summary['run_id']}: {counted(summary['n_new_changes'], 'new change')}"


def run_hook(command: str, summary_path: Path, summary: dict[str, Any], store: Store, out: Path,
             timeout_s: float = HOOK_TIMEOUT_S) -> int:
    """Run ``command`` with ``sh -c``: the summary JSON on stdin, its path in $GEO_RECHECK_SUMMARY, what it
    found in a few plain lines in $GEO_RECHECK_TEXT. It runs in a process group of its own, stopped whole when
    it outlasts ``timeout_s`` or the re-check is stopped: killing the shell alone left its children (a ``mail``
    or ``curl`` that hangs) running, holding cron's output pipe open and maybe delivering after all."""
    import subprocess  # only runs with news call it

    env = {**os.environ, "GEO_RECHECK_SUMMARY": str(summary_path.absolute()), "GEO_RECHECK_RUN": str(summary["run_id"]),
           "GEO_RECHECK_STORE": str(store.path.absolute()), "GEO_RECHECK_TEXT": _hook_text(store, summary, out)}
    proc = subprocess.Popen(["/bin/sh", "-c", command], stdin=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        proc.communicate(json.dumps(summary, indent=2), timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _stop_group(proc)
        log.error("--on-new command timed out after %g s (stopped, with the processes it started)", timeout_s)
        return 124
    except BaseException:  # Ctrl-C, SIGTERM (systemctl stop): the command's group is in another session
        _stop_group(proc)
        raise
    if proc.returncode != 0:
        log.error("--on-new command exited with %d", proc.returncode)
    return proc.returncode


def _stop_group(proc: subprocess.Popen[str]) -> None:
    """SIGTERM to the command's process group; SIGKILL to what is left of it after a grace period."""
    import signal
    import time

    deadline = time.monotonic() + HOOK_GRACE_S
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:  # every process of the group has ended
            break
        while sig == signal.SIGTERM and time.monotonic() < deadline:
            proc.poll()  # reaps the shell, so that a group of it alone (a zombie) counts as ended
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
    proc.wait()


def notify_pending(store: Store, out: Path, command: str, timeout_s: float = HOOK_TIMEOUT_S
                   ) -> tuple[list[int], list[int]]:
    """Run ``command`` for every run with news whose --on-new command has not yet succeeded (at least once
    delivery; the current command, so a fixed command delivers what a broken one missed).
    Returns (runs notified, runs whose command failed)."""
    notified, failed = [], []
    for run_id, _recorded_command in store.pending_notifications():
        summary_path = run_dir(out, run_id) / "summary.json"
        if run_hook(command, summary_path, store.run_summary(run_id), store, out, timeout_s) == 0:
            with store.transaction():
                store.mark_notified(run_id)
            notified.append(run_id)
        else:
            failed.append(run_id)
    return notified, failed
