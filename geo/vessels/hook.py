"""The vessel job inside ``geo run``: for the claims whose signatures include vessels, count ships on every
Sentinel-1/-2 date around their windows, merge that evidence into their verdicts (``geo.vessels.merged_verdicts``)
and hand back the writer of the vessel files, so they land in the run folder with everything else."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from geo.claim_verdict import ClaimVerdict
from geo.claims import Claim
from geo.errors import NoScenesError
from geo.link import NOT_TESTED
from geo.results import JobResult
from geo.scenes.model import Sensor
from geo.vessels.evidence import evidence_for_claims
from geo.jobs.steps import Progress
from geo.vessels.job import VesselRun, vessel_job
from geo.vessels.run_files import vessel_data, write_vessel_outputs
from geo.vessels.period import default_period, default_sensors, vessel_claims
from geo.vessels.merged_verdicts import merge_vessel_evidence
from geo.vessels.model import VESSELS_VERSION

log = logging.getLogger(__name__)

Writer = Callable[[JobResult, Path], None]


def _summary(run: VesselRun) -> dict[str, object]:
    """What the run's manifest says of the vessel job (the details are in vessels-manifest.json)."""
    m = run.manifest
    return {
        "algorithm_version": VESSELS_VERSION, "source": m.get("source"), "sensors": m.get("sensors"),
        "period": m.get("period"), "n_scenes": len(run.results), "n_dates": len(run.rows),
        "n_detections": sum(r["n_vessels"] for r in run.rows), "land_mask": m["land_mask"],
        "claims": m["claims"], "seconds": m["seconds"], "details": "vessels-manifest.json",
        "verdict_rule": "geo.vessels.merged_verdicts (README: Vessel evidence in geo run)",
    }


def _merged(result: JobResult, evidence: Sequence[Mapping[str, Any]], claims: Sequence[Claim]) -> list[ClaimVerdict]:
    """``result``'s claim verdicts with the vessel evidence merged in (new values). The merge works on
    claims.json entries, as it also merges verdicts a re-check store holds (``geo.recheck.vessels``)."""
    entries = [c.to_dict() for c in result.claims]
    return [ClaimVerdict.from_dict(e) for e in merge_vessel_evidence(entries, evidence, claims, result.features)]


def add_vessel_evidence(result: JobResult, claims: Sequence[Claim], source: str,
                        progress: Progress | None = None, named: Mapping[Sensor, Sequence[str]] | None = None,
                        ) -> tuple[JobResult, Writer | None]:
    """Run the vessel job for ``result``'s AOI when a claim predicts vessels. Returns ``result`` with the
    vessel evidence merged into its claims and noted in its manifest (a new value; ``result`` is left as it
    is), and the writer of the vessel files (a job writer for ``geo.outputs.writers.write_run``) or None
    when there is nothing to write. ``named``: the collections the job searched for its sensor
    (``--collection``), searched for that sensor's vessel scenes too."""
    aoi = result.aoi
    if aoi is None or not vessel_claims(claims, aoi):
        return result, None
    try:
        run = vessel_job(aoi, claims, source, progress=progress, named=named)
    except NoScenesError as exc:
        # No scene to count ships on: the change verdicts stand, and every vessel claim says why.
        relevant = vessel_claims(claims, aoi)
        start, end = default_period(relevant)
        evidence = [{**e, "rationale": str(exc)} if e["verdict"] == NOT_TESTED else e
                    for e in evidence_for_claims(relevant, aoi, [])]
        log.warning("vessel counts not made: %s", exc)
        summary = {"algorithm_version": VESSELS_VERSION, "source": source, "sensors": list(default_sensors(source)),
                   "period": [start.isoformat(), end.isoformat()], "n_scenes": 0}
        manifest = replace(result.manifest.with_warnings(f"vessel counts not made: {exc}"), vessels=summary)
        return replace(result, claims=_merged(result, evidence, claims), manifest=manifest), None
    if run is None:  # no claim predicts vessels (checked above)
        return result, None
    merged = replace(result, claims=_merged(result, run.evidence, claims),
                     manifest=replace(result.manifest, vessels=_summary(run)), vessels=vessel_data(run))

    def write(_result: JobResult, stage: Path) -> None:
        write_vessel_outputs(run, stage)

    return merged, write
