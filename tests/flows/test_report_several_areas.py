"""``geo report RUN1 RUN2 ... --out claim.html``: one claim naming several places, a run per place, their folders
combined into one report. A folder among them from an older workbench (a manifest without a key the report reads)
stopped the report with "internal error: UndefinedError: 'dict object' has no attribute 'cloud_masked'" (exit 2); and
``--out`` naming a run folder's own ``report.html`` wrote the combined report, other areas' pictures and verdicts,
over that run's own evidence report (also when that run was not among those combined)."""

from __future__ import annotations

import json
import re
import shutil
from urllib.parse import unquote

import pytest

from tests.flows.conftest import DEMO_CATALOG, drawn_aoi

HARBOUR = [[-1.565, 47.19], [-1.535, 47.19], [-1.535, 47.215], [-1.565, 47.215], [-1.565, 47.19]]
QUAY = [[-1.56, 47.20], [-1.545, 47.20], [-1.545, 47.21], [-1.56, 47.21], [-1.56, 47.20]]


@pytest.fixture
def runs(user):
    """Two drawn areas (ids ``harbour`` and ``quay``) run on the demo pair, and a third for a run not combined."""
    for name, ring in (("harbour", HARBOUR), ("quay", QUAY), ("pier", QUAY)):
        drawn_aoi(user.home / f"{name}.geojson", [ring])
        result = user("run", "--aoi", f"{name}.geojson", "--source", str(DEMO_CATALOG), "--before", "2015-08-21",
                      "--after", "2017-10-14", "--out", name)
        assert result.returncode == 0, result.output
    return user.home


@pytest.mark.parametrize("keys", [["statistic"], ["cloud_masked", "versions"], ["grid"]])
def test_a_run_folder_of_an_older_workbench_among_good_ones_names_what_its_manifest_lacks(user, runs, keys):
    manifest = json.loads((runs / "quay" / "manifest.json").read_text())
    for key in keys:
        del manifest[key]
    (runs / "quay" / "manifest.json").write_text(json.dumps(manifest))
    result = user("report", "harbour", "quay", "--out", "claim.html")
    assert result.returncode == 1, result.output
    assert result.stderr.strip() == (f"Error: quay/manifest.json: lacks {', '.join(keys)} (written by an older "
                                     "workbench? run the job again)"), result.stderr
    assert not (runs / "claim.html").exists()
    assert sorted(p.name for p in runs.iterdir() if p.name.startswith(".")) == []  # no temporary file left


@pytest.mark.parametrize("out", ["harbour/report.html", "pier/report.html", "./quay/../harbour/report.html"])
def test_a_combined_report_is_not_written_over_a_run_folders_own_report(user, runs, out):
    own = {name: (runs / name / "report.html").read_bytes() for name in ("harbour", "quay", "pier")}
    result = user("report", "harbour", "quay", "--out", out)
    assert result.returncode == 1, result.output
    said = result.stderr.strip()
    assert said.startswith("Error: --out ") and said.endswith(
        "report.html: that run folder's own evidence report, which would show other areas; write this one elsewhere "
        "(e.g. --out claim.html)"), said
    assert {name: (runs / name / "report.html").read_bytes() for name in own} == own


def test_a_run_folders_own_report_is_still_rebuilt_in_place(user, runs):
    (runs / "harbour" / "report.html").unlink()
    result = user("report", "harbour", "--out", "harbour/report.html")
    assert result.returncode == 0, result.output
    assert 'id="aoi-harbour"' in (runs / "harbour" / "report.html").read_text()


def local_links(html: str) -> list[str]:
    """The report's links to files or folders (not the web, a map app, its own anchors or inlined pictures)."""
    return [h for h in re.findall(r'href="([^"]*)"', html) if not re.match(r"(https?:|geo:|#|data:)", h)]


