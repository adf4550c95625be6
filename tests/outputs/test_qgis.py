"""The run's layers opened by real QGIS (Debian's python3-qgis, headless), the way a user opens them:
the GeoPackage layers and the GeoJSON with their default styles, the COGs, and the project with its
temporal settings. The probe runs under /usr/bin/python3 in a subprocess and reports what QGIS sees."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.qgis

SYSTEM_PYTHON = "/usr/bin/python3"
PROBE = Path(__file__).with_name("qgis_probe.py")
DATETIME = 16  # QVariant::DateTime
DATE = 14  # QVariant::Date


def _qgis_missing() -> str | None:
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found (PyQGIS comes with Debian's python3-qgis)"
    check = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, text=True,
                           env=_env(), timeout=120)
    if check.returncode != 0:
        return "PyQGIS not installed: apt-get install python3-qgis (.ci/run does this)"
    return None


def _env() -> dict[str, str]:
    runtime = Path(os.environ.get("TMPDIR", "/tmp")) / f"qgis-runtime-{os.getuid()}"
    runtime.mkdir(mode=0o700, exist_ok=True)
    # Debian's interpreter with its own packages only: nothing from the project's venv leaks in.
    return {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), "QT_QPA_PLATFORM": "offscreen",
            "XDG_RUNTIME_DIR": str(runtime), "LANG": "C.UTF-8"}


def probe(spec: dict) -> dict:
    proc = subprocess.run([SYSTEM_PYTHON, str(PROBE)], input=json.dumps(spec), capture_output=True, text=True,
                          env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def qgis_available():
    reason = _qgis_missing()
    if reason:
        pytest.skip(reason)


RANGES = {
    "before_everything": ["2019-01-01T00:00:00Z", "2019-01-02T00:00:00Z"],
    "claim_window": ["2020-05-01T00:00:00Z", "2020-05-02T00:00:00Z"],
    "late_claim": ["2020-07-15T00:00:00Z", "2020-07-16T00:00:00Z"],
    "after_scene": ["2020-08-01T10:30:00Z", "2020-08-02T10:30:00Z"],  # the controller's frame at the after scene
}


@pytest.fixture(scope="module")
def synthetic_seen(qgis_available, synthetic_output):
    gpkg = synthetic_output / "changes.gpkg"
    return probe({
        "vectors": [
            {"key": "changes", "uri": f"{gpkg}|layername=changes"},
            {"key": "aois", "uri": f"{gpkg}|layername=aois"},
            {"key": "claims", "uri": f"{gpkg}|layername=claims"},
            {"key": "geojson", "uri": str(synthetic_output / "changes.geojson")},
        ],
        "rasters": [{"key": n, "path": str(synthetic_output / f"{n}.tif")}
                    for n in ("before_rgb", "after_rgb", "change_statistic")],
        "projects": [{"key": "project", "path": str(synthetic_output / "project.qgz")}],
        "ranges": list(RANGES.values()),
    })


def test_geopackage_layers_load_valid_with_counts_and_crs(synthetic_seen):
    vectors = synthetic_seen["vectors"]
    assert {k: v["valid"] for k, v in vectors.items()} == {"changes": True, "aois": True, "claims": True, "geojson": True}
    assert (vectors["changes"]["count"], vectors["aois"]["count"], vectors["claims"]["count"]) == (3, 1, 3)
    assert {v["crs"] for v in vectors.values()} == {"EPSG:4326"}
    assert vectors["changes"]["invalid_geometries"] == 0


def test_default_styles_from_the_geopackage_are_applied(synthetic_seen):
    changes, claims, aois = (synthetic_seen["vectors"][k] for k in ("changes", "claims", "aois"))
    assert changes["styles_for_layer"] == ["changes"]
    assert changes["renderer"] == "categorizedSymbol" and changes["class_attribute"] == "change_type"
    assert changes["category_colours"]["new_bright_surface"] == "#e6194b"
    assert claims["renderer"] == "categorizedSymbol" and claims["class_attribute"] == "verdict"
    assert "inconsistent with the denial" in claims["categories"]
    # QGIS's own default for polygons is a solid random fill: a dashed empty outline is our style
    assert aois["symbol"]["style"] == "no" and aois["symbol"]["outline_style"] == "dash"


def test_geojson_sidecar_style_is_applied(synthetic_seen):
    geojson = synthetic_seen["vectors"]["geojson"]
    assert geojson["renderer"] == "categorizedSymbol" and geojson["class_attribute"] == "change_type"
    assert geojson["variant_types"]["before_date"] == DATE  # GDAL reads ISO dates as Date fields


def test_before_after_and_window_are_datetime_fields(synthetic_seen):
    changes, claims = synthetic_seen["vectors"]["changes"], synthetic_seen["vectors"]["claims"]
    assert changes["variant_types"]["before_date"] == changes["variant_types"]["after_date"] == DATETIME
    assert claims["variant_types"]["window_start"] == claims["variant_types"]["window_end"] == DATETIME


def test_geopackage_style_carries_the_time_settings(synthetic_seen):
    changes = synthetic_seen["vectors"]["changes"]
    # on open QGIS 3.22 resets time settings from the provider; restoring the default style brings them back
    assert changes["temporal_after_restore"] == {
        "active": True, "mode": 2, "start_field": "before_date", "end_field": "after_date"}
    assert synthetic_seen["vectors"]["claims"]["temporal_after_restore"]["start_field"] == "window_start"


def test_project_layers_load_styled_and_time_aware(synthetic_seen):
    project = synthetic_seen["projects"]["project"]
    assert project["read"] is True
    layers = project["layers"]
    assert all(layer["valid"] for layer in layers.values()), layers
    changes, claims = layers["changes"], layers["claim verdicts"]
    assert changes["temporal"] == {"active": True, "mode": 2, "start_field": "before_date", "end_field": "after_date"}
    assert claims["temporal"]["active"] and claims["temporal"]["start_field"] == "window_start"
    # the temporal controller's frames: changes live between the scenes, claims during their window
    assert changes["temporal_counts"] == [0, 3, 3, 3]
    assert claims["temporal_counts"] == [0, 2, 0, 0]
    before = next(v for k, v in layers.items() if k.startswith("before"))
    after = next(v for k, v in layers.items() if k.startswith("after"))
    assert before["visible_in"] == [False, True, True, False]
    assert after["visible_in"] == [False, False, False, True]
    assert project["time_range"][0].startswith("2020-03-01") and project["time_range"][1].startswith("2020-08-02")
    assert layers["changes"]["checked"] and not layers["claim verdicts"]["checked"]


def test_cogs_load_as_valid_raster_layers_with_their_styles(synthetic_seen, synthetic_output):
    rasters = synthetic_seen["rasters"]
    manifest = json.loads((synthetic_output / "manifest.json").read_text())
    rows, cols = manifest["grid"]["shape"]
    for name, raster in rasters.items():
        assert raster["valid"], (name, raster)
        assert raster["crs"] == manifest["grid"]["crs"]
        assert (raster["height"], raster["width"]) == (rows, cols)
        assert raster["overviews"] is True
    assert rasters["before_rgb"]["bands"] == 3 and rasters["before_rgb"]["renderer"] == "multibandcolor"
    low, high = rasters["before_rgb"]["stretch"][0]
    assert 0.0 < low < high < 0.5  # reflectance stretch from the sidecar, not QGIS's 0-1 default
    statistic = rasters["change_statistic"]
    assert statistic["bands"] == 1 and statistic["renderer"] == "singlebandpseudocolor"
    grow = manifest["statistic"]["threshold_grow"]
    alpha_at = [a for v, a in statistic["ramp"] if abs(v - grow) < 1e-3 * grow]
    assert alpha_at[0] == 0 and alpha_at[-1] > 0  # transparent up to the grow threshold, coloured above


def test_demo_geopackage_matches_its_geojson(qgis_available, demo_output):
    gpkg = demo_output / "changes.gpkg"
    seen = probe({"vectors": [{"key": "changes", "uri": f"{gpkg}|layername=changes"},
                              {"key": "geojson", "uri": str(demo_output / "changes.geojson")}],
                  "projects": [{"key": "project", "path": str(demo_output / "project.qgz")}],
                  "ranges": [["2016-06-01T00:00:00Z", "2016-06-02T00:00:00Z"]]})
    n = len(json.loads((demo_output / "changes.geojson").read_text())["features"])
    assert seen["vectors"]["changes"]["count"] == seen["vectors"]["geojson"]["count"] == n > 0
    layers = seen["projects"]["project"]["layers"]
    assert all(layer["valid"] for layer in layers.values())
    assert layers["changes"]["temporal_counts"] == [n]


def test_project_still_opens_when_the_run_folder_moves(qgis_available, synthetic_output, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(synthetic_output, moved)
    seen = probe({"projects": [{"key": "p", "path": str(moved / "project.qgz")}], "ranges": []})
    assert seen["projects"]["p"]["read"] and all(v["valid"] for v in seen["projects"]["p"]["layers"].values())


VESSEL_DAYS = ("2021-04-01", "2021-06-11", "2021-06-12", "2021-06-01")  # S1 date, S1 window date, S2 date, none


def test_vessel_detections_open_styled_and_on_the_time_slider(qgis_available, port_run_output):
    gpkg = port_run_output / "changes.gpkg"
    ranges = [[f"{day}T00:00:00Z", f"{day}T23:59:59Z"] for day in VESSEL_DAYS]
    seen = probe({"vectors": [{"key": "vessels", "uri": f"{gpkg}|layername=vessels"}],
                  "projects": [{"key": "project", "path": str(port_run_output / "project.qgz")}],
                  "ranges": ranges})
    features = json.loads((port_run_output / "vessels.geojson").read_text())["features"]
    per_day = [sum(1 for f in features if f["properties"]["date"] == day) for day in VESSEL_DAYS]
    assert per_day[0] > 0 and per_day[1] > per_day[0] and per_day[2] > 0 and per_day[3] == 0
    layer = seen["vectors"]["vessels"]
    assert layer["valid"] and layer["count"] == len(features) and layer["crs"] == "EPSG:4326"
    assert layer["invalid_geometries"] == 0
    assert layer["variant_types"]["datetime"] == DATETIME
    # the GeoPackage's default style: coloured by sensor, instants at the acquisition time
    assert layer["styles_for_layer"] == ["vessels"]
    assert layer["renderer"] == "categorizedSymbol" and layer["class_attribute"] == "sensor"
    assert layer["category_colours"] == {"s1": "#1f5fa8", "s2": "#c2571a"}
    assert layer["temporal_after_restore"] == {"active": True, "mode": 1, "start_field": "datetime", "end_field": ""}
    project = seen["projects"]["project"]
    assert project["read"] and all(v["valid"] for v in project["layers"].values()), project["layers"]
    in_project = project["layers"]["vessel detections"]
    assert in_project["temporal"]["active"] and in_project["temporal"]["start_field"] == "datetime"
    assert in_project["temporal_counts"] == per_day  # each date's ships, on that date's frame only
    # the project's time range spans the vessel series (1 April .. 13 June), not only the change pair
    assert project["time_range"][0].startswith("2021-04-01") and project["time_range"][1].startswith("2021-06-14")
