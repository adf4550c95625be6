"""The area an algorithm works on, as the GeoJSON file ``geo --aoi FILE`` takes: the polygons of a layer (its
selected features when the user ticks *Selected features only*) or an extent (the canvas extent, a layer's),
in lon/lat (EPSG:4326, RFC 7946). ``geo`` names the area after the file: the layer's name, or ``extent``."""

import json
import os
import re

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingException,
    QgsProcessingFeatureSourceDefinition,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessing,
    QgsProcessingUtils,
    QgsRectangle,
    QgsUnitTypes,
    QgsWkbTypes,
)

AOI = "AOI"
EXTENT = "EXTENT"
LONLAT = QgsCoordinateReferenceSystem("EPSG:4326")


def aoi_parameters():
    return [
        QgsProcessingParameterFeatureSource(AOI, "Area of interest (polygons; their union)",
                                            [QgsProcessing.TypeVectorPolygon], optional=True),
        QgsProcessingParameterExtent(EXTENT, "…or an extent (e.g. the map canvas)", optional=True),
    ]


def _file_stem(name):
    """The layer's name as the file's: ``geo`` makes the AOI's id from it as from any file a user gives it (the
    same id in QGIS as on the command line: ``Hamhŭng`` -> ``hamhung``); only what a file name cannot hold goes."""
    return re.sub(r'[\x00-\x1f/\\:*?"<>|]+', "-", name).strip(" .-")[:100] or "area"


def _polygons(algorithm, parameters, context, feedback):
    """(name, [lon/lat polygon geometries]) from the AOI layer, else the extent."""
    source = algorithm.parameterAsSource(parameters, AOI, context)
    if source is not None:
        name = source.sourceName() or "area"
        if not source.sourceCrs().isValid():  # no transform: its coordinates would reach geo as lon/lat
            raise QgsProcessingException(
                f"AOI layer '{name}': has no CRS, so where its polygons are is unknown; set it (Layer Properties > "
                "Source > Assigned Coordinate Reference System) and run again")
        to_lonlat = QgsCoordinateTransform(source.sourceCrs(), LONLAT, context.transformContext())
        geometries, extent = [], QgsRectangle()
        for feature in source.getFeatures():
            geometry = QgsGeometry(feature.geometry())
            if geometry.isEmpty() or QgsWkbTypes.geometryType(geometry.wkbType()) != QgsWkbTypes.PolygonGeometry:
                continue
            extent.combineExtentWith(geometry.boundingBox())
            geometry.transform(to_lonlat)
            geometry = _continuous(geometry)
            _check_valid(name, feature.id(), geometry)
            geometries.append(geometry)
        if not geometries:
            raise QgsProcessingException(_no_polygon(name, source, parameters.get(AOI)))
        _check_units(name, source.sourceCrs(), extent)
        if parameters.get(EXTENT):
            feedback.pushWarning(f"both an AOI layer ('{name}') and an extent are given: the layer's polygons are the "
                                 "area, the extent is left out")
        return name, geometries
    if parameters.get(EXTENT):
        extent = algorithm.parameterAsExtentGeometry(parameters, EXTENT, context, LONLAT)
        if extent is None or extent.isEmpty():
            raise QgsProcessingException("the extent is empty")
        return "extent", [_continuous(extent)]
    raise QgsProcessingException("give an area of interest: a polygon layer, or an extent (the canvas extent)")


def _continuous(geometry):
    """``geometry`` (lon/lat) with each ring's longitudes continuous across 180 (179.99 -> 180.01, not -179.99), as
    geo reads an area drawn past it: projected to lon/lat, an area across 180 (drawn in UTM zone 60, a canvas
    panned across it) jumped from 179.99 to -179.99 and back, an outline crossing itself when read flat (geo: "its
    edges cross (a bow-tie)"). Others are returned as they are."""
    polygons = geometry.asMultiPolygon() if geometry.isMultipart() else [geometry.asPolygon()]
    jumps = any(abs(b.x() - a.x()) > 180 for rings in polygons for ring in rings for a, b in zip(ring, ring[1:]))
    if not jumps:
        return geometry
    moved = []
    for rings in polygons:
        moved_rings = []
        for ring in rings:
            turn = 0.0 if not moved_rings else 360.0 * round((moved_rings[0][0].x() - ring[0].x()) / 360.0)
            points = [QgsPointXY(ring[0].x() + turn, ring[0].y())]
            for a, b in zip(ring, ring[1:]):
                turn -= 360.0 * round((b.x() - a.x()) / 360.0)
                points.append(QgsPointXY(b.x() + turn, b.y()))
            moved_rings.append(points)
        moved.append(moved_rings)
    return QgsGeometry.fromMultiPolygonXY(moved) if geometry.isMultipart() else QgsGeometry.fromPolygonXY(moved[0])


