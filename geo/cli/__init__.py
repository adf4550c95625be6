"""The ``geo`` command: a click group, one module per command (like rasterio's ``rio``).

Exit codes: 0 ok, 1 user error (a one-line message naming the bad input), 2 internal error.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from types import FrameType

import click

from geo import __version__
from geo.errors import GeoError

log = logging.getLogger("geo")


# Command name -> "module:attribute". Modules are imported only when their command runs (or for --help):
# importing the whole pipeline costs seconds, and `geo recheck` with nothing new must finish in under one.
COMMANDS = {
    "demo": "geo.cli.demo:demo_command",
    "run": "geo.cli.run:run_command",
    "coreg": "geo.cli.coreg:coreg_command",
    "aoi": "geo.cli.catalog:aoi_group",
    "claims": "geo.cli.catalog:claims_group",
    "report": "geo.cli.report:report_command",
    "recheck": "geo.cli.recheck:recheck_command",
    "vessels": "geo.cli.vessels:vessels_command",
    "eval": "geo.cli.eval:eval_group",
    "scenes": "geo.cli.scenes:scenes_group",
}


class _Interrupted(BaseException):
    """Ctrl-C on its way out of a command past click, whose ``main`` prints a blank line to stderr for a
    KeyboardInterrupt before it turns it into ``Abort``: "Interrupted." is the one line said."""


class LazyGroup(click.Group):
    """A click group that imports a command's module on first use."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _Interrupted from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        from geo.cli.start_up import collector_paused

        # A command's module imports what its work needs (numpy, rasterio ...) inside the command, so that its
        # --help stays light; the change job's (geo.cli.start_up.job_imports) and other heavy ones with the
        # collector paused too.
        with collector_paused():
            command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """``geo --help``'s list of commands, each summarised as click does from its docstring, read from the
        module's source: importing every command's module to ask it would cost a second."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        with formatter.section("Commands"):
            formatter.write_dl([(name, _short_help(name, limit)) for name in names])


def _short_help(name: str, limit: int) -> str:
    """Click's own summary of command ``name`` (a stand-in command holding its docstring: the public way to
    ask click for it, its ``make_default_short_help`` being deprecated)."""
    return click.Command(name, help=command_doc(name)).get_short_help_str(limit)


def command_doc(name: str) -> str:
    """The docstring of command ``name``'s function (its ``--help`` text), without importing its module."""
    import ast
    import importlib.util

    module_name, attribute = COMMANDS[name].split(":")
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(module_name)
    with open(spec.origin, encoding="utf-8") as source:
        tree = ast.parse(source.read(), spec.origin)
    function = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == attribute)
    return (ast.get_docstring(function) or "").split("\f")[0]


# What `geo --help` tells a first-time user to run, each line as it can be copied and run from any folder
# (the demo scenes come with geo); tests/flows/test_first_steps.py runs them as written.
FIRST_STEPS = """\b
Start here (offline, from any folder: the demo scenes come with geo):
  geo demo           # the whole job: open demo-output/report.html
  geo aoi list       # the areas --aoi names (or give a polygon file)
  geo scenes search --aoi demo-nantes-port --source demo \\
      --from 2015-06-01 --to 2017-12-31
  geo run --aoi demo-nantes-port --source demo \\
      --before 2015-08-21 --after 2017-10-14 --out nantes
  geo vessels --aoi demo-nantes-port --source demo \\
      --from 2015-06-01 --to 2017-12-31 --out nantes-vessels
Your own area: --aoi FILE (drawn in QGIS, geojson.io...), no --source (Earth
Search). 'geo COMMAND --help' gives its options; the README says the rest."""


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=FIRST_STEPS)
@click.version_option(__version__, prog_name="geo")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """Satellite-imagery change-detection workbench: claims + AOIs -> Sentinel scenes -> change polygons."""
    from geo.cli.console import warning_log

    root = logging.getLogger()
    root.setLevel(logging.WARNING - 10 * min(verbose, 2))
    # and for libraries that set their loggers' own levels (dask's distributed logs at INFO as a cluster closes)
    warning_log.setLevel(root.level)
    if warning_log not in root.handlers:
        root.addHandler(warning_log)


class Terminated(BaseException):
    """SIGTERM (QGIS's Cancel, ``systemctl stop``, ``kill``) raised as an exception, so that a run's staging
    folder and temporary files are removed on the way out, as on Ctrl-C; not an ``Exception``, so no
    per-AOI error handling takes it for a failure and carries on."""


# The stop signals, as the exceptions that end a command (its clean-up runs on the way out), and exit codes.
_STOPS: dict[int, tuple[type[BaseException], str]] = {signal.SIGINT: (KeyboardInterrupt, "Interrupted."),
                                                      signal.SIGTERM: (Terminated, "Terminated.")}
_STOPPED: list[int] = []  # the stop signals this process received (module state: a process has one main)
_PUT_OFF: list[int] = []  # those that came during an import and have not been raised since
_RETRY_S = 0.05  # a stop that came during an import is delivered again this much later


