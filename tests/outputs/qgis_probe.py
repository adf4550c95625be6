"""Run by Debian's /usr/bin/python3 (PyQGIS), never by the project's interpreter: open layers the way
QGIS does and print what QGIS sees as JSON. The tests decide what is right.

stdin: {"vectors": [{"key", "uri"}], "rasters": [{"key", "path"}], "projects": [{"key", "path"}],
        "definitions": [{"key", "path"}] (.qlr files, each added to an empty project),
        "ranges": [["start", "end"], ...]}
stdout: {"qgis": version, "vectors": {key: {..., "metadata": {"title", "abstract", "rights"}}}, "rasters": {key: {...}},
         "projects": {key: {"read": bool, "crs": {"valid", "authid"}, "layers": {name: {...}},
                            "time_range": [start, end]}}}
A layer's "temporal_counts" are the features the temporal controller draws in each range (none when the
layer itself is out of the range).
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    Qgis,
    QgsApplication,
    QgsDateTimeRange,
    QgsExpression,
    QgsExpressionContext,
    QgsExpressionContextUtils,
    QgsFeatureRequest,
    QgsLayerDefinition,
    QgsLayerTreeLayer,
    QgsLayerTreeModel,
    QgsLayerTreeModelLegendNode,
    QgsLegendSettings,
    QgsProject,
    QgsRasterLayer,
    QgsRasterSymbolLegendNode,
    QgsRenderContext,
    QgsVectorLayer,
    QgsVectorLayerTemporalContext,
    QgsVectorLayerTemporalProperties,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QDateTime, Qt  # noqa: E402
from qgis.PyQt.QtGui import QColor, QImage, QPainter  # noqa: E402


def _time(text):
    return QDateTime.fromString(text, Qt.ISODate)


def vector_facts(layer, ranges):
    facts = {"valid": layer.isValid(), "kind": "vector"}
    if not layer.isValid():
        facts["error"] = layer.error().summary()
        return facts
    facts["metadata"] = metadata_facts(layer)
    facts["map_tips"] = map_tips(layer)
    renderer = layer.renderer()
    facts.update(
        count=layer.featureCount(),
        crs=layer.crs().authid(),
        geometry=QgsWkbTypes.displayString(layer.wkbType()),
        fields={f.name(): f.typeName() for f in layer.fields()},
        variant_types={f.name(): int(f.type()) for f in layer.fields()},
        renderer=renderer.type() if renderer else None,
        invalid_geometries=sum(1 for f in layer.getFeatures() if not f.geometry().isGeosValid()),
        aliases={f.name(): f.alias() for f in layer.fields()},
        labels=layer.labelsEnabled(),
    )
    if renderer is not None and renderer.type() == "categorizedSymbol":
        facts["class_attribute"] = renderer.classAttribute()
        facts["categories"] = [str(c.value()) for c in renderer.categories()]
        facts["category_colours"] = {str(c.value()): c.symbol().color().name() for c in renderer.categories()}
    if renderer is not None and renderer.type() == "singleSymbol":  # each symbol layer, bottom first
        symbol = renderer.symbol()
        facts["symbol_layers"] = [
            {k: symbol.symbolLayer(i).properties().get(k) for k in ("style", "outline_style", "outline_color")}
            for i in range(symbol.symbolLayerCount())
        ]
    styles = layer.listStylesInDatabase()
    facts["styles_for_layer"] = list(styles[2])[: styles[0]] if styles else []
    temporal = layer.temporalProperties()
    facts["temporal"] = temporal_settings(temporal)
    if temporal.mode() == QgsVectorLayerTemporalProperties.ModeFixedTemporalRange:
        fixed = temporal.fixedTemporalRange()
        facts["temporal"]["fixed_range"] = [fixed.begin().toString(Qt.ISODate), fixed.end().toString(Qt.ISODate)]
    facts["temporal_counts"] = temporal_counts(layer, ranges)
    # What "Restore default style" in the layer's properties does: QGIS 3.22 then keeps the style's time settings.
    layer.loadDefaultStyle()
    facts["temporal_after_restore"] = temporal_settings(temporal)
    facts["temporal_counts_after_restore"] = temporal_counts(layer, ranges)
    return facts


def metadata_facts(layer):
    """What the layer's Properties > Metadata shows (from the project, the .qlr or the GeoPackage)."""
    metadata = layer.metadata()
    return {"title": metadata.title(), "abstract": metadata.abstract(), "rights": list(metadata.rights())}


def map_tips(layer, limit=3):
    """The map tips of the first features, the HTML QGIS puts into its web view (QgsMapTip: the template's
    expressions replaced, values as they are)."""
    context = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    tips = []
    for feature in layer.getFeatures(QgsFeatureRequest().setLimit(limit)):
        context.setFeature(feature)
        tips.append(QgsExpression.replaceExpressionText(layer.mapTipTemplate(), context))
    return tips


def temporal_settings(temporal):
    return {"active": temporal.isActive(), "mode": int(temporal.mode()), "start_field": temporal.startField(),
            "end_field": temporal.endField(), "start_expression": temporal.startExpression(),
            "end_expression": temporal.endExpression()}


def temporal_counts(layer, ranges):
    """Features drawn in each range: the filter the map renderer applies, run through the layer's provider."""
    temporal = layer.temporalProperties()
    counts = []
    context = QgsVectorLayerTemporalContext()
    context.setLayer(layer)
    for start, end in ranges:
        if temporal.isActive() and not temporal.isVisibleInTemporalRange(QgsDateTimeRange(_time(start), _time(end))):
            counts.append(0)
            continue
        expression = temporal.createFilterString(context, QgsDateTimeRange(_time(start), _time(end)))
        request = QgsFeatureRequest()
        if expression:
            request.setFilterExpression(expression)
        counts.append(sum(1 for _ in layer.getFeatures(request)))
    return counts


