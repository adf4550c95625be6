"""The change job behind ``geo run`` and ``geo demo``: its inputs checked, the job run, its folder written and
summarised. Apart from the commands' modules, so that their ``--help`` imports none of the pipeline (numpy,
rasterio, geopandas...: a second); the commands import it (``geo.cli.start_up.job_imports``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from geo.aoi import AOI, check_same_place, load_aois, resolve_aoi
from geo.atomic import check_output_dir
from geo.claim_verdict import ClaimVerdict
from geo.aoi_files import names_a_file
from geo.claims import VESSEL_SIGNATURE, Claim
from geo.claim_files import read_claims
from geo.cli import console
from geo.errors import AOIError, ClaimError
from geo.link import claim_index
from geo.jobs.dask_cluster import block_runner
from geo.jobs.kits import kit_for
from geo.jobs.spine import run_job
from geo.output_kinds import CHANGE_RUN
from geo.outputs.bundle import folder_view
from geo.outputs.report import UNTESTED_BY_EITHER, decided_by
from geo.outputs.writers import Write, write_run
from geo.results import Manifest, cloud_unjudged_on, left_out_share, outside_scenes_share, seen_words
from geo.scenes.model import Sensor
from geo.scenes.source import open_source
from geo.vector.feature import ChangeFeature
from geo.words import counted, tallied


def load_job_inputs(
    aoi_ref: str, claim_ids: Sequence[str], aoi_dir: Path, seeds_dir: Path
) -> tuple[AOI, list[Claim]]:
    """The AOI (id or file) and the claims to test on it, cross-checked against each other. A broken claim
    or seeds file the job does not use is a warning; one it may use (one naming the AOI, or too broken to
    tell, when the claims naming a registry AOI are taken) is an error."""
    skipped: list[AOIError] = []  # the other files of aoi/ may be broken: warned of once the AOI is found
    aois = load_aois(aoi_dir, skipped)
    aoi = resolve_aoi(aoi_ref, aoi_dir, skipped, aois)
    console.warn_skipped(skipped, "`geo aoi list`")
    check_same_place(aoi, aois)
    read = read_claims(seeds_dir, set(aois) | {aoi.id}, bool(skipped))
    claims = read.wanted(claim_ids)
    if not claim_ids:  # every claim naming the AOI is taken: a broken one may be among them
        drawn = names_a_file(aoi_ref)  # claims name registry AOIs: a file too broken to read names no drawn one
        for problem in read.problems:
            if problem.concerns(aoi.id, registry=not drawn):
                raise problem.error
    console.warn_skipped((p.error for p in read.problems), "`geo claims list`")
    chosen = claim_index(claims, aoi, claim_ids)
    for claim in chosen:
        if aoi.id not in claim.aoi_ids:
            raise ClaimError(f"claim {claim.id!r} does not name AOI {aoi.id!r} (it names {', '.join(claim.aoi_ids)})")
    return aoi, chosen


def execute(
    aoi: AOI, claims: Sequence[Claim], source: str, before: str | None, after: str | None, out: Path,
    sensor: Sensor = Sensor.S2, workers: int | None = None, scheduler: str | None = None,
    collections: Sequence[str] = (),
) -> None:
    check_output_dir(out, kind=CHANGE_RUN)  # a re-run's folder, not another command's
    # s2: Sentinel-2 bands; s1: VV/VH backscatter; in the archive's collections for the sensor unless named
    scene_source = open_source(source, sensor, tuple(collections) or None)
    with console.progress(f"change job {aoi.id}") as step, block_runner(workers, scheduler) as runner:
        step("searching scenes")
        kit = kit_for(sensor, runner)  # s1: SAR change for clouded AOIs
        result = run_job(kit.select(scene_source, aoi, claims, before, after), kit, step)
        job_writers: list[Write] = []
        if any(VESSEL_SIGNATURE in c.signatures for c in claims):  # the demo's claim does not: nothing more to import
            from geo.vessels.hook import add_vessel_evidence

            named = {sensor: tuple(collections)} if collections else None  # the sensor's, for its ships too
            result, vessel_files = add_vessel_evidence(result, claims, source, step, named)
            if vessel_files is not None:
                job_writers.append(vessel_files)
        step("writing outputs")
        written = write_run(result, out, job_writers)
    shown = folder_view(result)  # what the folder records: with the warnings of files not written
    print_summary(shown.manifest, shown.claims, shown.features, written)


def _seen_text(manifest: Manifest) -> str:
    return seen_words(manifest.clear_fraction, outside_scenes_share(manifest.scenes), Sensor.named(manifest.sensor),
                      cloud_unjudged_on(manifest.cloud_masked), left_out_share(manifest.sections))


def print_summary(manifest: Manifest, claims: Sequence[ClaimVerdict], features: Sequence[ChangeFeature],
                  written: list[Path]) -> None:
    scenes = manifest.scenes
    out = console.stdout
    esc = console.esc
    out.print(f"[bold]AOI[/] {esc(manifest.aoi['id'])}: {esc(scenes['before']['id'])} "
              f"({scenes['before']['datetime'][:10]}) -> {esc(scenes['after']['id'])} "
              f"({scenes['after']['datetime'][:10]})", markup=True)
    shift = manifest.coregistration
    if shift:
        out.print(f"co-registration: dx={shift['dx_px']:+.3f} px, dy={shift['dy_px']:+.3f} px (quality {shift['quality']:.2f})")
    console.print_warnings([*scenes["selection"].get("warnings", []), *manifest.warnings])
    types = Counter(f.change_type for f in features)
    area = sum(f.area_m2 for f in features) / 1e6
    kinds = ", ".join(f"{n} {t}" for t, n in types.most_common()) or "none"
    out.print(f"[bold]{len(features)} change polygon{'' if len(features) == 1 else 's'}[/] ({area:.3f} km2; {kinds}); "
              f"{_seen_text(manifest)}", markup=True)
    vessels = manifest.vessels
    if vessels:
        start, end = vessels["period"]
        found = f", {vessels['n_detections']} vessel detections (timeseries.svg)" if vessels["n_scenes"] else ""
        # the sensors searched, not those counted: "12 s1/s2 scene(s)" read as both when only one had scenes
        out.print(f"vessel counts: {counted(vessels['n_scenes'], 'scene')} from {start} to {end} "
                  f"({'/'.join(vessels['sensors'])} searched){found}")
    if len(claims) > 1:  # the verdicts at a glance: an AOI named by dozens of claims prints as many long lines
        out.print(f"{len(claims)} claims: {esc(tallied(claim.verdict for claim in claims))}")
    for claim in claims:
        source = ""
        if claim.verdict_source:  # the vessel job merged its counts in: which line of evidence decided, if any
            decider = decided_by(claim.verdict_source)
            source = " " + esc(f"[by {decider}]" if decider else f"[{UNTESTED_BY_EITHER}]")
        out.print(f"  claim {esc(claim.claim_id)}: [bold]{esc(claim.verdict)}[/]{source} — "
                  f"{esc(claim.rationale)}", markup=True)
    if not claims:
        out.print("  no claims touch this AOI")
    out.print("files: " + ", ".join(str(p) for p in written))
    names = {p.name: p for p in written}
    if "report.html" in names:
        out.print(f"[bold]evidence report:[/] {esc(names['report.html'])} (open in a browser)", markup=True)
    if "project.qgz" in names:
        out.print(f"[bold]QGIS:[/] {esc(names['project.qgz'])} (styled, time-aware layers; or open changes.gpkg)",
                  markup=True)
    if "changes.kml" in names:
        from geo.outputs.kml import my_maps_note  # shapely: loaded by the job already, not at start-up

        if note := my_maps_note(names["changes.kml"], len(features)):
            out.print(f"[bold]Google Earth:[/] {esc(note)}", markup=True)
