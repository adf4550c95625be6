"""A run's caveats where a QGIS user looks. ``geo run`` on a drawn AOI half outside the demo scenes warns (the
terminal, ``manifest.json``'s ``warnings``, ``report.html``) that only 45% of it was seen and that the scenes'
cloud was not judged (no SCL); a user who opened only ``project.qgz``, ``changes.gpkg`` or ``changes.qlr`` saw
none of it: their metadata named the area and the scenes as if the run were sound. Now *Project > Properties >
Metadata* and each layer's *Properties > Metadata* (abstract) list them, as QGIS reads them."""

from __future__ import annotations

import json

import pytest

from tests import archive_data
from tests.flows.conftest import drawn_aoi
from tests.flows.test_quiet_area_in_qgis import QUIET
from tests.outputs.test_qgis import _qgis_missing, probe

CLOUD_NOT_JUDGED = "cloud not judged: no scene classification (SCL) on both scenes"


def test_a_runs_warnings_are_in_the_metadata_of_its_project_and_layers_as_qgis_reads_them(user):
    ring = str(drawn_aoi(user.home / "half-out.geojson", [QUIET]))
    result = user("run", "--aoi", ring, "--source", "demo", "--before", "2015-08-21", "--after", "2017-10-14",
                  "--out", "half-out")
    assert result.returncode == 0, result.output
    out = user.home / "half-out"
    warnings = json.loads((out / "manifest.json").read_text())["warnings"]
    assert any(w.startswith("only 45% of the AOI was seen") for w in warnings), warnings
    assert CLOUD_NOT_JUDGED in result.output and "55% outside the scenes" in result.output  # the terminal's words
    caveats = [*warnings, "55% outside the scenes", CLOUD_NOT_JUDGED]
    if _qgis_missing():
        pytest.skip(_qgis_missing())
    gpkg = out / "changes.gpkg"
    seen = probe({"vectors": [{"key": name, "uri": f"{gpkg}|layername={name}"} for name in ("changes", "not_compared")],
                  "projects": [{"key": "project", "path": str(out / "project.qgz")}],
                  "definitions": [{"key": "qlr", "path": str(out / "changes.qlr")},
                                  {"key": "not_compared_qlr", "path": str(out / "not_compared.qlr")}]})
    project = seen["projects"]["project"]
    abstracts = {
        "project": project["metadata"]["abstract"],  # Project > Properties > Metadata
        **{f"project's {name}": layer["metadata"]["abstract"] for name, layer in project["layers"].items()},
        # changes.gpkg opened alone (drag and drop, Add Vector Layer): its gpkg_metadata records
        **{f"changes.gpkg's {name}": layer["metadata"]["abstract"] for name, layer in seen["vectors"].items()},
        "changes.qlr": seen["definitions"]["qlr"]["layers"]["changes"]["metadata"]["abstract"],
        "not_compared.qlr": next(iter(seen["definitions"]["not_compared_qlr"]["layers"].values()))["metadata"]["abstract"],
    }
    assert len(abstracts) > 8, abstracts  # the project's layers: areas, changes, claims, not compared, 3 rasters
    for where, abstract in abstracts.items():
        assert "Caveats" in abstract, (where, abstract)
        for caveat in caveats:
            assert caveat in abstract, (where, caveat, abstract)
    # the project's abstract still names the area and the scenes first and ends with the data's credit
    assert abstracts["project"].startswith("Changes geo workbench found over half-out")
    assert abstracts["project"].endswith("Contains modified Copernicus Sentinel data 2015–2017."), abstracts["project"]
    assert project["metadata"]["title"] == "Changes over half-out"


def test_a_run_that_warned_of_nothing_has_no_caveats_in_its_metadata(user, tmp_path):
    """Scenes with their SCL (cloud judged), the drawn AOI inside them: no warning, and no caveat in the metadata."""
    catalog = archive_data.local_catalog(tmp_path / "catalog", [
        archive_data.S2Spec("S2A_CLEAR_2015", archive_data.utc(2015, 8, 21), 94, "2015"),
        archive_data.S2Spec("S2A_CLEAR_2017", archive_data.utc(2017, 10, 14), 94, "2017")])
    result = user("run", "--aoi", str(drawn_aoi(user.home / "inside.geojson")), "--source", str(catalog),
                  "--before", "2015-08-21", "--after", "2017-10-14", "--out", "clean")
    assert result.returncode == 0, result.output
    out = user.home / "clean"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["warnings"] == [] and manifest["cloud_masked"] == {"before": True, "after": True}
    assert "warning" not in result.output and "outside the scenes" not in result.output, result.output
    if _qgis_missing():
        pytest.skip(_qgis_missing())
    seen = probe({"vectors": [{"key": "changes", "uri": f"{out / 'changes.gpkg'}|layername=changes"}],
                  "projects": [{"key": "project", "path": str(out / "project.qgz")}],
                  "definitions": [{"key": "qlr", "path": str(out / "changes.qlr")}]})
    project = seen["projects"]["project"]
    abstracts = {"project": project["metadata"]["abstract"],
                 **{f"project's {name}": layer["metadata"]["abstract"] for name, layer in project["layers"].items()},
                 "changes.gpkg": seen["vectors"]["changes"]["metadata"]["abstract"],
                 "changes.qlr": seen["definitions"]["qlr"]["layers"]["changes"]["metadata"]["abstract"]}
    assert not [where for where, abstract in abstracts.items() if "Caveats" in abstract or "\n" in abstract], abstracts
    assert abstracts["project"].endswith("and the verdicts of the claims on it. Contains modified Copernicus Sentinel "
                                         "data 2015–2017."), abstracts["project"]


def test_a_re_check_runs_change_layer_names_the_caveats_of_its_pairs(user):
    """``geo recheck`` says of each AOI that its scenes' cloud was not judged (no SCL); the run's
    ``runs/<run>/changes.qlr`` said nothing of it. Now its layer's abstract lists each pair's caveats, named by
    the AOI and the pair."""
    result = user("recheck", "--store", "watch.gpkg", "--aoi", "demo-nantes-port", "--source", "demo")
    assert result.returncode == 0, result.output
    assert CLOUD_NOT_JUDGED in result.output
    # the pair exported as a STAC item's folder: its changes.qlr lists the pair's caveats too
    assert user("recheck", "--store", "watch.gpkg", "--export-stac", "stac").returncode == 0
    [exported] = (user.home / "stac").glob("demo-nantes-port_*/changes.qlr")
    assert f"Caveats (what geo run warned of):\n- 100% of the AOI seen; {CLOUD_NOT_JUDGED}" in exported.read_text()
    if _qgis_missing():
        pytest.skip(_qgis_missing())
    qlr = user.home / "watch-outputs" / "runs" / "000001" / "changes.qlr"
    seen = probe({"definitions": [{"key": "qlr", "path": str(qlr)}]})["definitions"]["qlr"]
    abstract = seen["layers"]["changes"]["metadata"]["abstract"]
    assert ("\n- demo-nantes-port, S2A_30TXT_20150821_L1C_nantes to S2_30TXT_20171014_L1C_nantes: 100% of the AOI "
            f"seen; {CLOUD_NOT_JUDGED}") in abstract, abstract