def _importing(frame: FrameType | None) -> bool:
    """Whether the interrupted code runs inside an import (Python's import system is on the stack)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _stop(signum: int, frame: FrameType | None) -> None:
    """Raise the stop signal's exception; during an import, deliver the signal again a moment later instead.
    An exception raised inside an import does not always reach the command: numpy's compiled modules turn it
    into "ImportError: numpy._core.multiarray failed to import" (an internal error, exit 2, after a printed
    traceback), and one raised in the import system's own clean-up is printed and dropped (the job ran on)."""
    if signum not in _STOPPED:
        _STOPPED.append(signum)
        _quiet_the_way_out()
    if _importing(frame):
        if signum not in _PUT_OFF:
            _PUT_OFF.append(signum)
        timer = threading.Timer(_RETRY_S, os.kill, (os.getpid(), signum))
        timer.daemon = True
        timer.start()
        return
    _PUT_OFF.clear()
    raise _STOPS[signum][0]


# Loggers of what a stop breaks on the way out: a local Dask cluster stopped while its workers start logs "Task
# exception was never retrieved ... Nanny failed to start" (asyncio) around the one line the user is owed.
_TEARDOWN_LOGGERS = ("asyncio", "distributed", "tornado")


def _from_teardown(record: logging.LogRecord) -> bool:
    return record.name.split(".")[0] in _TEARDOWN_LOGGERS


def _quiet_the_way_out() -> None:
    """After Ctrl-C or SIGTERM, what the stop itself breaks is not news: the cluster machinery's log records are
    not shown, nor the errors of exit handlers (distributed's closes a cluster that never started: a 25-line
    traceback after "Interrupted."). With GEO_DEBUG set, all is shown as before."""
    if os.environ.get("GEO_DEBUG"):
        return
    console = sys.modules.get("geo.cli.console")  # not imported yet: no log handler of geo's to quiet
    if console is not None:
        console.warning_log.addFilter(lambda record: not _from_teardown(record))
    for name in _TEARDOWN_LOGGERS:  # and their own handlers (distributed's, as it closes a cluster after the stop)
        for handler in logging.getLogger(name).handlers:
            handler.addFilter(lambda record: False)
    sys.unraisablehook = _unraisable_after_stop


def _unraisable_after_stop(unraisable: "sys.UnraisableHookArgs") -> None:
    log.debug("on the way out after a stop: %s", unraisable.exc_value)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: map errors to exit codes, never show a traceback for user errors. It ends
    the process (``sys.exit``)."""
    in_main_thread = threading.current_thread() is threading.main_thread()  # where signals can be handled
    previous = {signum: signal.signal(signum, _stop) for signum in _STOPS} if in_main_thread else {}
    try:
        _standard_descriptors_open()
        _show_what_the_terminal_can()
        try:
            _run(argv)
        except (KeyboardInterrupt, Terminated) as exc:  # before _run's handlers were reached (its first import)
            _stopped(signal.SIGINT if isinstance(exc, KeyboardInterrupt) else signal.SIGTERM)
    except SystemExit as exc:
        if _PUT_OFF and exc.code not in [128 + signum for signum in _STOPS]:
            # a stop put off while importing, and the command ended before it came again (`geo aoi list` is mostly
            # imports): stopped all the same, not an exit 0 as if no Ctrl-C had come
            _stopped(_PUT_OFF[0])
        if exc.code in (0, None) and _reader_gone():  # `geo ... | head -1`: its work done, not all its output read
            from geo.cli.pipes import EXIT_READER_GONE

            sys.exit(EXIT_READER_GONE)
        if exc.code == 0 and _quick_end_wanted():  # a command that has finished and left nothing running
            from geo.cli.start_up import end_now

            end_now(0)
        raise
    finally:
        for signum, handler in previous.items():  # main() called in-process (tests) leaves the caller's handlers
            signal.signal(signum, handler)
        _PUT_OFF.clear()
        # The process ends next: the collector's passes over every object at interpreter exit (~0.04 s of
        # CPU once numpy and rasterio are loaded) would only free memory the system takes back anyway.
        # Exit handlers (atexit, weakref.finalize) and reference-counted clean-up still run.
        gc.freeze()


def _stopped(signum: int) -> None:
    """Say that the command was stopped by ``signum`` (one short line), and exit 128 + its number, as a shell does."""
    sys.stderr.write(_STOPS[signum][1] + "\n")
    sys.exit(128 + signum)


def _standard_descriptors_open() -> None:
    """Descriptors 0, 1 and 2 open, on /dev/null where the caller closed them (``geo run ... >&-``, ``<&-``), as git
    does: else the first file the command opens takes the number, and what is written to that stream lands in it."""
    fd = os.open(os.devnull, os.O_RDWR)
    while 0 <= fd < 2:  # the lowest free number: a closed standard descriptor
        fd = os.dup(fd)
    if fd > 2:
        os.close(fd)


def _show_what_the_terminal_can() -> None:
    """Output streams whose encoding is not UTF-8 (``LANG=en_US.ISO-8859-1``, ``PYTHONIOENCODING=ascii``, a
    Windows console) show a character they lack as '?': claim text, AOI names and the verdict lines' dashes
    and m² would otherwise end the command with UnicodeEncodeError after its work was done."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if encoding not in ("utf8", "utf8sig") and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


