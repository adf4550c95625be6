"""The sensor kits by sensor: the one place a new sensor is registered."""

from __future__ import annotations

from collections.abc import Callable

from geo.jobs.kit import SensorKit
from geo.jobs.optical_kit import OpticalKit
from geo.jobs.sar_kit import SarKit
from geo.scenes.model import Sensor

KITS: dict[Sensor, Callable[[], SensorKit]] = {Sensor.S2: OpticalKit, Sensor.S1: SarKit}


def kit_for(sensor: Sensor) -> SensorKit:
    """The change kit of ``sensor`` with its default parameters."""
    return KITS[sensor]()
