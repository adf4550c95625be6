"""``geo run --sensor s1`` over an AOI partly outside the scenes: as for Sentinel-2 (``test_partial_cover.py``),
the terminal line, the report and each claim's rationale name the part outside the scenes. The SAR selection
recorded each scene's footprint ``coverage`` only, not the nodata share those read: a third of the AOI never
seen read as "clear fraction of AOI 69%", and "no evidence found" as a look at all of it."""

from __future__ import annotations

import json
import re

import pytest
from shapely.geometry import box, shape

from geo.aoi import geodesic_area_m2
from geo.scenes.source import LocalCatalog

from tests.flows.conftest import registry_aoi
from tests.flows.test_partial_cover import MY_CLAIM
from tests.flows.test_pass_slices import sliced_catalog

WIDEN = 0.5  # the AOI reaches east of the scenes by half their width: a third of it outside


def test_a_sar_run_names_the_part_of_the_aoi_outside_the_scenes(user, port_project, tmp_path):
    port = json.loads((port_project.aoi_dir / "test-port.geojson").read_text())  # a Feature, a box
    west, south, east, north = shape(port["geometry"]).bounds
    reach = east + WIDEN * (east - west)
    area = box(west, south, reach, north)
    footprint = LocalCatalog(port_project.catalog, "s1").get("S1A_TEST_20210401").geometry
    outside = 1 - geodesic_area_m2(area.intersection(footprint)) / geodesic_area_m2(area)  # ~ a third
    assert 0.3 < outside < 0.36
    aoi_dir, seeds_dir = user.home / "aoi", user.home / "seeds"
    aoi_dir.mkdir()
    seeds_dir.mkdir()
    registry_aoi(aoi_dir / "my-quay.geojson", "my-quay", "My quay",
                 [[west, south], [reach, south], [reach, north], [west, north], [west, south]])
    (seeds_dir / "mine.toml").write_text(MY_CLAIM.replace("2016-01-01", "2021-04-02").replace(
        "2017-06-30", "2021-06-10").replace("2017-10-31", "2021-07-01"), encoding="utf-8")
    catalog = sliced_catalog(port_project.catalog, tmp_path / "whole", slices=False)  # on one orbit
    result = user("run", "--sensor", "s1", "--aoi", "my-quay", "--source", str(catalog),
                  "--before", "2021-04-01", "--after", "2021-06-11", "--aoi-dir", str(aoi_dir),
                  "--seeds-dir", str(seeds_dir), "--out", "out")
    assert result.returncode == 0, result.output
    manifest = json.loads((user.home / "out" / "manifest.json").read_text())
    for role in ("before", "after"):
        entry = manifest["scenes"]["selection"][role]
        assert entry["nodata_fraction"] == pytest.approx(outside, abs=0.01)
        assert entry["coverage"] == pytest.approx(1 - outside, abs=0.01)
    assert manifest["clear_fraction"] == pytest.approx(1 - outside, abs=0.01)
    shown = round(100 * outside)
    summary, = [line for line in result.stdout.splitlines() if "change polygon" in line]
    assert summary.endswith(f"; {100 - shown}% of the AOI seen; {shown}% outside the scenes"), summary
    assert "clear fraction" not in result.stdout
    report = (user.home / "out" / "report.html").read_text()
    # radar sees through cloud: its shares are of the area seen, never "clear" (of cloud)
    assert f"{100 - shown}% of the area seen on both dates; {shown}% outside the scenes." in report
    assert "<dt>Area seen</dt>" in report and "<dt>Clear area</dt>" not in report
    # the swipe view's dark grey east of the scenes: radar sees through cloud (the caption said cloud)
    assert "Dark grey: not seen on that date (no data or outside the scenes)." in report
    assert '<th class="num">Area seen</th>' in report and "Area clear" not in report  # the scenes table
    # the verdicts' legend: radar's area is seen, not "seen clearly", and no cloud hides it
    assert "the area was seen and no such change appeared" in report
    assert "seen clearly" not in report and "cloud hid" not in report
    assert "<dt>Water level (filtered VV below it on every date)</dt><dd>-15.0 dB</dd>" in report
    assert "<dt>Minimum share of the AOI seen on both dates</dt><dd>50 %</dd>" in report
    claim, = json.loads((user.home / "out" / "claims.json").read_text())
    # the verdict's rationale too (claims.json, the report's card): seen, not "clear" of cloud
    assert claim["verdict"] == "no evidence found", claim
    assert claim["rationale"].startswith(f"{100 - shown}% of the area was seen on both dates and no change of the "
                                         "predicted kinds"), claim["rationale"]
    assert claim["rationale"] in re.sub(r'<span class="date">([0-9-]+)</span>', r"\1", report)  # dates kept whole
    assert claim["rationale"].endswith(
        f" {shown}% of the area lies outside the scenes and was not seen at all: nothing is known of that part.")
