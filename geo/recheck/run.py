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
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo import __version__, paths
from geo.change.detectors import SAR_VERSION
from geo.claims import VESSEL_SIGNATURE, Claim
from geo.dates import year_slip
from geo.errors import DateError, GeoError, StoreError
from geo.outputs.provenance import portable_path
from geo.recheck import blocked, notify, outputs, quick, retire, sar_chain, skips, source_choice
from geo.recheck.inputs import (RecheckInputs, aoi_file_warnings, quiet_claims, read_inputs, rows_deleted,
                                select_aois, take_claims)
from geo.recheck.request import RecheckReport, RecheckRequest
from geo.recheck.record import (ChainRun, add_failures, idle_entry, internal_error, quiet_entry, record_chain,
                                register_new)
from geo.recheck.plan import AoiPlan, baseline_date, plan_aoi
from geo.recheck.since_note import chains_begun_after
from geo.scenes.model import Scene, Sensor
from geo.scenes.source import SceneSource, local_catalog_file, open_source
from geo.store import Store, now_utc, open_for_writing, writer_lock
from geo.words import counted

if TYPE_CHECKING:  # imported when there is something to process (the AOIs' geometry: when not quick.py's case)
    from geo.aoi import AOI

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


def check_since(since: date, utc_today: date, local_today: date) -> None:
    """Refuse a ``--since`` after today, today being the UTC date (scenes are dated in UTC) or the date where the
    machine is (a cron line's ``date +%F`` is local: east of Greenwich it is UTC's tomorrow for hours, and a
    baseline on or before it is the newest scene all the same)."""
    if since > max(utc_today, local_today):
        here = f", {local_today} here" if local_today != utc_today else ""
        raise DateError(f"--since {since} is in the future (today is {utc_today} in UTC{here})")
    # a year mistyped (2004 for 2024): the baseline would be the archive's first scene, and every one since processed
    first = Sensor.S2.first_day
    if since < first:
        meant = year_slip(since, first, utc_today)
        start = f"from the first scenes on: --since {first}"
        meant_words = f"did you mean {meant}? ({start})" if meant else start
        raise DateError(f"--since {since} is before {Sensor.S2.mission}'s first scenes ({first}): the baseline would be "
                        f"the first scene over the AOI, every scene since then processed; {meant_words}")


def _redrawn(store: Store, aois: Sequence[AOI]) -> set[str]:
    """The AOIs whose area is not the one stored (their file redrawn): the run records the new area, which the
    pairs of new scenes are processed with (what was processed keeps the old one), and says so once."""
    redrawn = {aoi.id for aoi in aois if store.holds_other_area(aoi)}
    for aoi_id in sorted(redrawn):
        log.info("AOI %s: its area differs from the one in the store (redrawn): recorded by this run", aoi_id)
    return redrawn


def _unstarted(store: Store, aois: Sequence[AOI], claims: Sequence[Claim], since: date | None,
               version: str) -> dict[str, str]:
    """The AOIs of a scheduled run without a chain and without a day to start one on (no --since, none recorded
    when registered, no claim naming them): each fails alone, not registered (a cron line's --all-aois met an
    AOI just added to aoi/), where it stopped the run."""
    failed = {}
    for aoi in aois:
        if store.chain(aoi.id, version) is None and not (since or store.registered_since(aoi.id)) and not any(
                aoi.id in c.aoi_ids for c in claims):
            failed[aoi.id] = (f"no claim names it and no --since was given: no day to take its baseline scene on; "
                              f"a claim of the seeds naming it, or one `geo recheck --aoi {aoi.id} --since DATE`, "
                              "starts its re-checks")
    return failed


