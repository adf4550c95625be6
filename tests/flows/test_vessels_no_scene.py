"""``geo vessels`` over a period the user's local catalog has no scene in: it said only "no s1/s2 scene over AOI
'harbour' between ... in .../catalog.json", where ``geo run`` and ``geo scenes search`` say what the catalog
holds (its dates over the AOI; or that it holds no Sentinel-1 scene), so the user does not go guessing dates."""

from __future__ import annotations

import pytest

from tests.flows.conftest import DEMO_CATALOG, drawn_aoi


@pytest.mark.parametrize("sensor, said", [
    ((), "; the catalog holds no Sentinel-1 scene (it holds 2 Sentinel-2 scene(s)); the catalog's 2 date(s) over "
         "the AOI: 2015-08-21, 2017-10-14"),
    (("--sensor", "s2"), "; the catalog's 2 date(s) over the AOI: 2015-08-21, 2017-10-14"),
    (("--sensor", "s1"), "; the catalog holds no Sentinel-1 scene (it holds 2 Sentinel-2 scene(s))"),
])
def test_a_period_without_scenes_says_what_the_catalog_holds(user, sensor, said):
    drawn_aoi(user.home / "harbour.geojson")
    result = user("vessels", "--aoi", "harbour.geojson", "--source", str(DEMO_CATALOG), "--from", "2019-01-01",
                  "--to", "2019-02-01", *sensor, "--out", "ships")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    sensors = "s1/s2" if not sensor else sensor[1]
    assert result.stderr.strip() == (f"Error: no {sensors} scene over AOI 'harbour' between 2019-01-01 and 2019-02-01 "
                                     f"in {DEMO_CATALOG}{said}")
    assert not (user.home / "ships").exists()
