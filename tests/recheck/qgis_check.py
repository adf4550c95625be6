"""Run by Debian's /usr/bin/python3 (PyQGIS), not the project's interpreter: open a re-check store as a QGIS
user would — its layers directly, and the .qlr layer definition beside the outputs — and print JSON.

usage: qgis_check.py STORE QLR MOMENT...   (MOMENT: ISO date-time to put the time slider at)
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication, QgsDateTimeRange, QgsFeatureRequest, QgsLayerDefinition, QgsProject, QgsVectorLayer,
    QgsVectorLayerTemporalContext, QgsVectorLayerTemporalProperties,
)
from qgis.PyQt.QtCore import QDateTime, Qt, QVariant  # noqa: E402


def shown_at(layer, moment):
    """Change ids the temporal controller draws with the slider at ``moment``."""
    context = QgsVectorLayerTemporalContext()
    context.setLayer(layer)
    when = QDateTime.fromString(moment, Qt.ISODate)
    expression = layer.temporalProperties().createFilterString(context, QgsDateTimeRange(when, when))
    request = QgsFeatureRequest().setFilterExpression(expression or "TRUE")
    return sorted(f["change_id"] for f in layer.getFeatures(request))


def temporal(layer):
    props = layer.temporalProperties()
    return {
        "active": props.isActive(),
        "from_expressions": props.mode() == QgsVectorLayerTemporalProperties.ModeFeatureDateTimeStartAndEndFromExpressions,
        "start_expression": props.startExpression(),
        "end_expression": props.endExpression(),
    }


def main():
    store, qlr, moments = sys.argv[1], sys.argv[2], sys.argv[3:]
    out = {"direct": {}}
    for name in ("changes", "aois", "verdicts", "runs", "pairs"):
        layer = QgsVectorLayer(f"{store}|layername={name}", name, "ogr")
        out["direct"][name] = {"valid": layer.isValid(), "count": layer.featureCount()}
    changes = QgsVectorLayer(f"{store}|layername=changes", "changes", "ogr")
    out["first_seen_is_datetime"] = changes.fields().field("first_seen").type() == QVariant.DateTime
    out["crs"] = changes.crs().authid()
    changes.loadDefaultStyle()
    out["default_style"] = temporal(changes)
    project = QgsProject.instance()
    ok, error = QgsLayerDefinition.loadLayerDefinition(qlr, project, project.layerTreeRoot())
    out["qlr"] = {"loaded": ok, "error": error, "layers": {}}
    for layer in project.mapLayers().values():
        entry = {"valid": layer.isValid(), "count": layer.featureCount(), "renderer": layer.renderer().type(),
                 "crs": layer.crs().authid() if layer.crs().isValid() else None,
                 "aliases": {f.name(): f.alias() for f in layer.fields()}, "rights": list(layer.metadata().rights()),
                 "title": layer.metadata().title(), **temporal(layer)}
        if layer.name() == "changes (re-checks)":
            entry["shown_at"] = {moment: shown_at(layer, moment) for moment in moments}
        out["qlr"]["layers"][layer.name()] = entry
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    app = QgsApplication([], False)
    app.initQgis()
    main()
    os._exit(0)  # QGIS 3.22 can crash in its exit handlers after the work is done
