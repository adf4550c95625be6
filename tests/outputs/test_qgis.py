"""The run's layers opened by real QGIS (Debian's python3-qgis, headless), the way a user opens them:
the GeoPackage layers and the GeoJSON with their default styles, the COGs, and the project with its CRS and
temporal settings — and the project's map rendered, to see the change outlines land on the imagery. The
probe and the renderer run under /usr/bin/python3 in a subprocess and report what QGIS sees."""

from __future__ import annotations

import json
import os
from collections import Counter
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import geopandas
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from PIL import Image

from geo.outputs.palette import change_colour, rgb_triplet
from geo.outputs.qgis_project import NOT_COMPARED_NAME as NOT_COMPARED
from geo.outputs.styles import AOI_COLOUR

pytestmark = pytest.mark.qgis

SYSTEM_PYTHON = "/usr/bin/python3"
PROBE = Path(__file__).with_name("qgis_probe.py")
DATETIME = 16  # QVariant::DateTime
DATE = 14  # QVariant::Date
FROM_EXPRESSIONS = 4  # QgsVectorLayerTemporalProperties.ModeFeatureDateTimeStartAndEndFromExpressions


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
    "after_instant": ["2020-08-01T10:30:00Z", "2020-08-01T10:30:00Z"],  # the controller exactly at the after scene
    "project_end": ["2020-08-02T10:30:00Z", "2020-08-02T10:30:00Z"],  # the last instant of the time range
    # exactly when the claims' window opens and its last instant: its local days' (mean solar time at the synthetic
    # site, lon ~3 E: UTC+00:12), 2020-04-01 00:00 to 2020-06-30 23:59:59 there
    "claim_start": ["2020-03-31T23:48:00Z", "2020-03-31T23:48:00Z"],
    "claim_end": ["2020-06-30T23:47:59Z", "2020-06-30T23:47:59Z"],
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
        "definitions": [{"key": "changes_qlr", "path": str(synthetic_output / "changes.qlr")}],
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
    # QGIS's own default for polygons is a solid random fill: ours is a dashed outline on a dark halo, no fill
    halo, outline = aois["symbol_layers"]
    assert outline == {"style": "no", "outline_style": "dash", "outline_color": "255,212,0,255"}
    assert halo == {"style": "no", "outline_style": "solid", "outline_color": "0,0,0,190"}


def test_geojson_sidecar_style_is_applied(synthetic_seen):
    geojson = synthetic_seen["vectors"]["geojson"]
    assert geojson["renderer"] == "categorizedSymbol" and geojson["class_attribute"] == "change_type"
    assert geojson["variant_types"]["before_date"] == DATE  # GDAL reads ISO dates as Date fields


def test_every_layer_credits_the_copernicus_sentinel_data_it_is_made_of(synthetic_seen, synthetic_output):
    """The Sentinel data's licence asks that what is made of it say so: the report did, no layer did (QGIS's
    Properties > Metadata was blank; a map printed from QGIS had nothing to credit). Now the layers of the
    GeoPackage (opened alone: QGIS reads their metadata from it), of the project and of ``changes.qlr`` carry
    the statement with the years of the run's scenes (the synthetic run's: 2020), and the COGs GDAL's
    copyright tag, which QGIS shows in the layer's Information."""
    statement = "Contains modified Copernicus Sentinel data 2020"
    opened = {**{f"gpkg {k}": synthetic_seen["vectors"][k] for k in ("changes", "aois", "claims")},
              **{f"project {k}": v for k, v in synthetic_seen["projects"]["project"]["layers"].items()},
              **{f"qlr {k}": v for k, v in synthetic_seen["definitions"]["changes_qlr"]["layers"].items()}}
    assert len(opened) == 3 + 7 + 1, sorted(opened)  # the project's: with the areas not compared (none here)
    for name, layer in opened.items():
        metadata = layer["metadata"]
        assert metadata["rights"] == [statement], (name, metadata)
        assert metadata["title"] and len(metadata["abstract"]) > 40, (name, metadata)
    assert "test-site" in opened["project changes"]["metadata"]["abstract"]
    for name in ("before_rgb", "after_rgb", "change_statistic"):
        with rasterio.open(synthetic_output / f"{name}.tif") as cog:
            assert cog.tags()["TIFFTAG_COPYRIGHT"] == statement, name


