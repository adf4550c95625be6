"""The HTML report as a file: self-contained, escaped, its script pinned by hash; ``geo report`` rebuilds
it from a run folder and refuses bad folders with a clear message."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil

import pytest

from tests.conftest import run_geo

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


def hostile_copy(folder, tmp_path):
    """A copy of a run whose claim texts are hostile (the report must show them as text)."""
    copy = tmp_path / "hostile"
    shutil.copytree(folder, copy)
    claims = json.loads((copy / "claims.json").read_text())
    for entry in claims:
        entry["claim"].update(statement=f"Troops {HOSTILE} arrived", claimant=f"Agency {HOSTILE}",
                              source=f"Paper {HOSTILE}", source_url="javascript:window.__pwned = 3",
                              notes=f"note {HOSTILE}")
        entry["rationale"] += f" {HOSTILE}"
    (copy / "claims.json").write_text(json.dumps(claims))
    (copy / "report.html").unlink()
    result = run_geo("report", str(copy))
    assert result.returncode == 0, result.stderr
    return copy


def test_report_is_self_contained(synthetic_output):
    html = (synthetic_output / "report.html").read_text()
    assert "<link" not in html and "@import" not in html
    sources = re.findall(r'\bsrc="([^"]*)"', html)
    assert sources and all(s.startswith("data:image/") for s in sources)
    # (``url(#id)``: an element of the page itself, the areas not compared's hatching; nothing loaded)
    assert not re.search(r'src="(https?:)?//', html) and not re.search(r"url\((?!#)", html)
    # Links to the web open a page when clicked (a change on OpenStreetMap); they load nothing into the report
    # and pass no referrer.
    links = re.findall(r'<a [^>]*href="(?:https?:)?//[^"]*"[^>]*>', html)
    assert links and all('rel="noopener noreferrer"' in a for a in links)
    assert all("https://www.openstreetmap.org/?mlat=" in a for a in links)


def test_only_the_reports_own_script_is_allowed(synthetic_output):
    html = (synthetic_output / "report.html").read_text()
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html).group(1)
    assert f"script-src 'sha256-{digest}'" in policy and "default-src 'none'" in policy


def test_report_shows_every_verdict_with_its_rationale(synthetic_output):
    html = (synthetic_output / "report.html").read_text()
    html = re.sub(r'<span class="date">([0-9-]+)</span>', r"\1", html)  # dates kept whole on a line
    claims = json.loads((synthetic_output / "claims.json").read_text())
    assert len(claims) == 3
    for entry in claims:
        assert f'id="claim-test-site:{entry["claim_id"]}"' in html
        assert entry["rationale"].replace("'", "&#39;") in html
    assert html.count('class="chip"') >= 3  # before/after chips around the planted roofs
    assert "S2A_TEST_20200301" in html and "S2A_TEST_20200801" in html  # provenance


def test_a_changes_confidence_reads_as_its_share_of_strong_pixels(synthetic_output):
    """A polygon's ``confidence`` is the share of its pixels at twice the threshold: a kept change grown from
    weaker seeds has 0 %, which the report printed as "confidence 0%" beside a change it shows."""
    html = (synthetic_output / "report.html").read_text()
    features = json.loads((synthetic_output / "changes.geojson").read_text())["features"]
    shares = {f"{f['properties']['confidence']:.0%} of it strong" for f in features}
    assert ">Strong pixels</th>" in html and '<th class="num">Confidence</th>' not in html  # the verdicts' stays
    assert any(share in html for share in shares) and "m², confidence" not in html


def test_hostile_claim_text_is_escaped(synthetic_output, tmp_path):
    html = (hostile_copy(synthetic_output, tmp_path) / "report.html").read_text()
    assert "window.__pwned = 1</script>" not in html
    assert '<img src=x' not in html
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html
    assert 'href="javascript:' not in html  # a non-http source URL is shown, never linked


def test_geo_report_rebuilds_the_report(synthetic_output, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(synthetic_output, copy)
    original = (copy / "report.html").read_text()
    (copy / "report.html").unlink()
    result = run_geo("report", str(copy))
    assert result.returncode == 0, result.stderr
    rebuilt = (copy / "report.html").read_text()
    stamp = re.compile(r"Generated [0-9-]+ [0-9:]+ UTC")
    assert stamp.sub("", rebuilt) == stamp.sub("", original)


def test_geo_report_combines_runs_of_several_areas(synthetic_output, demo_output, tmp_path):
    out = tmp_path / "combined.html"
    result = run_geo("report", str(synthetic_output), str(demo_output), "--out", str(out))
    assert result.returncode == 0, result.stderr
    html = out.read_text()
    assert 'id="aoi-test-site"' in html and 'id="aoi-demo-nantes-port"' in html
    assert "(2 areas, 4 claim verdicts)" in result.stdout


@pytest.mark.parametrize("breakage, needle", [
    ("missing-folder", "not a folder"),
    ("no-claims", "claims.json: missing"),
    ("bad-json", "claims.json: not readable JSON"),
    ("old-claims", "lacks"),
    ("no-aoi", "aoi.geojson: missing"),
])
def test_geo_report_rejects_bad_run_folders(synthetic_output, tmp_path, breakage, needle):
    folder = tmp_path / "run"
    if breakage != "missing-folder":
        shutil.copytree(synthetic_output, folder)
        (folder / "report.html").unlink()
    if breakage == "no-claims":
        (folder / "claims.json").unlink()
    elif breakage == "bad-json":
        (folder / "claims.json").write_text("[{")
    elif breakage == "old-claims":
        (folder / "claims.json").write_text(json.dumps([{"claim_id": "x", "verdict": "not tested"}]))
    elif breakage == "no-aoi":
        (folder / "aoi.geojson").unlink()
    result = run_geo("report", str(folder))
    assert result.returncode == 1, result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr
    assert not (folder / "report.html").exists()


def test_geo_report_needs_out_for_several_runs(synthetic_output, tmp_path):
    shutil.copytree(synthetic_output, tmp_path / "copy")
    result = run_geo("report", str(synthetic_output), str(tmp_path / "copy"))
    assert result.returncode == 1 and "--out" in result.stderr


def test_geo_report_takes_a_folder_named_twice_as_one_run(synthetic_output, tmp_path):
    """``geo report run ./run`` (a glob and a name) said "several run folders: say where ... --out FILE"."""
    run = shutil.copytree(synthetic_output, tmp_path / "run")
    (run / "report.html").unlink()
    result = run_geo("report", str(run), str(tmp_path / "." / "run"), str(run) + "/")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"report: {run / 'report.html'} (1 area, 3 claim verdicts)\n"
    assert (run / "report.html").is_file()


def test_the_claim_window_line_names_its_zone_utc_too(synthetic_output, tmp_path):
    """A window counted in UTC days (``time_zone = "UTC"``) said no zone at all, which read as the place's local
    days, the default; the line names UTC as it names any other zone, and says what an offset such as UTC+08:48
    is when it is the AOI's mean solar time (no claim time_zone)."""
    copy = tmp_path / "run"
    shutil.copytree(synthetic_output, copy)
    claims = json.loads((copy / "claims.json").read_text())
    claims[0]["window_time_zone"] = "UTC"
    claims[1]["window_time_zone"] = claims[1]["claim"]["time_zone"] = "Asia/Tokyo"
    claims[2]["window_time_zone"], claims[2]["claim"]["time_zone"] = "UTC+08:48", None  # by the AOI's longitude
    (copy / "claims.json").write_text(json.dumps(claims))
    (copy / "report.html").unlink()
    result = run_geo("report", str(copy))
    assert result.returncode == 0, result.stderr
    lines = re.findall(r"Claim window</dt><dd>([^<]*)</dd>", (copy / "report.html").read_text())
    window = [f"{c['window']['start']} to {c['window']['end']}" for c in claims]
    assert lines[0].startswith(f"{window[0]}, UTC days ("), lines
    assert lines[1].startswith(f"{window[1]}, local days at Asia/Tokyo ("), lines
    assert lines[2].startswith(f"{window[2]}, local days at UTC+08:48, the area's mean solar time ("), lines