def _reader_gone() -> bool:
    """Whether stdout's or stderr's reader went away during the command (only a command that printed can know)."""
    pipes = sys.modules.get("geo.cli.pipes")
    return pipes is not None and bool(pipes.any_reader_gone())


def _quick_end_wanted() -> bool:
    """A command asked for it (only one that imported ``start_up`` can have), and no profiler is running
    (``python -m cProfile -o FILE -m geo ...`` writes FILE after the command returns, not at exit)."""
    start_up = sys.modules.get("geo.cli.start_up")
    return start_up is not None and bool(start_up.quick_end_wanted()) and not _profiled()


def _profiled() -> bool:
    """Whether a profiler watches the process: by ``sys.setprofile`` (Python 3.11, profilers such as yappi), or as
    the profiler tool of ``sys.monitoring`` (cProfile from Python 3.12 on)."""
    monitoring = getattr(sys, "monitoring", None)
    return sys.getprofile() is not None or (
        monitoring is not None and monitoring.get_tool(monitoring.PROFILER_ID) is not None)


# The group's options, which a command does not take after its name.
_GROUP_OPTIONS = frozenset({"-v", "--verbose"})


def _run(argv: Sequence[str] | None) -> None:
    from geo.cli.console import clean, esc, stderr

    warnings.filterwarnings("ignore", category=UserWarning, module="rasterio")
    try:
        # Without standalone mode click *returns* the code of ctx.exit(N) / raise Exit(N) instead of raising.
        code = cli.main(args=list(argv) if argv is not None else None, prog_name="geo", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except SystemExit as exc:  # click's answer to a BrokenPipeError (its --help, --version): a silent exit 1
        from geo.cli.pipes import EXIT_READER_GONE, broken_output

        # click < 8.5 exits inside its handler (the error is the exit's context), 8.5 after it (no context)
        if (isinstance(exc.__context__, BrokenPipeError) or exc.code == 1) and broken_output():
            sys.exit(EXIT_READER_GONE)
        raise
    except click.exceptions.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):  # click turns Ctrl-C into Abort
            _stopped(signal.SIGINT)
        stderr.print("Aborted.")
        sys.exit(1)
    except click.UsageError as exc:
        # `geo`, `geo eval` alone: the help, as `--help` gives it (click >= 8.2 raises it as a usage error)
        if isinstance(exc, getattr(click.exceptions, "NoArgsIsHelpError", ())):
            from geo.cli.console import echo

            echo(exc.format_message())
            sys.exit(0)
        # One line, as for every user error (click would print the usage line and a hint first): what is wrong,
        # naming the option or argument, and where the command's options are listed.
        message = clean(exc.format_message())
        message = message[:-1] if message.endswith(".") else message
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        if isinstance(exc, click.NoSuchOption) and exc.ctx is not None and exc.ctx.parent is not None \
                and exc.option_name in _GROUP_OPTIONS:  # `geo recheck ... -v`: the README's "-v shows ..."
            command = exc.ctx.command_path.removeprefix("geo ")
            message += (f": {exc.option_name} is geo's own, given before the command: "
                        f"geo {exc.option_name} {command} ...")
        stderr.print(f"Error: {message}{hint}")
        sys.exit(1)
    except click.ClickException as exc:
        # The message quotes what the user typed. click >= 8.5 types it Final; show() reads it, so replace it.
        setattr(exc, "message", clean(exc.message))
        exc.show()
        sys.exit(1)
    except GeoError as exc:
        stderr.print(f"[bold red]Error:[/] {esc(exc)}", markup=True)
        sys.exit(1)
    except (KeyboardInterrupt, _Interrupted):
        _stopped(signal.SIGINT)
    except Terminated:
        _stopped(signal.SIGTERM)
    except Exception as exc:  # a bug, not bad input: exit 2, traceback only on request
        if _STOPPED and not os.environ.get("GEO_DEBUG"):  # what a stop broke (a library turned it into its error)
            log.debug("stopped: %s", exc, exc_info=True)
            _stopped(_STOPPED[0])
        if os.environ.get("GEO_DEBUG"):
            raise
        from geo.disk import FULL_ERRNOS

        if isinstance(exc, OSError) and exc.errno in FULL_ERRNOS:  # the machine's, not a bug
            where = f" writing {clean(exc.filename)}" if exc.filename else ""
            stderr.print(f"Error: no space left on the device{where}: free some space and run again")
            sys.exit(1)
        log.debug("internal error", exc_info=True)
        stderr.print(f"internal error: {type(exc).__name__}: {exc} (set GEO_DEBUG=1 for the traceback)")
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
