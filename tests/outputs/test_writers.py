"""The writers of a run folder take a result and write: none changes the result (the folder's own view of it,
with portable paths and the warnings of files not written, is a new value: ``bundle.folder_view``) and none
reads back the files just written (the GeoPackage and report are built from the values in memory)."""

from __future__ import annotations

import copy
import json
import sqlite3
from dataclasses import replace

import pytest

from geo.aoi import load_aoi
from geo.claim_files import load_claims
from geo.jobs.kit import ChangeJob
from geo.jobs.optical_kit import OpticalKit, Params
from geo.atomic import MARKER
from geo.jobs.spine import run_job
from geo.outputs.bundle import folder_view
from geo.outputs.layers import CHANGE_LAYERS, ChangeLayer, LayerFacts, write_change_layers
from geo.outputs.writers import RUN_WRITERS, OutputWriter, write_run
from geo.scenes.source import LocalCatalog


@pytest.fixture(scope="module")
def synthetic_result(synthetic_project):
    aoi = load_aoi(synthetic_project.aoi_dir / "test-site.geojson")
    claims = tuple(load_claims(synthetic_project.seeds_dir).values())
    source = LocalCatalog(synthetic_project.catalog)
    job = ChangeJob(aoi, claims, source.get("S2A_TEST_20200301"), source.get("S2A_TEST_20200801"),
                    {"source": str(synthetic_project.catalog)})
    return run_job(job, OpticalKit(Params()))


def test_writing_a_run_leaves_the_result_as_it_was(synthetic_result, synthetic_project, tmp_path):
    # the after scene without red/green/blue: its true colour cannot be written, which the manifest must say
    after = synthetic_result.after
    result = replace(synthetic_result, after=replace(after, bands=tuple(f"x{b}" for b in after.bands)))
    manifest, claims = copy.deepcopy(result.manifest), copy.deepcopy(result.claims)
    assert str(synthetic_project.catalog) in json.dumps(manifest.to_dict())  # a local path, for the folder to rewrite

    written = write_run(result, tmp_path / "out")

    assert (result.manifest, result.claims) == (manifest, claims)
    on_disk = json.loads((tmp_path / "out" / "manifest.json").read_text())
    missing = f"after_rgb.tif not written: the run read no red/green/blue bands ({', '.join(result.after.bands)})"
    assert on_disk["warnings"] == [*manifest.warnings, missing]
    assert on_disk["scenes"]["selection"]["source"] == "scenes/catalog.json"
    assert str(synthetic_project.catalog) not in (tmp_path / "out" / "report.html").read_text()
    names = {p.name for p in written}
    assert "before_rgb.tif" in names and "after_rgb.tif" not in names
    with sqlite3.connect(tmp_path / "out" / "changes.gpkg") as db:
        assert db.execute("select count(*) from changes").fetchone()[0] == len(result.features) == 3


def test_the_manifest_times_every_writer_before_it(synthetic_result, tmp_path):
    """The outputs' seconds are in the manifest (a large job spends a minute there): one "write NAME" per writer
    but the manifest's own, after the job's steps; the report lists the job's steps only (a report rebuilt
    from the folder, ``geo report``, is the same: tests/outputs/test_report.py)."""
    write_run(synthetic_result, tmp_path / "out")

    timings = json.loads((tmp_path / "out" / "manifest.json").read_text())["timings_s"]
    steps = dict(synthetic_result.manifest.timings_s)
    assert list(timings)[:len(steps)] == list(steps) and all(timings[k] == v for k, v in steps.items())
    written = [w.name for w in RUN_WRITERS if w.name != "manifest"]
    assert list(timings)[len(steps):] == [f"write {name}" for name in written]
    assert all(isinstance(timings[f"write {name}"], float) and timings[f"write {name}"] >= 0 for name in written)
    report = (tmp_path / "out" / "report.html").read_text()
    assert all(f"<dt>{step}</dt>" in report for step in steps) and "<dt>write " not in report


