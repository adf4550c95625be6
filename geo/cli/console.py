"""Terminal output for the CLI: results on stdout, progress, warnings and errors on stderr (rich).

Names, claim text, paths and scene ids come from users and archives, so nothing printed is taken as
rich markup unless a call asks for it (``markup=True``, with every value passed through ``esc``), and
control characters (escape sequences that clear the screen or set the title) never reach the terminal.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

# C0 and C1 control characters, DEL included; newline and tab are layout and kept.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(value: object) -> str:
    """``value`` as text without control characters (ESC, CSI, BEL, CR, NUL, ...)."""
    return _CONTROL.sub("", str(value))


def esc(value: object) -> str:
    """``value`` made safe to insert into a markup template: cleaned, and rich markup escaped."""
    return escape(clean(value))


class SafeConsole(Console):
    """A console that cleans every string it renders (print arguments, table cells) of control characters;
    markup and emoji codes are off by default."""

    def __init__(self, **kwargs: Any) -> None:  # rich's own keyword arguments, passed through
        super().__init__(highlight=False, soft_wrap=True, markup=False, emoji=False, **kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(clean(text), **kwargs)

    def on_broken_pipe(self) -> None:
        """Its reader went away (``| head -1``): the rest is not shown and the command carries on (rich's own
        answer is a silent exit 1 wherever the print came, and it sends stdout to /dev/null for stderr's reader)."""
        from geo.cli.pipes import reader_gone

        self.quiet = True
        reader_gone(self.file)


stdout = SafeConsole()
stderr = SafeConsole(stderr=True)


def echo(text: str) -> None:
    """``text`` on stdout as it is (JSON for a program): ``click.echo``, and a reader that went away (``| head``)
    is left as the consoles leave it (``SafeConsole.on_broken_pipe``)."""
    try:
        click.echo(text)
    except BrokenPipeError:
        from geo.cli.pipes import reader_gone

        reader_gone(sys.stdout)


def print_table(table: Table, *whole: str, console: Console | None = None,
                narrow: Callable[[], None] | None = None, room: Mapping[str, int] | None = None) -> None:
    """Print ``table`` with the columns named in ``whole`` never cut or wrapped: ids and dates are what other
    commands take (``--aoi``, ``--claim``, ``--before``), and a date cut in two reads as two. The other
    columns fold (their header between words only). Where the terminal is too narrow even for that (or for the folded columns named in ``room``
    to keep that many characters a line, or their whole text when shorter), ``narrow`` prints the rows another
    way; without it the table is printed wider (the terminal wraps its lines) rather than with columns
    squeezed to nothing."""
    from rich.measure import Measurement

    console = console or stdout
    for column in table.columns:
        column.no_wrap = str(column.header) in whole
        words = [len(clean(word)) for text in (str(column.header), *map(str, column.cells)) for word in text.split()]
        if column.no_wrap:
            column.min_width = max(len(clean(line)) for cell in (*map(str, column.cells), "")
                                   for line in (*cell.splitlines(), ""))
            column.min_width = max(column.min_width, *words)
        else:  # folded where it must, but never squeezed to nothing, nor a header word cut ('orbi' / 't')
            column.overflow = "fold"
            heading = [len(clean(word)) for word in str(column.header).split()]
            column.min_width = max(min(max(words, default=1), 4), *heading, 1)
    folded = [column for column in table.columns if not column.no_wrap]
    for column in folded:  # measured at their narrowest
        column.max_width = column.min_width
    needed = Measurement.get(console, console.options.update_width(1 << 16), table).minimum
    for column in folded:
        column.max_width = None
    if narrow is not None and _width_with_room(console, table, room or {}) > console.width:
        narrow()
        return
    if needed > console.width:  # print(width=...) is capped at the console's own width
        console = SafeConsole(width=needed, file=console.file)
    console.print(table)


def _width_with_room(console: Console, table: Table, room: Mapping[str, int]) -> int:
    """The narrowest ``table`` can be printed with each column named in ``room`` that many characters wide (its
    longest line when shorter): their narrowest from now on."""
    from rich.measure import Measurement

    kept = [(column, column.max_width) for column in table.columns]
    for column in table.columns:
        if str(column.header) in room:
            longest = max(len(clean(line)) for text in (str(column.header), *map(str, column.cells))
                          for line in (*text.splitlines(), ""))
            column.min_width = max(column.min_width or 0, min(longest, room[str(column.header)]))
        column.max_width = column.min_width if not column.no_wrap else None
    needed = Measurement.get(console, console.options.update_width(1 << 16), table).minimum
    for column, high in kept:
        column.max_width = high
    return needed


class WarningLog(logging.Handler):
    """The CLI's log handler: one line per record on stderr, warnings as ``warning: ...``; remembers the
    warnings it printed so a command's summary does not print them a second time."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.shown: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string in a log call must not kill the command
            message = str(record.msg)
        if record.levelno == logging.WARNING:
            self.shown.add(message)
            stderr.print(f"warning: {message}")
        else:
            stderr.print(f"{record.levelname} {record.name}: {message}")


warning_log = WarningLog(logging.NOTSET)


def print_warnings(warnings: list[str], console: Console = stdout) -> None:
    """Print each warning once: those the log already showed on stderr are not repeated."""
    seen = set(warning_log.shown)
    for warning in warnings:
        if warning not in seen:
            seen.add(warning)
            console.print(f"[yellow]warning:[/] {esc(warning)}", markup=True)


def warn_skipped(problems: Iterable[Exception], checker: str) -> None:
    """Warn of each broken AOI or claims file (or claim) a command went on without: it did not need it."""
    for problem in problems:
        logging.getLogger("geo.cli").warning("%s (skipped: not needed here; check with %s)", problem, checker)


PROGRESS_LINES = "GEO_PROGRESS"  # =lines: one "progress: TITLE: STEP" line per step (for the QGIS plugin)


@contextmanager
def progress(title: str) -> Iterator[Callable[[str], None]]:
    """A spinner on stderr naming the current step; yields the callback the pipeline calls per step. With
    ``GEO_PROGRESS=lines`` a line per step instead, which a program running ``geo`` reads as it comes."""
    if os.environ.get(PROGRESS_LINES) == "lines":
        yield lambda step: stderr.print(f"progress: {clean(title)}: {clean(step)}")
        return
    # A Status parses str as markup whatever the console says: give it Text.
    with stderr.status(Text(clean(title))) as status:
        yield lambda step: status.update(Text(clean(f"{title}: {step}")))
