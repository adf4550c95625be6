"""The kit registry: one change kit per sensor, each saying which sensor it is and where its grid lies."""

from __future__ import annotations

from geo.aoi import load_aoi
from geo.grid import Grid
from geo.jobs.kits import KITS, kit_for
from geo.jobs.optical_kit import OpticalKit
from geo.jobs.sar_kit import SAR_VERSION, SarKit
from geo.scenes.model import Sensor
from tests.conftest import REPO


def test_every_sensor_has_its_kit():
    assert set(KITS) == set(Sensor)
    for sensor in Sensor:
        assert kit_for(sensor).sensor is sensor
    assert isinstance(kit_for(Sensor.S2), OpticalKit) and isinstance(kit_for(Sensor("s1")), SarKit)
    assert kit_for(Sensor.S1).algorithm_version == SAR_VERSION
    assert kit_for(Sensor.S2).algorithm_version.startswith("local-fusion/")


def test_each_kit_reads_its_own_margin_around_the_aoi():
    aoi = load_aoi(REPO / "aoi" / "vladivostok-port.geojson")
    optical, sar = Grid.from_aoi(aoi, 10.0, kit_for(Sensor.S2).margin_m), Grid.from_aoi(aoi, 10.0, kit_for(Sensor.S1).margin_m)
    assert optical.crs == sar.crs and optical.crs.to_epsg() == 32652
    # 300 m (co-registration context) against 100 m (speckle filter): 20 pixels more on each side
    assert optical.height - sar.height == 40 and optical.width - sar.width == 40
    assert optical.transform.c == sar.transform.c - 200 and optical.transform.f == sar.transform.f + 200
