"""The QGIS plugin as a user gets it: the zip built by the documented command, installed into a plugins
folder, started by QGIS's own plugin loader in Debian's PyQGIS (headless), and ``processing.run(
"geo:changejob", ...)`` on a polygon drawn in Web Mercator over the demo scenes — with the post-processing
of the algorithm dialog. The algorithm runs the real ``geo`` (a wrapper on PATH standing for the installed
command); the test reads the project QGIS ends up with and the PNGs it renders (in the test's output folder)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import geopandas
import numpy as np
import pytest
import rasterio
import shapely
from PIL import Image
from shapely.geometry import Polygon, box

from geo.outputs.palette import change_colour, rgb_triplet
from tests.align.crops import COREG_PAIR_512, shifted_pair
from tests.align.test_user_files import NAMES, _write
from tests.conftest import SHARED_DATA, run_geo
from tests.flows.conftest import DRAWN_RING
from tests.outputs.test_qgis import COLOUR_TOLERANCE, SYSTEM_PYTHON, _env, _outline_samples, _qgis_missing

pytestmark = pytest.mark.qgis

REPO = Path(__file__).resolve().parents[2]
CHECKER = Path(__file__).with_name("plugin_check.py")
DEMO = REPO / "scenes" / "demo"
BEFORE, AFTER = "2015-08-21", "2017-10-14"
CORE_PAIR_FILES = ("ref_S2A_20160608T153121_T33UUU_sub.jp2", "tgt_S2A_20160529T153631_T33UUU_sub.jp2")
FROM_EXPRESSIONS = 4  # QgsVectorLayerTemporalProperties.ModeFeatureDateTimeStartAndEndFromExpressions
STEPS = ["searching scenes", "read before scene", "co-register", "read after scene", "change statistic",
         "polygonise", "link claims", "writing outputs"]


@pytest.fixture(scope="module")
def qgis_ready():
    reason = _qgis_missing()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def plugins_dir(tmp_path_factory) -> Path:
    """The zip of ``python qgis_plugin/build.py --out DIR`` (README), unpacked as QGIS installs a plugin zip."""
    dist = tmp_path_factory.mktemp("dist")
    built = subprocess.run([sys.executable, str(REPO / "qgis_plugin" / "build.py"), "--out", str(dist)],
                           capture_output=True, text=True, cwd=tmp_path_factory.getbasetemp(), timeout=60)
    assert built.returncode == 0, built.stderr
    archive = Path(built.stdout.strip())
    assert archive.parent == dist and re.fullmatch(r"geo_workbench-\d+\.\d+\.\d+\.zip", archive.name)
    plugins = tmp_path_factory.mktemp("profile") / "python" / "plugins"
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        assert {n.split("/")[0] for n in names} == {"geo_workbench"}
        assert "geo_workbench/metadata.txt" in names and "geo_workbench/__init__.py" in names
        zipped.extractall(plugins)
    return plugins


@pytest.fixture(scope="module")
def geo_bin(tmp_path_factory) -> Path:
    """A folder with ``geo``: this checkout's workbench run by the project's interpreter (as pip installs it)."""
    folder = tmp_path_factory.mktemp("bin")
    (folder / "geo").write_text(f'#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -m geo "$@"\n')
    (folder / "geo").chmod(0o755)
    return folder


def check(plugins: Path, params: dict, path: str, setting: str | None = None, cancel_after: int | None = None,
          renders: list[dict] | None = None, project: Path | None = None, algorithm: str = "geo:changejob",
          runs: int = 1, env: dict[str, str] | None = None, then: list[dict] | None = None) -> dict:
    spec = {"plugins_dir": str(plugins), "setting": setting, "params": params, "cancel_after_steps": cancel_after,
            "algorithm": algorithm, "runs": runs, "then": then or [],
            "renders": renders or [], "project": str(project) if project else None}
    # A fresh home: QGIS keeps settings (the provider's geo command among them) in the user's profile.
    env = {**_env(), "PATH": path, "HOME": tempfile.mkdtemp(prefix="qgis-home-", dir=plugins.parent), **(env or {})}
    proc = subprocess.run([SYSTEM_PYTHON, str(CHECKER)], input=json.dumps(spec), capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def plain(name: str) -> str:
    """A loaded layer's name without its run's AOI and dates ('Changes (harbour-east 2015-08-21→2017-10-14)')."""
    return re.sub(r" \([^()]*→[^()]*\)$", "", name)


def _instant(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def drawn(qgis_ready, plugins_dir, geo_bin, tmp_path_factory):
    """The change job on a polygon drawn in EPSG:3857, geo found on PATH; renders with and without time."""
    work = tmp_path_factory.mktemp("drawn-job")
    out = work / "harbour-run"
    manifest_times = [datetime.fromisoformat(t) for t in ("2015-08-21T11:00:00+00:00", "2017-10-14T11:09:59+00:00")]
    renders = [{"key": "all", "png": str(work / "change-job.png")},
               {"key": "at_before", "png": str(work / "at-before.png"), "at": _instant(manifest_times[0])},
               {"key": "at_after", "png": str(work / "at-after.png"), "at": _instant(manifest_times[1])}]
    facts = check(plugins_dir, {"DRAWN": DRAWN_RING, "SOURCE": str(DEMO), "BEFORE": BEFORE, "AFTER": AFTER,
                                "OUTPUT": str(out)}, f"{geo_bin}:/usr/bin:/bin", renders=renders,
                  project=work / "with-results.qgz")
    return facts, out


def test_the_zip_installs_and_registers_the_provider(drawn):
    facts, _ = drawn
    assert facts["available"] and facts["started"]
    assert facts["provider"]["name"] == "Geo change workbench"
    assert facts["algorithms"] == ["geo:changejob", "geo:coregistration", "geo:rebuildreport", "geo:vesselcounts"]


def test_the_job_ran_on_the_drawn_polygon(drawn):
    facts, out = drawn
    assert facts["error"] is None, facts["feedback"]
    changes = geopandas.read_file(out / "changes.geojson")
    assert facts["results"]["N_CHANGES"] == len(changes) > 5
    assert facts["results"]["OUTPUT"] == str(out) and facts["results"]["ITEM"] == str(out / "item.json")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["aoi"]["id"] == "harbour-east"  # the layer's name
    assert manifest["aoi"]["name"] == "harbour east"
    # the polygon drawn in Web Mercator arrives in lon/lat where it was drawn
    aoi = geopandas.read_file(out / "aoi.geojson").geometry[0]
    drawn_polygon = Polygon(DRAWN_RING)
    assert aoi.symmetric_difference(drawn_polygon).area < 1e-4 * drawn_polygon.area
    assert all(drawn_polygon.buffer(1e-6).contains(g) for g in changes.geometry)


def test_every_algorithm_has_a_tooltip_and_help(drawn):
    """The toolbox's tooltip (shortDescription) was empty for all four; the dialog's help panel had its text."""
    descriptions = drawn[0]["descriptions"]
    assert sorted(descriptions) == drawn[0]["algorithms"]
    for algorithm, text in descriptions.items():
        assert text["short"] and "\n" not in text["short"] and len(text["short"]) < 120, algorithm
        assert text["help"] and text["help"] != text["short"], algorithm
    # a claim tests the AOI it names: the dialog says how a drawn layer is that AOI
    assert "name the AOI layer as the AOI id the claim names" in descriptions["geo:changejob"]["help"]


def test_the_runs_summary_is_in_the_log(drawn):
    """geo run's summary (the scenes it took for the dates given, the shift, the changes by type, the share of the
    AOI seen, where the evidence report is) went to a pipe nobody read: the log said only 'N change polygon(s)'."""
    facts, out = drawn
    infos = facts["feedback"]["infos"]
    assert ("AOI harbour-east: S2A_30TXT_20150821_L1C_nantes (2015-08-21) -> S2_30TXT_20171014_L1C_nantes "
            "(2017-10-14)") in infos
    assert any(i.startswith(f"{facts['results']['N_CHANGES']} change polygons (") for i in infos), infos
    assert f"evidence report: {out}/report.html (open in a browser)" in infos


def test_progress_is_streamed_step_by_step(drawn):
    feedback = drawn[0]["feedback"]
    steps = [t.split(": ", 1)[1] for t in feedback["texts"] if t.startswith("change job harbour-east: ")]
    assert steps == STEPS
    job_progress = feedback["progress"][:feedback["progress"].index(100.0) + 1]
    assert job_progress == sorted(job_progress) and len(job_progress) == len(STEPS) + 1
    assert any(i.startswith("geo started (pid ") for i in feedback["infos"])


def test_layers_load_valid_styled_and_time_aware(drawn):
    facts, out = drawn
    manifest = json.loads((out / "manifest.json").read_text())
    before, after = (datetime.fromisoformat(manifest["scenes"][k]["datetime"]) for k in ("before", "after"))
    day = timedelta(days=1)
    layers = {plain(layer["name"]): layer for layer in facts["layers"]}
    assert list(layers) == ["Changes", "Area of interest", "Change statistic", f"After {after.date()}",
                            f"Before {before.date()}"]  # top to bottom: outlines over the imagery
    run = f"harbour-east {before.date()}→{after.date()}"  # told from another run's: its AOI and dates
    assert [layer["name"] for layer in facts["layers"]] == [f"{name} ({run})" for name in layers]
    assert all(layer["valid"] and layer["crs"]["valid"] for layer in layers.values())
    assert facts["project_crs"] == {"valid": True, "authid": manifest["grid"]["crs"]}
    changes = layers["Changes"]
    assert changes["features"] == facts["results"]["N_CHANGES"]
    assert changes["renderer"] == "categorizedSymbol" and changes["attribute"] == "change_type"
    types = set(geopandas.read_file(out / "changes.geojson")["change_type"])
    assert types <= set(changes["categories"])
    for name, file in (("Change statistic", "change_statistic.qml"), (f"After {after.date()}", "after_rgb.qml")):
        qml = (out / file).read_text()
        assert layers[name]["renderer"] == re.search(r'<rasterrenderer type="(\w+)"', qml).group(1)
    assert layers[f"Before {before.date()}"]["renderer"] == "multibandcolor"
    spans = {name: layer["temporal"]["range"] for name, layer in layers.items() if layer["temporal"]["active"]}
    assert spans == {
        "Changes": [_instant(before), _instant(after + day)],
        "Change statistic": [_instant(before), _instant(after + day)],
        f"After {after.date()}": [_instant(after), _instant(after + day)],
        f"Before {before.date()}": [_instant(before), _instant(after)],
    }


def test_every_layer_loaded_credits_the_copernicus_sentinel_data(drawn):
    """*Layer Properties > Metadata* of the loaded layers was blank; now each names the data it is made of with
    its years: the GeoPackage's layers from the GeoPackage, the COGs from the plugin (the demo pair's scenes:
    2015 and 2017)."""
    facts, _ = drawn
    rights = {plain(layer["name"]): layer["rights"] for layer in facts["layers"]}
    credit = "Contains modified Copernicus Sentinel data"
    assert rights == {"Changes": [f"{credit} 2015–2017"], "Area of interest": [f"{credit} 2015–2017"],
                      "Change statistic": [f"{credit} 2015–2017"], f"After {AFTER}": [f"{credit} 2017"],
                      f"Before {BEFORE}": [f"{credit} 2015"]}


def _image(render: dict) -> np.ndarray:
    return np.asarray(Image.open(render["png"]).convert("RGB")).astype(int)


def _outline_share(render: dict, changes: geopandas.GeoDataFrame) -> float:
    image = _image(render)
    xmin, _, xmax, ymax = render["extent"]
    size = (xmax - xmin) / render["width"]
    hits = []
    for _, row in changes.iterrows():
        colour = np.array(rgb_triplet(change_colour(row["change_type"])))
        for point in _outline_samples(row.geometry):
            pixel = image[int((ymax - point.y) // size), int((point.x - xmin) // size)]
            hits.append(np.abs(pixel - colour).max() <= COLOUR_TOLERANCE)
    return float(np.mean(hits))


def test_the_rendered_map_shows_the_change_outlines_over_the_imagery(drawn):
    facts, out = drawn
    renders = facts["renders"]
    assert all(r["errors"] == [] and Path(r["png"]).stat().st_size > 10_000 for r in renders.values())
    crs = facts["project_crs"]["authid"]
    changes = geopandas.read_file(out / "changes.geojson").to_crs(crs)
    for key in ("all", "at_before", "at_after"):
        assert _outline_share(renders[key], changes) > 0.9, key
    # the time slider switches the imagery: away from the outlines, the before and after renders differ
    before, after = _image(renders["at_before"]), _image(renders["at_after"])
    keep_out = shapely.union_all([*changes.geometry.buffer(40.0)])
    xmin, _, xmax, ymax = renders["all"]["extent"]
    size = (xmax - xmin) / renders["all"]["width"]
    pixels = [(r, c) for r in range(10, 900, 30) for c in range(10, 900, 30)
              if not keep_out.contains(shapely.Point(xmin + (c + 0.5) * size, ymax - (r + 0.5) * size))]
    rows, cols = np.array(pixels).T
    same = np.abs(before[rows, cols] - after[rows, cols]).max(axis=1) <= 2
    assert len(pixels) > 500 and same.mean() < 0.5


def test_cancel_stops_geo_and_loads_nothing(qgis_ready, plugins_dir, geo_bin, tmp_path):
    out = tmp_path / "canceled"
    facts = check(plugins_dir, {"DRAWN": DRAWN_RING, "SOURCE": str(DEMO), "BEFORE": BEFORE, "AFTER": AFTER,
                                "OUTPUT": str(out)}, f"{geo_bin}:/usr/bin:/bin", cancel_after=2)
    assert facts["results"] is None and "canceled" in facts["error"]
    stopped = [i for i in facts["feedback"]["infos"] if i.startswith("geo (pid ")]
    assert len(stopped) == 1 and stopped[0].endswith("stopped: canceled")
    pid = int(re.search(r"pid (\d+)", stopped[0]).group(1))
    assert not Path(f"/proc/{pid}").exists()
    assert facts["layers"] == [] and not (out / ".geo-complete.json").exists()
    assert len([t for t in facts["feedback"]["texts"] if t.startswith("change job")]) < len(STEPS)


def test_the_canvas_extent_and_a_configured_geo_command(qgis_ready, plugins_dir, geo_bin, tmp_path):
    """geo not on PATH: found through the provider's setting; the area is an extent given in EPSG:3857."""
    out = tmp_path / "extent-run"
    params = {"EXTENT_LONLAT": [-1.565, 47.19, -1.535, 47.215], "SOURCE": str(DEMO), "BEFORE": BEFORE,
              "AFTER": AFTER, "OUTPUT": str(out)}
    missing = check(plugins_dir, params, "/usr/bin:/bin")
    assert missing["results"] is None and "geo command was not found on PATH" in missing["error"]
    facts = check(plugins_dir, params, "/usr/bin:/bin", setting=str(geo_bin / "geo"))
    assert facts["error"] is None, facts["feedback"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["aoi"]["id"] == "extent"
    assert facts["results"]["N_CHANGES"] == len(json.loads((out / "changes.geojson").read_text())["features"]) > 5
    assert [plain(layer["name"]) for layer in facts["layers"]][:2] == ["Changes", "Area of interest"]


def test_a_geo_command_setting_naming_a_folder_or_a_plain_file_says_so(qgis_ready, plugins_dir, geo_bin, tmp_path):
    """The provider's setting given the venv's bin folder (a slip when pasting) or a file that is not a program:
    the message says which, and the command to give; not 'Permission denied', which sends the user to chmod."""
    plain = tmp_path / "geo.txt"
    plain.write_text("not a program\n")
    params = {"EXTENT_LONLAT": [-1.565, 47.19, -1.535, 47.215], "SOURCE": str(DEMO), "BEFORE": BEFORE,
              "AFTER": AFTER, "OUTPUT": str(tmp_path / "never")}
    folder = check(plugins_dir, params, "/usr/bin:/bin", setting=str(geo_bin))
    assert folder["results"] is None
    assert folder["error"] == (f"the geo command setting {geo_bin} is a folder: give the command in it, "
                               f"{geo_bin / 'geo'} (Processing > Options > Providers > Geo change workbench)")
    not_program = check(plugins_dir, params, "/usr/bin:/bin", setting=str(plain))
    assert not_program["error"] == (f"the geo command setting {plain} is not an executable file: give the geo "
                                    "command (Processing > Options > Providers > Geo change workbench)")
    assert "Permission denied" not in folder["error"] + not_program["error"]
    assert not (tmp_path / "never").exists()


def test_a_layer_named_in_another_script_gets_the_id_the_command_line_gives_its_name(qgis_ready, plugins_dir,
                                                                                    geo_bin, tmp_path):
    """The plugin wrote the layer's area to a file named by its own slug, ASCII letters and digits only: a layer
    "Hamhŭng" became 'hamh-ng' (``geo run --aoi Hamhŭng.geojson``: 'hamhung', the id a store keys it by), and
    layers "Владивосток port" and "Находка port" were both 'port'. The layer's name is now the file's, and
    ``geo`` makes the id, as from any file."""
    from geo.aoi import slugify

    ids = {}
    for name in ("Hamhŭng", "Владивосток port", "Находка port"):
        out = tmp_path / slugify(name)
        facts = check(plugins_dir, {"DRAWN": DRAWN_RING, "DRAWN_NAME": name, "SOURCE": str(DEMO), "BEFORE": BEFORE,
                                    "AFTER": AFTER, "OUTPUT": str(out)}, f"{geo_bin}:/usr/bin:/bin")
        assert facts["error"] is None, facts["feedback"]
        aoi = json.loads((out / "manifest.json").read_text())["aoi"]
        assert aoi["name"] == name
        ids[name] = aoi["id"]
    assert ids["Hamhŭng"] == "hamhung"
    assert ids["Владивосток port"] == slugify("Владивосток port") != ids["Находка port"] == slugify("Находка port")


def test_a_rerun_into_the_same_folder_replaces_its_layers(qgis_ready, plugins_dir, geo_bin, tmp_path):
    """The job run twice into one folder (a polygon drawn in lon/lat): the project holds each layer once, on the
    second run's files, not a second copy of every layer."""
    out = tmp_path / "again"
    params = {"DRAWN": DRAWN_RING, "DRAWN_CRS": "EPSG:4326", "SOURCE": str(DEMO), "BEFORE": BEFORE, "AFTER": AFTER,
              "OUTPUT": str(out)}
    facts = check(plugins_dir, params, f"{geo_bin}:/usr/bin:/bin", runs=2)
    assert facts["error"] is None, facts["feedback"]
    assert [t for t in facts["feedback"]["texts"] if t.endswith("writing outputs")] == [
        "change job harbour-east: writing outputs"] * 2  # geo really ran twice
    manifest = json.loads((out / "manifest.json").read_text())
    after, before = (manifest["scenes"][k]["datetime"][:10] for k in ("after", "before"))
    layers = facts["layers"]
    assert [plain(layer["name"]) for layer in layers] == ["Changes", "Area of interest", "Change statistic",
                                                  f"After {after}", f"Before {before}"]
    assert all(layer["valid"] and layer["crs"]["valid"] and layer["source"].startswith(str(out)) for layer in layers)
    assert layers[0]["features"] == facts["results"]["N_CHANGES"] > 5
    drawn_polygon = Polygon(DRAWN_RING)
    aoi = geopandas.read_file(out / "aoi.geojson").geometry[0]
    assert aoi.symmetric_difference(drawn_polygon).area < 1e-4 * drawn_polygon.area


def test_runs_layers_are_named_apart_by_their_area_dates_and_folder(qgis_ready, plugins_dir, geo_bin, tmp_path):
    """Runs of the job into other folders: the Layers panel showed two "Changes", two "Area of interest", two
    "Change statistic", with nothing to tell which run each was. Each name now ends with the run's AOI and the dates
    of its pair, and, when another run's are the same (the same pair taken again), with its folder's name."""
    params = {"DRAWN": DRAWN_RING, "DRAWN_CRS": "EPSG:4326", "SOURCE": str(DEMO), "BEFORE": BEFORE, "AFTER": AFTER,
              "OUTPUT": str(tmp_path / "first")}
    facts = check(plugins_dir, params, f"{geo_bin}:/usr/bin:/bin",  # 2017-07-01 is taken by the demo's last scene
                  then=[{"AFTER": "2017-07-01", "OUTPUT": str(tmp_path / "second")}])
    assert facts["error"] is None, facts["feedback"]
    names = [layer["name"] for layer in facts["layers"]]
    assert len(names) == len(set(names)) == 10, names
    manifest = json.loads((tmp_path / "first" / "manifest.json").read_text())
    before, after = (manifest["scenes"][k]["datetime"][:10] for k in ("before", "after"))
    run = f"harbour-east {before}→{after}"
    layers = ["Changes", "Area of interest", "Change statistic", f"After {after}", f"Before {before}"]
    assert sorted(names) == sorted([f"{layer} ({run})" for layer in layers]
                                   + [f"{layer} ({run}, second)" for layer in layers]), names


def test_tested_claims_load_their_verdicts_unchecked_and_timed_by_window(qgis_ready, plugins_dir, geo_bin,
                                                                          tmp_path):
    """Claims given to the job: their verdicts come into the project as in the run's own (unchecked, coloured
    by verdict, each claim on the time slider during its window); none were loaded, so a QGIS user saw no
    verdict at all."""
    out = tmp_path / "claims-run"
    params = {"DRAWN": DRAWN_RING, "DRAWN_CRS": "EPSG:4326", "DRAWN_NAME": "demo-nantes-port", "SOURCE": str(DEMO),
              "BEFORE": BEFORE, "AFTER": AFTER, "CLAIMS": "demo-nantes-construction", "OUTPUT": str(out)}
    facts = check(plugins_dir, params, f"{geo_bin}:/usr/bin:/bin")
    assert facts["error"] is None, facts["feedback"]
    verdict, = json.loads((out / "claims.json").read_text())
    layers = {plain(layer["name"]): layer for layer in facts["layers"]}
    assert list(layers)[:3] == ["Changes", "Claim verdicts", "Area of interest"]
    claims = layers["Claim verdicts"]
    assert claims["valid"] and claims["features"] == 1 and not claims["checked"]
    assert claims["renderer"] == "categorizedSymbol" and claims["attribute"] == "verdict"
    assert verdict["verdict"] in claims["categories"]
    assert claims["temporal"]["active"] and claims["temporal"]["mode"] == 4  # from the window's expressions
    assert all(layer["checked"] for name, layer in layers.items() if name != "Claim verdicts")


VESSEL_CLAIM = """
[document]
title = "ships"
url = ""

[[claim]]
id = "nantes-ships"
claimant = "test"
statement = "Large transport ships berthed in the port of Nantes in autumn 2017."
date_stated = 2017-10-31
stance = "assert"
aoi_ids = ["demo-nantes-port"]
window = { start = 2017-09-01, end = 2017-10-31 }
signatures = ["large_vessels_at_berth"]
"""


def test_counted_ships_load_as_vessel_detections(qgis_ready, plugins_dir, geo_bin, tmp_path):
    """A claim predicting ships makes the job count them: the detections come into the project too (they were
    only in the run's own project and GeoPackage)."""
    root = tmp_path / "project"
    (root / "aoi").mkdir(parents=True)
    (root / "seeds").mkdir()
    (root / "scenes").mkdir()
    shutil.copy(REPO / "aoi" / "demo-nantes-port.geojson", root / "aoi")
    (root / "seeds" / "ships.toml").write_text(VESSEL_CLAIM, encoding="utf-8")
    (root / "scenes" / "demo").symlink_to(DEMO)
    out = tmp_path / "ships-run"
    port = json.loads((REPO / "aoi" / "demo-nantes-port.geojson").read_text())["geometry"]["coordinates"][0]
    params = {"DRAWN": port, "DRAWN_CRS": "EPSG:4326", "DRAWN_NAME": "demo-nantes-port", "SOURCE": str(DEMO),
              "BEFORE": BEFORE, "AFTER": AFTER, "CLAIMS": "nantes-ships", "OUTPUT": str(out)}
    facts = check(plugins_dir, params, f"{geo_bin}:/usr/bin:/bin", env={"GEO_ROOT": str(root)})
    assert facts["error"] is None, facts["feedback"]
    detections = json.loads((out / "vessels.geojson").read_text())["features"]
    layers = {plain(layer["name"]): layer for layer in facts["layers"]}
    assert list(layers)[:4] == ["Changes", "Vessel detections", "Claim verdicts", "Area of interest"]
    vessels = layers["Vessel detections"]
    assert vessels["valid"] and vessels["checked"] and vessels["features"] == len(detections) > 0
    assert vessels["renderer"] == "categorizedSymbol" and vessels["attribute"] == "sensor"


FAR_RING = [[x + 5.0, y] for x, y in DRAWN_RING]  # a second area, far from the demo scenes
# drawn by hand with its edges crossing at (-1.55, 47.2025)
BOWTIE = [[-1.565, 47.19], [-1.535, 47.215], [-1.535, 47.19], [-1.565, 47.215], [-1.565, 47.19]]
BOWTIE_FAULT = ("is not a valid polygon (Self-intersection at -1.55000, 47.20250, lon/lat): its edges cross (a "
                "bow-tie): move the corners so they do not, or let QGIS split it (Vector > Geometry Tools > Fix "
                "Geometries)")


@pytest.mark.parametrize("drawn, message", [
    ({"DRAWN": []}, "AOI layer 'harbour east': has no polygon (empty); draw one in it, or give another layer"),
    ({"DRAWN": DRAWN_RING, "DRAWN_KIND": "Point"},
     "AOI layer 'harbour east': holds points, not polygons; give a polygon layer (or draw one)"),
    ({"DRAWN": [FAR_RING, DRAWN_RING], "SELECTED": []},
     "AOI layer 'harbour east': no polygon selected ('Selected features only' is ticked); select the polygons or "
     "untick it"),
    # a shapefile without .prj: geo was handed its UTM metres as lon/lat and told the user to re-save a
    # temporary file in EPSG:4326
    ({"DRAWN": DRAWN_RING, "DRAWN_CRS": "EPSG:32630", "DRAWN_NO_CRS": True},
     "AOI layer 'harbour east': has no CRS, so where its polygons are is unknown; set it (Layer Properties > "
     "Source > Assigned Coordinate Reference System) and run again"),
    # a good polygon and one drawn crossing itself: their union failed in QGIS, and geo was handed a feature
    # without geometry ('the feature has no geometry', naming a temporary file)
    ({"DRAWN": [DRAWN_RING, BOWTIE], "DRAWN_CRS": "EPSG:4326"}, f"AOI layer 'harbour east': feature 2 {BOWTIE_FAULT}"),
    ({"DRAWN": [BOWTIE], "DRAWN_CRS": "EPSG:4326"}, f"AOI layer 'harbour east': feature 1 {BOWTIE_FAULT}"),
    # drawn and not saved yet: QGIS's negative feature id ('feature -3') named nothing the user could find
    ({"DRAWN": [DRAWN_RING, BOWTIE], "DRAWN_CRS": "EPSG:4326", "DRAWN_UNSAVED": True},
     f"AOI layer 'harbour east': a feature not saved yet (drawn since the last Save Layer Edits) {BOWTIE_FAULT}"),
    # lon/lat coordinates in a layer labelled Lambert-93: geo said 'lon/lat degrees read as metres? check the
    # file's CRS' of a temporary file whose CRS the plugin had written right
    ({"DRAWN": DRAWN_RING, "DRAWN_CRS": "EPSG:4326", "DRAWN_WRONG_CRS": "EPSG:2154"},
     "AOI layer 'harbour east': its polygons span 0.030 x 0.025 m in its CRS, EPSG:2154 (RGF93 v1 / Lambert-93): "
     "lon/lat degrees in a layer given a projected CRS? set the CRS its coordinates are in (Layer Properties > "
     "Source > Assigned Coordinate Reference System; EPSG:4326 for lon/lat) and run again"),
])
def test_an_aoi_layer_without_polygons_is_named_and_geo_not_started(qgis_ready, plugins_dir, geo_bin, tmp_path,
                                                                     drawn, message):
    out = tmp_path / "never"
    facts = check(plugins_dir, {**drawn, "SOURCE": str(DEMO), "BEFORE": BEFORE, "AFTER": AFTER, "OUTPUT": str(out)},
                  f"{geo_bin}:/usr/bin:/bin")
    assert facts["results"] is None and facts["error"] == message
    assert not any(i.startswith("geo started") for i in facts["feedback"]["infos"])
    assert not any("Traceback" in line for line in facts["feedback"]["log"])
    assert facts["layers"] == [] and not out.exists()


def test_the_selected_polygon_of_a_layer_of_two_is_the_aoi(qgis_ready, plugins_dir, geo_bin, tmp_path):
    out = tmp_path / "selected"
    facts = check(plugins_dir, {"DRAWN": [FAR_RING, DRAWN_RING], "SELECTED": [1], "SOURCE": str(DEMO),
                                "BEFORE": BEFORE, "AFTER": AFTER, "OUTPUT": str(out)}, f"{geo_bin}:/usr/bin:/bin")
    assert facts["error"] is None, facts["feedback"]
    assert "area of interest: harbour east (1 polygon(s))" in facts["feedback"]["infos"][0]
    aoi = geopandas.read_file(out / "aoi.geojson").geometry[0]
    drawn_polygon = Polygon(DRAWN_RING)
    assert aoi.symmetric_difference(drawn_polygon).area < 1e-4 * drawn_polygon.area  # not the far one
    assert [plain(layer["name"]) for layer in facts["layers"]][:2] == ["Changes", "Area of interest"]


@pytest.mark.parametrize("change, needles", [
    ({"BEFORE": AFTER, "AFTER": BEFORE}, ["'After' 2015-08-21 is before 'Before' 2017-10-14"]),
    ({"OUTPUT": "a-file/run"}, ["'Run folder'", "a-file is a file, not a folder"]),
])
def test_reversed_dates_and_an_unwritable_folder_fail_with_geos_line(qgis_ready, plugins_dir, geo_bin, tmp_path,
                                                                      change, needles):
    (tmp_path / "a-file").write_text("not a folder\n")
    params = {"DRAWN": DRAWN_RING, "SOURCE": str(DEMO), "BEFORE": BEFORE, "AFTER": AFTER, "OUTPUT": "run", **change}
    params["OUTPUT"] = str(tmp_path / params["OUTPUT"])
    facts = check(plugins_dir, params, f"{geo_bin}:/usr/bin:/bin")
    assert facts["results"] is None and facts["error"].startswith("geo run failed: Error: ")
    assert "\n" not in facts["error"] and all(n in facts["error"] for n in needles), facts["error"]
    # the parameters as the dialog labels them, not geo's options the user never typed (--after, --out)
    assert not re.search(r"--(after|before|out)\b", facts["error"]), facts["error"]
    assert not any("Traceback" in line for line in facts["feedback"]["log"])
    assert facts["layers"] == [] and sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_geo_in_its_own_environment_runs_under_qgis_launcher_settings(qgis_ready, plugins_dir, tmp_path):
    """QGIS's launchers set PYTHONHOME, PYTHONPATH and PYTHONEXECUTABLE for QGIS's Python; ``geo`` installed in
    another environment (a console script on its own interpreter, as pip writes it) must not inherit them. Its
    path, with a space, is set in the provider as a user pastes it (unquoted)."""
    venv_geo = tmp_path / "my venvs" / "geo" / "bin" / "geo"  # set in the provider as pasted: spaces unquoted
    venv_geo.parent.mkdir(parents=True)
    venv_geo.write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(REPO)!r})  # the install\n"
                        "from geo.cli import main\nsys.exit(main())\n")
    venv_geo.chmod(0o755)
    qgis_only = tmp_path / "qgis-python"  # stands for QGIS's own packages: a click geo must not import
    (qgis_only / "click").mkdir(parents=True)
    (qgis_only / "click" / "__init__.py").write_text("raise ImportError('QGIS's PYTHONPATH reached geo')\n")
    out = tmp_path / "venv-run"
    facts = check(plugins_dir, {"DRAWN": DRAWN_RING, "SOURCE": str(DEMO), "BEFORE": BEFORE, "AFTER": AFTER,
                                "OUTPUT": str(out)}, "/usr/bin:/bin", setting=str(venv_geo),
                  env={"PYTHONHOME": "/usr", "PYTHONPATH": str(qgis_only), "PYTHONEXECUTABLE": SYSTEM_PYTHON})
    assert facts["error"] is None, facts["feedback"]
    assert facts["results"]["N_CHANGES"] == len(json.loads((out / "changes.geojson").read_text())["features"]) > 5
    assert [plain(layer["name"]) for layer in facts["layers"]][:2] == ["Changes", "Area of interest"]


