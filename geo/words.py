"""Counted nouns in what users read: "1 AOI", "2 AOIs", not "1 AOI(s)"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, singular for one and plural (``plural``, else ``noun`` + "s") otherwise."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
