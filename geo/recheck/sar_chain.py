"""The Sentinel-1 chains of a re-check: for the AOIs that cloud hides from Sentinel-2 (a port clouded all
winter would otherwise never be re-checked).

Policy, chosen by ``geo recheck --sensor``:

- ``auto`` (the default): every AOI keeps its Sentinel-2 chain. An AOI gets a Sentinel-1 chain beside it in
  the run where one of its Sentinel-2 pairs is skipped as clouded, when the source has Sentinel-1; from then
  on that chain runs on every re-check. Not always from the start: a clear Sentinel-2 pair is the better
  evidence (ten bands, typed changes, no speckle) and a SAR pair costs reads. Not only on clouded runs once
  started: a chain with gaps would pair scenes months apart, and a port clouded one winter is clouded the next.
- ``both``: a Sentinel-1 chain for every AOI from its first re-check, when the source has Sentinel-1.
- ``s2``: the Sentinel-2 chain only.

The chains are keyed in the store by algorithm version like any other (``sar-logratio/0.1``), so each has its
own head, pairs, changes and window verdicts; the run's summary names the sensor of each. A Sentinel-1 chain
pairs only scenes on its head's orbit geometry (relative orbit and pass direction, ``geo.scenes.sar_pairs``):
scenes of other geometries are recorded as seen, never paired.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from geo.change.detectors import SAR_VERSION
from geo.recheck.plan import AoiPlan
from geo.scenes.model import Sensor
from geo.scenes.source import ARCHIVES, LocalCatalog, SceneSource, open_source
from geo.store import Store

if TYPE_CHECKING:  # the processing path and the geometry: imported when there is something to process
    from geo.aoi import AOI
    from geo.jobs.kit import SensorKit
    from geo.recheck.process import AoiOutcome
    from geo.scenes.model import Scene

log = logging.getLogger(__name__)

SENSOR_MODES = ("auto", "both", "s2")


def sentinel1_source(source: str, mode: str) -> SceneSource | None:
    """The source searched for Sentinel-1, or None when the policy or the source has none: ``--sensor s2``, an
    archive without a Sentinel-1 collection (Earth Search), a local catalog holding no Sentinel-1 item. Any
    other STAC API is searched in ``sentinel-1-rtc``."""
    if mode == "s2" or (source in ARCHIVES and Sensor.S1 not in ARCHIVES[source].collections):
        return None
    # an API without Sentinel-1 has no scene of it: no chain, no failed AOI
    opened = open_source(source, Sensor.S1, collections_required=False)
    if isinstance(opened, LocalCatalog) and not opened.all():
        return None
    return opened


def same_geometry(head: Scene, scene: Scene) -> bool:
    """Whether ``scene`` may pair with the chain's ``head``: same relative orbit and pass direction."""
    from geo.scenes.sar_pairs import geometry  # pair selection imports the pixel readers

    key = geometry(head)
    return key is not None and geometry(scene) == key


def clouded(outcome: AoiOutcome | None) -> bool:
    """Whether a Sentinel-2 pair of the AOI was skipped in this run for want of clear pixels over it."""
    return outcome is not None and any(p.obscured for p in outcome.pairs)


Planner = Callable[[SceneSource, Sequence["AOI"]], list[AoiPlan]]  # the re-check's planner of Sentinel-1 chains
Runner = Callable[[Sequence[AoiPlan], "SensorKit"], list["AoiOutcome"]]


@dataclass(frozen=True)
class Sentinel1Chains:
    source: SceneSource
    plans: list[AoiPlan]  # of the chains that run whatever Sentinel-2 finds


def ongoing_chains(store: Store, mode: str, source: str, aois: Sequence[AOI],
                   plan: Planner) -> Sentinel1Chains | None:
    """The Sentinel-1 source and the plans of the chains that run whatever Sentinel-2 finds (the AOIs that
    have one; every AOI with ``--sensor both``); None without Sentinel-1."""
    opened = sentinel1_source(source, mode)
    if opened is None:
        return None
    ongoing = [a for a in aois if mode == "both" or store.chain(a.id, SAR_VERSION) is not None]
    return Sentinel1Chains(opened, plan(opened, ongoing))


def run_chains(s1: Sentinel1Chains, s2_plans: Sequence[AoiPlan], s2_outcomes: Mapping[str, AoiOutcome],
               plan: Planner, run: Runner) -> tuple[list[AoiPlan], dict[str, AoiOutcome], float]:
    """Start the chains of AOIs whose Sentinel-2 pair was clouded in this run, and run them all: (plans,
    outcomes by AOI, the kit's minimum clear fraction)."""
    from geo.jobs.sar_kit import SarKit

    planned = {p.aoi.id for p in s1.plans}
    starting = [p.aoi for p in s2_plans if p.aoi.id not in planned and clouded(s2_outcomes.get(p.aoi.id))]
    plans = list(s1.plans)
    if starting:
        log.info("Sentinel-2 clouded over %s: starting Sentinel-1 chain(s)", ", ".join(a.id for a in starting))
        plans += plan(s1.source, starting)
    kit = SarKit()
    return plans, {o.aoi_id: o for o in run(plans, kit)}, kit.min_clear_fraction