def test_a_geo_that_cannot_start_fails_with_the_exception_not_a_traceback(qgis_ready, plugins_dir, tmp_path):
    """An install missing a package: Python's traceback stays out of QGIS's log; its last line is the error."""
    broken = tmp_path / "venv" / "bin" / "geo"
    broken.parent.mkdir(parents=True)
    broken.write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(REPO)!r})\n"
                      "sys.modules['click'] = None  # as if the install lacked it\n"
                      "from geo.cli import main\nsys.exit(main())\n")
    broken.chmod(0o755)
    facts = check(plugins_dir, {"DRAWN": DRAWN_RING, "SOURCE": str(DEMO), "BEFORE": BEFORE, "AFTER": AFTER,
                                "OUTPUT": str(tmp_path / "never")}, "/usr/bin:/bin", setting=str(broken))
    assert facts["results"] is None
    assert facts["error"] == (f"geo run failed: ModuleNotFoundError: import of click halted; None in sys.modules "
                              f"(geo could not start: run {broken} --version in a terminal to see why)")
    log = "\n".join(facts["feedback"]["log"])
    assert "Traceback" not in log and 'File "' not in log
    assert not (tmp_path / "never").exists()


def test_a_failing_geo_shows_its_message(qgis_ready, plugins_dir, geo_bin, tmp_path):
    params = {"DRAWN": DRAWN_RING, "SOURCE": str(DEMO), "BEFORE": "21/08/2015", "AFTER": AFTER,
              "OUTPUT": str(tmp_path / "bad")}
    facts = check(plugins_dir, params, f"{geo_bin}:/usr/bin:/bin")
    assert facts["results"] is None and facts["error"].startswith("geo run failed: Error:")
    assert "'Before'" in facts["error"] and "YYYY-MM-DD" in facts["error"] and "--before" not in facts["error"]
    assert facts["feedback"]["errors"] == []  # said once, by the exception (the dialog logged it twice)
    assert not (tmp_path / "bad").exists()


