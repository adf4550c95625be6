"""An analyst's own area drawn around a pole, as a lon/lat box from -180 to 180 (a map in EPSG:4326 draws a polar
cap so): read as a plane its outline encloses nothing, and the job said "area 0 m2 is below the minimum ...
lon/lat degrees read as metres? check the file's CRS", sending the user to a CRS that was right."""

from __future__ import annotations

import json

import pytest
from shapely.geometry import box, mapping

from tests.flows.conftest import DEMO_CATALOG


@pytest.mark.parametrize("area, pole", [((-180.0, 89.5, 180.0, 90.0), "North Pole"),
                                        ((-180.0, -90.0, 180.0, -88.0), "South Pole")])
def test_an_area_around_a_pole_is_refused_naming_the_pole(user, area, pole):
    (user.home / "cap.geojson").write_text(json.dumps({"type": "Feature", "properties": {},
                                                       "geometry": mapping(box(*area))}))
    for command in (("aoi", "show", "cap.geojson"),
                    ("run", "--aoi", "cap.geojson", "--source", str(DEMO_CATALOG), "--before", "2015-08-21",
                     "--after", "2017-10-14", "--out", "out")):
        result = user(*command)
        assert (result.returncode, result.stdout) == (1, ""), result.output
        assert result.stderr.strip().splitlines() == [
            f"Error: cap.geojson: the polygon goes around the {pole} (its outline runs all 360 degrees of "
            "longitude): an area around a pole is not taken, Sentinel-1 and -2 do not image the poles; draw the "
            "area itself, within 180 degrees of longitude"]
    assert not (user.home / "out").exists()
