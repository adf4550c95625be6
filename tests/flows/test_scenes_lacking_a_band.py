"""``geo run`` on scenes without a band the change step reads: the sen2ships port exports (real Sentinel-2 L2A, five
bands B02 B03 B04 B08 B11, no B12) catalogued with pystac as an analyst does. The run stopped with ``scene
algiers-20230817: no asset 'swir22' (has B02, B03, ...)``, also for a claim only about ships, saying neither what
the band is for nor that ``geo vessels`` counts the ships on these very scenes."""

from __future__ import annotations

import json

import pytest

from tests.flows.conftest import drawn_aoi, registry_aoi
from tests.flows.test_vessels_real_port import WHOLE_PORT, port_catalog
from tests.vessels import sen2ships

pytestmark = pytest.mark.skipif(not sen2ships.available(), reason="no sen2ships ports in ../shared/data")

DATES = ("--before", "2023-08-17", "--after", "2023-08-22")
SHIP_CLAIM = """
[document]
title = "Port watch"
url = ""

[[claim]]
id = "algiers-embark"
claimant = "A ministry"
statement = "Transport ships gathered at the port of Algiers."
date_stated = 2023-08-25
stance = "assert"
aoi_ids = ["algiers-port"]
window = { start = 2023-08-18, end = 2023-08-22 }
signatures = ["large_vessels_at_berth"]
"""


def refused(user, *args: str) -> str:
    result = user("run", *args, "--source", "ports", *DATES, "--out", "run")
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output
    assert not (user.home / "run").exists()
    line, = result.stderr.strip().splitlines()
    return line


def test_a_missing_band_says_what_the_change_step_reads_it_for_and_what_works_without_it(user):
    port_catalog(user.home / "ports")
    line = refused(user, "--aoi", str(drawn_aoi(user.home / "algiers.geojson", [WHOLE_PORT])))
    assert line.startswith("Error: scene algiers-20230817: no asset 'swir22' (Sentinel-2 B12, SWIR 2.2 µm; has B02, "
                           "B03, B04, B08, B11"), line
    assert "the change step reads it" in line and "shadow" in line, line
    assert "geo vessels" in line and "blue, green, red, nir, swir16" in line, line


def test_a_ship_claim_on_such_scenes_is_pointed_to_geo_vessels_with_the_claim(user):
    port_catalog(user.home / "ports")
    (user.home / "aoi").mkdir()
    registry_aoi(user.home / "aoi" / "algiers-port.geojson", "algiers-port", "Port of Algiers", WHOLE_PORT)
    (user.home / "seeds").mkdir()
    (user.home / "seeds" / "algiers.toml").write_text(SHIP_CLAIM)
    line = refused(user, "--aoi", "algiers-port", "--aoi-dir", "aoi", "--seeds-dir", "seeds")
    assert "no asset 'swir22'" in line and "the change step reads it" in line, line
    assert "geo vessels --claim algiers-embark" in line, line


def test_scenes_lacking_a_band_geo_vessels_reads_too_are_not_pointed_to_it(user):
    """Without B11 (swir16) neither job can read them: no pointer to ``geo vessels``."""
    catalog = port_catalog(user.home / "ports")
    for item_file in catalog.parent.glob("*/*.json"):
        item = json.loads(item_file.read_text())
        item["assets"].pop("B11")
        item_file.write_text(json.dumps(item))
    line = refused(user, "--aoi", str(drawn_aoi(user.home / "algiers.geojson", [WHOLE_PORT])))
    assert "no asset 'swir16'" in line and "the change step reads swir16 for the water index" in line, line
    assert "geo vessels" not in line, line
