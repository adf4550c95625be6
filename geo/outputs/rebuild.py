"""``geo report``: the report rebuilt from run folders that new runs may replace while it is made.

A run swaps its whole folder into place in one step (``geo.atomic``), so a folder read while a scheduled
``geo run --out`` finishes may be the previous run for some files and the new one for others, and the report
(``RUN_DIR/report.html``) written into the new run's folder would describe the previous run. So the folders
are known by their inode: one that changed while the report was read and made is read again.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import jinja2

from geo.errors import OutputError
from geo.outputs import report
from geo.outputs.run_data import RunData, RunFolderError, load_run

log = logging.getLogger(__name__)

ATTEMPTS = 3


def _identity(folder: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(folder)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _lacking(runs: Sequence[RunData]) -> RunFolderError | None:
    """The run whose files lack a value the report reads (a folder of an older workbench, or edited by hand), each
    run's report made alone to find it, as an error naming its folder and the key; None when each makes its own."""
    for run in runs:
        try:
            report.render_report([run])
        except (KeyError, jinja2.UndefinedError) as exc:
            said = re.search(r"attribute '([^']+)'", str(exc)) if isinstance(exc, jinja2.UndefinedError) else None
            key = f"'{said.group(1)}'" if said else str(exc)
            return RunFolderError(f"{run.folder}: its files lack {key} (written by an older workbench? run the job again)")
    return None


def rebuild_report(run_dirs: Sequence[Path], out: Path,
                   check: Callable[[Sequence[Path], list[RunData]], None] = lambda dirs, runs: None) -> list[RunData]:
    """Read ``run_dirs``, ``check`` them, write their report to ``out``; returns the runs read. A folder replaced
    by a new run meanwhile (an error reading it included) is read again, up to ``ATTEMPTS`` times."""
    for _attempt in range(ATTEMPTS):
        seen = [_identity(folder) for folder in run_dirs]
        runs: list[RunData] = []
        try:
            runs = [load_run(folder) for folder in run_dirs]
            check(run_dirs, runs)
            html = report.render_report(runs, out=out)
        except Exception as exc:
            if [_identity(folder) for folder in run_dirs] == seen:
                if isinstance(exc, (KeyError, jinja2.UndefinedError)) and (lacking := _lacking(runs)) is not None:
                    raise lacking from None
                raise
            log.info("a run folder was replaced by a new run while it was read: reading it again")
            continue
        if [_identity(folder) for folder in run_dirs] == seen:
            out.parent.mkdir(parents=True, exist_ok=True)
            report.write_html(out, html)
            return runs
        log.info("a run folder was replaced by a new run while its report was made: making it again")
    raise OutputError(f"{', '.join(map(str, run_dirs))}: replaced by new runs while the report was made, "
                      f"{ATTEMPTS} times; run geo report again once they are done")
