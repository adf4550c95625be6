"""A QGIS project (``project.qgz``) that opens a run ready to read: the job's UTM grid as project CRS and
initial view, every layer styled, in a sensible order, and time-aware — the before/after images one after
the other, the change outlines over both of them, each claim during its window — so the temporal
controller steps from the before picture to the after one with the changes drawn on each.

Why a project as well as styles in the GeoPackage: QGIS (at least up to 3.22) applies a layer's default
style when it opens it but then resets the temporal settings from the data provider, so temporal settings
survive only in a project. Paths are relative, so the run folder can be moved or shared whole.

The XML follows what QGIS 3.22 itself writes where QGIS is strict: it reads ``<projectCrs>`` only when the
project property ``SpatialRefSys/ProjectionsEnabled`` is set (without it the project has no CRS and the
vector layers are not drawn over the rasters), and a ``<spatialrefsys>`` it can read carries the WKT.
"""

from __future__ import annotations

import copy
import warnings
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pyproj import CRS

from geo.atomic import replacing
from geo.outputs.render import display_stretch
from geo.outputs.cog import read_view
from geo.outputs.layer_metadata import project_metadata, raster_metadata, vector_metadata
from geo.outputs.run_data import AFTER_RGB, BEFORE_RGB, GEOPACKAGE, STATISTIC, RunData
from geo.outputs.statistic import describe
from geo.outputs.styles import (
    QGIS_VERSION,
    aois_style,
    changes_style,
    claims_style,
    not_compared_style,
    statistic_style,
    to_qml,
    true_colour_style,
    vessels_style,
)

PROJECT = "project.qgz"
MEASURE_ELLIPSOID = "EPSG:7030"  # WGS 84: what QGIS sets for a new project (lengths and areas on the ellipsoid)
AFTER_SHOWN_FOR = timedelta(days=1)
NOT_COMPARED_NAME = "not compared: nothing known here"  # the legend's name of the areas not compared


@dataclass(frozen=True)
class ProjectLayer:
    layer_id: str
    name: str
    kind: str  # "vector" or "raster"
    source: str  # relative to the project file
    crs: str
    style: ET.Element
    visible: bool = True
    time_range: tuple[datetime, datetime] | None = None  # a fixed range, instead of the style's
    feature_counts: bool = False  # the legend counts each category's features ("darkening [6]", "shadow [0]")
    metadata: ET.Element | None = None  # <resourceMetadata>: title, abstract, the data's credit


def _layer_id(name: str) -> str:
    """QGIS keeps a layer id from the project only when it is longer than 10 characters."""
    return f"geo_{name}_layer"


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _spatialrefsys(parent: ET.Element, crs_text: str) -> None:
    """The CRS as QGIS writes it (less its internal ``srsid``): WKT first, which QGIS reads losslessly."""
    crs = CRS.from_user_input(crs_text)
    authority = crs.to_authority()
    with warnings.catch_warnings():  # pyproj warns that PROJ strings are lossy: the WKT is the real record
        warnings.simplefilter("ignore", UserWarning)
        proj4 = crs.to_proj4() or ""
    ellipsoid = (crs.ellipsoid.to_json_dict().get("id") or {}) if crs.ellipsoid else {}
    srs = ET.SubElement(parent, "spatialrefsys")
    for tag, text in (
        ("wkt", crs.to_wkt()),
        ("proj4", proj4),
        ("srid", authority[1] if authority and authority[0] == "EPSG" else ""),
        ("authid", f"{authority[0]}:{authority[1]}" if authority else ""),
        ("description", crs.name),
        ("projectionacronym", next((p[6:] for p in proj4.split() if p.startswith("+proj=")), "")),
        ("ellipsoidacronym", f"{ellipsoid['authority']}:{ellipsoid['code']}" if ellipsoid else ""),
        ("geographicflag", "true" if crs.is_geographic else "false"),
    ):
        ET.SubElement(srs, tag).text = text


