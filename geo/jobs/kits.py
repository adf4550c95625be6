"""The sensor kits by sensor: the one place a new sensor is registered."""

from __future__ import annotations

from collections.abc import Callable

from geo.change.tiling import BlockRunner, run_serial
from geo.jobs.kit import SensorKit
from geo.jobs.optical_kit import OpticalKit
from geo.jobs.sar_kit import SarKit
from geo.scenes.model import Sensor

KITS: dict[Sensor, Callable[[], SensorKit]] = {Sensor.S2: OpticalKit, Sensor.S1: SarKit}


def kit_for(sensor: Sensor, runner: BlockRunner = run_serial) -> SensorKit:
    """The change kit of ``sensor`` with its default parameters; the optical kit computes the blocks of a
    large grid with ``runner`` (``geo.jobs.dask_cluster.block_runner``)."""
    if sensor is Sensor.S2:
        return OpticalKit(runner=runner)
    return KITS[sensor]()