@pytest.mark.parametrize("sensors, causes", [({"s1"}, "sea ice or no data"), ({"s1", "s2"}, "cloud, ice or no data")])
def test_the_vessel_counts_say_why_a_date_saw_too_little_water_as_their_sensors_can(port_run_output, tmp_path,
                                                                                      sensors, causes):
    """Counts on Sentinel-1 alone (``geo run --sensor s1``): the paragraph over the plot said dates were left out
    for 'cloud or no data', of radar, which sees through cloud. Ice fields are water not seen on both sensors."""
    from geo.outputs.report import render_report
    from geo.outputs.run_data import VESSEL_SERIES, load_run

    folder = tmp_path / "run"
    shutil.copytree(port_run_output, folder)
    series = json.loads((folder / VESSEL_SERIES).read_text())
    series["rows"] = [row for row in series["rows"] if row["sensor"] in sensors]
    assert {row["sensor"] for row in series["rows"]} == sensors
    (folder / VESSEL_SERIES).write_text(json.dumps(series))
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", render_report([load_run(folder)])))
    said = re.search(r"of the water \(([^)]*)\), left out of the test\.", text)
    assert said and said[1] == causes, said


def test_the_report_credits_the_sentinel_data_with_the_years_of_its_scenes(synthetic_output, demo_output, tmp_path):
    """'Contains modified Copernicus Sentinel data.' named no year, which the licence's credit has (the QGIS
    layers of the same run name them): now the years of the scenes shown, of every run in a combined report."""
    assert "Contains modified Copernicus Sentinel data 2020." in (synthetic_output / "report.html").read_text()
    combined = tmp_path / "both.html"
    assert run_geo("report", str(synthetic_output), str(demo_output), "--out", str(combined)).returncode == 0
    assert "Contains modified Copernicus Sentinel data 2015–2020." in combined.read_text()


def test_the_verdicts_legend_speaks_of_cloud_when_a_run_sees_cloud(synthetic_output):
    """A report of Sentinel-2 runs, or of Sentinel-2 and Sentinel-1 runs together, keeps cloud in its legend;
    only a report of radar runs alone drops it (``tests/flows/test_sar_partial_cover.py``)."""
    from dataclasses import replace

    from geo.outputs.report import verdict_help
    from geo.outputs.run_data import load_run
    from geo.verdicts import NO_EVIDENCE, NOT_OBSERVABLE

    optical = load_run(synthetic_output)
    radar = replace(optical, manifest={**optical.manifest, "sensor": "s1"})
    assert "cloud hid the area" in verdict_help([optical])[NOT_OBSERVABLE]
    assert "cloud hid the area" in verdict_help([optical, radar])[NOT_OBSERVABLE]
    assert "seen clearly" in verdict_help([radar, optical])[NO_EVIDENCE]
    assert "cloud" not in verdict_help([radar])[NOT_OBSERVABLE]
    assert verdict_help([radar])[NO_EVIDENCE].startswith("the area was seen and no such change appeared")
