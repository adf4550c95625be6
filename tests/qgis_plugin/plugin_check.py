"""Run by Debian's /usr/bin/python3 (PyQGIS), never by the project's interpreter: install the plugin as QGIS
does (a plugin folder found by qgis.utils, started with startProcessingPlugin, as QGIS starts plugins with
hasProcessingProvider=yes), draw a polygon, run ``processing.run("geo:changejob", ...)`` with the
post-processing the algorithm dialog does (``handleAlgorithmResults``), then report what the project holds
and render it to a PNG.

stdin: {"plugins_dir": dir, "setting": str | null (the provider's geo command setting),
        "algorithm": id (default geo:changejob),
        "params": {...} (the algorithm's; "DRAWN": a ring [[lon, lat], ...] or a list of rings is drawn as a
                  polygon layer in EPSG:3857, or "DRAWN_CRS" ("DRAWN_NO_CRS": true then drops the layer's CRS,
                  "DRAWN_WRONG_CRS": a CRS labels it instead); "DRAWN_KIND": "Point" a point layer,
                  "MultiPolygon" one feature of the rings as parts; "DRAWN_UNSAVED": true, in an edit session
                  not saved; "SELECTED": indices of the features selected, with 'Selected features only'; or "EXTENT_LONLAT": [xmin,
                  ymin, xmax, ymax] given as an extent in EPSG:3857;
                  "DATES_AS": "date" | "QDate" | "QDateTime": BEFORE/AFTER/FROM/TO given as such values;
                  "WEB_LAYERS": names of raster parameters given OpenStreetMap's XYZ tile layer),
        "cancel_after_steps": int | null, "runs": int (default 1: times the algorithm is run, same params),
        "then": [{...}] (runs after those, each with these params changed: another run of the same layer),
        "renders": [{"key", "png", "at": ISO instant | null}],
        "project": path | null}
stdout: {"available", "started", "provider", "algorithms", "descriptions" ({id: {"short", "help"}}), "parameters" (the algorithm's: {name: {"type",
         "optional", "parent" (a band's layer parameter), "file_filter" (an output's)}}),
         "feedback" (with "log": QGIS's message log),
         "results" | null, "error" | null,
         "layers": [...] (the run's layers, top to bottom), "project_crs", "renders": {key: {"png", "extent", ...}}}
"""

import datetime
import gc
import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsDateTimeRange,
    QgsFeature,
    QgsGeometry,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsPointXY,
    QgsProcessingContext,
    QgsProcessingFeatureSourceDefinition,
    QgsProcessingFeedback,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QDate, QDateTime, QSize, Qt  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402

MERCATOR = QgsCoordinateReferenceSystem("EPSG:3857")
LONLAT = QgsCoordinateReferenceSystem("EPSG:4326")


class RecordingFeedback(QgsProcessingFeedback):
    """What the algorithm reports; cancels itself after ``cancel_after`` progress steps."""

    def __init__(self, cancel_after=None):
        super().__init__()
        self.cancel_after = cancel_after
        self.progress = []
        self.texts = []
        self.infos = []
        self.warnings = []
        self.errors = []
        self.progressChanged.connect(self.progress.append)

    def setProgressText(self, text):  # noqa: N802
        self.texts.append(text)
        super().setProgressText(text)
        if self.cancel_after is not None and len(self.texts) >= self.cancel_after:
            self.cancel()

    def pushInfo(self, info):  # noqa: N802
        self.infos.append(info)
        super().pushInfo(info)

    def pushWarning(self, warning):  # noqa: N802
        self.warnings.append(warning)
        super().pushWarning(warning)

    def reportError(self, error, fatalError=False):  # noqa: N802, N803
        self.errors.append(error)
        super().reportError(error, fatalError)


def drawn_layer(rings, crs="EPSG:3857", kind="Polygon", name="harbour east", unsaved=False):
    """A memory layer in Web Mercator (as a user draws one on an OpenStreetMap background) or ``crs``, of one
    polygon per ring (none: an empty layer); ``kind`` "Point": a point at each ring's first vertex; "MultiPolygon":
    one feature of a part per ring (QGIS's *Add Part*). ``unsaved``: drawn in an edit session not saved yet."""
    layer = QgsVectorLayer(f"{kind}?crs={crs}&field=name:string", name, "memory")
    to_layer = QgsCoordinateTransform(LONLAT, QgsCoordinateReferenceSystem(crs), QgsProject.instance())
    features = []
    if kind == "MultiPolygon":
        rings = [rings]
    for ring in rings:
        if kind == "MultiPolygon":
            geometry = QgsGeometry.fromMultiPolygonXY([[[QgsPointXY(x, y) for x, y in part]] for part in ring])
        else:
            geometry = (QgsGeometry.fromPolygonXY([[QgsPointXY(x, y) for x, y in ring]]) if kind == "Polygon"
                        else QgsGeometry.fromPointXY(QgsPointXY(*ring[0])))
        geometry.transform(to_layer)
        feature = QgsFeature(layer.fields())
        feature.setGeometry(geometry)
        feature.setAttribute("name", name)
        features.append(feature)
    if unsaved:  # the features in the layer's edit buffer, with the negative ids QGIS gives them until saved
        layer.startEditing()
        layer.addFeatures(features)
    else:
        layer.dataProvider().addFeatures(features)
    QgsProject.instance().addMapLayer(layer, False)  # in the project (as drawn), not drawn on the map here
    return layer


