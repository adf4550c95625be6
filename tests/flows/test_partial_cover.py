"""An AOI only partly inside the scenes: the terminal summary and the report's per-area line said "clear
fraction of AOI 68%", which reads as cloud; the part outside the scenes (the nodata share the pair's selection
records per scene) is now named as such, in each scene's line, each claim card and each claim's rationale.
A fully covered AOI reads as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.flows.conftest import DEMO_CATALOG, DRAWN_RING, drawn_aoi, registry_aoi

SCENE_EAST = -1.51216506958  # the demo scenes' east edge (their items' bbox)
WEST, EAST = -1.56, -1.49
QUAY_RING = [[WEST, 47.19], [EAST, 47.19], [EAST, 47.215], [WEST, 47.215], [WEST, 47.19]]  # reaches east past the scenes
# In lon/lat a rectangle's area splits in proportion to longitude: the share east of the scenes is known
OUTSIDE = (EAST - SCENE_EAST) / (EAST - WEST)  # 0.3166


def run_demo(user, ring):
    drawn_aoi(user.home / "harbour.geojson", [ring])
    result = user("run", "--aoi", "harbour.geojson", "--source", str(DEMO_CATALOG.parent), "--before", "2015-08-21",
                  "--after", "2017-10-14", "--out", "out")
    assert result.returncode == 0, result.output
    manifest = json.loads((user.home / "out" / "manifest.json").read_text())
    return result, manifest, (user.home / "out" / "report.html").read_text()


def test_the_part_outside_the_scenes_is_named_not_called_cloud(user):
    result, manifest, report = run_demo(user, QUAY_RING)
    for role in ("before", "after"):
        assert manifest["scenes"]["selection"][role]["nodata_fraction"] == pytest.approx(OUTSIDE, abs=0.005)
    assert manifest["clear_fraction"] == pytest.approx(1 - OUTSIDE, abs=0.01)
    summary, = [line for line in result.stdout.splitlines() if "change polygon" in line]
    # the demo's L1C scenes have no scene classification: their cloud is not judged, so nothing reads "clear"
    assert summary.endswith("; 68% of the AOI seen; 32% outside the scenes; cloud not judged: no scene "
                            "classification (SCL) on both scenes")
    assert "clear fraction" not in result.stdout
    assert "68% of the area seen on both dates; 32% outside the scenes; cloud not judged: no scene classification (SCL) on both scenes." in report
    # The area's heading names it once when its name is its id (a drawn file's name: "harbour harbour" before)
    assert '<h2 id="aoi-harbour:title">harbour</h2>' in report
    assert "% of the area clear on both dates" not in report
    # each scene's line too, with no claim to carry the scenes' shares (the selection's record)
    assert ("(<code>S2A_30TXT_20150821_L1C_nantes</code>, 68% of the area seen, 32% outside the scene)"
            in report)


def test_a_fully_covered_aoi_reads_as_before(user):
    result, manifest, report = run_demo(user, DRAWN_RING)
    assert manifest["scenes"]["selection"]["before"]["nodata_fraction"] == 0
    summary, = [line for line in result.stdout.splitlines() if "change polygon" in line]
    assert summary.endswith("; 100% of the AOI seen; cloud not judged: no scene classification (SCL) on both scenes")
    assert "outside the scenes" not in result.stdout + report
    assert "100% of the area seen on both dates; cloud not judged: no scene classification (SCL) on both scenes." in report  # L1C: its cloud not judged, not "clear"
    assert "(<code>S2_30TXT_20171014_L1C_nantes</code>, 100% of the area seen)" in report


MY_CLAIM = """[document]
title = "My analysis"

[[claim]]
id = "my-quay-works"
claimant = "Moi"
statement = "New construction on the quay."
date_stated = 2017-10-31
aoi_ids = ["my-quay"]
window = { start = 2016-01-01, end = 2017-06-30 }
signatures = ["new_construction", "cleared_land"]
"""


def my_quay_project(home: Path) -> tuple[Path, Path]:
    """An analyst's aoi/ and seeds/ folders in ``home``: the quay AOI, partly outside the scenes, and its claim."""
    aoi_dir, seeds_dir = home / "aoi", home / "seeds"
    aoi_dir.mkdir()
    seeds_dir.mkdir()
    registry_aoi(aoi_dir / "my-quay.geojson", "my-quay", "My quay", QUAY_RING)
    (seeds_dir / "mine.toml").write_text(MY_CLAIM, encoding="utf-8")
    return aoi_dir, seeds_dir

def test_a_claim_on_an_area_partly_outside_says_so_in_its_card_and_rationale(user):
    """A claim's verdict rests on the part of its AOI the scenes hold: the card's "Clear area" and the
    rationale in claims.json name the part outside, so "no evidence found" does not read as a look at all of it."""
    aoi_dir, seeds_dir = my_quay_project(user.home)
    result = user("run", "--aoi", "my-quay", "--source", str(DEMO_CATALOG.parent), "--before", "2015-08-21",
                  "--after", "2017-10-14", "--out", "out", "--aoi-dir", str(aoi_dir), "--seeds-dir", str(seeds_dir))
    assert result.returncode == 0, result.output
    out = user.home / "out"
    verdict, = json.loads((out / "claims.json").read_text())
    report = (out / "report.html").read_text()
    assert verdict["verdict"] == "consistent with the claim"
    assert verdict["clear_fraction"] == pytest.approx(1 - OUTSIDE, abs=0.01)
    assert verdict["rationale"].endswith(
        " 32% of the area lies outside the scenes and was not seen at all: nothing is known of that part.")
    assert "<dt>Area seen</dt><dd>68% of the area seen on both dates; 32% outside the scenes</dd>" in report
    # Each scene's own line: its clear share and the part outside it, from the selection's record
    for role, date in (("before", "2015-08-21"), ("after", "2017-10-14")):
        scene, = [s for s in verdict["scenes"] if s["role"] == role]
        assert scene["clear_fraction"] == pytest.approx(1 - OUTSIDE, abs=0.01)
        assert f"{role} {date} (<code>{scene['id']}</code>, 68% of the area seen, 32% outside the scene)" in report
    assert "% of the area clear)" not in report
