"""An analyst's own area searched over a period that holds no scene because of its dates, as ``geo run`` already
said: a period in the future (a typo in the year), before the missions, or away from a local catalog's dates.
``geo scenes search`` said a future period's area was "open sea far from land, or beyond the mission's latitudes
... with lon and lat swapped it would be at ...", and ``geo vessels`` said nothing of why."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.flows.conftest import DEMO_CATALOG, drawn_aoi

FUTURE = ("2031-01-01", "2031-06-30")


def test_a_search_of_a_future_period_says_it_is_in_the_future_not_that_the_place_is_unseen(user, flow_archive):
    drawn_aoi(user.home / "harbour.geojson")
    result = user("scenes", "search", "--aoi", "harbour.geojson", "--source", flow_archive.url, "--from", FUTURE[0],
                  "--to", FUTURE[1], columns=400)
    assert result.returncode == 0, result.output
    assert "none between 2031-01-01 and 2031-06-30; 2031-01-01 is in the future (today is " in result.stdout
    assert "open sea" not in result.stdout and "swapped" not in result.stdout


@pytest.mark.parametrize("period, says", [
    (FUTURE, "; 2031-01-01 is in the future (today is "),
    (("2012-01-01", "2012-12-31"), "; Sentinel-1's first satellite was launched on 2014-04-03: no scene of it is older; "
     "Sentinel-2's first satellite was launched on 2015-06-23: no scene of it is older"),
])
def test_a_vessel_count_over_a_period_of_no_scene_says_why(user, flow_archive, period, says):
    drawn_aoi(user.home / "harbour.geojson")
    result = user("vessels", "--aoi", "harbour.geojson", "--source", flow_archive.url, "--from", period[0], "--to",
                  period[1], "--out", "out")
    assert (result.returncode, result.stdout) == (1, ""), result.output
    line, = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: no s1/s2 scene over AOI 'harbour' between {period[0]} and {period[1]} in "
                           f"{flow_archive.url}{says}"), line
    assert not (user.home / "out").exists()


def test_a_vessel_count_on_a_catalog_names_its_dates_over_the_area(user):
    drawn_aoi(user.home / "harbour.geojson")
    result = user("vessels", "--aoi", "harbour.geojson", "--source", str(DEMO_CATALOG), "--from", FUTURE[0], "--to",
                  FUTURE[1], "--out", "out")
    assert (result.returncode, result.stdout) == (1, ""), result.output
    assert result.stderr.strip().splitlines() == [
        f"Error: no s1/s2 scene over AOI 'harbour' between 2031-01-01 and 2031-06-30 in {DEMO_CATALOG}; 2031-01-01 "
        f"is in the future (today is {datetime.now(timezone.utc).date()}); the catalog's 2 dates over the AOI: 2015-08-21, 2017-10-14"]
    assert not (user.home / "out").exists()


@pytest.mark.parametrize("before, after, says", [
    ("2015-08-21", "2031-01-01", "on or after 2031-01-01 within 365 days in {src}; 2031-01-01 is in the future (today "
     "is {today}); "),
    ("2014-01-01", "2017-10-14", "on or before 2014-01-01 within 365 days in {src}; Sentinel-2's first satellite was "
     "launched on 2015-06-23: no scene of it is older; "),
])
def test_a_run_on_the_demo_catalog_with_a_year_mistyped_says_so_beside_the_catalogs_dates(user, before, after, says):
    # The catalog's dates alone hid why: a README walk typed 2031 and was told only which dates the catalog holds.
    drawn_aoi(user.home / "harbour.geojson")
    result = user("run", "--aoi", "harbour.geojson", "--source", "demo", "--before", before, "--after", after,
                  "--out", "out")
    assert (result.returncode, result.stdout) == (1, ""), result.output
    line, = result.stderr.strip().splitlines()
    src = DEMO_CATALOG.resolve()
    assert line == (f"Error: no scene over AOI 'harbour' {says.format(src=src, today=datetime.now(timezone.utc).date())}the catalog's 2 "
                    "dates over the AOI: 2015-08-21, 2017-10-14"), line
    assert not (user.home / "out").exists()