def _maplayer(parent: ET.Element, layer: ProjectLayer) -> None:
    element = ET.SubElement(parent, "maplayer", type=layer.kind, styleCategories="AllStyleCategories")
    if layer.kind == "vector":
        element.set("geometry", "Polygon")
        element.set("wkbType", "MultiPolygon")
    ET.SubElement(element, "id").text = layer.layer_id
    ET.SubElement(element, "datasource").text = layer.source
    ET.SubElement(element, "layername").text = layer.name
    _spatialrefsys(ET.SubElement(element, "srs"), layer.crs)
    provider = ET.SubElement(element, "provider")
    provider.text = "ogr" if layer.kind == "vector" else "gdal"
    if layer.kind == "vector":
        provider.set("encoding", "UTF-8")
    if layer.time_range is not None:  # a fixed range replaces the style's own temporal settings
        start, end = layer.time_range
        temporal = ET.SubElement(element, "temporal", enabled="1", mode="0", fetchMode="0", limitMode="1")
        fixed = ET.SubElement(temporal, "fixedRange")
        ET.SubElement(fixed, "start").text = _iso(start)
        ET.SubElement(fixed, "end").text = _iso(end)
    for child in layer.style:  # the same renderer, temporal settings, aliases and map tips as the QML styles
        if not (child.tag == "temporal" and layer.time_range is not None):
            element.append(child)
    if "labelsEnabled" in layer.style.attrib:  # on the style's root in a QML, on <maplayer> in a project
        element.set("labelsEnabled", layer.style.attrib["labelsEnabled"])
    if layer.metadata is not None:
        element.append(copy.deepcopy(layer.metadata))


def _tree(parent: ET.Element, layers: list[ProjectLayer]) -> None:
    group = ET.SubElement(parent, "layer-tree-group")
    for layer in layers:
        node = ET.SubElement(group, "layer-tree-layer", {
            "id": layer.layer_id, "name": layer.name, "source": layer.source, "expanded": "1",
            "providerKey": "ogr" if layer.kind == "vector" else "gdal",
            "checked": "Qt::Checked" if layer.visible else "Qt::Unchecked",
        })
        if layer.feature_counts:  # the style lists every kind; the counts say which this run found
            properties = ET.SubElement(node, "customproperties")
            ET.SubElement(properties, "property", key="showFeatureCount", value="1")


STYLE_MAX_SIDE = 1000  # px: a COG without its sidecar is styled from an averaged-down read (a million pixels)


def _raster_style(path: Path) -> ET.Element:
    """The true-colour style of the QML sidecar written with the COG, else one computed from its pixels."""
    sidecar = path.with_suffix(".qml")
    if sidecar.exists():
        try:
            return ET.parse(sidecar).getroot()
        except ET.ParseError:
            pass  # a damaged sidecar: fall back to the pixels
    rgb, _, _ = read_view(path, STYLE_MAX_SIDE)
    return true_colour_style(display_stretch(rgb))


def project_layers(run: RunData) -> list[ProjectLayer]:
    """The run's layers, top of the legend first; rasters only when their COG is in the folder."""
    before, after = run.scene_datetime("before"), run.scene_datetime("after")
    grid_crs = str(run.manifest["grid"]["crs"])
    types = sorted({f.change_type for f in run.features})
    gpkg = f"./{GEOPACKAGE}|layername="
    about = vector_metadata([run])
    # All of a run's changes share the pair's dates: they are drawn over both images, for as long as either
    # shows (up to the after image's end, where per-feature end dates would drop them).
    images_shown = (before, after + AFTER_SHOWN_FOR)
    layers = [
        ProjectLayer(_layer_id("aois"), "areas of interest", "vector", gpkg + "aois", "EPSG:4326", aois_style(),
                     metadata=about["aois"]),
        ProjectLayer(_layer_id("changes"), "changes", "vector", gpkg + "changes", "EPSG:4326", changes_style(types),
                     time_range=images_shown, feature_counts=True, metadata=about["changes"]),
        *([ProjectLayer(_layer_id("vessels"), "vessel detections", "vector", gpkg + "vessels", "EPSG:4326",
                        vessels_style(), feature_counts=True, metadata=about["vessels"])] if run.vessels is not None else []),
        ProjectLayer(_layer_id("claims"), "claim verdicts", "vector", gpkg + "claims", "EPSG:4326", claims_style(), False,
                     feature_counts=True, metadata=about["claims"]),
        # over the imagery, under the changes: where nobody saw the ground, which the changes alone show as unchanged
        ProjectLayer(_layer_id("not_compared"), NOT_COMPARED_NAME, "vector", gpkg + "not_compared", "EPSG:4326",
                     not_compared_style(), time_range=images_shown, feature_counts=True, metadata=about["not_compared"]),
    ]
    statistic = run.manifest["statistic"]
    if run.raster(STATISTIC):
        label = f"change statistic ({describe(statistic).method})"
        layers.append(ProjectLayer(
            _layer_id("change_statistic"), label, "raster", f"./{STATISTIC}", grid_crs, statistic_style(statistic),
            False, images_shown, metadata=raster_metadata(run, None, label),  # of the pair, as the changes
        ))
    for name, role, label, time_range in (
        (AFTER_RGB, "after", f"after {after.date()}", (after, after + AFTER_SHOWN_FOR)),
        (BEFORE_RGB, "before", f"before {before.date()}", (before, after - timedelta(seconds=1))),
    ):
        path = run.raster(name)
        if path is not None:
            layers.append(ProjectLayer(
                _layer_id(name.removesuffix(".tif")), label, "raster", f"./{name}", grid_crs,
                _raster_style(path), True, time_range, metadata=raster_metadata(run, role, label),
            ))
    return layers


