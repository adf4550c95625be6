"""Run the installed ``geo`` command for an algorithm: find it, stream what it says into the Processing
feedback as it comes, and stop it when the user cancels.

QGIS's own Python usually lacks the workbench's dependencies (rasterio, scipy, pystac...), so the plugin never
imports ``geo``: it runs the command the user installed (in a virtual environment, with pipx...), found on
PATH or set in Processing > Options > Providers (a command line: ``/opt/geo/bin/geo`` or
``/usr/bin/python3 -m geo``). ``GEO_PROGRESS=lines`` makes ``geo`` print one ``progress: TITLE: STEP`` line
per step on stderr instead of a terminal spinner.
"""

import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import threading

from qgis.core import QgsProcessingException

GEO_COMMAND_SETTING = "GEO_WORKBENCH_COMMAND"
GEO_COMMAND_ENV = "GEO_WORKBENCH_COMMAND"  # the same, for scripts and tests (the setting wins)
# What QGIS's launchers set for QGIS's own Python (OSGeo4W, the macOS bundle, some Linux scripts): another
# interpreter, the one geo is installed in, reads the wrong standard library or packages with them.
QGIS_PYTHON_SETTINGS = ("PYTHONHOME", "PYTHONPATH", "PYTHONEXECUTABLE")
POLL_S = 0.1
COUNTED_STEP = re.compile(r"\((\d+)/(\d+)\)$")  # "detecting in ID (3/12)"
STOP_GRACE_S = 5.0
WHERE = "Processing > Options > Providers > Geo change workbench"


def geo_command():
    """The command line that runs ``geo``: the provider's setting, else $GEO_WORKBENCH_COMMAND, else ``geo`` on
    PATH; a clear error when none is found."""
    configured = ""
    try:
        from processing.core.ProcessingConfig import ProcessingConfig

        configured = ProcessingConfig.getSetting(GEO_COMMAND_SETTING) or ""
    except Exception:  # Processing's settings not loaded (the provider not registered yet)
        configured = ""
    configured = configured.strip() or os.environ.get(GEO_COMMAND_ENV, "").strip()
    if configured and os.path.isdir(configured):  # the venv's bin folder pasted: Popen says 'Permission denied'
        inside = os.path.join(configured, "geo")
        hint = f"give the command in it, {inside}" if os.path.isfile(inside) else "give the geo command in it"
        raise QgsProcessingException(f"the geo command setting {configured} is a folder: {hint} ({WHERE})")
    if configured and os.path.isfile(configured):  # a path, spaces and all (~/My venvs/geo/bin/geo)
        if not os.access(configured, os.X_OK):
            raise QgsProcessingException(f"the geo command setting {configured} is not an executable file: "
                                         f"give the geo command ({WHERE})")
        return [configured]
    if configured:
        return shlex.split(configured)
    found = shutil.which("geo")
    if not found:
        raise QgsProcessingException(
            "the geo command was not found on PATH: install the workbench (pip install .) or set "
            f"its path in {WHERE}")
    return [found]


def _read_lines(stream, lines):
    for line in iter(stream.readline, ""):
        lines.put(line.rstrip("\n"))
    stream.close()


def _read_all(stream, out):
    out.append(stream.read())
    stream.close()


def _stop(proc, feedback):
    """End ``geo`` and anything it started (its own process group): SIGTERM, then SIGKILL after a grace."""
    for sig, wait in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    feedback.pushInfo(f"geo (pid {proc.pid}) stopped: canceled")