def test_the_extras_need_none_of_the_files_written_before_them(synthetic_result, tmp_path):
    """The GeoPackage, project and report come from the result in memory: written into an empty folder,
    without the run's changes.geojson and claims.json beside them, they hold the run's changes and verdicts."""
    result = folder_view(synthetic_result)
    derived = ("client views",)  # the GeoPackage, project and report
    for writer in RUN_WRITERS:
        if writer.name in derived:
            writer.write(result, tmp_path)
    assert not (tmp_path / "changes.geojson").exists() and not (tmp_path / "claims.json").exists()
    with sqlite3.connect(tmp_path / "changes.gpkg") as db:
        ids = sorted(r[0] for r in db.execute("select change_id from changes"))
        verdicts = sorted(r[0] for r in db.execute("select verdict from claims"))
    assert ids == sorted(f.change_id for f in result.features)
    assert verdicts == sorted(c.verdict for c in result.claims) and verdicts
    report = (tmp_path / "report.html").read_text()
    assert all(c.verdict in report for c in result.claims)


def test_every_file_of_a_run_comes_from_one_registered_writer(synthetic_result, tmp_path):
    written = {p.name for p in write_run(synthetic_result, tmp_path / "out")}
    listed = [f for writer in RUN_WRITERS for f in writer.files]
    assert len(listed) == len(set(listed))  # no file claimed by two writers
    assert written == set(listed) and len(written) == 20
    assert (tmp_path / "out" / MARKER).is_file()
    assert RUN_WRITERS[-1].files == ("manifest.json",)  # last: a folder with its manifest is complete


def _toy_csv(result, out):
    """A toy format: one line per change, its id and area."""
    lines = [f"{f.change_id},{f.area_m2:.0f}" for f in result.features]
    (out / "changes.csv").write_text("change_id,area_m2\n" + "\n".join(lines) + "\n")


def test_a_new_run_format_is_one_writer_and_one_registry_line(synthetic_result, tmp_path):
    writers = (*RUN_WRITERS[:-1], OutputWriter("csv", ("changes.csv",), _toy_csv), RUN_WRITERS[-1])
    written = {p.name for p in write_run(synthetic_result, tmp_path / "out", writers=writers)}
    assert written == {f for w in writers for f in w.files}
    rows = (tmp_path / "out" / "changes.csv").read_text().splitlines()
    assert rows[0] == "change_id,area_m2" and len(rows) == 1 + len(synthetic_result.features) == 4
    assert {r.split(",")[0] for r in rows[1:]} == {f.change_id for f in synthetic_result.features}


def _toy_wkt(path, features, facts):
    path.write_text("\n".join([f"# {facts.title}", *(f.geometry.wkt for f in features)]) + "\n")


def test_a_new_change_layer_is_one_writer_and_one_registry_line(synthetic_result, tmp_path):
    """The change layers of a run and of a re-check run folder come from the same registry."""
    layers = (*CHANGE_LAYERS, ChangeLayer("wkt", "changes.wkt", _toy_wkt))
    write_change_layers(tmp_path, synthetic_result.features, LayerFacts("toy title"), layers)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["changes.geojson", "changes.kml", "changes.qlr", "changes.qml",
                                                            "changes.wkt"]
    lines = (tmp_path / "changes.wkt").read_text().splitlines()
    assert lines[0] == "# toy title" and len(lines) == 4 and all(line.startswith("POLYGON") for line in lines[1:])
    geojson = json.loads((tmp_path / "changes.geojson").read_text())
    assert len(geojson["features"]) == 3


def test_a_change_layer_without_changes_credits_the_years_of_its_scenes(tmp_path):
    """A run (or a re-check run) that found no change wrote ``changes.qlr`` crediting "Contains modified
    Copernicus Sentinel data" with no year: the years came from the changes. They come from the scenes the
    changes were looked for in now; with changes, theirs too."""
    import xml.etree.ElementTree as ET

    write_change_layers(tmp_path, [], LayerFacts("quiet", days=("2019-03-01T10:00:00Z", "2021-06-01")))
    rights = [r.text for r in ET.parse(tmp_path / "changes.qlr").getroot().iter("rights")]
    assert rights == ["Contains modified Copernicus Sentinel data 2019–2021"]