def layout_swatches(layer):
    """{label: colour} of each class's swatch as a print layout's legend draws it (on white; QGIS gives the
    swatch the renderer's opacity, not the class's: a transparent class is drawn in its colour)."""
    tree_layer = QgsLayerTreeLayer(layer)  # kept: the node reads the renderer's opacity through it
    settings = QgsLegendSettings()
    swatches = {}
    for node in layer.legend().createLayerTreeModelLegendNodes(tree_layer):
        if not isinstance(node, QgsRasterSymbolLegendNode):
            continue
        image = QImage(100, 60, QImage.Format_ARGB32)
        image.fill(QColor(255, 255, 255))
        painter = QPainter(image)
        painter.scale(10, 10)  # 10 px a millimetre
        context = QgsLayerTreeModelLegendNode.ItemContext()
        context.context = QgsRenderContext.fromQPainter(painter)
        context.painter, context.top, context.columnLeft, context.columnRight = painter, 0, 0, 10
        node.drawSymbol(settings, context, settings.symbolSize().height())
        painter.end()
        swatches[node.data(Qt.DisplayRole)] = image.pixelColor(35, 20).name()  # inside the swatch's border
    return swatches


def raster_facts(layer, ranges):
    facts = {"valid": layer.isValid(), "kind": "raster"}
    if not layer.isValid():
        facts["error"] = layer.error().summary()
        return facts
    facts["metadata"] = metadata_facts(layer)
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
    # The legend the Layers panel shows under the layer (a continuous ramp's node has no text: None).
    labels = [node.data(Qt.DisplayRole)
              for node in layer.legend().createLayerTreeModelLegendNodes(QgsLayerTreeLayer(layer))]
    facts["legend"] = [label if isinstance(label, str) else None for label in labels]
    facts["layout_swatches"] = layout_swatches(layer)
    temporal = layer.temporalProperties()
    facts["temporal"] = {"active": temporal.isActive()}
    facts["visible_in"] = [
        (not temporal.isActive()) or temporal.isVisibleInTemporalRange(QgsDateTimeRange(_time(a), _time(b)))
        for a, b in ranges
    ]
    return facts


def tree_legend(model, node):
    """The legend under the layer in the Layers panel, with the feature counts the project asks for (counted
    as QGIS does, in a task, waited for here)."""
    layer = node.layer()
    if isinstance(layer, QgsVectorLayer) and node.customProperty("showFeatureCount"):
        counter = layer.countSymbolFeatures()
        if counter is not None:
            counter.waitForFinished()
        QgsApplication.processEvents()
    labels = [legend.data(Qt.DisplayRole) for legend in model.layerLegendNodes(node)]
    return [label if isinstance(label, str) else None for label in labels]


def project_facts(path, ranges):
    project = QgsProject.instance()
    project.clear()
    facts = {"read": project.read(path), "layers": {}}
    facts["crs"] = {"valid": project.crs().isValid(), "authid": project.crs().authid()}
    facts["ellipsoid"] = project.ellipsoid()
    metadata = project.metadata()  # Project > Properties > Metadata
    facts["metadata"] = {"title": metadata.title(), "abstract": metadata.abstract(), "author": metadata.author()}
    facts["layers"] = tree_facts(project, ranges)
    time_range = project.timeSettings().temporalRange()
    facts["time_range"] = [time_range.begin().toString(Qt.ISODate), time_range.end().toString(Qt.ISODate)]
    project.clear()
    return facts


def definition_facts(path, ranges):
    """A layer definition file added to an empty project as *Layer > Add from Layer Definition File* does."""
    project = QgsProject.instance()
    project.clear()
    read, error = QgsLayerDefinition.loadLayerDefinition(path, project, project.layerTreeRoot())
    facts = {"read": read, "error": error, "layers": tree_facts(project, ranges)}
    project.clear()
    return facts


def tree_facts(project, ranges):
    layers = {}
    model = QgsLayerTreeModel(project.layerTreeRoot())
    for node in project.layerTreeRoot().findLayers():
        layer = node.layer()
        if layer is None:
            layers[node.name()] = {"valid": False}
            continue
        legend = tree_legend(model, node)  # as the project styles it: the probe restores the default style
        probe = vector_facts if isinstance(layer, QgsVectorLayer) else raster_facts
        layers[node.name()] = {**probe(layer, ranges), "checked": node.isVisible(), "tree_legend": legend}
    return layers


def main():
    spec = json.load(sys.stdin)
    ranges = spec.get("ranges", [])
    app = QgsApplication([], False)
    app.initQgis()
    try:
        out = {
            "qgis": Qgis.QGIS_VERSION,
            "vectors": {v["key"]: vector_facts(QgsVectorLayer(v["uri"], v["key"], "ogr"), ranges)
                        for v in spec.get("vectors", [])},
            "rasters": {r["key"]: raster_facts(QgsRasterLayer(r["path"], r["key"]), ranges)
                        for r in spec.get("rasters", [])},
            "projects": {p["key"]: project_facts(p["path"], ranges) for p in spec.get("projects", [])},
            "definitions": {d["key"]: definition_facts(d["path"], ranges) for d in spec.get("definitions", [])},
        }
    finally:
        app.exitQgis()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
