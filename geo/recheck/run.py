"""One scheduled re-check: lock the store, find what is new, process it, record it in one transaction, write
the run's files, tell whoever asked (``--on-new``).

A re-check that finds nothing new reads no pixels and writes nothing: the store and its outputs stay as they
were. It also imports nothing of the processing path (the pipeline, co-registration, scipy: seconds of
imports against a tenth of a second of work), which is imported only when there is something to process;
over a local catalog not even the geometry stack (shapely, pyproj, numpy): ``quick.py`` tells it that nothing
is new from plain numbers. ``tests/recheck/test_noop_imports.py`` holds this.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo import __version__, paths
from geo.aoi_files import AoiFeature, index_aois
from geo.change.detectors import Detector, build_detector
from geo.claims import VESSEL_SIGNATURE, Claim, check_references, load_claims
from geo.errors import AOIError, DateError, GeoError
from geo.recheck import outputs, quick
from geo.recheck.plan import AoiPlan, baseline_date, plan_aoi
from geo.scenes.model import Sensor
from geo.scenes.source import SceneSource, local_catalog_file, open_source
from geo.store import SceneRef, Store, now_utc, writer_lock

if TYPE_CHECKING:  # imported when there is something to process (the AOIs' geometry: when not quick.py's case)
    from geo.aoi import AOI
    from geo.jobs.optical_kit import Params
    from geo.recheck.process import AoiOutcome, PairOutcome
    from geo.vector.feature import Feature

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class RecheckRequest:
    store: Path
    out: Path | None = None
    aoi_refs: tuple[str, ...] = ()
    since: date | None = None
    source: str = "earth-search"
    workers: int = 1
    scheduler: str | None = None
    wait_s: float = 0.0
    on_new: str | None = None
    max_pairs: int | None = None
    aoi_dir: Path | None = None
    seeds_dir: Path | None = None
    today: date | None = None  # the search end; None = today (UTC)
    params: Params | None = None  # None: geo.jobs.optical_kit.Params()

    def detector(self) -> Detector[Any]:
        """The change detector of the run, built once: its algorithm version keys the store's chains."""
        return build_detector(self.params.method, asdict(self.params)) if self.params else build_detector()

    def arguments(self) -> dict[str, Any]:
        return {"aoi": list(self.aoi_refs), "since": self.since.isoformat() if self.since else None,
                "source": self.source, "workers": self.workers, "scheduler": self.scheduler,
                "max_pairs": self.max_pairs}


@dataclass
class RecheckReport:
    summary: dict[str, Any]
    out: Path
    run_id: int | None = None
    repaired_runs: list[int] = field(default_factory=list)
    notified_runs: list[int] = field(default_factory=list)
    hook_failed_runs: list[int] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def failed_aois(self) -> list[dict[str, str]]:
        failed: list[dict[str, str]] = self.summary["failed_aois"]  # the summary is a JSON document
        return failed


def _select_aois(store: Store | None, store_path: Path, refs: Sequence[str], known: Mapping[str, AoiFeature],
                 aoi_dir: Path) -> list[AOI]:
    """AOIs by id (aoi/ folder, else as recorded in the store) or GeoJSON file; default: the store's AOIs.
    ``store`` is None before the store exists. Only these AOIs' geometry is checked, not that of every file
    in the aoi/ folder: a file with a bad polygon holds up its own re-checks, not the others'."""
    from geo.aoi import aoi_from_feature, aoi_from_geojson, load_drawn_aoi

    if not refs:
        refs = store.aoi_ids() if store else []
        if not refs:
            raise AOIError(f"{store_path}: the store has no AOIs yet; name the AOIs to re-check with --aoi ID")
    chosen: dict[str, AOI] = {}
    for ref in refs:
        if ref in known:
            aoi = aoi_from_feature(known[ref])
        elif ref.endswith((".geojson", ".json")) or Path(ref).is_file():
            if not Path(ref).is_file():
                raise AOIError(f"{ref}: AOI file does not exist")
            aoi = load_drawn_aoi(Path(ref))
        elif store and (feature := store.aoi_feature(ref)) is not None:
            aoi = aoi_from_geojson(feature, f"{store_path}: stored AOI {ref!r}")
        else:
            names = ", ".join(sorted(set(known) | set(store.aoi_ids() if store else []))) or "none"
            raise AOIError(f"unknown AOI id {ref!r} (known in {aoi_dir} and the store: {names})")
        chosen[aoi.id] = aoi
    return [chosen[k] for k in sorted(chosen)]


def _claims(claims: dict[str, Claim], aoi_ids: set[str]) -> list[Claim]:
    check_references(claims, aoi_ids)
    return [claims[k] for k in sorted(claims)]


