"""Recording a re-check's results in the store: each AOI's chain part (pairs, changes, pair and window
verdicts, vessel counts) in its own savepoint, and the summary entries of the AOIs with nothing new.
Apart from ``run.py`` (which finds, processes and commits): nothing here reads pixels."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from geo.claim_days import claim_zone
from geo.claims import Claim
from geo.recheck.passes import is_head
from geo.recheck.plan import AoiPlan
from geo.recheck.skips import entry_counts
from geo.results import left_out_share
from geo.scenes.model import Sensor
from geo.store import PairRow, SceneRef, Store

if TYPE_CHECKING:  # the processing path's results and the AOIs' geometry: only when there is something to record
    from geo.aoi import AOI
    from geo.recheck.process import AoiOutcome, PairOutcome
    from geo.vector.feature import ChangeFeature

log = logging.getLogger(__name__)


def internal_error(aoi_id: str, doing: str, exc: Exception) -> str:
    """Log a bug met while ``doing`` one AOI's part (its traceback at -vv, as the CLI does); return the
    message for the run's failed AOIs (the AOI is retried next run, the others go on)."""
    message = f"internal error while {doing}: {type(exc).__name__}: {exc}"
    log.info("AOI %s: %s", aoi_id, message)  # said once, in the run's failed AOIs
    log.debug("AOI %s: traceback", aoi_id, exc_info=exc)
    return message


def record_aoi(store: Store, plan: AoiPlan, outcome: AoiOutcome | None, claims: Sequence[Claim], source: str,
                run_id: int, recorded: str, min_clear_fraction: float, version: str,
                sensor: Sensor = Sensor.S2) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Write one chain's part of the run for an AOI (``version``: the kit's algorithm version, the key of
    its chain; ``sensor``: the chain's); return its summary entry and its window-verdict news."""
    aoi = plan.aoi
    store.upsert_aoi(aoi, run_id)
    for claim in plan.claims:
        store.upsert_claim(claim, run_id, aoi.id, claim_zone(claim, aoi).name)
    # a tile left out of its pass (of the chain's or the vessel counts' search): seen, so no news to the quick check
    for scene in (*plan.seen, *plan.left_out, *(plan.vessels.left_out if plan.vessels else ())):
        store.add_scene(aoi.id, scene.summary(), source, run_id)
    chain = store.chain(aoi.id, version)
    if chain is None and plan.head is None:  # no scene of this sensor over the AOI yet: its vessel counts only
        vessels, news = _record_vessels(store, plan, outcome, run_id, recorded, version)
        return {**quiet_entry(plan, version, sensor), **({"vessels": vessels} if vessels is not None else {})}, news
    head_was: str | None = None  # the head's id as stored, when it is found under another now
    if chain is None:
        assert plan.head is not None and plan.baseline_reason is not None
        baseline, reason = SceneRef(plan.head.id, plan.head.datetime), plan.baseline_reason
        head = baseline
    else:
        baseline, reason, head = chain.baseline, chain.baseline_reason, chain.head
        if plan.head is not None and plan.head.id != head.id and is_head(plan.head, head.id, head.datetime):
            # a head stored as a tile (its pass), or published again under a new id: as found from now on
            head_was, head = head.id, SceneRef(plan.head.id, plan.head.datetime)
    pairs: list[PairOutcome] = outcome.pairs if outcome else []
    moved: dict[str, str] = {}
    if outcome is not None and outcome.rebased is not None:  # the baseline showed too little: the chain starts later
        moved = {"from": baseline.id, "to": outcome.rebased[0].id, "why": outcome.rebased[1]}
        (baseline, reason), head = outcome.rebased, outcome.rebased[0]
    for pair in pairs:
        store.add_pair(aoi.id, version, pair.before, pair.after, pair.status, pair.reason,
                       pair.clear_fraction, len(pair.features),
                       pair.manifest.to_dict() if pair.manifest else None, run_id, pair.nodata_fractions)
        if pair.status == "done":
            store.add_changes(pair.features, pair.after.datetime, run_id, recorded)
            for verdict in pair.verdicts:
                store.add_verdict("pair", verdict.to_dict(), pair.before.id, pair.after.id, version,
                                  verdict.pair_brackets_window, run_id, recorded)
            head = pair.after
    store.set_chain(aoi.id, version, baseline, reason, head, run_id)
    # a scene read (or skipped) starts its count of failed reads again; one that failed adds a run to it
    store.clear_read_failures(aoi.id, version, [p.after.id for p in pairs if p.after.id in plan.read_failures])
    if outcome is not None and outcome.unread is not None:
        store.note_read_failure(aoi.id, version, *outcome.unread, run_id, recorded)
    news = record_window_verdicts(store, aoi, claims, run_id, recorded, min_clear_fraction, version, sensor,
                                  plan.claims_edited) if (plan.claims_to_judge or plan.claims_edited
                                                          or any(p.status == "done" for p in pairs)) else []
    vessels, vessel_news = _record_vessels(store, plan, outcome, run_id, recorded, version)
    news.extend(vessel_news)
    written = [{"before_scene": p.before.id, "after_scene": p.after.id, "status": p.status, "reason": p.reason,
                **({"skipped_for": p.skipped_for} if p.skipped_for else {}),
                "clear_fraction": p.clear_fraction, "outside_fraction": p.outside_fraction,
                **({"cloud_masked": dict(p.manifest.cloud_masked)} if p.manifest else {}),
                # seen on both dates but not compared (snow on one date only): out of the cloud's share, said apart
                **({"not_compared": dict(left)} if p.manifest and (left := _left_out(p.manifest.sections)) else {}),
                "n_changes": len(p.features),
                "change_types": sorted(f.change_type for f in p.features)} for p in pairs]
    entry = {
        "aoi_id": aoi.id,
        "sensor": sensor.value,
        "algorithm_version": version,
        "baseline_scene": (moved.get("from") or baseline.id) if plan.starts_chain else None,
        **({"baseline_moved": moved} if moved else {}),
        "baseline_reason": reason if plan.starts_chain else None,
        "new_scenes": [s.id for s in plan.seen],
        "pairs": written,
        "head_scene": head.id,
        **({"head_was": head_was} if head_was else {}),
        "skipped": entry_counts(written),  # why, counted
        "deferred_scenes": plan.deferred,
        "n_new_changes": sum(len(p.features) for p in pairs),
        **({"vessels": vessels} if vessels is not None else {}),
    }
    return entry, news