def test_map_tips_name_a_changes_claims_as_words_from_the_geopackage_and_the_geojson(synthetic_seen):
    """The GeoPackage's ``claim_ids`` is JSON text (as the re-check store's), the GeoJSON's a list QGIS reads as
    a StringList: the changes' map tip shows both as the ids, not the JSON's brackets and quotes."""
    for key in ("changes", "geojson"):
        tips = synthetic_seen["vectors"][key]["map_tips"]
        assert tips and all("claims: test-construction, test-denial" in tip for tip in tips), (key, tips)


def test_before_after_and_window_are_datetime_fields(synthetic_seen):
    changes, claims = synthetic_seen["vectors"]["changes"], synthetic_seen["vectors"]["claims"]
    assert changes["variant_types"]["before_date"] == changes["variant_types"]["after_date"] == DATETIME
    assert claims["variant_types"]["window_start"] == claims["variant_types"]["window_end"] == DATETIME


def test_geopackage_style_carries_the_time_settings(synthetic_seen):
    changes = synthetic_seen["vectors"]["changes"]
    # on open QGIS 3.22 resets time settings from the provider; restoring the default style brings them back
    assert changes["temporal_after_restore"] == {
        "active": True, "mode": FROM_EXPRESSIONS, "start_field": "before_date", "end_field": "after_date",
        "start_expression": 'to_datetime("before_date")', "end_expression": 'to_datetime("after_date")'}
    claims = synthetic_seen["vectors"]["claims"]["temporal_after_restore"]
    assert (claims["start_expression"], claims["end_expression"]) == ('to_datetime("window_start")',
                                                                     'to_datetime("window_end")')


def test_project_layers_load_styled_and_time_aware(synthetic_seen, synthetic_output):
    project = synthetic_seen["projects"]["project"]
    assert project["read"] is True
    grid_crs = json.loads((synthetic_output / "manifest.json").read_text())["grid"]["crs"]
    assert project["crs"] == {"valid": True, "authid": grid_crs}
    assert project["ellipsoid"] == "EPSG:7030"  # was "NONE": QGIS measured flat in UTM
    layers = project["layers"]
    assert all(layer["valid"] for layer in layers.values()), layers
    changes, claims = layers["changes"], layers["claim verdicts"]
    # one pair: the changes are drawn for as long as either image shows (the project's whole time range)
    assert changes["temporal"]["active"] and changes["temporal"]["mode"] == 0  # fixed range
    assert changes["temporal"]["fixed_range"] == project["time_range"]
    assert claims["temporal"]["active"] and claims["temporal"]["start_field"] == "window_start"
    # the temporal controller's frames: changes over both images, claims during their window
    assert changes["temporal_counts"] == [0, 3, 3, 3, 3, 3, 3, 3]
    assert claims["temporal_counts"] == [0, 2, 0, 0, 0, 0, 2, 2]
    before = next(v for k, v in layers.items() if k.startswith("before"))
    after = next(v for k, v in layers.items() if k.startswith("after"))
    assert before["visible_in"] == [False, True, True, False, False, False, True, True]
    assert after["visible_in"] == [False, False, False, True, True, True, False, False]
    assert project["time_range"] == ["2020-03-01T10:30:00Z", "2020-08-02T10:30:00Z"]
    assert layers["changes"]["checked"] and not layers["claim verdicts"]["checked"]


def test_the_projects_metadata_names_the_run_and_credits_the_data(synthetic_seen, synthetic_output):
    """Project > Properties > Metadata was empty (its title alone, from the old <title>): a project handed on said
    nothing of what it shows, and not the credit the Copernicus licence asks of what is made of the data, which
    every layer gives. Its title, abstract (the area, the scenes and their dates, the credit) and author now."""
    manifest = json.loads((synthetic_output / "manifest.json").read_text())
    name, scenes = manifest["aoi"]["name"], manifest["scenes"]
    metadata = synthetic_seen["projects"]["project"]["metadata"]
    assert metadata["title"] == f"Changes over {name}"
    assert metadata["author"] == "geo workbench"
    abstract = metadata["abstract"]
    for role in ("before", "after"):
        assert f"{scenes[role]['id']} ({scenes[role]['datetime'][:10]})" in abstract, abstract
    assert name in abstract and abstract.endswith("Contains modified Copernicus Sentinel data 2020."), abstract


