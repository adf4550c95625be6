"""The terminal's words for how much of the AOI a pair saw (``geo.results.seen_words``)."""

from __future__ import annotations

from geo.results import cloud_unjudged_on, seen_words
from geo.scenes.model import Sensor


def test_an_area_whose_cloud_was_not_judged_is_seen_not_clear():
    # L1C scenes, or L2A items without SCL: nodata is masked, cloud is not; "clear" overstated what was looked at
    assert cloud_unjudged_on({"before": False, "after": False}) == "both scenes"
    assert cloud_unjudged_on({"before": True, "after": False}) == "the after scene"
    assert cloud_unjudged_on({"before": True, "after": True}) is None
    assert seen_words(0.85, 0.13, Sensor.S2, "both scenes") == (
        "85% of the AOI seen; 13% outside the scenes; 2% gaps inside them; cloud not judged: no scene "
        "classification (SCL) on both scenes")
    assert seen_words(1.0, 0.0, Sensor.S2, "the before scene") == (
        "100% of the AOI seen; cloud not judged: no scene classification (SCL) on the before scene")
    assert seen_words(1.0, 0.0, Sensor.S2) == "clear fraction of AOI 100%"
    assert seen_words(0.68, 0.32, Sensor.S2) == "68% of the AOI seen clear; 32% outside the scenes"
    assert seen_words(0.69, 0.31, Sensor.S1, "both scenes") == "69% of the AOI seen; 31% outside the scenes"


def test_gaps_with_no_part_outside_the_scenes_are_said_inside_the_scenes():
    # an L1C date all no data over the area said "0% of the AOI seen; 100% gaps inside them": them, unnamed
    assert seen_words(0.0, 0.0, Sensor.S2, "both scenes") == (
        "0% of the AOI seen; 100% gaps inside the scenes; cloud not judged: no scene classification (SCL) on "
        "both scenes")


def test_a_radar_pairs_gaps_are_not_said_to_be_cloud():
    # radar sees through cloud: the part of the area not seen inside the scenes is gaps (no data, the swath's edge)
    assert seen_words(0.60, 0.30, Sensor.S1) == "60% of the AOI seen; 30% outside the scenes; 10% gaps inside them"
    assert seen_words(0.60, 0.30, Sensor.S2) == (
        "60% of the AOI seen clear; 30% outside the scenes; 10% cloud or gaps inside them")
