"""Terminal output for the CLI: results on stdout, progress and errors on stderr (rich)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


@contextmanager
def progress(title: str) -> Iterator[Callable[[str], None]]:
    """A spinner on stderr naming the current step; yields the callback the pipeline calls per step."""
    with stderr.status(title) as status:
        yield lambda step: status.update(f"{title}: {step}")
