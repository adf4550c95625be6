"""The known name a typed one is a slip away from: a keyboard slip ('vladivostok' for 'vladivostok-port') or
capitals (an id copied from a report's title or a document)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(typed: str, known: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The one known name ``typed`` means, if any: the same name in other case first, else difflib's closest (its
    similarity at least ``cutoff``, difflib's default)."""
    names = list(known)
    folded = {name.casefold(): name for name in names}
    if typed.casefold() in folded:
        return folded[typed.casefold()]
    close = difflib.get_close_matches(typed.casefold(), list(folded), n=1, cutoff=cutoff)
    return folded[close[0]] if close else None


MAX_KNOWN_SHOWN = 12  # an error naming the known ids names at most this many: a grown registry has hundreds


def known_list(typed: str, known: Iterable[str], noun: str, listing: str) -> str:
    """The known names for an error answering ``typed``: all of them, sorted, when they are few; of a registry
    grown past ``MAX_KNOWN_SHOWN``, how many ``noun`` there are, the nearest to ``typed`` and ``listing``, the
    command listing them all (a line of 500 claim ids reads as none)."""
    names = sorted(set(known))
    if len(names) <= MAX_KNOWN_SHOWN:
        return ", ".join(names)
    folded = {name.casefold(): name for name in names}
    alike = difflib.get_close_matches(typed.casefold(), list(folded), n=MAX_KNOWN_SHOWN, cutoff=0.5)
    near = [folded[name] for name in alike]
    shown = f"the {len(near)} nearest: {', '.join(near)}" if near else (
        f"the first {MAX_KNOWN_SHOWN}: {', '.join(names[:MAX_KNOWN_SHOWN])}")  # none alike: alphabetical order
    return f"{len(names)} {noun}, {shown}; all: `{listing}`"