def extent_text(bounds):
    to_mercator = QgsCoordinateTransform(LONLAT, MERCATOR, QgsProject.instance())
    box = to_mercator.transformBoundingBox(QgsRectangle(*bounds))
    return f"{box.xMinimum()},{box.xMaximum()},{box.yMinimum()},{box.yMaximum()} [EPSG:3857]"


def describe(layer):
    properties = layer.temporalProperties()
    time_range = properties.fixedTemporalRange() if properties.isActive() else None
    renderer = layer.renderer()
    info = {
        "name": layer.name(), "valid": layer.isValid(), "source": layer.source(),
        "kind": "raster" if isinstance(layer, QgsRasterLayer) else "vector",
        "crs": {"valid": layer.crs().isValid(), "authid": layer.crs().authid()},
        "renderer": renderer.type() if renderer is not None else None,
        "temporal": {"active": properties.isActive(), "mode": int(properties.mode()),
                     "range": [time_range.begin().toString(Qt.ISODate), time_range.end().toString(Qt.ISODate)]
                     if time_range is not None else None},
        "rank": layer.customProperty("geo_workbench/rank"),
        "rights": list(layer.metadata().rights()),
    }
    if isinstance(layer, QgsVectorLayer):
        info["features"] = layer.featureCount()
        info["geometry"] = QgsWkbTypes.geometryDisplayString(layer.geometryType())
        info["fields"] = {f.name(): f.typeName() for f in layer.fields()}
        if properties.isActive():
            info["temporal"]["start_expression"] = properties.startExpression()
        if renderer is not None and renderer.type() == "categorizedSymbol":
            info["categories"] = {c.value(): c.symbol().symbolLayer(0).strokeColor().name()
                                  for c in renderer.categories()}
            info["attribute"] = renderer.classAttribute()
    return info


def parameter_facts(parameter):
    """What a user is offered: the parameter's type, the layer parameter it follows (a band's raster), the file
    types of an output."""
    facts = {"type": parameter.type(), "optional": bool(parameter.flags() & parameter.FlagOptional)}
    if hasattr(parameter, "parentLayerParameterName"):
        facts["parent"] = parameter.parentLayerParameterName()
    if parameter.isDestination():
        facts["file_filter"] = parameter.createFileFilter()
    return facts


def render(project, layers, png, at=None):
    """The layers drawn at the AOI layer's extent in the project CRS (at an instant of the time slider)."""
    settings = QgsMapSettings()
    settings.setDestinationCrs(project.crs())
    settings.setTransformContext(project.transformContext())
    settings.setLayers(layers)
    settings.setOutputSize(QSize(900, 900))
    settings.setOutputDpi(96)
    settings.setBackgroundColor(QColor(255, 255, 255))
    aoi = next(layer for layer in layers if layer.name().startswith("Area of interest"))
    extent = QgsCoordinateTransform(aoi.crs(), project.crs(), project).transformBoundingBox(aoi.extent())
    extent.scale(1.05)
    settings.setExtent(extent)
    if at is not None:
        moment = QDateTime.fromString(at, Qt.ISODate)
        settings.setIsTemporal(True)
        settings.setTemporalRange(QgsDateTimeRange(moment, moment))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    job.renderedImage().save(png, "PNG")
    visible = settings.visibleExtent()
    return {"png": png, "errors": [e.message for e in job.errors()], "width": 900,
            "extent": [visible.xMinimum(), visible.yMinimum(), visible.xMaximum(), visible.yMaximum()]}