def test_a_feature_of_overlapping_parts_is_their_union(qgis_ready, plugins_dir, geo_bin, tmp_path):
    """A feature whose parts overlap (QGIS's Add Part) is invalid as a whole but each part is a good polygon: geo
    takes their union, and so does the plugin (its check of self-crossing polygons looks at each part)."""
    west = [[x, y] for x, y in DRAWN_RING[:1]] + [[-1.545, 47.19], [-1.545, 47.215], [-1.565, 47.215], [-1.565, 47.19]]
    east = [[-1.555, 47.19], [-1.535, 47.19], [-1.535, 47.215], [-1.555, 47.215], [-1.555, 47.19]]
    out = tmp_path / "parts"
    facts = check(plugins_dir, {"DRAWN": [west, east], "DRAWN_KIND": "MultiPolygon", "DRAWN_CRS": "EPSG:4326",
                                "SOURCE": str(DEMO), "BEFORE": BEFORE, "AFTER": AFTER, "LOAD": False,
                                "OUTPUT": str(out)}, f"{geo_bin}:/usr/bin:/bin")
    assert facts["error"] is None, facts["error"]
    aoi = geopandas.read_file(out / "aoi.geojson").geometry[0]
    drawn_polygon = Polygon(DRAWN_RING)
    assert aoi.symmetric_difference(drawn_polygon).area < 1e-4 * drawn_polygon.area


