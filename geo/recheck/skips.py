"""Why a re-check skipped a scene, in a word or two, and the reasons of a run counted: "3 scenes skipped (2 clouded,
1 snowed)" on the AOI's terminal line, in the mail (``--on-new``'s text, ``--notify``'s) and in ``summary.json``
(``skipped`` per AOI and for the run, ``skipped_for`` per pair). The pair's ``reason`` keeps the long words."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from geo.words import counted

CLOUDED = "clouded"
SNOWED = "snowed"
OFF_AOI = "not covering the AOI"  # the scene's footprint (or its valid pixels) holds none of the AOI
PART_OFF_AOI = "covering too little of the AOI"  # ... some of it, too little (a third: not "not covering" it)
NO_DATA = "no data"  # nothing valid over the AOI, cloud not judged (no SCL) or a radar scene
NOT_LATER = "not after the head"
UNUSABLE = "unusable item"  # a band missing, an href its archive does not serve...
UNREADABLE = "unreadable"  # reading it failed in runs over a day: given up


def obscured_cause(clear: float, outside: float | None, snow: float, sees_cloud: bool, cloud_judged: bool) -> str:
    """Why too little of the AOI was seen clear on both dates: the largest of the parts lost (outside the scenes,
    snow on one date only, the rest cloud, or no data where cloud was not judged or cannot be seen)."""
    outside = outside or 0.0
    rest = max(0.0, 1.0 - clear - outside - snow)
    rest_cause = CLOUDED if sees_cloud and cloud_judged else NO_DATA
    shares = {OFF_AOI if outside >= 0.995 else PART_OFF_AOI: outside, SNOWED: snow, rest_cause: rest}
    return max(shares, key=lambda cause: shares[cause])


def baseline_short(sections: Mapping[str, Any], min_clear_fraction: float) -> str | None:
    """How a pair's before scene, the chain's baseline, fell short when the after scene would do (``sections``: the
    pair manifest's, its ``seen`` shares and ``snow``); None when it did not. A chain whose baseline is clouded over,
    snowed over or off the AOI otherwise skips every later scene for good: its head never moves."""
    seen, snow = sections.get("seen"), sections.get("snow") or {}
    if not seen:
        return None
    usable = {role: seen[role] * (1.0 - (snow.get(role) or 0.0)) for role in ("before", "after")}
    if usable["before"] < min_clear_fraction <= usable["after"]:
        return f"showed {usable['before']:.0%} of the AOI clear and free of snow (need {min_clear_fraction:.0%})"
    return None


def counts(causes: Iterable[str | None]) -> dict[str, int]:
    """The skipped pairs' causes counted, most frequent first (None: a pair processed, not counted)."""
    return dict(Counter(cause for cause in causes if cause).most_common())


def entry_counts(pairs: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """An AOI entry's pairs' causes counted (a pair skipped without a recorded cause: ``unknown``)."""
    return counts(p.get("skipped_for") or "unknown" for p in pairs if p["status"] == "skipped")


def run_counts(entries: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for entry in entries:
        total.update(entry.get("skipped") or {})
    return dict(total.most_common())


def skipped_words(by_cause: Mapping[str, int]) -> str:
    """``3 scenes skipped (2 clouded, 1 snowed)``; empty when none was."""
    n = sum(by_cause.values())
    if not n:
        return ""
    return f"{counted(n, 'scene')} skipped ({', '.join(f'{k} {cause}' for cause, k in by_cause.items())})"


def deferred_words(n: int) -> str:
    """``2 scenes deferred to the next run (--max-pairs reached)``: the new scenes past the cap; empty when none."""
    return f"{counted(n, 'scene')} deferred to the next run (--max-pairs reached)" if n else ""


def aoi_words(entry: Mapping[str, Any]) -> str:
    """What an AOI's new scenes were not paired for: skipped (why, counted), then those the cap left for the next
    run; the mail's line of the AOI. Empty when none."""
    skipped = skipped_words(entry.get("skipped") or entry_counts(entry["pairs"]))
    return "; ".join(filter(None, (skipped, deferred_words(entry.get("deferred_scenes") or 0))))