def _left_out(sections: Mapping[str, Any]) -> dict[str, Any] | None:
    """A pair manifest's share seen on both dates but not compared, and why; None when there is none."""
    share = left_out_share(sections)
    return {"fraction": share, "why": str(sections["not_compared"].get("why") or "")} if share else None


def _record_vessels(store: Store, plan: AoiPlan, outcome: AoiOutcome | None, run_id: int, recorded: str,
                    version: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Record the AOI's vessel counts of the run, if it counted any; return their summary and news."""
    if plan.vessels is None or outcome is None or outcome.vessels is None or outcome.vessels.error is not None:
        return None, []
    from geo.recheck.vessels import record_vessels

    return record_vessels(store, plan.aoi, plan.vessels, outcome.vessels, run_id, recorded, version)


def record_window_verdicts(store: Store, aoi: AOI, claims: Sequence[Claim], run_id: int, recorded: str,
                            min_clear_fraction: float, version: str, sensor: Sensor,
                            edited: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Judge the claims whose segment has no verdict yet, and the ``edited`` ones (their verdicts replaced, or
    withdrawn when the chain does not reach their window now)."""
    from geo.recheck.window_verdicts import to_judge, window_verdicts

    chain = store.pairs(aoi.id, version)
    spans = to_judge(aoi, claims, chain, store.verdict_keys("window", aoi.id, version), edited)
    log.debug("%s: %d claim window(s) to judge", aoi.id, len(spans))
    for claim_id in edited:  # its links follow the claim as it now reads
        store.unlink_claim(claim_id, aoi.id, version, recorded)
    news = [_withdrawn(store, aoi, claim, chain, version, sensor)
            for claim in claims if claim.id in edited and claim.id not in spans]
    if not spans:
        return news
    needed = {p.after.id for first, last in spans.values() for p in chain[first:last]}
    by_after: dict[str, list[ChangeFeature]] = defaultdict(list)
    for feature in store.changes(aoi_id=aoi.id, algorithm_version=version, after_scenes=sorted(needed)):
        by_after[feature.after_scene].append(feature)
    for result in window_verdicts(aoi, claims, chain, by_after, min_clear_fraction, spans, sensor):
        verdict = result.verdict
        claim_id = verdict.claim_id
        previous = store.latest_window_verdict(aoi.id, claim_id, version)
        store.link_changes(result.links, recorded)
        if store.add_verdict("window", verdict.to_dict(), result.before.id, result.after.id, version,
                             result.covers_window, run_id, recorded, replace=claim_id in edited):
            before = previous["verdict"] if previous else None
            news.append({**_window_news(claim_id, aoi.id, sensor, version, verdict.verdict, before,
                                        verdict.rationale),
                         "covers_window": result.covers_window, "before_scene": result.before.id,
                         "after_scene": result.after.id, "n_changes": verdict.n_changes,
                         "n_matching": verdict.n_matching, "clear_fraction": verdict.clear_fraction,
                         "outside_fraction": verdict.extra.get("outside_fraction"), "confidence": verdict.confidence,
                         "evidence": list(verdict.evidence)})
    return news


def _window_news(claim_id: str, aoi_id: str, sensor: Sensor, version: str, verdict: str, previous: str | None,
                 rationale: str) -> dict[str, Any]:
    return {"kind": "window", "sensor": sensor.value, "algorithm_version": version, "claim_id": claim_id,
            "aoi_id": aoi_id, "verdict": verdict, "previous_verdict": previous, "changed": previous != verdict,
            "rationale": rationale}


def _withdrawn(store: Store, aoi: AOI, claim: Claim, chain: Sequence[PairRow], version: str,
               sensor: Sensor) -> dict[str, Any]:
    """Withdraw the window verdict of ``claim``, edited to a window the chain does not reach (a verdict on
    its old window would stand for the claim as it now reads); its news: not tested, and why."""
    from geo.link import NOT_TESTED

    previous = store.latest_window_verdict(aoi.id, claim.id, version)
    store.withdraw_verdicts("window", aoi.id, claim.id, version)
    newest = f" ({chain[-1].after.id}, {chain[-1].after.datetime.date()})" if chain else ""
    rationale = (f"edited: its window ({claim.window.start} to {claim.window.end}) starts past the newest scene"
                 f"{newest}; the verdict of its old window is withdrawn, and it is judged when a scene after "
                 f"its window is re-checked")
    news = _window_news(claim.id, aoi.id, sensor, version, NOT_TESTED, previous["verdict"] if previous else None,
                        rationale)
    return {**news, "covers_window": False, "before_scene": None, "after_scene": None, "n_changes": 0,
            "n_matching": 0, "clear_fraction": None, "outside_fraction": None, "confidence": None, "evidence": []}


def idle_entry(aoi_id: str, version: str, head_scene: str | None, baseline_reason: str | None = None,
                sensor: Sensor = Sensor.S2) -> dict[str, Any]:
    return {"aoi_id": aoi_id, "sensor": sensor.value, "algorithm_version": version, "baseline_scene": None,
            "baseline_reason": baseline_reason, "new_scenes": [], "pairs": [], "head_scene": head_scene,
            "skipped": {}, "deferred_scenes": 0, "n_new_changes": 0}


def quiet_entry(plan: AoiPlan, version: str, sensor: Sensor = Sensor.S2) -> dict[str, Any]:
    """The entry of an AOI the run records nothing of: its head as the store keeps it, as the quick check says it."""
    return idle_entry(plan.aoi.id, version, (plan.recorded_head or plan.head.id) if plan.head else None,
                       plan.baseline_reason if plan.head is None else None, sensor)


@dataclass(frozen=True)
class ChainRun:
    """One sensor's chains in a run: their plans and outcomes, recorded under ``version``."""

    sensor: Sensor
    version: str
    min_clear_fraction: float
    source: str
    plans: list[AoiPlan]
    outcomes: dict[str, AoiOutcome]


def register_new(store: Store, aois: Sequence[AOI], run_id: int) -> None:
    """AOIs named for the first time that the run recorded nothing of (their search failed or found no scene,
    their part failed): registered all the same, so that the next re-check, run without --aoi, checks them
    again, from the --since of this run (``Store.registered_since``); and the areas of AOIs redrawn, recorded
    though nothing else is (else every later run found the file changed, took the full path and said so again)."""
    for aoi in aois:
        store.upsert_aoi(aoi, run_id)  # nothing written when the store holds the AOI as it is


def add_failures(failed: dict[str, str], errors: Mapping[str, str], sensor: Sensor = Sensor.S1) -> None:
    for aoi_id, error in errors.items():
        message = f"{sensor.value} chain: {error}" if sensor is Sensor.S1 else error
        failed[aoi_id] = f"{failed[aoi_id]}; {message}" if aoi_id in failed else message


def record_chain(store: Store, chain: ChainRun, claims: Sequence[Claim], run_id: int, recorded: str,
                  failed: dict[str, str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Record one sensor's chains, each AOI in a savepoint (its failure undoes its own part only)."""
    entries, news = [], []
    for plan in chain.plans:
        if not plan.has_work:
            if chain.sensor is Sensor.S2:
                entries.append(quiet_entry(plan, chain.version))
            continue
        outcome = chain.outcomes.get(plan.aoi.id)
        try:
            with store.savepoint("aoi"):
                entry, verdict_news = record_aoi(store, plan, outcome, claims, chain.source, run_id, recorded,
                                                  chain.min_clear_fraction, chain.version, chain.sensor)
        except Exception as exc:
            if not store.in_transaction:  # the database undid the whole run (disk full, I/O)
                raise
            error = internal_error(plan.aoi.id, "recording (its part of the run is undone)", exc)
            add_failures(failed, {plan.aoi.id: error}, chain.sensor)
            entries.append(quiet_entry(plan, chain.version, chain.sensor))
            continue
        entries.append(entry)
        news.extend(verdict_news)
        errors = [e for e in (outcome.error if outcome else None,
                              outcome.vessels.error if outcome and outcome.vessels else None) if e]
        if errors:
            add_failures(failed, {plan.aoi.id: "; ".join(errors)}, chain.sensor)
    return entries, news
