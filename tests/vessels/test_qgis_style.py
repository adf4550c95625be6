"""``vessels.geojson`` of ``geo vessels`` opens styled in QGIS (its ``vessels.qml`` sidecar, the GeoPackage
layer's style): coloured by sensor, each detection at its scene's instant on the time slider. PyQGIS runs
under /usr/bin/python3 (tests/outputs/qgis_probe.py)."""

from __future__ import annotations

import json

from tests.outputs.test_qgis import DATETIME, FROM_EXPRESSIONS, probe, qgis_available  # noqa: F401  (fixture)


def test_vessels_geojson_opens_styled_and_on_the_time_slider(qgis_available, s1_run):
    out, _ = s1_run
    features = json.loads((out / "vessels.geojson").read_text())["features"]
    instants = sorted({f["properties"]["datetime"] for f in features})
    per_instant = [sum(1 for f in features if f["properties"]["datetime"] == t) for t in instants]
    assert len(instants) > 3 and all(per_instant)
    seen = probe({"vectors": [{"key": "vessels", "uri": str(out / "vessels.geojson")}],
                  "ranges": [[t, t] for t in instants] + [["2000-01-01T00:00:00Z", "2000-01-02T00:00:00Z"]]})
    layer = seen["vectors"]["vessels"]
    assert layer["valid"] and layer["count"] == len(features) and layer["variant_types"]["datetime"] == DATETIME
    # QGIS's own default would be a single symbol in a random colour, with no time settings
    assert layer["renderer"] == "categorizedSymbol" and layer["class_attribute"] == "sensor"
    assert layer["category_colours"] == {"s1": "#1f5fa8", "s2": "#c2571a"}
    # the style's time settings, as "Restore default style" leaves them (QGIS 3.22 applies them on load only
    # partly, for the GeoPackage's default style too: tests/outputs/test_qgis.py)
    instant = 'to_datetime("datetime")'
    assert layer["temporal_after_restore"] == {"active": True, "mode": FROM_EXPRESSIONS, "start_field": "datetime",
                                               "end_field": "datetime", "start_expression": instant,
                                               "end_expression": instant}
    assert layer["temporal_counts_after_restore"] == [*per_instant, 0]  # each scene's ships at its instant only
    assert layer["labels"] is False


def test_vessel_layers_have_readable_field_names_and_each_scene_file_its_style(qgis_available, s1_run):
    """``vessels.geojson`` and every ``detections-<scene>.geojson`` open in QGIS with the same style: aliases
    for every field (``length_m`` reads "Length (m)"), coloured by sensor."""
    out, _ = s1_run
    per_scene = sorted(out.glob("detections-*.geojson"))
    assert per_scene and all(p.with_suffix(".qml").read_text() == (out / "vessels.qml").read_text()
                             for p in per_scene)
    busiest = max(per_scene, key=lambda p: len(json.loads(p.read_text())["features"]))
    seen = probe({"vectors": [{"key": "vessels", "uri": str(out / "vessels.geojson")},
                              {"key": "scene", "uri": str(busiest)}], "ranges": []})
    for key, layer in seen["vectors"].items():
        assert layer["valid"] and layer["count"] == len(json.loads(
            (out / "vessels.geojson" if key == "vessels" else busiest).read_text())["features"]) > 0
        unnamed = [field for field, alias in layer["aliases"].items() if not alias or alias == field]
        assert not unnamed, (key, unnamed)
        assert layer["aliases"]["length_m"] == "Length (m)" and layer["aliases"]["at_berth"] == "At berth"
        assert layer["renderer"] == "categorizedSymbol" and layer["class_attribute"] == "sensor"
        assert layer["category_colours"] == {"s1": "#1f5fa8", "s2": "#c2571a"}