@pytest.fixture
def geo_spy(tmp_path) -> Path:
    """A ``geo`` that keeps a copy of the AOI file it is given (``aoi.geojson`` beside it): the area QGIS sent."""
    folder = tmp_path / "spy"
    folder.mkdir()
    (folder / "geo").write_text(
        '#!/bin/sh\nprev=""\nfor a in "$@"; do [ "$prev" = "--aoi" ] && cp "$a" ' + f'"{folder}/aoi.geojson"; '
        'prev="$a"; done\n' + f'PYTHONPATH={REPO} exec {sys.executable} -m geo "$@"\n')
    (folder / "geo").chmod(0o755)
    return folder


def test_polygons_drawn_across_180_in_utm_are_the_area_geo_gets(qgis_ready, plugins_dir, geo_spy, tmp_path):
    """Two overlapping harbour polygons drawn across 180 in UTM zone 60: QGIS's union of them in lon/lat (each ring
    jumping from 179.94 to -179.96, read the long way round) lost the first's strip beside the second."""
    from shapely import union_all

    from geo.aoi import geodesic_area_m2, load_drawn_aoi

    rings = [[[179.94, 68.9], [180.04, 68.9], [180.04, 68.93], [179.94, 68.93], [179.94, 68.9]],
             [[179.96, 68.92], [180.02, 68.92], [180.02, 68.95], [179.96, 68.95], [179.96, 68.92]]]
    check(plugins_dir, {"DRAWN": rings, "DRAWN_CRS": "EPSG:32660", "DRAWN_NAME": "egvekinot", "SOURCE": str(DEMO),
                        "BEFORE": BEFORE, "AFTER": AFTER, "OUTPUT": str(tmp_path / "run")}, f"{geo_spy}:/usr/bin:/bin")
    expected = union_all([Polygon(ring) for ring in rings])
    aoi = load_drawn_aoi(geo_spy / "aoi.geojson")
    assert aoi.area_km2 == pytest.approx(geodesic_area_m2(expected) / 1e6, rel=1e-3)


