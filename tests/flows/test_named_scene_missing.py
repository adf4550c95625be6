"""``geo run --before/--after ITEM_ID`` naming an item the catalog does not hold: the one-line error names the
option and the id (and, for a small local catalog, the ids it does hold); it named only the catalog, leaving the
user to guess which of the two scenes was wrong. Exit 1, nothing written."""

from __future__ import annotations

import pytest

from tests.flows.conftest import DEMO_CATALOG, drawn_aoi

HELD = "S2A_30TXT_20150821_L1C_nantes, S2_30TXT_20171014_L1C_nantes"


@pytest.mark.parametrize(("option", "dates"), [("--before", ("--after", "2017-10-14")),
                                               ("--after", ("--before", "2015-08-21"))])
def test_an_item_id_the_catalog_lacks_is_named_with_its_option(user, option, dates):
    drawn_aoi(user.home / "harbour.geojson")
    result = user("run", "--aoi", "harbour.geojson", "--source", str(DEMO_CATALOG.parent), option, "S2B_NOT_THERE",
                  *dates, "--out", "out")
    assert result.returncode == 1, result.output
    line, = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: {option} 'S2B_NOT_THERE': ")
    assert "no scene with id 'S2B_NOT_THERE'" in line and line.endswith(f"(it holds: {HELD})")
    assert "Traceback" not in result.output
    assert not (user.home / "out").exists()
