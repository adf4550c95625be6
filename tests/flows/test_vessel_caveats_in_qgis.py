"""``geo vessels``'s warnings where a QGIS user looks. Two Sentinel-2 scenes of the demo port are judged with the
single-scene land mask, and the terminal warns that ships at berth are nearly all missed; a user who opened only
``vessels.qlr`` (or a scene's detections from it) saw none of it: the layers' metadata described the detections as
if the counts were sound (the change run's layers list their caveats: test_caveats_in_qgis.py). Now each layer's
*Properties > Metadata* abstract lists the run's warnings, which ``vessels-manifest.json`` keeps too."""

from __future__ import annotations

import json

import pytest

from tests.outputs.test_qgis import _qgis_missing, probe

BERTHS = "counts are detections, not a census, and ships at berth are nearly all missed"
PERIOD = ("--from", "2015-06-01", "--to", "2017-12-31")


def test_a_vessel_runs_warnings_are_in_its_layers_metadata_as_qgis_reads_them(user):
    result = user("vessels", "--aoi", "demo-nantes-port", "--source", "demo", *PERIOD, "--out", "ships")
    assert result.returncode == 0, result.output
    assert BERTHS in result.stderr and result.stderr.count(BERTHS) == 1, result.stderr
    out = user.home / "ships"
    warnings = json.loads((out / "vessels-manifest.json").read_text())["warnings"]
    assert len(warnings) == 1 and BERTHS in warnings[0], warnings
    assert f"Caveats (what geo vessels warned of):\n- {warnings[0]}" in (out / "vessels.qlr").read_text()
    if _qgis_missing():
        pytest.skip(_qgis_missing())
    layers = probe({"definitions": [{"key": "qlr", "path": str(out / "vessels.qlr")}]})["definitions"]["qlr"]["layers"]
    assert len(layers) == 3, layers  # all detections, then each scene's
    for name, layer in layers.items():
        abstract = layer["metadata"]["abstract"]
        assert abstract.startswith("Vessels geo workbench detected in Sentinel scenes over"), (name, abstract)
        assert f"\n\nCaveats (what geo vessels warned of):\n- {warnings[0]}" in abstract, (name, abstract)


def test_a_vessel_run_that_warned_of_nothing_has_no_caveats(user):
    """--berthed with two scenes: ships on the water kept out of the land mask, no warning, no caveat."""
    result = user("vessels", "--aoi", "demo-nantes-port", "--source", "demo", *PERIOD, "--berthed", "--out", "ships")
    assert result.returncode == 0, result.output
    assert "warning" not in result.stderr, result.stderr
    out = user.home / "ships"
    assert json.loads((out / "vessels-manifest.json").read_text())["warnings"] == []
    assert "Caveats" not in (out / "vessels.qlr").read_text()