def main():
    spec = json.load(sys.stdin)
    app = QgsApplication([], False)
    app.setPrefixPath("/usr", True)
    app.initQgis()
    sys.path.insert(0, "/usr/share/qgis/python/plugins")
    import processing
    import qgis.utils
    from processing.core.Processing import Processing
    from processing.core.ProcessingConfig import ProcessingConfig
    from processing.gui.Postprocessing import handleAlgorithmResults

    Processing.initialize()
    # the plugin installed from its zip, found and started by QGIS's own plugin loader
    qgis.utils.plugin_paths = [spec["plugins_dir"]]
    sys.path.insert(0, spec["plugins_dir"])
    qgis.utils.updateAvailablePlugins()
    report = {"available": "geo_workbench" in qgis.utils.available_plugins,
              "started": qgis.utils.loadPlugin("geo_workbench") and qgis.utils.startProcessingPlugin("geo_workbench")}
    provider = QgsApplication.processingRegistry().providerById("geo")
    report["provider"] = {"name": provider.name() if provider else None}
    report["algorithms"] = sorted(a.id() for a in provider.algorithms()) if provider else []
    report["descriptions"] = {a.id(): {"short": a.shortDescription(), "help": a.shortHelpString()}
                              for a in provider.algorithms()} if provider else {}
    algorithm = QgsApplication.processingRegistry().algorithmById(spec.get("algorithm", "geo:changejob"))
    report["parameters"] = {p.name(): parameter_facts(p) for p in algorithm.parameterDefinitions()} if algorithm else {}
    if spec.get("setting") is not None:
        ProcessingConfig.setSettingValue("GEO_WORKBENCH_COMMAND", spec["setting"])

    project = QgsProject.instance()
    params = dict(spec["params"])
    if "DRAWN" in params:
        rings = params.pop("DRAWN")
        layer = drawn_layer(rings if not rings or isinstance(rings[0][0], list) else [rings],
                            params.pop("DRAWN_CRS", "EPSG:3857"), params.pop("DRAWN_KIND", "Polygon"),
                            params.pop("DRAWN_NAME", "harbour east"), params.pop("DRAWN_UNSAVED", False))
        if params.pop("DRAWN_NO_CRS", False):  # its coordinates kept, its CRS lost (a shapefile without .prj)
            layer.setCrs(QgsCoordinateReferenceSystem())
        if "DRAWN_WRONG_CRS" in params:  # its coordinates kept, labelled with another CRS (a wrong .prj)
            layer.setCrs(QgsCoordinateReferenceSystem(params.pop("DRAWN_WRONG_CRS")))
        params["AOI"] = layer
        if "SELECTED" in params:  # 'Selected features only' ticked, these features (by index) selected
            ids = [feature.id() for feature in layer.getFeatures()]
            layer.selectByIds([ids[i] for i in params.pop("SELECTED")])
            params["AOI"] = QgsProcessingFeatureSourceDefinition(layer.id(), True)
    for key in params.pop("WEB_LAYERS", []):  # a web map (OpenStreetMap's tiles) picked as this raster
        web = QgsRasterLayer("type=xyz&url=https://tile.openstreetmap.org/%7Bz%7D/%7Bx%7D/%7By%7D.png&zmax=19&zmin=0",
                             "OpenStreetMap", "wms")
        project.addMapLayer(web)
        params[key] = web
    as_dates = params.pop("DATES_AS", None)  # the dates as a console script or a model gives them
    for key in ("BEFORE", "AFTER", "FROM", "TO"):
        if as_dates and key in params:
            day = datetime.date.fromisoformat(params[key])
            params[key] = {"date": day, "QDate": QDate(day.year, day.month, day.day),
                           "QDateTime": QDateTime(QDate(day.year, day.month, day.day))}[as_dates]
    if "EXTENT_LONLAT" in params:
        params["EXTENT"] = extent_text(params.pop("EXTENT_LONLAT"))
    logged = []  # QGIS's message log: what the Log Messages panel shows
    QgsApplication.messageLog().messageReceived.connect(lambda message, tag, level: logged.append(message))
    feedback = RecordingFeedback(spec.get("cancel_after_steps"))
    context = QgsProcessingContext()
    context.setProject(project)
    context.setFeedback(feedback)
    try:
        runs = [params] * spec.get("runs", 1) + [{**params, **changed} for changed in spec.get("then", [])]
        for run_params in runs:  # a re-run into the same folder, as a user runs it again, or another run
            results = processing.run(spec.get("algorithm", "geo:changejob"), run_params, feedback=feedback,
                                     context=context, onFinish=handleAlgorithmResults)
        # a result layer (the corrected raster) is a path here: no layer object may outlive exitQgis()
        report["results"] = {k: v if isinstance(v, (str, int, float)) or v is None else v.source()
                             for k, v in results.items()}
        report["error"] = None
        del results
    except Exception as exc:  # QgsProcessingException: what the user sees in the log
        report["results"], report["error"] = None, str(exc)
    report["feedback"] = {"progress": feedback.progress, "texts": feedback.texts, "infos": feedback.infos,
                          "warnings": feedback.warnings, "errors": feedback.errors,
                          "canceled": feedback.isCanceled(), "log": logged}
    ordered = [node.layer() for node in project.layerTreeRoot().findLayers() if node.layer() is not None
               and node.layer().customProperty("geo_workbench/run")]
    report["layers"] = [{**describe(layer), "checked": project.layerTreeRoot().findLayer(layer.id()).isVisible()}
                        for layer in ordered]
    report["project_crs"] = {"valid": project.crs().isValid(), "authid": project.crs().authid()}
    report["renders"] = {r["key"]: render(project, ordered, r["png"], r.get("at"))
                         for r in spec.get("renders", [])} if ordered else {}
    if spec.get("project") and ordered:
        report["project_written"] = project.write(spec["project"])
    print(json.dumps(report))
    del params, runs, ordered, context, feedback
    project.clear()
    gc.collect()
    app.exitQgis()


if __name__ == "__main__":
    main()
