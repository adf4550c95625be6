"""The known name a typed one is a slip away from: a keyboard slip ('vladivostok' for 'vladivostok-port') or
capitals (an id copied from a report's title or a document)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(typed: str, known: Iterable[str]) -> str | None:
    """The one known name ``typed`` means, if any: the same name in other case first, else difflib's closest."""
    names = list(known)
    folded = {name.casefold(): name for name in names}
    if typed.casefold() in folded:
        return folded[typed.casefold()]
    close = difflib.get_close_matches(typed.casefold(), list(folded), n=1)
    return folded[close[0]] if close else None
