"""``geo recheck --notify URL``: a re-check that finds something POSTs a JSON summary to a webhook (Slack,
Mattermost, Teams' and Discord's Slack-compatible endpoints, or any HTTP service).

The body holds the run's new changes (id, AOI, type, area, score, centroid), the window verdicts that
changed, links to the run's files, and a Slack-compatible ``text`` that says it in a few lines. It is sent
after the store is committed and the run's files are written, so it never holds up or undoes a re-check:
connection errors and 429/5xx answers are retried with exponential backoff (urllib3's ``Retry``, honouring
``Retry-After``); a webhook still failing after that is a warning, not a failed re-check.

The URL often carries a secret (Slack's webhook path is one), so it is never logged or stored: messages name
its host only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from geo.recheck import retire
from geo.recheck.skips import aoi_words, run_counts
from geo.scenes.model import Sensor
from geo.words import counted

if TYPE_CHECKING:
    from urllib3.util import Retry

    from geo.store import Store
    from geo.vector.feature import ChangeFeature

log = logging.getLogger(__name__)

COORDINATE_PLACES = 6  # as the report's coordinates: ~0.1 m (changes.geojson keeps 7, ~1 cm)
MAX_LISTED = 10  # changes and verdicts spelled out in the text; the JSON lists them all


@dataclass(frozen=True)
class AlertRetry:
    """Attempts after the first, and the backoff between them (urllib3's: none before the first retry, then
    ``backoff_s * 2**(n-1)`` s: 1, 2, 4 s with the defaults)."""

    retries: int = 4
    backoff_s: float = 0.5
    timeout_s: float = 10.0  # per attempt (connect and read)


def verdict_was(previous: str | None) -> str:
    """What a changed verdict was before: "was <verdict>", or "first verdict" for a claim judged for the first time."""
    return f"was {previous}" if previous else "first verdict"


def url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as a webhook, or None: it must be http(s) with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL with a host (e.g. https://hooks.example.org/services/T0/B0)"
    return None


def shown(url: str) -> str:
    """The URL as logs show it: scheme and host, never the path or query that may hold a token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…" if parts.netloc else "(not a URL)"


def _change(feature: ChangeFeature) -> dict[str, Any]:
    from geo.antimeridian import centre  # numpy, shapely: not for the option parsing that imports this module

    lon, lat = centre(feature.geometry)  # of a polygon cut at 180 too
    return {"change_id": feature.change_id, "aoi_id": feature.aoi_id, "change_type": feature.change_type,
            "area_m2": feature.area_m2, "score": feature.score, "confidence": feature.confidence,
            "first_seen": feature.extra.get("first_seen"), "before_scene": feature.before_scene,
            "after_scene": feature.after_scene, "claim_ids": list(feature.claim_ids),
            "centroid": {"lon": round(lon, COORDINATE_PLACES), "lat": round(lat, COORDINATE_PLACES)}}