def test_a_canvas_extent_across_180_is_the_area_geo_gets(qgis_ready, plugins_dir, geo_spy, tmp_path):
    """The canvas in Web Mercator panned across 180 (Chukotka): its outline in lon/lat jumped from 179.99 to -179.99
    and back, and geo refused the extent as "invalid polygon (Self-intersection ...): its edges cross (a bow-tie)"."""
    from pyproj import Transformer

    from geo.aoi import geodesic_area_m2, load_drawn_aoi

    to_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    (xmin, xmax), (ymin, ymax) = to_mercator.transform([179.95, 179.95], [65.0, 65.03])
    xmax = xmin + (180.05 - 179.95) * 20037508.342789244 / 180  # past the edge of the Mercator world, as QGIS pans
    facts = check(plugins_dir, {"EXTENT": f"{xmin},{xmax},{ymin},{ymax} [EPSG:3857]", "SOURCE": str(DEMO),
                                "BEFORE": BEFORE, "AFTER": AFTER, "OUTPUT": str(tmp_path / "run")},
                  f"{geo_spy}:/usr/bin:/bin")
    assert "invalid polygon" not in (facts["error"] or ""), facts["error"]
    aoi = load_drawn_aoi(geo_spy / "aoi.geojson")
    assert aoi.area_km2 == pytest.approx(geodesic_area_m2(box(179.95, 65.0, 180.05, 65.03)) / 1e6, rel=1e-3)


