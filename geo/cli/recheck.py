"""``geo recheck``: the scheduled re-check of AOIs against new scenes, accumulating in a results store.

Exit codes (for cron and systemd): 0 ok (new results or nothing new), 1 user error, 2 internal error,
3 the store is locked by another re-check (or written by another program), 4 some AOIs failed (the others are
recorded; the failed ones are retried next run), 5 the --on-new command failed (results are recorded; it is retried
next run), 6 the store has been locked for every run for longer than --blocked-alert (``geo.recheck.blocked``).
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import nullcontext
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from geo.cli import console
from geo.cli.options import (
    FiniteFloatRange, NonEmptyPath, aoi_dir_option, choice, collection_option, not_empty, one_cluster, scene_source,
    scheduler_option, seeds_dir_option,
)
from geo.errors import StoreLockedError
from geo.recheck import blocked, retire
from geo.recheck.skips import deferred_words, entry_counts, skipped_words
from geo.scenes.model import Sensor
from geo.words import counted

if TYPE_CHECKING:  # imported by the command itself, so --help stays light
    from geo.recheck.request import RecheckReport

EXIT_LOCKED = 3
EXIT_AOIS_FAILED = 4
EXIT_HOOK_FAILED = 5
EXIT_BLOCKED = 6
DEFAULT_STORE = "recheck.gpkg"


def print_report(report: RecheckReport, store: Path) -> None:
    out, esc = console.stdout, console.esc
    summary = report.summary
    migrated = f"schema migrated from version {report.migrated[0]} to {report.migrated[1]}" if report.migrated else ""
    # a run with nothing new may still record earlier runs' --on-new commands delivered at last
    late = {"--on-new": report.late_hooks, "--notify": report.late_alerts}
    but_for = " and ".join([f"its {migrated}"] * bool(migrated) + [
        f"{_runs(runs)}'s {option} delivery recorded" for option, runs in late.items() if runs])
    unchanged = f"store unchanged but for {but_for}" if but_for else "store unchanged"
    if report.created:  # a first re-check that recorded no run still made the store, its source kept for the next
        unchanged = f"store {store} made, its source kept for later runs"
    if report.run_id is None and summary["failed_aois"]:  # not a run: nothing of it recorded, no run folder
        out.print(f"[bold]no run recorded[/]: [red]{counted(len(summary['failed_aois']), 'AOI')} failed[/] (retried "
                  f"next run), nothing new in {counted(len(summary['aois']), 'other')}, in {report.elapsed_s:.2f} s; "
                  f"{unchanged}",
                  markup=True)
        _print_failures(summary)
        return
    if report.run_id is None:
        # an AOI no scene was ever found over (a wrong polygon or source) was said on its first run alone
        waiting = [e["aoi_id"] for e in summary["aois"] if e.get("head_scene") is None]
        some = ", ".join(waiting[:3]) + (", ..." if len(waiting) > 3 else "")
        without = f" ({len(waiting)} without any scene yet: {esc(some)})" if waiting else ""
        out.print(f"nothing new: {counted(len(summary['aois']), 'AOI')} checked in {report.elapsed_s:.2f} s{without}; "
                  f"{unchanged}")
        return
    if migrated:
        out.print(f"store {migrated}")
    types = ", ".join(f"{n} {t}" for t, n in summary["new_changes_by_type"].items()) or "none"
    # the first line says a run failed in part: a log's reader (or `grep '^run'`) tells it from one with nothing new
    failed = (f", [red]{counted(len(summary['failed_aois']), 'AOI')} failed[/] (retried next run)"
              if summary["failed_aois"] else "")
    out.print(f"[bold]run {report.run_id}[/]: {counted(summary['n_pairs'], 'new pair')}, "
              f"[bold]{counted(summary['n_new_changes'], 'new change')}[/] ({esc(types)}){failed} in "
              f"{report.elapsed_s:.1f} s",
              markup=True)
    for entry in summary["aois"]:
        if entry.get("area_redrawn"):
            out.print(f"  {entry['aoi_id']}: its area redrawn, recorded: the pairs of new scenes are processed with "
                      "it, those already processed keep the old one")
        if entry["pairs"] or entry["baseline_scene"]:
            done = [p for p in entry["pairs"] if p["status"] == "done"]
            skipped = skipped_words(entry.get("skipped") or entry_counts(entry["pairs"]))  # why, counted
            start = f" baseline {entry['baseline_scene']};" if entry["baseline_scene"] else ""
            chain = " (Sentinel-1)" if entry.get("sensor") == Sensor.S1.value else ""
            out.print(f"  {entry['aoi_id']}{chain}:{start} {counted(len(done), 'pair')}, "
                      f"{counted(entry['n_new_changes'], 'change')}"
                      + (f", {esc(skipped)}" if skipped else "")
                      + (f", {deferred_words(entry['deferred_scenes'])}" if entry["deferred_scenes"] else "")
                      + f"; head {entry['head_scene']}" + _seen_part(done, entry.get("sensor")))
            if moved := entry.get("baseline_moved"):  # it showed too little: every later pair was skipped for good
                out.print(f"  {entry['aoi_id']}: {esc(moved['why'])} (its next scenes pair with it)")
        elif entry.get("head_was"):  # nothing paired: the run recorded the head under its new id
            out.print(f"  {entry['aoi_id']}: nothing to pair; head {entry['head_was']} is read as "
                      f"{entry['head_scene']} from now on (published again, or its whole pass)")
        elif entry["baseline_reason"] and entry["head_scene"] is None:  # registered, waiting for its first scene
            out.print(f"  {entry['aoi_id']}: no chain yet: {entry['baseline_reason']}")
        if entry.get("vessels"):
            vessels = entry["vessels"]
            series = vessels.get("series", {})
            each = f" ({', '.join(f'{name} {n}' for name, n in series.items())})" if len(series) > 1 else ""
            out.print(f"  {entry['aoi_id']}: vessels counted on {counted(len(vessels['new_scenes']), 'new scene')}; "
                      f"series of {counted(vessels['n_dates'], 'date')}{each}")
    for line in retire.retired_lines(summary, report.run_id):
        out.print(f"  {esc(line)}")
    from geo.recheck.notify import verdict_was

    for verdict in summary["verdicts"]:
        if verdict["changed"]:
            by = " (vessel counts)" if verdict.get("kind") == "vessels" else (
                " (Sentinel-1)" if verdict.get("sensor") == Sensor.S1.value else "")
            out.print(f"  claim {esc(verdict['claim_id'])} on {esc(verdict['aoi_id'])}{by}: "
                      f"[bold]{esc(verdict['verdict'])}[/] ({esc(verdict_was(verdict['previous_verdict']))}) — {esc(verdict['rationale'])}", markup=True)
    _print_failures(summary)
    out.print("files: " + ", ".join(str(report.out / f) for f in summary["files"].values()))
    alone = report.out / Path(summary["files"]["changes"]).with_suffix(".qlr")
    if summary["n_new_changes"]:  # the run's changes.kml, beside its changes.geojson: as geo run says of its own
        from geo.outputs.kml import my_maps_note

        kml = report.out / Path(summary["files"]["changes"]).with_suffix(".kml")
        if note := my_maps_note(kml, summary["n_new_changes"]):
            out.print(f"[bold]Google Earth:[/] {esc(note)}", markup=True)
    out.print(f"QGIS: {report.out / (store.stem + '.qlr')} (the store's AOIs and changes, on the time slider: drag "
              f"and drop, or Layer > Add from Layer Definition File; this run's changes alone: {alone})")


def _print_failures(summary: dict[str, Any]) -> None:
    for failure in summary["failed_aois"]:
        console.stdout.print(f"  [red]failed[/] {console.esc(failure['aoi_id'])}: {console.esc(failure['error'])}",
                             markup=True)


def _seen_part(done: list[dict[str, Any]], sensor: str | None) -> str:
    """How much of the AOI the newest pair saw, in ``geo run``'s words, when part of it lies outside the scenes
    or its cloud was not judged (no SCL); else nothing: a clouded pair is already skipped or said so."""
    newest = done[-1] if done else {}
    if newest.get("clear_fraction") is None:
        return ""
    from geo.results import cloud_unjudged_on, left_out_share, seen_shares, seen_words

    kind = Sensor.named(sensor)
    outside = newest.get("outside_fraction") or 0.0
    unjudged = cloud_unjudged_on(newest.get("cloud_masked") or {}) if (kind or Sensor.S2).sees_cloud else None
    if not unjudged and not (outside and seen_shares(newest["clear_fraction"], outside)[1]):
        return ""
    # seen but not compared (snow on one date only): said apart, out of the cloud's share, as geo run says it
    left_out = left_out_share(newest)
    clear, outside_pct, rest = seen_shares(newest["clear_fraction"], outside, left_out)
    left = 100 - clear - outside_pct - rest  # (the share not compared, as seen_shares took it out of the rest)
    why = (newest.get("not_compared") or {}).get("why")
    apart = f"; {left}% not compared{f' ({why})' if why else ''}" if left else ""
    newest_only = " (newest pair)" if len(done) > 1 else ""
    return "; " + seen_words(newest["clear_fraction"], outside, kind, unjudged, left_out) + apart + newest_only


def _runs(run_ids: list[int]) -> str:
    """``run 2``, ``runs 2, 3``."""
    return f"run{'s' if len(run_ids) > 1 else ''} {', '.join(map(str, run_ids))}"


def _webhook(_ctx: click.Context, _param: click.Parameter, url: str | None) -> str | None:
    from geo.recheck.notify import shown, url_problem

    problem = url_problem(url) if url is not None else None
    if url is not None and problem:
        raise click.BadParameter(f"{shown(url)}: {problem}", param_hint="--notify")
    return url


@click.command("recheck")
@click.option("--store", type=click.Path(path_type=Path), default=lambda: os.environ.get("GEO_STORE", DEFAULT_STORE),
              show_default=f"$GEO_STORE or {DEFAULT_STORE}", help="The results store (a GeoPackage; created if missing).")
@click.option("--aoi", "aoi_refs", multiple=True, callback=not_empty,
              help="AOI id or polygon file (GeoJSON, GeoPackage...) to re-check (repeatable) [default: every AOI "
              "already in the store].")
@click.option("--all-aois", is_flag=True,
              help="Re-check every AOI of the aoi/ folder and of the store: an AOI added to aoi/ later is taken up "
                   "by the next run (a cron line's), its baseline as with --aoi (--since, else its claims' window).")
@click.option("--since", default=None, callback=not_empty, help="Date YYYY-MM-DD: baseline of AOIs new to the store (default: start of "
              "their earliest claim window); scenes acquired before it are ignored.")
@click.option("--source", default=None, callback=scene_source,
              help="'earth-search', 'planetary-computer', 'cdse' (the Copernicus Data Space: S3 keys to read), a "
                   "STAC API URL, a local STAC catalog, or 'demo' (the demo scenes that come with geo) "
                   "[default: the store's source, kept from its first run; for a new store earth-search].")
@collection_option(" for Sentinel-2; kept with the store's source: later runs search it without the option")
@click.option("--switch-source", is_flag=True,
              help="Take a --source or --collection other than the store's (refused without it) and keep them for "
                   "later runs.")
@click.option("--out", type=NonEmptyPath(path_type=Path, file_okay=False), default=None,
              help="Folder for per-run files [default: <store name>-outputs beside the store].")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Process AOIs in parallel on a local Dask cluster of N worker processes (1 = in this process).")
@scheduler_option("Address of an existing Dask scheduler (tcp://host:8786) to use instead.")
@click.option("--wait", "wait_s", type=FiniteFloatRange(min=0), default=0.0, show_default=True,
              help="Seconds to wait for another re-check writing the same store before giving up (exit 3).")
@click.option("--blocked-alert", "blocked_alert_h", type=FiniteFloatRange(min=0), default=blocked.DEFAULT_ALERT_H,
              show_default=True, metavar="HOURS",
              help="A run refused the store (exit 3) when every run has been refused for this long (a QGIS edit "
                   "left open, a hung re-check) exits 6 instead, naming what holds it; the next run that gets the "
                   "store ends the count.")
@click.option("--on-new", default=None, metavar="CMD", callback=not_empty,
              help="Shell command run when a run finds new changes, a verdict changes or an AOI or claim is retired "
                   "(or back): the summary JSON on stdin, "
                   "its path in $GEO_RECHECK_SUMMARY, what it found in a few lines in $GEO_RECHECK_TEXT.")
@click.option("--on-new-timeout", "on_new_timeout_s", type=FiniteFloatRange(min=0, min_open=True), default=600.0,
              show_default=True, help="Seconds the --on-new command may take; then it is stopped, with every process "
                                      "it started (and retried next run).")
@click.option("--max-pairs", type=click.IntRange(min=1), default=None,
              help="At most N new scenes per AOI per run; the rest wait for the next run.")
@click.option("--sensor", type=choice(["auto", "both", "s2"]), default="auto",
              show_default=True,
              help="Sentinel-1 chains beside the Sentinel-2 ones: auto = for AOIs whose Sentinel-2 pair was "
                   "clouded (from then on), both = for every AOI, s2 = none (only when the source has Sentinel-1).")
@click.option("--notify", default=None, metavar="URL", callback=_webhook,
              help="Webhook POSTed a JSON summary (new changes with centroids and types, changed verdicts, files; "
                   "Slack-compatible 'text') when a run finds something; retried with backoff, a failure only warns.")
@click.option("--notify-retries", type=click.IntRange(min=0), default=4, show_default=True,
              help="Retries of --notify after connection errors and 429/5xx answers (the first at once, then after "
                   "1, 2, 4 s..., or the answer's Retry-After).")
@click.option("--export-stac", type=click.Path(path_type=Path, file_okay=False), default=None, metavar="DIR",
              help="After the re-check, write the store as a STAC Collection (one item per processed pair) into DIR.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's summary JSON instead of text.")
@aoi_dir_option
@seeds_dir_option
def recheck_command(store: Path, aoi_refs: tuple[str, ...], all_aois: bool, since: str | None, source: str | None,
                    collections: tuple[str, ...], switch_source: bool, out: Path | None,
                    workers: int, scheduler: str | None, wait_s: float, blocked_alert_h: float, on_new: str | None,
                    on_new_timeout_s: float,
                    max_pairs: int | None,
                    sensor: str, notify: str | None, notify_retries: int, export_stac: Path | None, as_json: bool,
                    aoi_dir: Path | None, seeds_dir: Path | None) -> None:
    """Re-check AOIs: process only scenes newer than the last processed one, append the results to a store.

    Idempotent: a pair (AOI, before scene, after scene, algorithm version) is processed once; with no new
    scenes nothing is read or written. Exit codes: 0 ok, 1 user error, 2 internal error, 3 store locked
    by another re-check, 4 some AOIs failed (retried next run), 5 the --on-new command failed, 6 the store
    locked for every run for longer than --blocked-alert.
    """
    one_cluster(scheduler)
    if all_aois and aoi_refs:
        raise click.UsageError(f"--all-aois and --aoi {aoi_refs[0]}: give one (--all-aois re-checks every AOI of "
                               "aoi/ and of the store, --aoi the AOIs named)")
    from geo.recheck.request import RecheckRequest
    from geo.recheck.run import recheck

    since_date: date | None = None
    if since:
        from geo.dates import parse_date

        since_date = parse_date(since, "--since")
    request = RecheckRequest(store=store, out=out, aoi_refs=aoi_refs, all_aois=all_aois, since=since_date, source=source,
                             switch_source=switch_source, collections=collections,
                             workers=workers, scheduler=scheduler, wait_s=wait_s, on_new=on_new,
                             on_new_timeout_s=on_new_timeout_s, max_pairs=max_pairs,
                             aoi_dir=aoi_dir, seeds_dir=seeds_dir, sensor=sensor, notify=notify,
                             notify_retries=notify_retries)
    if export_stac is not None:
        from geo.recheck.stac_export import check_export_dir

        check_export_dir(export_stac)  # before any work: nothing created when it is refused
    try:
        # A spinner only for a person watching: cron and systemd write stderr to a log (and the spinner's
        # thread costs a no-op run a tenth of its time).
        spinner = console.progress("re-check") if console.stderr.is_terminal else nullcontext(None)
        with spinner as step:
            report = recheck(request, step)
    except StoreLockedError as exc:
        episode = blocked.note_refused(store, exc)
        if blocked.overdue(episode, blocked_alert_h):
            alert = blocked.alert_line(store, episode, blocked_alert_h)
            console.stderr.print(f"[bold red]Blocked:[/] {console.esc(alert)}", markup=True)
            raise click.exceptions.Exit(EXIT_BLOCKED) from None
        refused = f"{exc}{blocked.refused_words(episode, blocked_alert_h)}"
        console.stderr.print(f"[bold red]Locked:[/] {console.esc(refused)}", markup=True)
        raise click.exceptions.Exit(EXIT_LOCKED) from None
    console.warn_skipped(report.skipped_aois, "`geo aoi list`")
    console.warn_skipped(report.skipped_claims, "`geo claims list`")
    if report.since_before_chains and since_date is not None:  # given before where chains start: taken silently
        from geo.recheck.since_note import since_line

        logging.getLogger("geo.cli").warning("%s", since_line(since_date, report.since_before_chains))
    if as_json:
        console.echo(json.dumps(report.summary, indent=2))
    else:
        print_report(report, store)
    if export_stac is not None:
        from geo.recheck.stac_export import export_collection

        collection, n_items = export_collection(store, export_stac)
        console.stderr.print(f"STAC collection of {counted(n_items, 'item')}: {console.esc(collection)}")
    if report.late_hooks:
        console.stderr.print(f"--on-new: ran the command for earlier {_runs(report.late_hooks)} (late: it had failed)")
    if report.late_alerts:
        alerts = "alerts" if len(report.late_alerts) > 1 else "alert"
        console.stderr.print(f"--notify: delivered the {alerts} of earlier {_runs(report.late_alerts)} (late)")
    if report.alert_failed:
        console.stderr.print("--notify: an alert was not delivered; it is sent again at the next re-check with --notify")
    if report.failed_aois:
        raise click.exceptions.Exit(EXIT_AOIS_FAILED)
    if report.hook_failed_runs:
        console.stderr.print(f"--on-new command failed for {_runs(report.hook_failed_runs)}; retried next run")
        raise click.exceptions.Exit(EXIT_HOOK_FAILED)