class StepProgress:
    """Turns ``geo``'s lines into feedback: a step advances the bar (``expected_steps`` of them make 95 %, or a
    step counted ``(k/n)`` makes k/n of it; the bar never goes back), warnings are shown as such, error lines
    are kept for the exception of a failed run (logged once, by it), the rest is console output. A Python traceback (``geo`` dying before its own error handling, e.g. an
    install missing a package) is kept out of the log: its last line, the exception, becomes the error."""

    def __init__(self, feedback, expected_steps, aliases=None):
        self.feedback = feedback
        # text in geo's messages -> what the user knows it as (a temporary AOI file; an option -> its parameter)
        self.aliases = aliases or {}
        self.expected = max(1, expected_steps)
        self.steps = 0
        self.percent = 0.0
        self.errors = []
        self.in_traceback = False
        self.crash = ""

    def __call__(self, line):
        for text, alias in self.aliases.items():
            if text.startswith("--"):  # an option, as a word: '--to' is not in '--tolerance'
                line = re.sub(rf"(?<![\w-]){re.escape(text)}(?![\w-])", lambda _: alias, line)
            else:
                line = line.replace(text, alias)
        if line.startswith("Traceback (most recent call last):") or self.in_traceback:
            self.in_traceback = True
            if line.strip() and not line[0].isspace() and not line.startswith("Traceback"):
                self.crash = line.strip()  # "ModuleNotFoundError: No module named 'rasterio'"
        elif line.startswith("progress: "):
            self.steps += 1
            text = line[len("progress: "):]
            self.feedback.setProgressText(text)
            counted = COUNTED_STEP.search(text)
            done = int(counted[1]) / max(1, int(counted[2])) if counted else self.steps / self.expected
            self.percent = max(self.percent, min(95.0, 95.0 * done))
            self.feedback.setProgress(self.percent)
        elif line.startswith("warning: "):
            self.feedback.pushWarning(line)
        elif line.startswith(("Error:", "error:", "internal error:", "Usage:")) or self.errors:
            self.errors.append(line)  # said once, by the exception a failed run raises (see run_geo)
        else:
            self.feedback.pushConsoleInfo(line)


def run_geo(args, feedback, expected_steps=1, cwd=None, aliases=None):
    """Run ``geo ARGS``; returns its stdout. Raises ``QgsProcessingException`` when it fails (its error
    message) or is canceled (after stopping it). ``aliases``: text of geo's lines to say otherwise (a temporary
    file's path -> "AOI layer 'harbour east'")."""
    command = [*geo_command(), *args]
    feedback.pushCommandInfo(" ".join(shlex.quote(a) for a in command))
    env = {name: value for name, value in os.environ.items() if name not in QGIS_PYTHON_SETTINGS}
    env.update({"GEO_PROGRESS": "lines", "COLUMNS": "200", "PYTHONUNBUFFERED": "1"})
    try:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                text=True, encoding="utf-8", errors="replace", env=env, cwd=cwd,
                                start_new_session=True)
    except OSError as exc:
        raise QgsProcessingException(f"cannot run {command[0]}: {exc}") from None
    feedback.pushInfo(f"geo started (pid {proc.pid})")
    lines, out = queue.Queue(), []
    readers = [threading.Thread(target=_read_lines, args=(proc.stderr, lines), daemon=True),
               threading.Thread(target=_read_all, args=(proc.stdout, out), daemon=True)]
    for reader in readers:
        reader.start()
    show = StepProgress(feedback, expected_steps, aliases)
    while True:
        if feedback.isCanceled():
            _stop(proc, feedback)
            raise QgsProcessingException("canceled: geo was stopped")
        try:
            show(lines.get(timeout=POLL_S))
        except queue.Empty:
            if proc.poll() is not None and not readers[0].is_alive():
                break
    for reader in readers:
        reader.join()
    while not lines.empty():
        show(lines.get())
    if proc.returncode != 0:
        why = " ".join(show.errors) or (
            f"{show.crash} (geo could not start: run {shlex.quote(command[0])} --version in a terminal to see why)"
            if show.crash else f"exit code {proc.returncode}")
        raise QgsProcessingException(f"geo {args[0]} failed: {why}")
    for line in show.errors:  # error lines of a run that still succeeded: nowhere else to say them
        feedback.reportError(line)
    feedback.setProgress(100.0)
    return "".join(out)
