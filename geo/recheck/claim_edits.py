"""A claim edited since the store judged it: what a re-check judges again (``window_verdicts.unjudged``, and the
quick path's "nothing new", which must not miss one). Light: the claims model only."""

from __future__ import annotations

from collections.abc import Mapping

from geo.claims import Claim

# What a claim's verdict depends on (of ``Claim.summary``): a claim edited in these is judged again, one whose
# statement or notes are reworded is not.
JUDGED_FIELDS = ("stance", "window", "time_zone", "signatures", "observable", "denies")


def judged_differently(claim: Claim, summaries: Mapping[str, Mapping[str, object]]) -> bool:
    """Whether ``claim`` now reads otherwise, for its verdict, than its summary among ``summaries`` (by claim id,
    as a store keeps them: ``Store.claim_summaries``); False for a claim the store has no summary of, and a field
    a store from before it did not keep is not taken for an edit."""
    stored = summaries.get(claim.id)
    if stored is None:
        return False
    now = claim.summary()
    return any(key in stored and now[key] != stored[key] for key in JUDGED_FIELDS)
