"""Counted nouns in what users read: "1 AOI", "2 AOIs", not "1 AOI(s)"."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, singular for one and plural (``plural``, else ``noun`` + "s") otherwise."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def tallied(values: Iterable[str]) -> str:
    """Each value with how many times it comes, the most frequent first: "70 no evidence found, 4 not observable"."""
    return ", ".join(f"{n} {value}" for value, n in Counter(values).most_common())
