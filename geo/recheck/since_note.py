"""``--since`` given for AOIs whose chain already runs past it: the chain goes on from its head (a chain does not go
back, README), so the date changes nothing for them; the run says so in one line instead of taking it silently.
Only when ``--since`` is given: a cron line without it hears nothing of this."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geo.store import Store

NAMED = 3  # AOIs named in the line; the others counted


def passed_heads(store: Store, aoi_ids: Iterable[str], since: date | None, version: str) -> list[tuple[str, str]]:
    """(AOI id, its head scene's UTC day) of the AOIs whose chain keyed by ``version`` has its head after ``since``."""
    if since is None:
        return []
    heads = []
    for aoi_id in dict.fromkeys(aoi_ids):
        chain = store.chain(aoi_id, version)
        if chain is not None and chain.head.datetime.date() > since:
            heads.append((aoi_id, chain.head.datetime.date().isoformat()))
    return heads


def since_line(since: date, heads: list[tuple[str, str]]) -> str:
    """The one line: ``--since D applies only to AOIs new to the store: X goes on from its head scene of D2 ...``."""
    named = ", ".join(f"{aoi_id} goes on from its head scene of {day}" for aoi_id, day in heads[:NAMED])
    more = f" (and {len(heads) - NAMED} more AOIs)" if len(heads) > NAMED else ""
    return (f"--since {since} applies only to AOIs new to the store: {named}{more}; to re-check from {since}, "
            "start a new --store")
