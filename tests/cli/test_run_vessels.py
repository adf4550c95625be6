"""``geo run`` on an AOI whose claims predict ships: the change job and the vessel job together. The
synthetic port (tests/vessels/port.py) has a quiet baseline and a busy claim window in its Sentinel-1
series, so the vessel evidence is known; the Sentinel-2 pair (1 May -> 12 June) does not bracket the
ship claim's window (10-14 June), so the change polygons alone cannot test it."""

from __future__ import annotations

import csv
import json
import re
import shutil

import pyogrio

from tests.conftest import run_geo


def _claims(folder):
    return {e["claim_id"]: e for e in json.loads((folder / "claims.json").read_text())}


def test_vessel_counts_decide_for_the_ship_claim(port_run_output):
    claims = _claims(port_run_output)
    ships = claims["test-ships"]
    assert ships["verdict"] == "consistent with the claim" and ships["verdict_source"] == "vessel counts"
    assert ships["change_verdict"]["verdict"] == "not tested"  # the pair does not bracket the window
    assert ships["vessel_evidence"]["p_value"] < 0.01 and ships["confidence"] > 0.99
    assert ships["confidence_label"] == "high"
    assert ships["rationale"].startswith("Vessel counts (consistent with the claim): significant rise")
    assert "Change polygons (not tested)" in ships["rationale"]
    # the denial of it is contradicted by those counts
    denial = claims["test-denial"]
    assert denial["verdict"] == "inconsistent with the denial" and "test-ships (by vessel counts)" in denial["rationale"]


def test_counts_and_polygons_never_silently_disagree(port_run_output):
    claims = _claims(port_run_output)
    for entry in claims.values():
        change, counts = entry["change_verdict"], entry["vessel_evidence"]
        assert entry["verdict"] in (change["verdict"], counts["verdict"], "inconsistent with the denial",
                                    "no evidence found")
        assert change["rationale"] in entry["rationale"] or entry["claim_id"] == "test-denial"
    # 7 May: an ordinary date. The counts were tested and show no rise, so they decide, whatever vessel-typed
    # changes the pair shows; both judgements stay in the entry and its rationale.
    quiet = claims["test-quiet"]
    assert quiet["verdict"] == "no evidence found" and quiet["verdict_source"] == "vessel counts"
    assert quiet["vessel_evidence"]["p_value"] > 0.2
    assert f"Change polygons ({quiet['change_verdict']['verdict']})" in quiet["rationale"]
    assert quiet["evidence"] == []
    # 9-11 May holds no Sentinel-1 scene: the counts cannot test it, the change polygons decide
    gap = claims["test-gap"]
    assert gap["vessel_evidence"]["verdict"] == "not tested" and gap["verdict_source"] == "change polygons"
    assert gap["verdict"] == gap["change_verdict"]["verdict"]
    assert "Vessel counts (not tested): s1: no scene inside the window" in gap["rationale"]


def test_vessel_files_land_in_the_run_folder(port_run_output, port_project):
    names = {p.name for p in port_run_output.iterdir()}
    assert {"vessels.geojson", "timeseries.csv", "timeseries.json", "timeseries.svg", "timeseries.png",
            "evidence.json", "vessels-manifest.json", "changes.geojson", "claims.json", "report.html"} <= names
    assert [n for n in names if n.startswith(".")] == [".geo-complete.json"]  # staged and swapped in whole
    rows = list(csv.DictReader((port_run_output / "timeseries.csv").open()))
    assert sorted(r["scene"] for r in rows) == sorted(port_project.ships)  # every S1 and S2 date
    manifest = json.loads((port_run_output / "manifest.json").read_text())
    vessels = manifest["vessels"]
    assert vessels["n_scenes"] == len(port_project.ships) and vessels["sensors"] == ["s1", "s2"]
    assert vessels["period"] == ["2020-11-07", "2021-06-28"]  # 180 days before the first window, 14 after the last
    assert vessels["n_detections"] == len(json.loads((port_run_output / "vessels.geojson").read_text())["features"])


def test_geopackage_has_the_vessel_detections_and_both_verdicts(port_run_output):
    gpkg = port_run_output / "changes.gpkg"
    detections = json.loads((port_run_output / "vessels.geojson").read_text())["features"]
    vessels = pyogrio.read_dataframe(gpkg, layer="vessels")
    assert len(vessels) == len(detections) > 20 and vessels.crs.to_epsg() == 4326
    assert sorted(vessels["detection_id"]) == sorted(f["properties"]["detection_id"] for f in detections)
    assert str(vessels["datetime"].dtype).startswith("datetime64")
    assert set(vessels["sensor"]) == {"s1", "s2"}
    # every attribute of vessels.geojson (at_berth too: the berth test's own count), of the same values
    by_id = {f["properties"]["detection_id"]: f["properties"] for f in detections}
    assert set(by_id[vessels["detection_id"][0]]) - {"id"} <= set(vessels.columns)
    assert vessels["at_berth"].dtype == bool and vessels["at_berth"].any()
    assert [by_id[i]["at_berth"] for i in vessels["detection_id"]] == vessels["at_berth"].tolist()
    claims = pyogrio.read_dataframe(gpkg, layer="claims").set_index("claim_id")
    assert claims.loc["test-ships", "verdict_source"] == "vessel counts"
    assert claims.loc["test-ships", "vessel_p_value"] < 0.01
    assert claims.loc["test-quiet", "vessel_verdict"] == "no evidence found"