def test_the_change_statistic_is_on_the_time_slider_with_the_changes(synthetic_seen):
    """The statistic is of the pair, as the changes are: ticked, it showed also before the before scene (the
    plugin timed it with the changes, the project did not). Now it is drawn exactly when the changes are."""
    layers = synthetic_seen["projects"]["project"]["layers"]
    statistic = next(v for k, v in layers.items() if k.startswith("change statistic"))
    drawn_with_changes = [count > 0 for count in layers["changes"]["temporal_counts"]]
    assert statistic["temporal"]["active"] and statistic["visible_in"] == drawn_with_changes == [False] + [True] * 7


def test_layers_have_readable_field_names_and_no_labels(synthetic_seen):
    """Aliases from the default styles (GeoPackage, GeoJSON sidecar) and in the project; no labels anywhere."""
    vectors, in_project = synthetic_seen["vectors"], synthetic_seen["projects"]["project"]["layers"]
    opened = {**{f"gpkg {k}": v for k, v in vectors.items()},
              **{f"project {k}": in_project[k] for k in ("changes", "claim verdicts", "areas of interest")}}
    for name, layer in opened.items():
        fields = {field: alias for field, alias in layer["aliases"].items() if field != "fid"}
        unnamed = [field for field, alias in fields.items() if not alias or alias == field]
        assert fields and not unnamed, (name, unnamed)
        assert layer["labels"] is False, name
    for layer in ("gpkg changes", "gpkg geojson", "project changes"):
        assert opened[layer]["aliases"]["change_type"] == "Change type"
        assert opened[layer]["aliases"]["area_m2"] == "Area (m²)"
    assert opened["project claim verdicts"]["aliases"]["verdict"] == "Verdict"
    assert opened["gpkg aois"]["aliases"]["name"] == "Name"


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
    # Each band's colour as the COG declares it (band 1 was GDAL's default grey: "Band 1: red (Gray)").
    assert rasters["before_rgb"]["legend"] == ["Band 1: red (Red)", "Band 2: green (Green)", "Band 3: blue (Blue)"]
    low, high = rasters["before_rgb"]["stretch"][0]
    assert 0.0 < low < high < 0.5  # reflectance stretch from the sidecar, not QGIS's 0-1 default
    statistic = rasters["change_statistic"]
    assert statistic["bands"] == 1 and statistic["renderer"] == "singlebandpseudocolor"
    grow = manifest["statistic"]["threshold_grow"]
    alpha_at = [a for v, a in statistic["ramp"] if abs(v - grow) < 1e-3 * grow]
    assert alpha_at[0] == 0 and alpha_at[-1] > 0  # transparent up to the grow threshold, coloured above
    # The Layers panel lists each level with its label, in the detector's unit (a continuous ramp showed only a
    # gradient from 0 to its top value, the labels hidden).
    unit = manifest["statistic"]["unit"]
    assert f"{grow:.3g} {unit}: detection level" in statistic["legend"], statistic["legend"]
    assert f"{manifest['statistic']['threshold_strong']:.3g} {unit}: strong level (2 × detection)" in statistic["legend"]
    assert None not in statistic["legend"]
    # A print layout's legend draws each swatch opaque: the classes the map leaves transparent (the imagery
    # shows through) were pale yellow there, a colour the map never shows; now blank, as the page.
    swatches = statistic["layout_swatches"]
    assert swatches["no change"] == swatches["below the detection level"] == "#ffffff", swatches
    assert swatches[f"{grow:.3g} {unit}: detection level"] not in ("#ffffff", "#ffffb2")


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
    # The legend lists every kind of change with how many the run found (it listed eleven kinds, most absent,
    # with nothing to tell which were there); the claim verdicts likewise.
    kinds = Counter(f["properties"]["change_type"].replace("_", " ")
                    for f in json.loads((demo_output / "changes.geojson").read_text())["features"])
    legend = layers["changes"]["tree_legend"]
    assert all(f"{kind} [{count}]" in legend for kind, count in kinds.items()), (kinds, legend)
    assert "shadow [0]" in legend and sum(int(label.rsplit("[", 1)[1][:-1]) for label in legend) == n
    verdicts = Counter(v["verdict"] for v in json.loads((demo_output / "claims.json").read_text()))
    assert all(f"{verdict} [{count}]" in layers["claim verdicts"]["tree_legend"] for verdict, count in verdicts.items())


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
    instant = 'to_datetime("datetime")'  # from and to the same instant
    assert layer["temporal_after_restore"] == {"active": True, "mode": FROM_EXPRESSIONS, "start_field": "datetime",
                                               "end_field": "datetime", "start_expression": instant,
                                               "end_expression": instant}
    project = seen["projects"]["project"]
    assert project["read"] and all(v["valid"] for v in project["layers"].values()), project["layers"]
    in_project = project["layers"]["vessel detections"]
    assert in_project["temporal"]["active"] and in_project["temporal"]["start_field"] == "datetime"
    assert in_project["temporal_counts"] == per_day  # each date's ships, on that date's frame only
    # the project's time range spans the vessel series (1 April .. 13 June), not only the change pair
    assert project["time_range"][0].startswith("2021-04-01") and project["time_range"][1].startswith("2021-06-14")