# What to do about the faults GEOS names, as geo words them (geo.aoi_files.validity_advice)
_VALIDITY_ADVICE = {
    "self-intersection": "its edges cross (a bow-tie): move the corners so they do not, or let QGIS split it "
                         "(Vector > Geometry Tools > Fix Geometries)",
    "ring self-intersection": "its outline touches itself: move the corner it touches",
}


def _check_valid(name, feature_id, geometry):
    """A polygon drawn crossing itself fails before geo starts, naming the layer, the feature and where (in lon/lat):
    the union of several with it was an empty geometry, which geo read as 'the feature has no geometry'. Each part
    is checked alone, as geo checks them: parts overlapping each other (QGIS's Add Part) are one area."""
    parts = geometry.asGeometryCollection() if geometry.isMultipart() else [geometry]
    errors = [error for part in parts for error in part.validateGeometry(QgsGeometry.ValidatorGeos)]
    if not errors:
        return
    fault = errors[0]
    where = f" at {fault.where().x():.5f}, {fault.where().y():.5f}, lon/lat" if fault.hasWhere() else ""
    advice = _VALIDITY_ADVICE.get(fault.what().lower(), "let QGIS fix it (Vector > Geometry Tools > Fix Geometries)")
    # an edit session's features have negative ids until saved, which QGIS shows nowhere
    feature = (f"feature {feature_id}" if feature_id >= 0
               else "a feature not saved yet (drawn since the last Save Layer Edits)")
    raise QgsProcessingException(
        f"AOI layer '{name}': {feature} is not a valid polygon ({fault.what()}{where}): {advice}")


def _check_units(name, crs, extent):
    """Polygons a few metres wide at lon/lat's numbers in a CRS of metres: lon/lat degrees in a layer given a
    projected CRS (a wrong .prj, a CRS set by hand); geo, handed them, said 'check the file's CRS' of the
    temporary file written in EPSG:4326. Any such area is under geo's 100 m square minimum: none geo takes is
    refused."""
    lonlat_numbers = QgsRectangle(-180, -90, 180, 90).contains(extent)
    metres_wide = max(extent.width(), extent.height())
    if crs.mapUnits() != QgsUnitTypes.DistanceMeters or not lonlat_numbers or metres_wide >= 100:
        return
    raise QgsProcessingException(
        f"AOI layer '{name}': its polygons span {extent.width():.3f} x {extent.height():.3f} m in its CRS, "
        f"{crs.authid()} ({crs.description()}): lon/lat degrees in a layer given a projected CRS? set the CRS its "
        "coordinates are in (Layer Properties > Source > Assigned Coordinate Reference System; EPSG:4326 for "
        "lon/lat) and run again")


def _no_polygon(name, source, given):
    """Why the AOI layer gave no polygon, naming it: a layer of points or lines, an empty selection, no feature."""
    kind = QgsWkbTypes.geometryType(source.wkbType())
    if kind != QgsWkbTypes.PolygonGeometry:
        what = {QgsWkbTypes.PointGeometry: "points", QgsWkbTypes.LineGeometry: "lines"}.get(kind, "no geometry")
        return f"AOI layer '{name}': holds {what}, not polygons; give a polygon layer (or draw one)"
    if isinstance(given, QgsProcessingFeatureSourceDefinition) and given.selectedFeaturesOnly:
        return (f"AOI layer '{name}': no polygon selected ('Selected features only' is ticked); select the "
                "polygons or untick it")
    return f"AOI layer '{name}': has no polygon (empty); draw one in it, or give another layer"


def write_aoi(algorithm, parameters, context, feedback):
    """The AOI as a GeoJSON file in Processing's temporary folder; returns its path and what geo's messages should
    call it instead (the user never made that file: "AOI layer 'harbour east'", "the extent")."""
    name, geometries = _polygons(algorithm, parameters, context, feedback)
    folder = os.path.join(QgsProcessingUtils.tempFolder(), f"geo-aoi-{os.getpid()}-{id(algorithm):x}")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{_file_stem(name)}.geojson")
    # a feature per polygon: geo takes their union, each cut at 180 first (QGIS's union in lon/lat read a polygon
    # drawn across 180 the long way round, and lost what one covered beside another)
    features = [{"type": "Feature", "properties": {"name": name}, "geometry": json.loads(geometry.asJson(7))}
                for geometry in geometries]
    with open(path, "w", encoding="utf-8") as out:
        json.dump({"type": "FeatureCollection", "features": features}, out)
    feedback.pushInfo(f"area of interest: {name} ({len(geometries)} polygon(s)) written to {path}")
    return path, {path: "the extent" if parameters.get(AOI) is None else f"AOI layer '{name}'"}
