"""The sensor kits by sensor: the one place a new sensor is registered."""

from __future__ import annotations

from collections.abc import Callable

from geo.jobs.kit import SensorKit
from geo.jobs.optical_kit import OpticalKit
from geo.jobs.sar_kit import SarKit

KITS: dict[str, Callable[[], SensorKit]] = {"s2": OpticalKit, "s1": SarKit}


def kit_for(sensor: str) -> SensorKit:
    """The change kit of ``sensor`` with its default parameters."""
    return KITS[sensor]()