def time_range(run: RunData) -> tuple[datetime, datetime]:
    """From the before scene to a day after the after scene, widened to the vessel series' dates."""
    start, end = run.scene_datetime("before"), run.scene_datetime("after") + AFTER_SHOWN_FOR
    if run.vessels is not None and run.vessels.rows:
        dates = run.vessels.datetimes()
        start, end = min(start, *dates), max(end, max(dates) + AFTER_SHOWN_FOR)
    return start, end


def grid_extent(run: RunData) -> tuple[float, float, float, float]:
    """The job grid's (xmin, ymin, xmax, ymax) in its CRS: the project's initial view."""
    a, _, c, _, e, f = run.manifest["grid"]["transform"]
    rows, cols = run.manifest["grid"]["shape"]
    xs, ys = (c, c + a * cols), (f, f + e * rows)
    return min(xs), min(ys), max(xs), max(ys)


def _extent(parent: ET.Element, tag: str, extent: tuple[float, float, float, float], as_attributes: bool) -> ET.Element:
    element = ET.SubElement(parent, tag)
    for name, value in zip(("xmin", "ymin", "xmax", "ymax"), extent):
        if as_attributes:
            element.set(name, f"{value:.3f}")
        else:
            ET.SubElement(element, name).text = f"{value:.3f}"
    return element


def project_document(run: RunData) -> ET.Element:
    start, end = time_range(run)
    grid_crs = str(run.manifest["grid"]["crs"])
    extent = grid_extent(run)
    layers = project_layers(run)
    root = ET.Element("qgis", version=QGIS_VERSION, projectname=f"geo run: {run.aoi.get('name', run.aoi_id)}")
    ET.SubElement(root, "homePath", path="")
    ET.SubElement(root, "title").text = f"Changes over {run.aoi.get('name', run.aoi_id)}"
    root.append(project_metadata(run))  # what Project > Properties > Metadata shows (QGIS reads <title> without it)
    _spatialrefsys(ET.SubElement(root, "projectCrs"), grid_crs)
    _tree(root, layers)
    canvas = ET.SubElement(root, "mapcanvas", name="theMapCanvas")
    ET.SubElement(canvas, "units").text = "meters"
    _extent(canvas, "extent", extent, as_attributes=False)
    _spatialrefsys(ET.SubElement(canvas, "destinationsrs"), grid_crs)
    project_layers_element = ET.SubElement(root, "projectlayers")
    for layer in layers:
        _maplayer(project_layers_element, layer)
    order = ET.SubElement(root, "layerorder")
    for layer in layers:
        ET.SubElement(order, "layer", id=layer.layer_id)
    properties = ET.SubElement(root, "properties")
    ET.SubElement(ET.SubElement(properties, "Paths"), "Absolute", type="bool").text = "false"
    # without this QGIS ignores <projectCrs> and the project has no CRS
    ET.SubElement(ET.SubElement(properties, "SpatialRefSys"), "ProjectionsEnabled", type="int").text = "1"
    # without it QGIS measures lengths and areas flat in the grid's projection (its "None / Planimetric")
    ET.SubElement(ET.SubElement(properties, "Measure"), "Ellipsoid", type="QString").text = MEASURE_ELLIPSOID
    view = ET.SubElement(root, "ProjectViewSettings", UseProjectScales="0", rotation="0")
    ET.SubElement(view, "Scales")
    _spatialrefsys(_extent(view, "DefaultViewExtent", extent, as_attributes=True), grid_crs)
    time_settings = ET.SubElement(root, "ProjectTimeSettings", cumulativeTemporalRange="0", timeStep="1",
                                  timeStepUnit="d", frameRate="1")
    temporal_range = ET.SubElement(time_settings, "TemporalRange")
    ET.SubElement(temporal_range, "start").text = _iso(start)
    ET.SubElement(temporal_range, "end").text = _iso(end)
    return root


def write_project(path: Path, run: RunData) -> Path:
    """Write ``project.qgz`` (a zip holding the .qgs XML) beside the run's layers."""
    path = Path(path)
    text = to_qml(project_document(run))  # the same XML prologue as a style
    with replacing(path) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(path.with_suffix(".qgs").name, text)
    return path
