"""Run by Debian's /usr/bin/python3 (PyQGIS), never by the project's interpreter: open layers the way
QGIS does and print what QGIS sees as JSON. The tests decide what is right.

stdin: {"vectors": [{"key", "uri"}], "rasters": [{"key", "path"}], "ranges": [["start", "end"], ...]}
stdout: {"qgis": version, "vectors": {key: {...}}, "rasters": {key: {...}}}
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    Qgis,
    QgsApplication,
    QgsDateTimeRange,
    QgsFeatureRequest,
    QgsRasterLayer,
    QgsVectorLayer,
    QgsVectorLayerTemporalContext,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QDateTime, Qt  # noqa: E402


def _time(text):
    return QDateTime.fromString(text, Qt.ISODate)


def vector_facts(uri, ranges):
    layer = QgsVectorLayer(uri, "probe", "ogr")
    facts = {"valid": layer.isValid()}
    if not layer.isValid():
        facts["error"] = layer.error().summary()
        return facts
    renderer = layer.renderer()
    facts.update(
        count=layer.featureCount(),
        crs=layer.crs().authid(),
        geometry=QgsWkbTypes.displayString(layer.wkbType()),
        fields={f.name(): f.typeName() for f in layer.fields()},
        variant_types={f.name(): int(f.type()) for f in layer.fields()},
        renderer=renderer.type() if renderer else None,
        invalid_geometries=sum(1 for f in layer.getFeatures() if not f.geometry().isGeosValid()),
    )
    if renderer is not None and renderer.type() == "categorizedSymbol":
        facts["class_attribute"] = renderer.classAttribute()
        facts["categories"] = [str(c.value()) for c in renderer.categories()]
        facts["category_colours"] = {str(c.value()): c.symbol().color().name() for c in renderer.categories()}
    styles = layer.listStylesInDatabase()
    facts["styles_in_database"] = list(styles[2]) if styles and styles[0] > 0 else []
    temporal = layer.temporalProperties()
    facts["temporal"] = {
        "active": temporal.isActive(),
        "mode": int(temporal.mode()),
        "start_field": temporal.startField(),
        "end_field": temporal.endField(),
    }
    counts = []
    context = QgsVectorLayerTemporalContext()
    context.setLayer(layer)
    for start, end in ranges:
        expression = temporal.createFilterString(context, QgsDateTimeRange(_time(start), _time(end)))
        request = QgsFeatureRequest()
        if expression:
            request.setFilterExpression(expression)
        counts.append(sum(1 for _ in layer.getFeatures(request)))
    facts["temporal_counts"] = counts
    return facts


def raster_facts(path):
    layer = QgsRasterLayer(path, "probe")
    facts = {"valid": layer.isValid()}
    if not layer.isValid():
        facts["error"] = layer.error().summary()
        return facts
    renderer = layer.renderer()
    provider = layer.dataProvider()
    facts.update(
        crs=layer.crs().authid(),
        bands=layer.bandCount(),
        width=layer.width(),
        height=layer.height(),
        renderer=renderer.type(),
        overviews=provider.hasPyramids() if hasattr(provider, "hasPyramids") else None,
    )
    if renderer.type() == "multibandcolor":
        facts["stretch"] = [
            [e.minimumValue(), e.maximumValue()] if e else None
            for e in (renderer.redContrastEnhancement(), renderer.greenContrastEnhancement(),
                      renderer.blueContrastEnhancement())
        ]
    if renderer.type() == "singlebandpseudocolor":
        shader = renderer.shader().rasterShaderFunction()
        facts["ramp"] = [[item.value, item.color.alpha()] for item in shader.colorRampItemList()]
    return facts


def main():
    spec = json.load(sys.stdin)
    app = QgsApplication([], False)
    app.initQgis()
    try:
        out = {
            "qgis": Qgis.QGIS_VERSION,
            "vectors": {v["key"]: vector_facts(v["uri"], spec.get("ranges", [])) for v in spec.get("vectors", [])},
            "rasters": {r["key"]: raster_facts(r["path"]) for r in spec.get("rasters", [])},
        }
    finally:
        app.exitQgis()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
