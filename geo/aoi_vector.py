"""Drawn areas in GDAL's vector formats (a GeoPackage or shapefile from QGIS, KML from Google Earth,
FlatGeobuf...): the polygon layer read as a lon/lat GeoJSON FeatureCollection for ``geo.aoi`` to check like
any drawn GeoJSON. pyogrio is imported where a file needs it: a GeoJSON area never loads it."""

from __future__ import annotations

from pathlib import Path

from shapely.geometry import mapping

from geo.aoi_files import check_aoi_file_size, gdal_reason
from geo.errors import AOIError
from geo.geometry import WGS84

DRAWN_PROPERTIES = ("id", "name", "kind", "country", "source")  # the properties of a drawn area geo keeps


def read_vector_layer(path: Path) -> dict[str, object]:
    """The polygon layer of a vector file as a lon/lat GeoJSON FeatureCollection (the AOI-relevant properties
    only). A file of several layers must hold exactly one polygon layer: which one the user meant is not guessed."""
    import pyogrio  # a GDAL vector reader: only for the files that are not GeoJSON
    from pyogrio.errors import DataLayerError, DataSourceError

    check_aoi_file_size(path)
    try:
        layers = [(str(name), str(kind)) for name, kind in pyogrio.list_layers(path)]
    except DataSourceError as exc:
        raise AOIError(f"{path}: not a GeoJSON file nor a vector file GDAL can read ({gdal_reason(exc)})") from None
    if len(layers) > 1:
        layers = [(polygon_layer(path, layers, "the AOI's layer"), "")]
    if not layers:
        raise AOIError(f"{path}: the file holds no layer")
    try:
        frame = pyogrio.read_dataframe(path, layer=layers[0][0])
    except (DataSourceError, DataLayerError) as exc:
        raise AOIError(f"{path}: cannot read layer {layers[0][0]!r} ({str(exc).splitlines()[0]})") from None
    if frame.empty:
        raise AOIError(f"{path}: layer {layers[0][0]!r} holds no features (draw the area in it and save the edits)")
    if frame.crs is None:
        raise AOIError(f"{path}: layer {layers[0][0]!r} declares no CRS (a shapefile needs its .prj beside it)")
    frame = frame.to_crs(WGS84)
    # Matched regardless of case: GDAL reads a KML placemark's <name> as "Name".
    columns = {str(column).lower(): column for column in frame.columns if column != frame.geometry.name}
    kept = {key: columns[key] for key in DRAWN_PROPERTIES if key in columns}
    features = [{"type": "Feature",
                 "properties": {key: row[column] for key, column in kept.items() if isinstance(row[column], str)},
                 "geometry": None if geometry is None or geometry.is_empty else mapping(geometry)}
                for geometry, (_, row) in zip(frame.geometry, frame.iterrows(), strict=True)]
    return {"type": "FeatureCollection", "features": features}


def polygon_layer(path: Path, layers: list[tuple[str, str]], what: str) -> str:
    """The one polygon layer among a file's ``layers`` (name, declared geometry type, as pyogrio lists them);
    none or several are refused, naming them: which one the user meant is not guessed. ``what``: the layer
    the user should save alone."""
    polygons = [name for name, kind in layers if _holds_polygons(path, name, kind)]
    if len(polygons) != 1:
        raise AOIError(f"{path}: holds {len(polygons)} polygon layers ({', '.join(polygons) or 'none'}), expected 1 "
                       f"(save {what} alone, e.g. QGIS Export > Save Features As)")
    return polygons[0]


def _holds_polygons(path: Path, layer: str, declared: str) -> bool:
    """Whether a layer is a polygon layer: by its declared geometry type, or, when it declares none (KML's
    folders, a GeoPackage's generic "Geometry" layer), by the geometries it holds."""
    if declared.lower() != "unknown":
        return "polygon" in declared.lower()
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    try:
        frame = pyogrio.read_dataframe(path, layer=layer, columns=[])
    except (DataSourceError, DataLayerError):
        return False  # a layer GDAL cannot read is no candidate
    return bool(frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).any())
