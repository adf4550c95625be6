"""A re-check run folder's change polygons dragged into QGIS (Debian's PyQGIS, as ``tests/outputs/test_qgis.py``
opens a run's): ``runs/<run>/changes.geojson`` opens styled by change type as a ``geo run`` folder's does, from
the ``changes.qml`` beside it (there was none: QGIS drew every change in one random colour, no legend of kinds)."""

from __future__ import annotations

import json

import pytest

from geo.outputs.palette import change_colour
from tests.flows.conftest import DEMO_CATALOG, DRAWN_RING, drawn_aoi
from tests.outputs.test_qgis import probe, qgis_available  # noqa: F401 (the fixture)

pytestmark = pytest.mark.qgis


def test_a_re_check_runs_change_layer_opens_styled_by_change_type(user, qgis_available):  # noqa: F811
    drawn_aoi(user.home / "quay.geojson", [DRAWN_RING])
    result = user("recheck", "--store", "store.gpkg", "--aoi", "quay.geojson", "--source", str(DEMO_CATALOG),
                  "--since", "2015-08-01")
    assert result.returncode == 0, result.output
    run = user.home / "store-outputs" / "runs" / "000001"
    features = json.loads((run / "changes.geojson").read_text())["features"]
    kinds = {f["properties"]["change_type"] for f in features}
    assert features and (run / "changes.qml").is_file()

    seen = probe({"vectors": [{"key": "changes", "uri": str(run / "changes.geojson")}]})["vectors"]["changes"]
    assert seen["valid"] and seen["count"] == len(features)
    assert seen["renderer"] == "categorizedSymbol" and seen["class_attribute"] == "change_type"
    assert kinds <= set(seen["categories"])
    assert all(seen["category_colours"][k] == change_colour(k) for k in kinds)
    assert seen["aliases"]["change_type"] == "Change type"


def test_a_re_check_run_without_changes_adds_its_layer_as_polygons(user, qgis_available):  # noqa: F811
    """A re-check run that found nothing: its empty ``changes.geojson`` opens in QGIS as a table without geometry
    or CRS; ``changes.qlr`` beside it adds a lon/lat polygon layer styled by change type, on the time slider."""
    from tests.flows.test_quiet_area_in_qgis import QUIET

    drawn_aoi(user.home / "quiet.geojson", [QUIET])
    result = user("recheck", "--store", "store.gpkg", "--aoi", "quiet.geojson", "--source", str(DEMO_CATALOG),
                  "--since", "2015-08-01")
    assert result.returncode == 0, result.output
    run = user.home / "store-outputs" / "runs" / "000001"
    assert json.loads((run / "changes.geojson").read_text())["features"] == []
    seen = probe({"vectors": [{"key": "geojson", "uri": str(run / "changes.geojson")}],
                  "definitions": [{"key": "qlr", "path": str(run / "changes.qlr")}]})
    assert seen["vectors"]["geojson"]["geometry"] == "NoGeometry"
    assert seen["definitions"]["qlr"]["read"], seen["definitions"]["qlr"]["error"]
    layer = seen["definitions"]["qlr"]["layers"]["changes"]
    assert layer["valid"] and layer["count"] == 0 and layer["geometry"] == "Polygon" and layer["crs"] == "EPSG:4326"
    assert layer["renderer"] == "categorizedSymbol" and layer["class_attribute"] == "change_type"
    assert layer["temporal"]["active"]
