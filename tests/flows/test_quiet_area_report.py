"""The report of a job that found nothing, read as a user reads it: an area with no claim and no change says in
words that no change was found, and in how much of the area (not "0 change polygons, 0.000 km²" and then
nothing), also when the folder is moved; in Chromium the words are on the page."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess

import pytest

from tests.flows.conftest import DEMO_CATALOG, drawn_aoi, geo_command
from tests.flows.test_quiet_area_in_qgis import QUIET
from tests.outputs import browser


def visible_text(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<details\b.*?</details>", " ", page, flags=re.S)  # folded away until clicked
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture(scope="module")
def quiet_run(tmp_path_factory):
    home = tmp_path_factory.mktemp("quiet-report")
    aoi = drawn_aoi(home / "quiet.geojson", [QUIET])
    proc = subprocess.run([*geo_command(), "run", "--aoi", str(aoi), "--source", str(DEMO_CATALOG),
                           "--before", "2015-08-21", "--after", "2017-10-14", "--out", "quiet"],
                          capture_output=True, text=True, cwd=home, timeout=600,
                          env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    return home / "quiet"


def test_a_run_without_claims_or_changes_says_so_in_the_report(quiet_run):
    text = visible_text((quiet_run / "report.html").read_text())
    assert "No claim names these areas." in text
    assert "0 change polygons" not in text and "0.000 km²" not in text
    assert "No change polygon" in text
    # the empty state, outside the folded provenance: what was looked at, and that the rest was not seen
    assert ("Changes in the area No change was found in the 45% of the area seen on both dates "
            "(2015-08-21 and 2017-10-14); the other 55% was not seen (outside the scenes, no data or cloud), "
            "so no change can be found there.") in text


def test_the_empty_report_reads_in_chromium_after_the_folder_moved(quiet_run, tmp_path):
    reason = browser.missing()
    if reason:
        pytest.skip(reason)
    moved = tmp_path / "elsewhere" / "quiet"
    shutil.copytree(quiet_run, moved)
    with browser.chromium() as driver:
        driver.get((moved / "report.html").resolve().as_uri())
        panel = driver.find_element("css selector", '[id="quiet--changes"]')
        assert panel.is_displayed()
        assert "No change was found in the 45% of the area seen on both dates" in panel.text
        assert driver.execute_script(
            "return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        assert [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")] == []