HUGE_RING = [[-5.0, 44.0], [5.0, 44.0], [5.0, 50.0], [-5.0, 50.0], [-5.0, 44.0]]


def test_geos_message_about_the_area_names_the_layer_not_a_temporary_file(qgis_ready, plugins_dir, geo_bin,
                                                                          tmp_path):
    """geo named the GeoJSON the plugin wrote in Processing's temporary folder ('/tmp/processing_x/geo-aoi-1-a/harbour
    east.geojson: area ... km2 is over ...'), a file the user never made nor can find."""
    facts = check(plugins_dir, {"DRAWN": HUGE_RING, "SOURCE": str(DEMO), "BEFORE": BEFORE, "AFTER": AFTER,
                                "OUTPUT": str(tmp_path / "never")}, f"{geo_bin}:/usr/bin:/bin")
    assert facts["error"].startswith("geo run failed: Error: AOI layer 'harbour east': area "), facts["error"]
    assert "km2 is over the 15,000 km2" in facts["error"] and ".geojson" not in facts["error"]
    assert not (tmp_path / "never").exists()


def test_a_layer_and_an_extent_both_given_says_the_extent_is_left_out(qgis_ready, plugins_dir, geo_bin, tmp_path):
    """The extent was dropped without a word when an AOI layer was given too."""
    params = {"DRAWN": HUGE_RING, "EXTENT_LONLAT": [-1.565, 47.19, -1.535, 47.215], "SOURCE": str(DEMO),
              "BEFORE": BEFORE, "AFTER": AFTER, "OUTPUT": str(tmp_path / "never")}
    facts = check(plugins_dir, params, f"{geo_bin}:/usr/bin:/bin")
    assert facts["feedback"]["warnings"] == [
        "both an AOI layer ('harbour east') and an extent are given: the layer's polygons are the area, the extent is "
        "left out"]
    assert facts["error"].startswith("geo run failed: Error: AOI layer 'harbour east': area ")  # the layer's