def test_report_shows_the_vessel_plot_and_evidence(port_run_output):
    html = (port_run_output / "report.html").read_text()
    # the plot, and the one drawn for a phone
    assert html.count('src="data:image/svg+xml;base64,') == 2 and "data-vessel-plot" in html
    assert "data-vessel-plot-narrow" in html
    assert 'id="vessels-test-port"' in html
    # the days counted (the claims' windows' local days: the port's mean solar time), and apart from them the
    # period searched (its first months have no scene)
    assert ("16 dates (S1, S2) from 2021-04-01 to 2021-06-13, local days at UTC+00:12 (searched 2020-11-07 to "
            "2021-06-28, archive dates in UTC), "
            "52 detections inside the area.") in " ".join(html.split())
    # each count test named in words: the sensor's id in capitals, the rest as written
    assert "<dt>S1 large vessels</dt>" in html and "<dt>S1 large vessels at berth</dt>" in html
    assert "AT BERTH" not in html
    claims = _claims(port_run_output)
    for entry in claims.values():  # the merged rationale and the counts' own, escaped like all text
        text = re.sub(r'<span class="date">([0-9-]+)</span>', r"\1", html)  # dates kept whole on a line
        assert entry["rationale"].replace("'", "&#39;").replace(">", "&gt;") in text
        assert entry["vessel_evidence"]["rationale"].replace(">", "&gt;") in text
    assert html.count('class="facts vessel-evidence"') == 4
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    assert len(scripts) == 1  # the plot is an image, not markup


def test_geo_report_rebuilds_the_vessel_part(port_run_output, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(port_run_output, copy)
    (copy / "report.html").unlink()
    (copy / "timeseries.json").write_text("{}")
    result = run_geo("report", str(copy))
    assert result.returncode == 1 and "timeseries.json: not a vessel count series" in result.stderr
    shutil.copy(port_run_output / "timeseries.json", copy / "timeseries.json")
    result = run_geo("report", str(copy))
    assert result.returncode == 0, result.stderr
    stamp = re.compile(r"Generated [0-9-]+ [0-9:]+ UTC")
    assert stamp.sub("", (copy / "report.html").read_text()) == stamp.sub("", (port_run_output / "report.html").read_text())


def test_no_scene_to_count_ships_on_leaves_the_change_verdict_and_says_why(synthetic_project, tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(synthetic_project.seeds_dir, seeds)
    (seeds / "ships.toml").write_text('''
[document]
title = "a ship claim long after the scenes"

[[claim]]
id = "test-ships-late"
claimant = "test"
statement = "Ships came in January 2023."
date_stated = 2023-02-01
stance = "assert"
aoi_ids = ["test-site"]
window = { start = 2023-01-01, end = 2023-01-05 }
signatures = ["large_vessels_at_berth"]
''')
    out = tmp_path / "out"
    result = run_geo("run", "--aoi", "test-site", "--source", str(synthetic_project.catalog), "--out", str(out),
                     "--before", "2020-03-01", "--after", "2020-08-01", "--aoi-dir", str(synthetic_project.aoi_dir),
                     "--seeds-dir", str(seeds))
    assert result.returncode == 0, result.stderr
    late = _claims(out)["test-ships-late"]
    # nothing decided it, and claims.json and the GeoPackage say so (not "change polygons")
    assert late["verdict"] == "not tested" and late["verdict_source"] == "none"
    layer = pyogrio.read_dataframe(out / "changes.gpkg", layer="claims").set_index("claim_id")
    assert layer.loc["test-ships-late", "verdict_source"] == "none"
    assert layer.loc["test-construction", "verdict_source"] == "change polygons"
    assert late["vessel_evidence"]["verdict"] == "not tested"
    assert "no s1/s2 scene over AOI 'test-site' between 2022-07-05 and 2023-01-19" in late["rationale"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["vessels"]["n_scenes"] == 0
    assert any(w.startswith("vessel counts not made: no s1/s2 scene") for w in manifest["warnings"])
    assert not (out / "vessels.geojson").exists()
    assert _claims(out)["test-construction"]["verdict"] == "consistent with the claim"  # the others as before
    # nothing decided a claim neither line of evidence could test: the terminal and the report card say so
    untested = "neither the change polygons nor the vessel counts could test the claim"
    line = next(l for l in result.stdout.splitlines() if "claim test-ships-late:" in l)
    assert f"not tested [{untested}]" in line and "[by " not in line
    html = " ".join((out / "report.html").read_text().split())
    assert f"<dt>Decided by</dt><dd>nothing: {untested}</dd>" in html
    assert "<dt>Decided by</dt><dd>change polygons</dd>" not in html
