"""What ``geo recheck`` prints of its run's ``changes.kml`` when it holds more placemarks than Google My Maps imports
from a file (2,000), as ``geo run`` does (``tests/cli/test_run_summary.py``): a first re-check of a wide AOI writes
a run of thousands of changes, and its KML, handed to My Maps, failed there unexplained."""

from __future__ import annotations

from pathlib import Path

from geo.cli.recheck import print_report
from geo.outputs.kml import MY_MAPS_MAX_PLACEMARKS
from geo.recheck.request import RecheckReport


def printed(capsys, n: int, out: Path) -> str:
    entry = {"aoi_id": "wide", "sensor": "s2", "pairs": [{"status": "done"}], "baseline_scene": "S2A_before",
             "head_scene": "S2A_after", "n_new_changes": n, "deferred_scenes": 0, "baseline_reason": None}
    summary = {"run_id": 1, "n_pairs": 1, "n_new_changes": n, "new_changes_by_type": {"darkening": n},
               "aois": [entry], "verdicts": [], "failed_aois": [],
               "files": {"changes": "runs/000001/changes.geojson", "summary": "runs/000001/summary.json"}}
    print_report(RecheckReport(summary, out, run_id=1, elapsed_s=1.0), Path("store.gpkg"))
    return capsys.readouterr().out


def test_a_runs_kml_beyond_what_google_my_maps_imports_is_said_with_the_way_to_a_subset(capsys):
    text = printed(capsys, MY_MAPS_MAX_PLACEMARKS + 1, Path("store-outputs"))
    [line] = [line for line in text.splitlines() if line.startswith("Google Earth:")]
    assert line.startswith("Google Earth: store-outputs/runs/000001/changes.kml (2,001 placemarks: more than Google "
                           "My Maps imports"), line
    assert ("ogr2ogr -f LIBKML subset.kml store-outputs/runs/000001/changes.kml -where 'confidence >= 0.25'"
            in " ".join(text.split()))


def test_a_runs_kml_google_my_maps_imports_is_not_talked_about(capsys):
    text = printed(capsys, MY_MAPS_MAX_PLACEMARKS, Path("store-outputs"))
    assert "Google Earth" not in text and "My Maps" not in text
