"""The sensor kits by sensor: the one place a new sensor is registered."""

from __future__ import annotations

from collections.abc import Callable

from geo.change.tiling import BlockRunner, run_serial
from geo.jobs.kit import SensorKit
from geo.scenes.model import Sensor

# Each kit's module is imported when a job of its sensor starts: the SAR kit's statistics (scipy.stats,
# scipy.optimize: ~0.5 s) are no part of an optical job, nor the optical kit's of a SAR job.


def _optical(runner: BlockRunner) -> SensorKit:
    from geo.jobs.optical_kit import OpticalKit

    return OpticalKit(runner=runner)


def _sar(runner: BlockRunner) -> SensorKit:
    from geo.jobs.sar_kit import SarKit

    return SarKit()  # its statistic is computed whole: no blocks to run


KITS: dict[Sensor, Callable[[BlockRunner], SensorKit]] = {Sensor.S2: _optical, Sensor.S1: _sar}


def kit_for(sensor: Sensor, runner: BlockRunner = run_serial) -> SensorKit:
    """The change kit of ``sensor`` with its default parameters; the optical kit computes the blocks of a
    large grid with ``runner`` (``geo.jobs.dask_cluster.block_runner``)."""
    return KITS[sensor](runner)
