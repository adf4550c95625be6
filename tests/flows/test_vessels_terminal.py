"""``geo vessels`` on a drawn area over the demo scenes, as a new user runs it: what the terminal says."""

from __future__ import annotations

import json

from tests.flows.conftest import DEMO_CATALOG, drawn_aoi


def test_the_summary_names_each_sensors_land_mask_in_words(user):
    aoi = drawn_aoi(user.home / "harbour.geojson")
    result = user("vessels", "--aoi", str(aoi), "--from", "2015-01-01", "--to", "2018-01-01", "--source",
                  str(DEMO_CATALOG), "--out", "ships")
    assert result.returncode == 0, result.output
    masks = json.loads((user.home / "ships" / "vessels-manifest.json").read_text())["land_mask"]
    assert masks == {"s2": "water-index-single-scene"}
    assert "AOI harbour: 2 scenes, land mask s2 water-index-single-scene\n" in result.stdout
    assert "<Sensor" not in result.output and "{" not in result.stdout  # no Python repr