@pytest.mark.parametrize("kind", ["date", "QDate", "QDateTime"])
def test_dates_given_as_date_values_are_the_dates_geo_gets(qgis_ready, plugins_dir, geo_bin, tmp_path, kind):
    """processing.run from the Python console or a model hands the date parameters a datetime.date, a QDate or a
    QDateTime: a date was dropped silently (geo: 'no --before given'), a QDateTime sent as '2015-08-21T00:00:00.000'
    (refused as a scene id)."""
    out = tmp_path / "dated"
    facts = check(plugins_dir, {"DRAWN": DRAWN_RING, "SOURCE": str(DEMO), "BEFORE": BEFORE, "AFTER": AFTER,
                                "DATES_AS": kind, "LOAD": False, "OUTPUT": str(out)}, f"{geo_bin}:/usr/bin:/bin")
    assert facts["error"] is None, facts["error"]
    scenes = json.loads((out / "manifest.json").read_text())["scenes"]
    assert [scenes[k]["datetime"][:10] for k in ("before", "after")] == [BEFORE, AFTER]


def test_rebuild_report_of_the_run(qgis_ready, plugins_dir, geo_bin, drawn, tmp_path):
    _, run = drawn
    report = tmp_path / "again.html"
    facts = check(plugins_dir, {"RUN_DIR": str(run), "OUTPUT": str(report)}, f"{geo_bin}:/usr/bin:/bin",
                  algorithm="geo:rebuildreport")
    assert facts["error"] is None, facts["feedback"]
    assert facts["results"]["OUTPUT"] == str(report)
    html = report.read_text()
    changes = json.loads((run / "changes.geojson").read_text())["features"]
    assert "harbour east" in html and all(f["properties"]["change_id"] in html for f in changes)


def test_coregistration_gives_what_geo_coreg_gives(qgis_ready, plugins_dir, geo_bin, tmp_path):
    ref, tgt = (SHARED_DATA / "coreg-pair" / name for name in CORE_PAIR_FILES)
    if not ref.exists():
        pytest.skip("../shared/data/coreg-pair not present")
    corrected = tmp_path / "corrected.tif"
    facts = check(plugins_dir, {"REFERENCE": str(ref), "TARGET": str(tgt), "CORRECTED": str(corrected)},
                  f"{geo_bin}:/usr/bin:/bin", algorithm="geo:coregistration")
    assert facts["error"] is None, facts["feedback"]
    direct = run_geo("coreg", str(ref), str(tgt), "--json")
    assert direct.returncode == 0, direct.stderr
    expected = json.loads(direct.stdout)
    for name in ("dx_px", "dy_px", "dx_m", "dy_m", "quality"):
        assert facts["results"][name.upper()] == pytest.approx(expected[name], abs=1e-9), name
    assert abs(expected["dx_px"]) + abs(expected["dy_px"]) > 0.1  # a real shift, not zeros passed through
    assert facts["results"]["CORRECTED"] == str(corrected)
    with rasterio.open(corrected) as fixed, rasterio.open(ref) as reference:
        assert fixed.crs == reference.crs and fixed.res == reference.res


def test_coregistration_of_a_web_map_names_the_layer(qgis_ready, plugins_dir, geo_bin, tmp_path):
    """OpenStreetMap's tiles picked as the reference: geo was handed the layer's data source and said
    "type=xyz&url=https://tile...: cannot read raster (...: No such file or directory)"."""
    tgt = SHARED_DATA / "coreg-pair" / CORE_PAIR_FILES[1]
    if not tgt.exists():
        pytest.skip("../shared/data/coreg-pair not present")
    facts = check(plugins_dir, {"WEB_LAYERS": ["REFERENCE"], "TARGET": str(tgt)}, f"{geo_bin}:/usr/bin:/bin",
                  algorithm="geo:coregistration")
    assert facts["results"] is None and facts["error"] == (
        "Reference raster 'OpenStreetMap': a web map (wms), not a raster file; geo measures the shift between two "
        "raster files (GeoTIFF, JPEG 2000...): give one")
    assert not any(i.startswith("geo started") for i in facts["feedback"]["infos"])


@pytest.fixture
def one_band_ref_four_band_tgt(tmp_path) -> tuple[Path, Path]:
    """ref.tif: one band of real Sentinel-2 pixels; tgt4.tif: bands B02..B08, that image moved by the crop's known
    shift in band 3 (B04) only, unrelated noise in the others (a wrong band cannot pass for the right one)."""
    if not (SHARED_DATA / "coreg-pair").exists():
        pytest.skip("../shared/data/coreg-pair not present")
    ref, tgt = shifted_pair(SHARED_DATA, COREG_PAIR_512)
    noise = np.random.default_rng(7)
    others = [noise.uniform(500, 3000, tgt.shape) for _ in range(3)]
    _write(tmp_path / "ref.tif", [ref])
    _write(tmp_path / "tgt4.tif", [others[0], others[1], tgt, others[2]], NAMES)
    return tmp_path / "ref.tif", tmp_path / "tgt4.tif"