def _verdict(verdict: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("claim_id", "aoi_id", "kind", "sensor", "verdict", "previous_verdict", "confidence", "rationale")
    return {k: verdict.get(k) for k in keys}


def _lines(summary: Mapping[str, Any], changes: Sequence[dict[str, Any]], verdicts: Sequence[dict[str, Any]],
           files: Mapping[str, str]) -> str:
    """A few plain lines saying what the run found: a chat message's or a mail's body."""
    types = ", ".join(f"{n} {t}" for t, n in summary["new_changes_by_type"].items()) or "none"
    registry = "".join(f", {news}" for news in retire.news_counts(summary))
    lines = [f"geo recheck run {summary['run_id']}: {counted(summary['n_new_changes'], 'new change')} ({types}), "
             f"{counted(len(verdicts), 'verdict')} changed{registry}"]
    for change in changes[:MAX_LISTED]:
        at = change["centroid"]
        lines.append(f"• {change['change_type']} in {change['aoi_id']}: {change['area_m2']:.0f} m² at "
                     f"{at['lat']:.5f}, {at['lon']:.5f} (first seen {str(change['first_seen'])[:10]})")
    for verdict in verdicts[:MAX_LISTED]:
        chain = " (vessel counts)" if verdict.get("kind") == "vessels" else (  # as the terminal says it
            " (Sentinel-1)" if verdict.get("sensor") == Sensor.S1.value else "")
        lines.append(f"• claim {verdict['claim_id']} on {verdict['aoi_id']}{chain}: {verdict['verdict']} "
                     f"({verdict_was(verdict['previous_verdict'])})")
    skips = [f"• {entry['aoi_id']}{' (Sentinel-1)' if entry.get('sensor') == Sensor.S1.value else ''}: {words}"
             for entry in summary.get("aois", ())  # why scenes were skipped (cloud, snow...), or left by --max-pairs
             if (words := aoi_words(entry))]
    lines += skips[:MAX_LISTED]
    for failure in summary["failed_aois"][:MAX_LISTED]:  # retried next run; the others went on
        lines.append(f"• failed {failure['aoi_id']}: {failure['error']}")
    retired = retire.retired_lines(summary, summary["run_id"])  # AOIs and claims out of the registry, or back
    lines += [f"• {line}" for line in retired[:MAX_LISTED]]
    hidden = sum(max(0, len(listed) - MAX_LISTED) for listed in (changes, verdicts, skips, summary["failed_aois"],
                                                                  retired))
    if hidden:
        lines.append(f"… and {hidden} more in the summary")
    if "summary" in files:
        lines.append(f"summary: {files['summary']}")
    return "\n".join(lines)


def _news(store: Store, summary: Mapping[str, Any], out: Path
          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    """The run's new changes, the verdicts it changed, and its files (absolute paths)."""
    changes = [_change(f) for f in store.changes(run_id=summary["run_id"])]
    verdicts = [_verdict(v) for v in summary["verdicts"] if v["changed"]]
    folder = Path(out).absolute()
    return changes, verdicts, {name: str(folder / relative) for name, relative in summary["files"].items()}


def plain_text(store: Store, summary: Mapping[str, Any], out: Path) -> str:
    """The lines of the webhook's ``text``, unescaped: ``--on-new``'s $GEO_RECHECK_TEXT (a mail's body)."""
    return _lines(summary, *_news(store, summary, out))


def payload(store: Store, summary: Mapping[str, Any], out: Path, late: bool = False) -> dict[str, Any]:
    """The JSON body for the run of ``summary``: its new changes, the verdicts that changed, its files
    (absolute paths and ``file:`` URIs on the machine that ran it), and the Slack-compatible ``text``;
    ``late``: sent at a later re-check, the webhook having not taken it at the run's own."""
    changes, verdicts, files = _news(store, summary, out)
    # Slack's ``text``: plain text with its three escapes
    text = _lines(summary, changes, verdicts, files).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return {
        "text": f"(late: not delivered when the run was recorded)\n{text}" if late else text,
        "late": late,
        "run_id": summary["run_id"],
        "store": str(store.path.absolute()),
        "finished_at": summary["finished_at"],
        "algorithm_version": summary["algorithm_version"],
        "n_new_changes": summary["n_new_changes"],
        "new_changes_by_type": summary["new_changes_by_type"],
        "new_changes": changes,
        "verdicts_changed": verdicts,
        "failed_aois": summary["failed_aois"],
        "skipped": summary.get("skipped") or run_counts(summary.get("aois", ())),  # scenes skipped, counted by why
        **retire.registry_news(summary),  # aois_retired, claims_retired...: only when the run has them
        "files": files,
        "file_uris": {name: Path(path).as_uri() for name, path in files.items()},
    }


def post(url: str, body: Mapping[str, Any], policy: AlertRetry = AlertRetry()) -> str | None:
    """POST ``body`` as JSON, retrying connection errors and 429/5xx with backoff. None when delivered (a
    2xx answer), else why not (one line, the URL's host only)."""
    from urllib3.util import Retry

    retry = Retry(total=policy.retries, backoff_factor=policy.backoff_s, status_forcelist=(429, 500, 502, 503, 504),
                  allowed_methods=frozenset({"POST"}), respect_retry_after_header=True, raise_on_status=False)
    # urllib3 logs each retry with the URL's path, which may be the webhook's secret: it says so in one line.
    pool_log = logging.getLogger("urllib3.connectionpool")
    level = pool_log.level
    pool_log.setLevel(logging.ERROR)
    try:
        return _post(url, body, policy, retry)
    finally:
        pool_log.setLevel(level)


def _post(url: str, body: Mapping[str, Any], policy: AlertRetry, retry: Retry) -> str | None:
    import requests
    from requests.adapters import HTTPAdapter

    with requests.Session() as session:
        session.mount("http://", HTTPAdapter(max_retries=retry))
        session.mount("https://", HTTPAdapter(max_retries=retry))
        try:
            response = session.post(url, json=body, timeout=policy.timeout_s,
                                    headers={"User-Agent": "geo-recheck-notify"})
        except requests.RequestException as exc:
            return f"{shown(url)}: {type(exc).__name__} after {counted(policy.retries + 1, 'attempt')}"
    if not response.ok:
        return f"{shown(url)}: HTTP {response.status_code} {response.text[:120]!r}"
    return None


def alert(store: Store, summary: Mapping[str, Any], out: Path, late: bool = False) -> dict[str, Any] | None:
    """``payload``, built while the store is open (after its commit); None, with a warning, when it cannot
    be (a bug here must not turn a recorded re-check into a failed one)."""
    try:
        return payload(store, summary, out, late)
    except Exception as exc:
        log.warning("--notify: run %s: cannot build the message: %s: %s", summary["run_id"], type(exc).__name__, exc)
        return None


def deliver(url: str, body: Mapping[str, Any], policy: AlertRetry = AlertRetry()) -> bool:
    """Send ``body`` to ``url`` (after the store's lock is released: retries hold up no other re-check);
    True when delivered, else a warning and False."""
    try:
        failure = post(url, body, policy)
    except Exception as exc:  # as in alert(): the run stands
        failure = f"{shown(url)}: {type(exc).__name__}: {exc}"
    if failure is not None:
        log.warning("--notify: run %s not delivered: %s", body.get("run_id"), failure)
        return False
    log.info("--notify: run %s delivered to %s", body.get("run_id"), shown(url))
    return True