def test_each_vessel_detection_shows_at_its_own_instant(qgis_available, port_run_output):
    """The time slider exactly at a scene's acquisition instant draws that scene's ships (QGIS 3.22 compiles a
    field's time filter into a comparison of the GeoPackage's text with its own, which missed them)."""
    features = json.loads((port_run_output / "vessels.geojson").read_text())["features"]
    instants = sorted({f["properties"]["datetime"] for f in features})
    per_instant = [sum(1 for f in features if f["properties"]["datetime"] == t) for t in instants]
    assert len(instants) > 3 and all(per_instant)
    gpkg = port_run_output / "changes.gpkg"
    seen = probe({"vectors": [{"key": "vessels", "uri": f"{gpkg}|layername=vessels"}],
                  "projects": [{"key": "project", "path": str(port_run_output / "project.qgz")}],
                  "ranges": [[t, t] for t in instants]})
    assert seen["projects"]["project"]["layers"]["vessel detections"]["temporal_counts"] == per_instant
    # the GeoPackage's own default style, once restored, sets the same time filter
    assert seen["vectors"]["vessels"]["temporal_counts_after_restore"] == per_instant


# The demo's project drawn as QGIS draws it (tests/outputs/qgis_render.py): PNGs whose pixels the tests read.
RENDERER = Path(__file__).with_name("qgis_render.py")
PIXELS_PER_CELL = 2  # the grid's 10 m cells on 2 pixels: a laptop canvas showing the whole AOI
COLOUR_TOLERANCE = 25  # per 0-255 channel: room for antialiasing, far below the colours' distances


@dataclass(frozen=True)
class DemoRender:
    facts: dict
    images: dict[str, np.ndarray]
    grid_crs: str
    bounds: tuple[float, float, float, float]
    changes: geopandas.GeoDataFrame  # in the grid's CRS
    aoi: geopandas.GeoDataFrame
    before: str
    after: str