def test_coregistration_measures_the_band_chosen_for_each_layer(qgis_ready, plugins_dir, geo_bin, tmp_path,
                                                                  one_band_ref_four_band_tgt):
    """Before: the algorithm measured band 1 of both rasters, with no way to choose another (TGT's band 1 here is
    noise), and its output offered every raster format while geo wrote a GeoTIFF under any name."""
    ref, tgt = one_band_ref_four_band_tgt
    corrected = tmp_path / "corrected.tif"
    facts = check(plugins_dir, {"REFERENCE": str(ref), "REFERENCE_BAND": 1, "TARGET": str(tgt), "TARGET_BAND": 3,
                                "CORRECTED": str(corrected)}, f"{geo_bin}:/usr/bin:/bin",
                  algorithm="geo:coregistration")
    assert facts["error"] is None, facts["feedback"]
    # each band is QGIS's band parameter following its raster layer (the dialog lists that layer's bands)
    parameters = facts["parameters"]
    assert parameters["REFERENCE_BAND"] == {"type": "band", "optional": True, "parent": "REFERENCE"}
    assert parameters["TARGET_BAND"] == {"type": "band", "optional": True, "parent": "TARGET"}
    assert parameters["CORRECTED"]["file_filter"] == "GeoTIFF (*.tif *.tiff);;All files (*.*)"
    assert parameters["CORRECTED"]["optional"]
    measured = (facts["results"]["DX_PX"], facts["results"]["DY_PX"])
    assert measured == pytest.approx(COREG_PAIR_512.shift, abs=0.02)
    direct = run_geo("coreg", str(ref), str(tgt), "--tgt-band", "B04", "--json")
    assert direct.returncode == 0, direct.stderr
    assert measured == pytest.approx((json.loads(direct.stdout)["dx_px"], json.loads(direct.stdout)["dy_px"]),
                                     abs=1e-9)
    # every band of TGT corrected onto REF's grid, each still named; loaded into the project as a raster layer
    with rasterio.open(corrected) as fixed, rasterio.open(ref) as reference:
        assert fixed.driver == "GTiff" and fixed.count == 4 and fixed.descriptions == NAMES
        assert fixed.crs == reference.crs and fixed.res == reference.res
    layer, = facts["layers"]
    assert (layer["kind"], layer["valid"], layer["source"], layer["crs"]["authid"]) == (
        "raster", True, str(corrected), "EPSG:32633")

    # bands left out (a script of before): band 1 of each; TGT's is noise: geo refuses to measure it, and the algorithm says so
    default = check(plugins_dir, {"REFERENCE": str(ref), "TARGET": str(tgt)}, f"{geo_bin}:/usr/bin:/bin",
                    algorithm="geo:coregistration")
    assert default["results"] is None and default["layers"] == []
    assert f"{ref} and {tgt}: no reliable shift: correlation" in default["error"], default["error"]


def test_vessel_counts_load_the_detections_on_the_time_slider(qgis_ready, plugins_dir, geo_bin, port_project,
                                                               tmp_path):
    aoi = port_project.aoi_dir / "test-port.geojson"
    out = tmp_path / "vessels"
    params = {"AOI": str(aoi), "FROM": "2021-05-20", "TO": "2021-06-14", "SENSOR": 1,
              "SOURCE": str(port_project.catalog), "OUTPUT": str(out)}
    facts = check(plugins_dir, params, f"{geo_bin}:/usr/bin:/bin", algorithm="geo:vesselcounts")
    assert facts["error"] is None, facts["feedback"]
    direct_out = tmp_path / "direct"
    direct = run_geo("vessels", "--aoi", str(aoi), "--from", "2021-05-20", "--to", "2021-06-14", "--sensor", "s1",
                     "--source", str(port_project.catalog), "--out", str(direct_out))
    assert direct.returncode == 0, direct.stderr
    rows = lambda folder: [(r["scene"], r["n_vessels"], r["n_large"])  # noqa: E731
                           for r in json.loads((folder / "timeseries.json").read_text())["rows"]]
    assert rows(out) == rows(direct_out) and len(rows(out)) == 3
    baseline, *window = rows(out)
    assert all(n_large > baseline[2] for _, _, n_large in window)  # the ships planted in the claim window
    [vessels] = facts["layers"]
    detections = json.loads((out / "vessels.geojson").read_text())["features"]
    assert vessels["name"] == "Vessels (test-port 2021-05-20→2021-06-14)"  # the AOI and period: apart from others'
    assert vessels["valid"] and vessels["features"] == len(detections) > 0
    # geo vessels' summary, a line per scene, in the log (it went to a pipe nobody read)
    assert sum(bool(re.search(r" s1: \d+ vessels \(.* saw ", i)) for i in facts["feedback"]["infos"]) == 3
    assert vessels["temporal"]["active"] and vessels["temporal"]["mode"] == FROM_EXPRESSIONS
    assert vessels["geometry"] == "Polygon" and vessels["crs"]["authid"] == "EPSG:4326"
    assert vessels["renderer"] == "categorizedSymbol" and vessels["attribute"] == "sensor"
    assert {"sensor": "String", "datetime": "DateTime", "length_m": "Real", "pixels": "Integer"}.items() <= \
        vessels["fields"].items()
    # the bar moves with each scene ("detecting in ID (k/n)"), not to 95 % at the search
    feedback = facts["feedback"]
    detecting = [t for t in feedback["texts"] if ": detecting in " in t]
    assert [t.rsplit(" ", 1)[1] for t in detecting] == [f"({k}/3)" for k in (1, 2, 3)]
    # search and the three land-mask reads: 1/20 of 95 % each; then the scenes: k/3 of it
    assert feedback["progress"] == pytest.approx([4.75, 9.5, 14.25, 19.0, 95 / 3, 190 / 3, 95.0, 100.0])


def test_vessel_counts_without_a_ship_load_a_typed_empty_layer(qgis_ready, plugins_dir, geo_bin, tmp_path):
    """The Nantes river port on the demo scenes: no ship detected. ``vessels.geojson`` alone would open as a table
    without geometry type or CRS; loaded as ``vessels.qlr`` defines it, it is the lon/lat polygon layer of a run
    with ships, styled by sensor and on the time slider."""
    out = tmp_path / "no-ships"
    facts = check(plugins_dir, {"DRAWN": DRAWN_RING, "DRAWN_CRS": "EPSG:4326", "FROM": BEFORE, "TO": AFTER,
                                "SOURCE": str(DEMO), "OUTPUT": str(out)}, f"{geo_bin}:/usr/bin:/bin",
                  algorithm="geo:vesselcounts")
    assert facts["error"] is None, facts["feedback"]
    assert json.loads((out / "vessels.geojson").read_text())["features"] == []
    assert [r["n_vessels"] for r in json.loads((out / "timeseries.json").read_text())["rows"]] == [0, 0]
    [vessels] = facts["layers"]
    assert (plain(vessels["name"]), vessels["valid"], vessels["features"], vessels["checked"]) == (
        "Vessels", True, 0, True)
    assert vessels["geometry"] == "Polygon" and vessels["crs"] == {"valid": True, "authid": "EPSG:4326"}
    assert vessels["renderer"] == "categorizedSymbol" and vessels["attribute"] == "sensor"
    assert vessels["temporal"]["active"] and vessels["temporal"]["mode"] == FROM_EXPRESSIONS
    assert vessels["temporal"]["start_expression"] == 'to_datetime("datetime")'
    assert vessels["source"] == f"{out / 'vessels.geojson'}|geometrytype=Polygon"
    # the columns of a run with ships (declared by vessels.qlr: OGR reads none from an empty GeoJSON)
    assert {k: vessels["fields"][k] for k in ("detection_id", "sensor", "datetime", "date", "length_m", "pixels",
                                              "at_berth")} == {
        "detection_id": "String", "sensor": "String", "datetime": "DateTime", "date": "Date", "length_m": "Real",
        "pixels": "Integer", "at_berth": "Boolean"}
