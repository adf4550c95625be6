"""What ``geo run`` prints of a run's ``changes.kml`` when it holds more placemarks than Google My Maps imports from
a file (2,000; a larger file's import just ends "unsuccessful"): a run of 5,601 changes over 4,275 km² of real
Nantes pixels wrote an 11.5 MB KML and said nothing of it. Google Earth opens it whole; the line says so and gives
the ogr2ogr command taking a styled subset (GDAL's LIBKML keeps the styles, names and time spans)."""

from __future__ import annotations

from pathlib import Path

from shapely.geometry import box

from geo.cli.change_job import print_summary
from geo.outputs.kml import MY_MAPS_MAX_PLACEMARKS
from geo.results import Manifest
from geo.vector.feature import ChangeFeature

SCENE = {"collection": "", "platform": "sentinel-2a", "sensor": "s2"}
MANIFEST = {
    "workbench_version": "0.1.0", "algorithm_version": "local-fusion/0.2", "sensor": "s2",
    "aoi": {"id": "wide", "name": "wide"}, "claims": [],
    "scenes": {"before": {"id": "S2A_before", "datetime": "2015-08-21T11:00:00+00:00", **SCENE},
               "after": {"id": "S2A_after", "datetime": "2017-10-14T11:10:00+00:00", **SCENE}, "selection": {}},
    "grid": {}, "parameters": {}, "statistic": {}, "cloud_masked": {"before": True, "after": True},
    "clear_fraction": 1.0, "n_changes": 0, "warnings": [], "timings_s": {}, "versions": {},
}


def changes(n: int) -> list[ChangeFeature]:
    return [ChangeFeature(box(-1.6 + i * 1e-4, 47.2, -1.59995 + i * 1e-4, 47.20005), f"c{i}", "wide", "S2A_before",
                          "S2A_after", "2015-08-21", "2017-10-14", 900.0, 3.0, 0.5, "darkening", 1.0, 9, "test")
            for i in range(n)]


def printed(capsys, n: int, out: Path) -> str:
    written = [out / name for name in ("changes.geojson", "changes.kml", "report.html", "project.qgz")]
    print_summary(Manifest.from_dict({**MANIFEST, "n_changes": n}), [], changes(n), written)
    return capsys.readouterr().out


def test_a_kml_beyond_what_google_my_maps_imports_is_said_with_the_way_to_a_subset(capsys):
    text = printed(capsys, MY_MAPS_MAX_PLACEMARKS + 1, Path("big run"))
    [line] = [line for line in text.splitlines() if "changes.kml" in line and not line.startswith("files:")]
    assert line.startswith("Google Earth: big run/changes.kml (2,001 placemarks: more than Google My Maps imports")
    assert "ogr2ogr -f LIBKML subset.kml 'big run/changes.kml' -where 'confidence >= 0.25'" in " ".join(text.split())


def test_a_kml_google_my_maps_imports_is_not_talked_about(capsys):
    text = printed(capsys, MY_MAPS_MAX_PLACEMARKS, Path("out"))
    assert "Google Earth" not in text and "My Maps" not in text