def render(project: Path, renders: list[dict], size: tuple[int, int], out_dir: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """What tests/outputs/qgis_render.py reports, and its PNGs as RGB arrays by render key."""
    spec = {"project": str(project), "out_dir": str(out_dir), "renders": renders, "size": list(size)}
    proc = subprocess.run([SYSTEM_PYTHON, str(RENDERER)], input=json.dumps(spec), capture_output=True, text=True,
                          env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    facts = json.loads(proc.stdout)
    return facts, {key: np.asarray(Image.open(r["png"]).convert("RGB")).astype(int) for key, r in facts["renders"].items()}


@pytest.fixture(scope="module")
def demo_render(qgis_available, demo_output, tmp_path_factory) -> DemoRender:
    manifest = json.loads((demo_output / "manifest.json").read_text())
    grid = manifest["grid"]
    (a, _, c, _, e, f), (rows, cols) = grid["transform"], grid["shape"]
    bounds = (c, f + e * rows, c + a * cols, f)
    scenes = manifest["scenes"]
    before, after = (datetime.fromisoformat(scenes[k]["datetime"]) for k in ("before", "after"))
    after_layer, before_layer = f"after {after.date()}", f"before {before.date()}"
    out_dir = tmp_path_factory.mktemp("renders")
    instant = lambda moment: [moment.strftime("%Y-%m-%dT%H:%M:%SZ")] * 2  # noqa: E731
    renders = [
        {"key": "checked"},  # what the project shows on open, without the temporal controller
        {"key": "at_after", "at": instant(after)},
        {"key": "at_before", "at": instant(before)},
        {"key": "at_end", "at": "end"},
        {"key": "after_only", "layers": [after_layer]},
        {"key": "rasters_only", "layers": [after_layer, before_layer]},
    ]
    facts, images = render(demo_output / "project.qgz", renders, (cols * PIXELS_PER_CELL, rows * PIXELS_PER_CELL),
                           out_dir)
    return DemoRender(facts, images, grid["crs"], bounds,
                      geopandas.read_file(demo_output / "changes.geojson").to_crs(grid["crs"]),
                      geopandas.read_file(demo_output / "aoi.geojson").to_crs(grid["crs"]), before_layer, after_layer)


def _pixel(render: DemoRender, x: float, y: float) -> tuple[int, int]:
    """(row, col) of the map point (x, y) in a render of the grid's bounds."""
    size = (render.bounds[2] - render.bounds[0]) / render.images["checked"].shape[1]
    return int((render.bounds[3] - y) // size), int((x - render.bounds[0]) // size)


def _outline_samples(geometry, step_m: float = 10.0):
    """Points every ``step_m`` along every ring of a (multi)polygon."""
    for polygon in getattr(geometry, "geoms", [geometry]):
        for ring in (polygon.exterior, *polygon.interiors):
            n = max(int(ring.length // step_m), 4)
            yield from (ring.interpolate(i * ring.length / n) for i in range(n))


def _share_in_colour(render: DemoRender, image: str, frame: geopandas.GeoDataFrame, colour_of) -> float:
    """Share of the points along the frame's outlines whose pixel in ``image`` has the outline's colour."""
    hits = []
    for _, row in frame.iterrows():
        colour = np.array(rgb_triplet(colour_of(row)))
        for point in _outline_samples(row.geometry):
            pixel = render.images[image][_pixel(render, point.x, point.y)]
            hits.append(np.abs(pixel - colour).max() <= COLOUR_TOLERANCE)
    return float(np.mean(hits))


def _change_outlines(render: DemoRender, image: str) -> float:
    return _share_in_colour(render, image, render.changes, lambda row: change_colour(row["change_type"]))


def _away_from_outlines(render: DemoRender, every_px: int = 20) -> list[tuple[int, int]]:
    """Pixels at least 40 m from any change polygon and from the AOI outline: imagery only."""
    keep_out = shapely.union_all([*render.changes.geometry.buffer(40.0), *render.aoi.geometry.boundary.buffer(40.0)])
    height, width = render.images["checked"].shape[:2]
    size = (render.bounds[2] - render.bounds[0]) / width
    grid = [(row, col) for row in range(every_px // 2, height, every_px) for col in range(every_px // 2, width, every_px)]
    return [(row, col) for row, col in grid
            if not keep_out.contains(shapely.Point(render.bounds[0] + (col + 0.5) * size,
                                                   render.bounds[3] - (row + 0.5) * size))]


def _same_pixels(render: DemoRender, a: str, b: str, pixels: list[tuple[int, int]]) -> float:
    rows, cols = np.array(pixels).T
    return float(np.mean(np.abs(render.images[a][rows, cols] - render.images[b][rows, cols]).max(axis=1) <= 2))


def test_project_crs_and_view_are_the_job_grid(demo_render):
    facts = demo_render.facts
    assert facts["read"] is True
    assert facts["crs"] == {"valid": True, "authid": demo_render.grid_crs}
    assert facts["view_extent"] == pytest.approx(list(demo_render.bounds), abs=1e-3)
    for render in facts["renders"].values():
        assert render["errors"] == []
        assert render["extent"] == pytest.approx(list(demo_render.bounds), abs=1e-3)
        assert render["map_units_per_pixel"] == pytest.approx(10.0 / PIXELS_PER_CELL)


def test_change_outlines_are_drawn_over_the_imagery_where_the_changes_are(demo_render):
    checked = demo_render.facts["renders"]["checked"]
    # (the areas not compared drawn under the changes: the demo's layer is empty, all of its area was compared)
    assert checked["layers"] == ["areas of interest", "changes", NOT_COMPARED, demo_render.after, demo_render.before]
    # the pixels along every change polygon carry its type's outline colour, which the imagery alone does not
    assert len(demo_render.changes) > 10
    assert _change_outlines(demo_render, "checked") > 0.9
    assert _change_outlines(demo_render, "rasters_only") < 0.02
    # the AOI's dashed outline: about half of its length in the AOI colour
    aoi_share = _share_in_colour(demo_render, "checked", demo_render.aoi, lambda _: AOI_COLOUR)
    assert aoi_share > 0.3
    assert _share_in_colour(demo_render, "rasters_only", demo_render.aoi, lambda _: AOI_COLOUR) < 0.02


def test_at_the_after_scene_the_outlines_show_over_the_after_image(demo_render):
    imagery = _away_from_outlines(demo_render)
    assert len(imagery) > 300
    for key in ("at_after", "at_end"):  # the after scene's instant, and the last instant of the time range
        assert demo_render.facts["renders"][key]["drawn"] == ["areas of interest", "changes", NOT_COMPARED,
                                                              demo_render.after]
        assert _change_outlines(demo_render, key) > 0.9, key
        assert _same_pixels(demo_render, key, "after_only", imagery) > 0.98, key


def test_at_the_before_scene_the_outlines_show_over_the_before_image(demo_render):
    assert demo_render.facts["renders"]["at_before"]["drawn"] == ["areas of interest", "changes", NOT_COMPARED,
                                                                  demo_render.before]
    assert _change_outlines(demo_render, "at_before") > 0.9
    # two years apart, the two images differ almost everywhere
    assert _same_pixels(demo_render, "at_before", "after_only", _away_from_outlines(demo_render)) < 0.5


def test_vessels_are_drawn_at_exactly_their_instant(qgis_available, port_run_output, tmp_path):
    """The port project drawn with the time slider exactly at the first scene's acquisition instant: a mark
    under every ship of that scene; a second earlier, none."""
    manifest = json.loads((port_run_output / "manifest.json").read_text())
    rows, cols = manifest["grid"]["shape"]
    vessels = geopandas.read_file(port_run_output / "vessels.geojson").to_crs(manifest["grid"]["crs"])
    first = vessels["datetime"].min()
    ships = vessels[vessels["datetime"] == first].geometry.representative_point()
    assert len(ships) > 0
    at = lambda moment: {"layers": ["vessel detections"], "at": [moment.strftime("%Y-%m-%dT%H:%M:%SZ")] * 2}  # noqa: E731
    facts, images = render(port_run_output / "project.qgz",
                           [{"key": "exact", **at(first)}, {"key": "before", **at(first - pd.Timedelta(seconds=1))}],
                           (cols * PIXELS_PER_CELL, rows * PIXELS_PER_CELL), tmp_path)
    xmin, _, _, ymax = facts["renders"]["exact"]["extent"]
    size = facts["renders"]["exact"]["map_units_per_pixel"]
    pixels = [(int((ymax - p.y) // size), int((p.x - xmin) // size)) for p in ships]
    marked = {key: [bool(np.abs(image[row, col] - 255).max() > COLOUR_TOLERANCE) for row, col in pixels]
              for key, image in images.items()}
    assert all(marked["exact"]) and not any(marked["before"])
