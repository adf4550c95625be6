"""Run by Debian's /usr/bin/python3 (PyQGIS), never by the project's interpreter: read a project as QGIS does
(or a layer definition file, .qlr, added to an empty project) and render its map the way the canvas draws
it — at the project's CRS and default view extent, the checked layers in the project's order, optionally at
an instant of the temporal controller — into PNG files. The tests look at the pixels.

stdin: {"project": path, "out_dir": dir, "size": [width, height],
        "renders": [{"key": str, "layers": [layer name, ...] | null (the checked layers),
                     "at": [start, end] | "end" (the project's time range end) | null (no time filter)}]}
stdout: {"read": bool, "crs": {"valid", "authid"}, "view_extent": [xmin, ymin, xmax, ymax] | null,
         "time_range": [start, end], "renders": {key: {"png", "extent", "map_units_per_pixel", "layers",
                                                       "drawn", "errors"}}}
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsCoordinateTransform,
    QgsDateTimeRange,
    QgsLayerDefinition,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsProject,
)
from qgis.PyQt.QtCore import QDateTime, QSize, Qt  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402


def _time(text):
    return QDateTime.fromString(text, Qt.ISODate)


def _rectangle(rect):
    return [rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum()]


def view_extent(project):
    """The project's default view extent in the project CRS (None when the project sets none)."""
    extent = project.viewSettings().defaultViewExtent()
    if extent.isEmpty():
        return None
    if extent.crs().isValid() and extent.crs() != project.crs():
        return QgsCoordinateTransform(extent.crs(), project.crs(), project).transformBoundingBox(extent)
    return extent


def render(project, spec, size, out_dir, extent):
    root = project.layerTreeRoot()
    names = spec.get("layers")
    layers = [layer for layer in root.layerOrder()
              if (layer.name() in names if names is not None else root.findLayer(layer.id()).isVisible())]
    settings = QgsMapSettings()
    settings.setDestinationCrs(project.crs())
    settings.setTransformContext(project.transformContext())
    settings.setLayers(layers)
    settings.setOutputSize(QSize(*size))
    settings.setOutputDpi(96)
    settings.setBackgroundColor(QColor(255, 255, 255))
    settings.setExtent(extent if extent is not None else settings.fullExtent())
    at = spec.get("at")
    if at is not None:
        time_range = project.timeSettings().temporalRange()
        start, end = (time_range.end(), time_range.end()) if at == "end" else (_time(at[0]), _time(at[1]))
        settings.setIsTemporal(True)
        settings.setTemporalRange(QgsDateTimeRange(start, end))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    png = str(Path(out_dir) / f"{spec['key']}.png")
    job.renderedImage().save(png, "PNG")
    temporal_range = settings.temporalRange()
    return {
        "png": png,
        "extent": _rectangle(settings.visibleExtent()),
        "map_units_per_pixel": settings.mapUnitsPerPixel(),
        "layers": [layer.name() for layer in layers],
        "drawn": [layer.name() for layer in layers
                  if at is None or not layer.temporalProperties().isActive()
                  or layer.temporalProperties().isVisibleInTemporalRange(temporal_range)],
        "errors": [f"{error.layerID}: {error.message}" for error in job.errors()],
    }


def main():
    spec = json.load(sys.stdin)
    app = QgsApplication([], False)
    app.initQgis()
    project = QgsProject.instance()
    if spec["project"].endswith(".qlr"):  # a layer definition, added to an empty project
        out = {"read": QgsLayerDefinition.loadLayerDefinition(spec["project"], project, project.layerTreeRoot())[0]}
    else:
        out = {"read": project.read(spec["project"])}
    crs = project.crs()
    out["crs"] = {"valid": crs.isValid(), "authid": crs.authid()}
    extent = view_extent(project)
    out["view_extent"] = _rectangle(extent) if extent is not None else None
    time_range = project.timeSettings().temporalRange()
    out["time_range"] = [time_range.begin().toString(Qt.ISODate), time_range.end().toString(Qt.ISODate)]
    out["renders"] = {r["key"]: render(project, r, spec["size"], spec["out_dir"], extent) for r in spec["renders"]}
    json.dump(out, sys.stdout)
    sys.stdout.flush()
    os._exit(0)  # QGIS 3.22 can crash in its exit handlers after the work is done


if __name__ == "__main__":
    main()
