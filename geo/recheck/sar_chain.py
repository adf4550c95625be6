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
from typing import TYPE_CHECKING

from geo.scenes.model import Sensor
from geo.scenes.source import ARCHIVES, LocalCatalog, SceneSource, open_source

if TYPE_CHECKING:  # the processing path: imported when a chain has a pair to process
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
    opened = open_source(source, Sensor.S1)
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