@pytest.mark.parametrize("out", ["claim.html", "reports/claim.html"])
def test_a_combined_report_names_each_areas_run_folder_and_its_links_lead_there(user, runs, out):
    """The footer said "Open project.qgz in QGIS ..." beside a report of two areas written outside both run folders:
    no project.qgz lay beside it, and nothing said which area's folder held which; each area's section now names its
    run folder, linked relative to the report, which still leads there when the report and the runs move together."""
    result = user("report", "harbour", "quay", "--out", out)
    assert result.returncode == 0, result.output
    html = (runs / out).read_text()
    links = local_links(html)
    assert [unquote(h).rstrip("/").split("/")[-1] for h in links] == ["harbour", "quay"], links
    for href in links:
        assert ((runs / out).parent / unquote(href) / "project.qgz").is_file(), href
    footer = html.split("<footer>", 1)[1]
    assert footer.startswith("In each area's run folder (named under its heading): open <code>project.qgz</code>")
    moved = runs.parent / "moved"
    shutil.move(runs, moved)
    for href in local_links((moved / out).read_text()):
        assert ((moved / out).parent / unquote(href) / "project.qgz").is_file(), href


def test_a_run_folders_own_report_names_no_folder(user, runs):
    html = (runs / "harbour" / "report.html").read_text()
    assert local_links(html) == [] and "<footer>Open <code>project.qgz</code>" in html
    result = user("report", "harbour", "--out", "harbour.html")  # one area's report written elsewhere
    assert result.returncode == 0, result.output
    html = (runs / "harbour.html").read_text()
    assert local_links(html) == ["harbour/"]
    assert "<footer>In the area's run folder (named under its heading): open <code>project.qgz</code>" in html


def test_a_combined_report_written_into_one_of_the_run_folders_names_that_one_too(user, runs):
    result = user("report", "harbour", "quay", "--out", "quay/claim.html")
    assert result.returncode == 0, result.output
    html = (runs / "quay" / "claim.html").read_text()
    assert local_links(html) == ["../harbour/", "./"]
    assert "Run folder: <a href=\"./\"><code>this report&#39;s own folder</code></a>" in html


def test_a_run_folder_lacking_a_deeper_key_is_named_with_the_key(user, runs):
    """A manifest's scene without its acquisition time (an older or hand-edited folder) stopped the report with
    "internal error: KeyError: 'datetime'" (exit 2), naming neither the folder nor the file."""
    manifest = json.loads((runs / "quay" / "manifest.json").read_text())
    del manifest["scenes"]["before"]["datetime"]
    (runs / "quay" / "manifest.json").write_text(json.dumps(manifest))
    result = user("report", "harbour", "quay", "--out", "claim.html")
    assert result.returncode == 1, result.output
    assert result.stderr.strip() == ("Error: quay: its files lack 'datetime' (written by an older workbench? run the "
                                     "job again)"), result.stderr
    assert not (runs / "claim.html").exists()


def test_areas_whose_ids_extend_one_another_have_ids_of_their_own_in_chromium(user):
    """Areas ``port`` and ``port-title``: the section of the second (``aoi-port-title``) had the id of the first's
    heading, so its link and the first's tables' labels led to the wrong place. Ids are now unique whatever the area
    ids, and every link and label in the report leads to an element of the report."""
    from tests.outputs import browser

    for name, ring in (("port", HARBOUR), ("port-title", QUAY)):
        drawn_aoi(user.home / f"{name}.geojson", [ring])
        result = user("run", "--aoi", f"{name}.geojson", "--source", str(DEMO_CATALOG), "--before", "2015-08-21",
                      "--after", "2017-10-14", "--out", name)
        assert result.returncode == 0, result.output
    made = user("report", "port", "port-title", "--out", "both.html")
    assert made.returncode == 0, made.output
    html = (user.home / "both.html").read_text(encoding="utf-8")
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == [], ids
    reason = browser.missing()
    if reason:
        pytest.skip(reason)
    with browser.chromium() as driver:
        driver.get((user.home / "both.html").resolve().as_uri())
        seen = driver.execute_script("return Array.from(document.querySelectorAll('[id]'), e => e.id)")
        assert len(seen) == len(set(seen)) and len(seen) >= len(ids), seen
        dangling = driver.execute_script("""
            const refs = [];
            document.querySelectorAll('[aria-labelledby],[aria-describedby]').forEach(e => {
              for (const a of ['aria-labelledby', 'aria-describedby'])
                for (const r of (e.getAttribute(a) || '').split(/\\s+/).filter(Boolean)) refs.push(r);
            });
            document.querySelectorAll('a[href^="#"], use[href^="#"]').forEach(e => refs.push(
              decodeURIComponent(e.getAttribute('href').slice(1))));
            return refs.filter(r => !document.getElementById(r));""")
        assert dangling == []
        section = driver.execute_script("return document.getElementById('aoi-port-title').tagName")
        assert section == "SECTION"
