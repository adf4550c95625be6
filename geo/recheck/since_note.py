"""``--since`` given before where an AOI's chain starts (its baseline scene): a chain does not go back (README), it goes on
from its head, so the scenes between that date and the baseline are never re-checked; the run says so in one line
instead of taking the date silently. A cron line whose ``--since`` started the chains (each baseline the latest scene
on or before it) and a run without ``--since`` hear nothing of this."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geo.store import Store

NAMED = 3  # AOIs named in the line; the others counted


def chains_begun_after(store: Store, aoi_ids: Iterable[str], since: date | None,
                       version: str) -> list[tuple[str, str, str]]:
    """(AOI id, its baseline's and its head scene's UTC days) of the AOIs whose chain keyed by ``version`` starts
    after ``since``."""
    if since is None:
        return []
    heads = []
    for aoi_id in dict.fromkeys(aoi_ids):
        chain = store.chain(aoi_id, version)
        if chain is not None and chain.baseline.datetime.date() > since:
            heads.append((aoi_id, chain.baseline.datetime.date().isoformat(), chain.head.datetime.date().isoformat()))
    return heads


def since_line(since: date, heads: list[tuple[str, str, str]]) -> str:
    """The one line: ``--since D is before where a chain starts, and a chain does not go back: X starts at ...``."""
    named = ", ".join(f"{aoi_id} starts at its baseline scene of {baseline} and goes on from its head scene of {head}"
                      for aoi_id, baseline, head in heads[:NAMED])
    more = f" (and {len(heads) - NAMED} more AOIs)" if len(heads) > NAMED else ""
    return (f"--since {since} is before where a chain of the store starts, and a chain does not go back: {named}{more}; "
            f"to re-check from {since}, start a new --store")
