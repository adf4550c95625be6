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


def test_a_job_imports_only_its_own_sensors_kit():
    """The SAR kit's statistics (scipy.stats, ~0.5 s to import) are no part of an optical job, and the other
    way round: each kit is imported when a job of its sensor starts."""
    import subprocess
    import sys

    probe = ("import sys; import geo.cli.change_job; from geo.jobs.kits import kit_for; from geo.scenes.model import Sensor; "
             "kit = kit_for(Sensor(sys.argv[1])); "
             "print(type(kit).__name__, *(m in sys.modules for m in ('geo.jobs.sar_kit', 'geo.jobs.optical_kit', "
             "'scipy.stats')))")
    runs = {sensor: subprocess.run([sys.executable, "-c", probe, sensor], capture_output=True, text=True, check=True,
                                   cwd=REPO).stdout.split() for sensor in ("s2", "s1")}
    assert runs["s2"] == ["OpticalKit", "False", "True", "False"]
    assert runs["s1"][:3] == ["SarKit", "True", "False"]
