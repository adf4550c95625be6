"""The report of a job that found nothing, read as a user reads it: an area with no claim and no change says in
words that no change was found, and in how much of the area (not "0 change polygons, 0.000 km²" and then
nothing), also when the folder is moved; in Chromium the words are on the page."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.flows.conftest import DEMO_CATALOG, DRAWN_RING, drawn_aoi, geo_command
from tests.flows.test_quiet_area_in_qgis import QUIET
from tests.outputs import browser


def visible_text(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<details\b.*?</details>", " ", page, flags=re.S)  # folded away until clicked
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def demo_pair_run(home, name: str, ring) -> Path:
    """``geo run`` of a drawn area without claims on the demo pair, from ``home`` as a user runs it."""
    aoi = drawn_aoi(home / f"{name}.geojson", [ring])
    proc = subprocess.run([*geo_command(), "run", "--aoi", str(aoi), "--source", str(DEMO_CATALOG),
                           "--before", "2015-08-21", "--after", "2017-10-14", "--out", name],
                          capture_output=True, text=True, cwd=home, timeout=600,
                          env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    return home / name


@pytest.fixture(scope="module")
def quiet_run(tmp_path_factory):
    return demo_pair_run(tmp_path_factory.mktemp("quiet-report"), "quiet", QUIET)


def test_a_run_without_claims_or_changes_says_so_in_the_report(quiet_run):
    text = visible_text((quiet_run / "report.html").read_text())
    assert "No claim names these areas." in text
    assert "0 change polygons" not in text and "0.000 km²" not in text
    assert "No change polygon" in text
    # the empty state, outside the folded provenance: what was looked at, and that the rest was not seen
    assert ("Changes in the area No change was found in the 45% of the area seen on both dates "
            "(2015-08-21 and 2017-10-14); the other 55% was not seen (cloud, no data or outside the scenes), "
            "so no change can be found there.") in text


def test_the_swipe_view_says_what_its_dark_grey_is_when_it_has_some(quiet_run, tmp_path):
    dark_grey = "Dark grey: not seen on that date (cloud, no data or outside the scenes)."
    # East of the scenes' edge: half of either picture is dark grey, and the caption says why
    assert dark_grey in visible_text((quiet_run / "report.html").read_text())
    # Inside the scenes: no dark grey in either picture, no word about it
    inside = demo_pair_run(tmp_path, "inside", DRAWN_RING)
    assert dark_grey not in visible_text((inside / "report.html").read_text())


def test_the_empty_report_reads_in_chromium_after_the_folder_moved(quiet_run, tmp_path):
    reason = browser.missing()
    if reason:
        pytest.skip(reason)
    moved = tmp_path / "elsewhere" / "quiet"
    shutil.copytree(quiet_run, moved)
    with browser.chromium() as driver:
        driver.get((moved / "report.html").resolve().as_uri())
        panel = driver.find_element("css selector", '[id="changes-quiet"]')
        assert panel.is_displayed()
        assert "No change was found in the 45% of the area seen on both dates" in panel.text
        assert driver.execute_script(
            "return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        assert [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")] == []