def _plan_all(store: Store, source: SceneSource, aois: Sequence[AOI], claims: Sequence[Claim], today: date,
              request: RecheckRequest, version: str,
              pairable: Callable[[Scene, Scene], bool] | None = None) -> tuple[list[AoiPlan], dict[str, str]]:
    """The plans of the chains keyed by ``version`` (vessel counts ride on the Sentinel-2 chain's plans)."""
    from geo.recheck.window_verdicts import unjudged  # the verdict rules: not for the quick path's "nothing new"

    plans, failed = [], {}
    for aoi in aois:
        mine = [c for c in claims if aoi.id in c.aoi_ids]
        chain = store.chain(aoi.id, version)
        paired = store.chained_scenes(aoi.id, version) if chain else {}
        # a chain not started when its AOI was registered (that run failed) starts at that run's --since
        since = request.since or (store.registered_since(aoi.id) if chain is None else None)
        try:
            plan = plan_aoi(source, aoi, mine, chain, store.seen_scene_ids(aoi.id), today, since,
                            request.max_pairs, paired, pairable)
            to_judge, edited = unjudged(store, aoi, mine, version) if chain else ((), ())
            plan = replace(plan, read_failures=store.read_failures(aoi.id, version), claims_to_judge=to_judge,
                           claims_edited=edited)
            if pairable is None and any(VESSEL_SIGNATURE in c.signatures for c in mine):  # ships are counted on every date, apart from the chain
                from geo.recheck.vessels import plan_vessels

                plan = replace(plan, vessels=plan_vessels(store, request.archive, aoi, mine, today,
                                                          named={Sensor.S2: request.collections}))
            plans.append(plan)
        except DateError:
            raise
        except GeoError as exc:  # the archive is down for this AOI: the others go on
            log.info("AOI %s: search failed: %s", aoi.id, exc)  # said once, in the run's failed AOIs
            failed[aoi.id] = f"search failed: {exc}"
        except Exception as exc:  # a bug: this AOI is reported and retried, the others go on
            failed[aoi.id] = internal_error(aoi.id, "searching", exc)
    return plans, failed


def _summary(run_id: int | None, started: str, finished: str, source: str, version: str,
             entries: list[dict[str, Any]], verdict_news: list[dict[str, Any]], failed: dict[str, str],
             files: dict[str, str]) -> dict[str, Any]:
    types = Counter(t for e in entries for p in e["pairs"] for t in p.get("change_types", []))
    n_new = sum(e["n_new_changes"] for e in entries)
    return {
        "run_id": run_id,
        "started_at": started,
        "finished_at": finished,
        "source": portable_path(source),  # as a run's manifest: no folder of this machine (the store keeps it)
        "algorithm_version": version,
        "workbench_version": __version__,
        "has_new": bool(n_new or any(v["changed"] for v in verdict_news)),
        "n_pairs": sum(1 for e in entries for p in e["pairs"] if p["status"] == "done"),
        "n_new_changes": n_new,
        "new_changes_by_type": dict(sorted(types.items())),
        "skipped": skips.run_counts(entries),  # the scenes skipped, counted by why (clouded, snowed...)
        "aois": entries,
        "verdicts": verdict_news,
        "failed_aois": [{"aoi_id": k, "error": v} for k, v in sorted(failed.items())],
        "files": files,
    }


def _nothing_new(report: RecheckReport, started: str, source: str, version: str, entries: list[dict[str, Any]],
                 clock: float, failed: dict[str, str] | None = None) -> RecheckReport:
    """A run that records nothing: nothing new in ``entries``, and the AOIs of ``failed`` failed before any
    scene of theirs was found new (searching, reading their files)."""
    report.summary = _summary(None, started, now_utc(), source, version, entries, [], failed or {}, {})
    report.elapsed_s = time.perf_counter() - clock
    log.info("nothing new: %d AOI(s) checked, %d failed, in %.3f s", len(entries), len(failed or {}), report.elapsed_s)
    return report


def _catch_up(store: Store, out: Path, request: RecheckRequest, report: RecheckReport,
              alerts: list[dict[str, Any]]) -> None:
    """What earlier runs left undone: their missing files written, their failed --on-new run again, their
    undelivered alerts queued (with --notify)."""
    report.repaired_runs = outputs.repair(store, out)
    if request.on_new:
        report.notified_runs, report.hook_failed_runs = outputs.notify_pending(store, out, request.on_new,
                                                                                  request.on_new_timeout_s)
    if request.notify:
        alerts += _pending_alerts(store, out)