def _internal_error(aoi_id: str, doing: str, exc: Exception) -> str:
    """Log a bug met while ``doing`` one AOI's part (its traceback at -vv, as the CLI does); return the
    message for the run's failed AOIs (the AOI is retried next run, the others go on)."""
    message = f"internal error while {doing}: {type(exc).__name__}: {exc}"
    log.error("AOI %s: %s", aoi_id, message)
    log.debug("AOI %s: traceback", aoi_id, exc_info=exc)
    return message


def _plan_all(store: Store, source: SceneSource, aois: Sequence[AOI], claims: Sequence[Claim], today: date,
              request: RecheckRequest, version: str) -> tuple[list[AoiPlan], dict[str, str]]:
    plans, failed = [], {}
    for aoi in aois:
        mine = [c for c in claims if aoi.id in c.aoi_ids]
        chain = store.chain(aoi.id, version)
        paired = store.paired_after(aoi.id, version, chain.head.id) if chain else set()
        try:
            plan = plan_aoi(source, aoi, mine, chain, store.seen_scene_ids(aoi.id), today, request.since,
                            request.max_pairs, paired)
            if any(VESSEL_SIGNATURE in c.signatures for c in mine):  # ships are counted on every date, apart from the chain
                from geo.recheck.vessels import plan_vessels

                plan = replace(plan, vessels=plan_vessels(store, request.source, aoi, mine, today))
            plans.append(plan)
        except DateError:
            raise
        except GeoError as exc:  # the archive is down for this AOI: the others go on
            log.warning("AOI %s: search failed: %s", aoi.id, exc)
            failed[aoi.id] = f"search failed: {exc}"
        except Exception as exc:  # a bug: this AOI is reported and retried, the others go on
            failed[aoi.id] = _internal_error(aoi.id, "searching", exc)
    return plans, failed