def _quick_answer(store: Store, brief: quick.CatalogBrief, inputs: RecheckInputs, request: RecheckRequest,
                  report: RecheckReport, today: date, version: str, step: Progress) -> list[quick.QuietAoi] | None:
    """``quick.nothing_new`` when the input problems, if any, concern no AOI re-checked (then warnings, put in
    ``report``); None when something may be new, or a problem may concern an AOI (the full path decides)."""
    taken = quiet_claims(inputs, store, request.aoi_refs)
    if taken is None or retire.pending(store, inputs, request.aoi_refs) or (
            not request.aoi_refs and rows_deleted(store)):  # said by the full path (select_aois)
        return None
    if request.all_aois and set(inputs.known) - set(store.aoi_ids()):  # an AOI of aoi/ new to the store
        return None
    step(f"asking {brief.name} whether anything is new")
    idle = quick.nothing_new(store, brief, inputs.known, {c.id: c for c in taken.claims}, request.aoi_refs,
                             request.since, request.archive, today, version, request.sensor)
    if idle is not None:
        report.skipped_aois, report.skipped_claims = aoi_file_warnings(inputs, {}), taken.warnings
    return idle


def recheck(request: RecheckRequest, progress: Progress | None = None) -> RecheckReport:
    """Re-check the AOIs of ``request``; see the module docstring. With ``--notify``, the webhook gets this
    run's alert and those of earlier runs it did not take, after the store's lock is released."""
    alerts: list[dict[str, Any]] = []
    report = _recheck(request, progress, alerts)
    if alerts:
        _deliver_alerts(request, report, alerts)
    return report


def _deliver_alerts(request: RecheckRequest, report: RecheckReport, alerts: Sequence[dict[str, Any]]) -> None:
    """Send ``alerts`` (retries hold up no other re-check: the lock is not held), then take the lock again
    briefly to clear the delivered ones. A run whose alert is not delivered stays pending for the next
    re-check with --notify; one delivered but not cleared (the store was locked meanwhile) is sent again then."""
    assert request.notify is not None
    policy = notify.AlertRetry(request.notify_retries)
    delivered: list[int] = []
    for body in alerts:  # oldest first; after a failure the webhook is down: the rest wait for the next re-check
        if not notify.deliver(request.notify, body, policy):
            break
        delivered.append(body["run_id"])
    report.alert_failed = report.alert_failed or len(delivered) < len(alerts)
    report.late_alerts = [r for r in delivered if r != report.run_id]
    if not delivered:
        return
    try:
        with writer_lock(Path(request.store), request.wait_s), Store.open(Path(request.store)) as store:
            with store.transaction():
                store.set_alert_pending(delivered, False)
    except GeoError as exc:
        log.warning("--notify: run(s) %s delivered but not marked so (%s): they are sent again next time",
                    delivered, exc)


def _pending_alerts(store: Store, out: Path) -> list[dict[str, Any]]:
    """The alerts of earlier runs no webhook has taken, marked ``late``; a run whose alert cannot be built
    is left out with a warning (``notify.alert``) and stays pending."""
    bodies = []
    for run_id in store.pending_alerts():
        body = notify.alert(store, store.run_summary(run_id), out, late=True)
        if body is not None:
            bodies.append(body)
    return bodies


def _recheck(request: RecheckRequest, progress: Progress | None, alerts: list[dict[str, Any]]) -> RecheckReport:
    clock = time.perf_counter()
    started = now_utc()
    store_path = Path(request.store)
    if not store_path.name:  # "" or "." (an empty variable in a cron line): the outputs are named after the file
        raise StoreError(f"--store {str(request.store)!r}: names a folder, not the store's file; give a file such as "
                         "recheck.gpkg")
    out = Path(request.out) if request.out else outputs.default_out(store_path)
    outputs.check_out(out, store_path, given=request.out is not None)
    stored_source, stored_collections = source_choice.stored_source(store_path)
    request = replace(request, source=source_choice.choose_source(request.source, stored_source,
                                                                  request.switch_source, store_path),
                      collections=source_choice.choose_collections(request.collections, stored_collections,
                                                                   stored_source is not None, request.switch_source,
                                                                   store_path))
    today = request.today or datetime.now(timezone.utc).date()
    if request.since:
        check_since(request.since, today, request.today or datetime.now().astimezone().date())
    step = progress or (lambda _message: None)
    # Bad input fails here, before the store or its lock file is created.
    aoi_dir, seeds_dir = request.aoi_dir or paths.aoi_dir(), request.seeds_dir or paths.seeds_dir()
    inputs = read_inputs(aoi_dir, seeds_dir)
    detector = request.detector()
    version = detector.algorithm_version
    # With a store to compare with, a local catalog is first read in brief (quick.py); when that read fails or
    # meets an item it does not take, the full source is opened here and reports any error, as always.
    catalog_file = local_catalog_file(request.archive) if store_path.is_file() and not request.collections else None
    brief = quick.read_catalog(catalog_file) if catalog_file else None
    # The change chain reads Sentinel-2 (vessels: geo.recheck.vessels).
    source: SceneSource | None = open_source(request.archive, Sensor.S2, request.collections or None
                                             ) if brief is None else None
    Store.check(store_path)
    first_selection = None  # a first re-check's AOIs, checked before its store is made (its files read once)
    if not store_path.exists():
        first_selection = select_aois(None, store_path, request.aoi_refs, inputs, aoi_dir, request.all_aois)
        if request.aoi_refs:  # named: bad input stops the run; --all-aois (a cron line's) fails an AOI alone
            first_claims = take_claims(inputs, [a.id for a in first_selection.aois], scheduled=False).claims
            for aoi in first_selection.aois:
                baseline_date(aoi, first_claims, request.since)
    # A first re-check that does not finish (stopped, failed) leaves no store: geo.store.first_run.
    with blocked.holding(store_path, request.wait_s), open_for_writing(store_path) as store:
        report = RecheckReport({}, out, created=first_selection is not None)
        if store.migrated_from is not None:  # a write even when nothing is new: the terminal says so
            report.migrated = (store.migrated_from, store.schema_version)
        if request.switch_source and (request.archive, request.collections) != (
                stored_source or request.archive, stored_collections):  # kept though nothing is new
            with store.transaction():
                store.set_source(request.archive, request.collections)
        if (last := store.last_started()) is not None and last > started:  # a clock set back: searches end too soon
            log.warning("the clock says %s, before the store's last re-check began (%s): check the machine's clock; "
                        "scenes are searched up to %s only", started, last, today)
        idle = _quick_answer(store, brief, inputs, request, report, today, version, step) if brief else None
        if idle is not None and brief is not None:
            report.since_before_chains = chains_begun_after(store, [i.aoi_id for i in idle], request.since,
                                                            version)
            _catch_up(store, out, request, report, alerts)
            return _nothing_new(report, started, brief.name, version,
                                [idle_entry(i.aoi_id, version, i.head_scene) for i in idle], clock)
        # Bad input (a wrong --aoi, a broken file it needs) fails here, before any file is written.
        # the first selection holds while the store is still empty (another first run may have filled it meanwhile)
        selected = first_selection if first_selection is not None and not store.aoi_ids() else select_aois(
            store, store_path, request.aoi_refs, inputs, aoi_dir, request.all_aois)
        invalid = selected.invalid
        taken = take_claims(inputs, [a.id for a in selected.aois], scheduled=not request.aoi_refs,
                            already_failed=invalid, retired=[*store.retired(), *selected.retiring])
        report.skipped_aois, report.skipped_claims = aoi_file_warnings(inputs, invalid), taken.warnings
        _catch_up(store, out, request, report, alerts)
        if source is None:
            source = open_source(request.archive, Sensor.S2, request.collections or None)
        invalid.update(taken.failed)
        claims = taken.claims
        if not request.aoi_refs:  # an AOI of aoi/ new to the store (--all-aois) that no claim names: no baseline
            invalid.update(_unstarted(store, selected.aois, claims, request.since, version))
        aois = [a for a in selected.aois if a.id not in invalid]  # their claims may be among those not taken
        redrawn = _redrawn(store, aois)
        report.since_before_chains = chains_begun_after(store, [a.id for a in aois], request.since, version)
        step(f"searching {source.name} for new scenes over {counted(len(aois), 'AOI')}")
        plans, failed = _plan_all(store, source, aois, claims, today, request, version)
        failed.update(invalid)

        def plan_s1(s1_source: SceneSource, chosen: Sequence[AOI]) -> list[AoiPlan]:
            s1_plans, errors = _plan_all(store, s1_source, chosen, claims, today, request, SAR_VERSION,
                                         sar_chain.same_geometry)
            add_failures(failed, errors)
            return s1_plans

        s1 = sar_chain.ongoing_chains(store, request.sensor, request.archive, aois, plan_s1)
        unregistered = any(store.aoi_feature(a.id) is None for a in aois)  # a run registers them (register_new)
        retired = retire.retirements(store, inputs, selected.retiring, selected.resumed)
        registry_news = redrawn or retired  # recorded though nothing else is
        if not unregistered and not registry_news and not any(p.has_work for p in [*plans, *(s1.plans if s1 else [])]):
            # nothing new, or nothing but failed AOIs (the archive down): no run, no run folder (an archive down
            # for a week filled the store and the outputs with empty runs); the failures are said, exit 4
            if stored_source is None:  # a first re-check of no AOI started: the store keeps its source all the same
                with store.transaction():  # (a later run without --source searched the default archive)
                    store.set_source(request.archive, request.collections)
            return _nothing_new(report, started, source.name, version, [quiet_entry(p, version) for p in plans], clock,
                                failed)
        from geo.jobs.optical_kit import OpticalKit, Params
        from geo.recheck.process import run_plans

        params = request.params or Params()
        kit = OpticalKit(params, detector)
        outcomes = {o.aoi_id: o for o in run_plans(plans, kit, request.workers, request.scheduler, step)}
        chains = [ChainRun(Sensor.S2, version, kit.min_clear_fraction, source.name, plans, outcomes)]
        if s1 is not None:
            s1_plans, s1_outcomes, s1_clear = sar_chain.run_chains(
                s1, plans, outcomes, plan_s1, lambda todo, s1_kit: run_plans(todo, s1_kit, request.workers,
                                                                              request.scheduler, step))
            chains.append(ChainRun(Sensor.S1, SAR_VERSION, s1_clear, s1.source.name, s1_plans, s1_outcomes))
        step("recording the run")
        log.info("recording the run (%d chain(s) with news)", sum(p.has_work for c in chains for p in c.plans))
        with store.transaction():
            recorded = now_utc()
            run_id = store.insert_run(started, source.name, version, __version__, socket.gethostname(),
                                      os.getpid(), request.arguments(), request.on_new)
            entries, news = [], []
            for chain in chains:
                chain_entries, chain_news = record_chain(store, chain, claims, run_id, recorded, failed)
                entries += chain_entries
                news += chain_news
            register_new(store, aois, run_id)  # and the areas redrawn, also of AOIs with nothing new
            for entry in entries:
                if entry["aoi_id"] in redrawn and entry["sensor"] == Sensor.S2.value:
                    entry["area_redrawn"] = True
            store.set_source(request.archive, request.collections)
            for aoi_id, drawn in selected.drawn.items():
                store.mark_drawn(aoi_id, drawn)
            retired.record(store, run_id, recorded)
            summary = {**_summary(run_id, started, now_utc(), source.name, version, entries, news, failed,
                                  outputs.run_files(out, run_id)), **retired.summary_part(store, inputs)}
            # an AOI or claim retired (or back) is news to whoever reads only --on-new's mail or the webhook
            summary["has_new"] = summary["has_new"] or bool(retired)
            store.finish_run(run_id, summary["finished_at"], summary)
            if request.notify and summary["has_new"]:  # pending until a webhook takes it, whatever happens next
                store.set_alert_pending([run_id], True)
        log.info("run %d committed", run_id)
        step("writing the run's files")
        summary_path = outputs.write_run_outputs(store, run_id, out)
        report.run_id, report.summary = run_id, summary
        if request.on_new and summary["has_new"]:
            if outputs.run_hook(request.on_new, summary_path, summary, store, out, request.on_new_timeout_s) == 0:
                with store.transaction():
                    store.mark_notified(run_id)
                report.notified_runs.append(run_id)
            else:
                report.hook_failed_runs.append(run_id)
        body = notify.alert(store, summary, out) if request.notify and summary["has_new"] else None
        if body is not None:
            alerts.append(body)
        report.alert_failed = bool(request.notify and summary["has_new"] and body is None)
    report.elapsed_s = time.perf_counter() - clock
    return report