def _record_aoi(store: Store, plan: AoiPlan, outcome: AoiOutcome | None, claims: Sequence[Claim], source: str,
                run_id: int, recorded: str, params: Params,
                version: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Write one AOI's part of the run (``version``: the change detector's, the key of its chain); return
    its summary entry and its window-verdict news."""
    aoi = plan.aoi
    store.upsert_aoi(aoi, run_id)
    for claim in plan.claims:
        store.upsert_claim(claim, run_id)
    for scene in plan.seen:
        store.add_scene(aoi.id, scene.summary(), source, run_id)
    chain = store.chain(aoi.id, version)
    if chain is None:
        assert plan.head is not None and plan.baseline_reason is not None
        baseline, reason = SceneRef(plan.head.id, plan.head.datetime), plan.baseline_reason
        head = baseline
    else:
        baseline, reason, head = chain.baseline, chain.baseline_reason, chain.head
    pairs: list[PairOutcome] = outcome.pairs if outcome else []
    for pair in pairs:
        store.add_pair(aoi.id, version, pair.before, pair.after, pair.status, pair.reason,
                       pair.clear_fraction, len(pair.features), pair.manifest, run_id)
        if pair.status == "done":
            store.add_changes(pair.features, pair.after.datetime, run_id, recorded)
            for verdict in pair.verdicts:
                store.add_verdict("pair", verdict, pair.before.id, pair.after.id, version,
                                  bool(verdict.get("pair_brackets_window")), run_id, recorded)
            head = pair.after
    store.set_chain(aoi.id, version, baseline, reason, head, run_id)
    news = _record_window_verdicts(store, aoi, claims, run_id, recorded, params, version) if any(
        p.status == "done" for p in pairs) else []
    vessels = None
    if plan.vessels is not None and outcome is not None and outcome.vessels is not None \
            and outcome.vessels.error is None:
        from geo.recheck.vessels import record_vessels

        vessels, vessel_news = record_vessels(store, aoi, plan.vessels, outcome.vessels, run_id, recorded, version)
        news.extend(vessel_news)
    entry = {
        "aoi_id": aoi.id,
        "baseline_scene": baseline.id if plan.starts_chain else None,
        "baseline_reason": reason if plan.starts_chain else None,
        "new_scenes": [s.id for s in plan.seen],
        "pairs": [{"before_scene": p.before.id, "after_scene": p.after.id, "status": p.status, "reason": p.reason,
                   "clear_fraction": p.clear_fraction, "n_changes": len(p.features),
                   "change_types": sorted(f[1]["change_type"] for f in p.features)} for p in pairs],
        "head_scene": head.id,
        "deferred_scenes": plan.deferred,
        "n_new_changes": sum(len(p.features) for p in pairs),
        **({"vessels": vessels} if vessels is not None else {}),
    }
    return entry, news


def _record_window_verdicts(store: Store, aoi: AOI, claims: Sequence[Claim], run_id: int, recorded: str,
                            params: Params, version: str) -> list[dict[str, Any]]:
    from geo.recheck.window_verdicts import to_judge, window_verdicts

    chain = store.pairs(aoi.id, version)
    spans = to_judge(aoi, claims, chain, store.verdict_keys("window", aoi.id, version))
    log.debug("%s: %d claim window(s) to judge", aoi.id, len(spans))
    if not spans:
        return []
    needed = {p.after.id for first, last in spans.values() for p in chain[first:last]}
    by_after: dict[str, list[Feature]] = defaultdict(list)
    for feature in store.changes(aoi_id=aoi.id, algorithm_version=version, after_scenes=sorted(needed)):
        by_after[feature[1]["after_scene"]].append(feature)
    news = []
    for result in window_verdicts(aoi, claims, chain, by_after, params.min_clear_fraction, spans):
        claim_id = result.verdict["claim_id"]
        previous = store.latest_window_verdict(aoi.id, claim_id, version)
        if store.add_verdict("window", result.verdict, result.before.id, result.after.id, version,
                             result.covers_window, run_id, recorded):
            before = previous["verdict"] if previous else None
            news.append({"kind": "window", "claim_id": claim_id, "aoi_id": aoi.id, "verdict": result.verdict["verdict"],
                         "previous_verdict": before, "changed": before != result.verdict["verdict"],
                         "covers_window": result.covers_window, "before_scene": result.before.id,
                         "after_scene": result.after.id, "n_changes": result.verdict["n_changes"],
                         "n_matching": result.verdict["n_matching"], "confidence": result.verdict.get("confidence"),
                         "evidence": result.verdict.get("evidence", []), "rationale": result.verdict["rationale"]})
    return news


def _summary(run_id: int | None, started: str, finished: str, source: str, version: str,
             entries: list[dict[str, Any]], verdict_news: list[dict[str, Any]], failed: dict[str, str],
             files: dict[str, str]) -> dict[str, Any]:
    types = Counter(t for e in entries for p in e["pairs"] for t in p.get("change_types", []))
    n_new = sum(e["n_new_changes"] for e in entries)
    return {
        "run_id": run_id,
        "started_at": started,
        "finished_at": finished,
        "source": source,
        "algorithm_version": version,
        "workbench_version": __version__,
        "has_new": bool(n_new or any(v["changed"] for v in verdict_news)),
        "n_pairs": sum(1 for e in entries for p in e["pairs"] if p["status"] == "done"),
        "n_new_changes": n_new,
        "new_changes_by_type": dict(sorted(types.items())),
        "aois": entries,
        "verdicts": verdict_news,
        "failed_aois": [{"aoi_id": k, "error": v} for k, v in sorted(failed.items())],
        "files": files,
    }


def _idle_entry(aoi_id: str, head_scene: str | None, baseline_reason: str | None = None) -> dict[str, Any]:
    return {"aoi_id": aoi_id, "baseline_scene": None, "baseline_reason": baseline_reason, "new_scenes": [],
            "pairs": [], "head_scene": head_scene, "deferred_scenes": 0, "n_new_changes": 0}


def _quiet_entry(plan: AoiPlan) -> dict[str, Any]:
    return _idle_entry(plan.aoi.id, plan.head.id if plan.head else None,
                       plan.baseline_reason if plan.head is None else None)


def _nothing_new(report: RecheckReport, started: str, source: str, version: str, entries: list[dict[str, Any]],
                 clock: float) -> RecheckReport:
    report.summary = _summary(None, started, now_utc(), source, version, entries, [], {}, {})
    report.elapsed_s = time.perf_counter() - clock
    log.info("nothing new: %d AOI(s) checked in %.3f s", len(entries), report.elapsed_s)
    return report


def recheck(request: RecheckRequest, progress: Progress | None = None) -> RecheckReport:
    """Re-check the AOIs of ``request``; see the module docstring."""
    clock = time.perf_counter()
    started = now_utc()
    store_path = Path(request.store)
    out = Path(request.out) if request.out else outputs.default_out(store_path)
    outputs.check_out(out, store_path, given=request.out is not None)
    today = request.today or datetime.now(timezone.utc).date()
    if request.since and request.since > today:
        raise DateError(f"--since {request.since} is in the future (today is {today})")
    step = progress or (lambda _message: None)
    # Bad input fails here, before the store or its lock file is created.
    aoi_dir, seeds_dir = request.aoi_dir or paths.aoi_dir(), request.seeds_dir or paths.seeds_dir()
    known = index_aois(aoi_dir) if aoi_dir.is_dir() else {}
    all_claims = load_claims(seeds_dir) if seeds_dir.is_dir() else {}
    detector = request.detector()
    version = detector.algorithm_version
    # With a store to compare with, a local catalog is first read in brief (quick.py); when that read fails or
    # meets an item it does not take, the full source is opened here and reports any error, as always.
    catalog_file = local_catalog_file(request.source) if store_path.is_file() else None
    brief = quick.read_catalog(catalog_file) if catalog_file else None
    # The change chain reads Sentinel-2 (vessels: geo.recheck.vessels).
    source: SceneSource | None = open_source(request.source, Sensor.S2) if brief is None else None
    Store.check(store_path)
    if not store_path.exists():
        new_aois = _select_aois(None, store_path, request.aoi_refs, known, aoi_dir)
        claims = _claims(all_claims, {a.id for a in new_aois} | set(known))
        for aoi in new_aois:
            baseline_date(aoi, claims, request.since)
    with writer_lock(store_path, request.wait_s), Store.open(store_path) as store:
        report = RecheckReport({}, out)
        report.repaired_runs = outputs.repair(store, out)
        if request.on_new:
            report.notified_runs, report.hook_failed_runs = outputs.notify_pending(store, out, request.on_new)
        if brief is not None:
            step(f"asking {brief.name} whether anything is new")
            idle = quick.nothing_new(store, brief, known, all_claims, request.aoi_refs, request.since,
                                     request.source, today, version)
            if idle is not None:
                return _nothing_new(report, started, brief.name, version,
                                    [_idle_entry(i.aoi_id, i.head_scene) for i in idle], clock)
        if source is None:
            source = open_source(request.source, Sensor.S2)
        aois = _select_aois(store, store_path, request.aoi_refs, known, aoi_dir)
        claims = _claims(all_claims, {a.id for a in aois} | set(known))
        step(f"searching {source.name} for new scenes over {len(aois)} AOI(s)")
        plans, failed = _plan_all(store, source, aois, claims, today, request, version)
        if not failed and not any(p.has_work for p in plans):
            return _nothing_new(report, started, source.name, version, [_quiet_entry(p) for p in plans], clock)
        from geo.jobs.optical_kit import Params
        from geo.recheck.process import run_plans

        params = request.params or Params()
        outcomes = {o.aoi_id: o for o in run_plans(plans, params, detector, request.workers, request.scheduler, step)}
        step("recording the run")
        log.info("recording the run (%d AOI(s) with news)", sum(p.has_work for p in plans))
        with store.transaction():
            recorded = now_utc()
            run_id = store.insert_run(started, source.name, version, __version__, socket.gethostname(),
                                      os.getpid(), request.arguments(), request.on_new)
            entries, news = [], []
            for plan in plans:
                if not plan.has_work:
                    entries.append(_quiet_entry(plan))
                    continue
                outcome = outcomes.get(plan.aoi.id)
                try:
                    with store.savepoint("aoi"):  # one AOI's failure undoes its own part only
                        entry, verdict_news = _record_aoi(store, plan, outcome, claims, source.name, run_id,
                                                          recorded, params, version)
                except Exception as exc:
                    if not store.in_transaction:  # the database undid the whole run (disk full, I/O)
                        raise
                    failed[plan.aoi.id] = _internal_error(plan.aoi.id, "recording (its part of the run is undone)", exc)
                    entries.append(_quiet_entry(plan))
                    continue
                entries.append(entry)
                news.extend(verdict_news)
                errors = [e for e in (outcome.error if outcome else None,
                                      outcome.vessels.error if outcome and outcome.vessels else None) if e]
                if errors:
                    failed[plan.aoi.id] = "; ".join(errors)
            summary = _summary(run_id, started, now_utc(), source.name, version, entries, news, failed,
                               outputs.run_files(out, run_id))
            store.finish_run(run_id, summary["finished_at"], summary)
        log.info("run %d committed", run_id)
        step("writing the run's files")
        summary_path = outputs.write_run_outputs(store, run_id, out)
        report.run_id, report.summary = run_id, summary
        if request.on_new and summary["has_new"]:
            if outputs.run_hook(request.on_new, summary_path, summary, store_path) == 0:
                with store.transaction():
                    store.mark_notified(run_id)
                report.notified_runs.append(run_id)
            else:
                report.hook_failed_runs.append(run_id)
    report.elapsed_s = time.perf_counter() - clock
    return report

