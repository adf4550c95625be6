"""The GeoPackage side of the store: core tables, geometry blobs, layer registration.

The store is written with the standard library's ``sqlite3`` rather than through GDAL so that a whole
re-check — attribute tables and feature layers together — is one SQLite transaction. Only the part of
GeoPackage 1.4 the store needs is here: the core tables, and 2D little-endian geometry blobs with an XY
envelope (GDAL, QGIS and pyogrio read them; ``tests/store`` checks that with GDAL and real PyQGIS).
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # shapely and pyproj where geometry is written or read: a re-check with nothing new needs none
    from shapely.geometry import MultiPolygon
    from shapely.geometry.base import BaseGeometry

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10200  # GeoPackage 1.2, like geo.outputs.gpkg: the GDAL under QGIS 3.22 warns about 1.4
WGS84_SRS_ID = 4326

_HEADER = struct.Struct("<2sBBi")  # magic, version, flags, srs_id (little-endian, flag bit 0 set)
_ENVELOPE_XY = struct.Struct("<4d")  # minx, maxx, miny, maxy
_FLAGS_LE_XY_ENVELOPE = 0b0000_0011  # byte order little-endian (bit 0), envelope code 1 = XY (bits 1-3)
_FLAG_EMPTY = 0b0001_0000
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}

CORE_TABLES = (
    """CREATE TABLE gpkg_spatial_ref_sys (
        srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
        organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE gpkg_contents (
        table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
        description TEXT DEFAULT '',
        last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
        CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE gpkg_geometry_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
        srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
        CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
        CONSTRAINT uk_gc_table_name UNIQUE (table_name),
        CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
        CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
)


def create_core(conn: sqlite3.Connection) -> None:
    """The mandatory GeoPackage tables and spatial reference systems (-1, 0 and EPSG:4326)."""
    from pyproj import CRS

    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {USER_VERSION}")
    for sql in CORE_TABLES:
        conn.execute(sql)
    conn.executemany(
        "INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)",
        [
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
            ("WGS 84 geodetic", WGS84_SRS_ID, "EPSG", 4326, CRS.from_epsg(4326).to_wkt("WKT1_GDAL"),
             "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"),
        ],
    )


def register_features(conn: sqlite3.Connection, table: str, description: str, column: str = "geom",
                      geometry_type: str = "MULTIPOLYGON") -> None:
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES (?, 'features', ?, ?, ?)",
        (table, table, description, WGS84_SRS_ID),
    )
    conn.execute("INSERT INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)", (table, column, geometry_type, WGS84_SRS_ID))


def register_attributes(conn: sqlite3.Connection, table: str, description: str) -> None:
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description) VALUES (?, 'attributes', ?, ?)",
        (table, table, description),
    )


def touch(conn: sqlite3.Connection, table: str, timestamp: str, geometries: Iterable[BaseGeometry] = ()) -> None:
    """Record a change to ``table`` in gpkg_contents, widening its extent to cover ``geometries``."""
    bounds = [g.bounds for g in geometries if not g.is_empty]
    if not bounds:
        conn.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (timestamp, table))
        return
    conn.execute(
        """UPDATE gpkg_contents SET last_change = ?1,
               min_x = min(coalesce(min_x, ?2), ?2), min_y = min(coalesce(min_y, ?3), ?3),
               max_x = max(coalesce(max_x, ?4), ?4), max_y = max(coalesce(max_y, ?5), ?5)
           WHERE table_name = ?6""",
        (timestamp, min(b[0] for b in bounds), min(b[1] for b in bounds), max(b[2] for b in bounds),
         max(b[3] for b in bounds), table),
    )


def _bounds(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a GeoPackage geometry blob, from its envelope when it has one; None when
    NULL, empty or not a blob."""
    if not isinstance(blob, bytes) or len(blob) < _HEADER.size or blob[:2] != b"GP" or blob[3] & _FLAG_EMPTY:
        return None
    if (blob[3] >> 1) & 0b111:  # an envelope: its first four doubles are X and Y, in the blob's byte order
        order = "<" if blob[3] & 1 else ">"
        return struct.unpack_from(f"{order}4d", blob, _HEADER.size)
    try:
        minx, miny, maxx, maxy = decode(blob).bounds
    except Exception:  # ValueError, shapely's GEOSException: an unreadable blob has no bounds
        return None
    return minx, maxx, miny, maxy


def register_functions(conn: sqlite3.Connection) -> None:
    """The SQL functions of GDAL's GeoPackage driver that the triggers of a spatial index call (``ST_IsEmpty``,
    ``ST_MinX`` ...): QGIS makes one on a layer of the store (*Layer Properties > Source > Create Spatial Index*),
    and every write to that layer then needs them ("no such function: ST_IsEmpty")."""
    conn.create_function("ST_IsEmpty", 1, lambda blob: None if blob is None else int(_bounds(blob) is None),
                         deterministic=True)
    for name, index in (("ST_MinX", 0), ("ST_MaxX", 1), ("ST_MinY", 2), ("ST_MaxY", 3)):
        conn.create_function(name, 1, lambda blob, i=index: None if (b := _bounds(blob)) is None else b[i],
                             deterministic=True)


def as_multipolygon(geometry: BaseGeometry) -> MultiPolygon:
    """Feature layers are declared MULTIPOLYGON, so single polygons are wrapped."""
    from shapely.geometry import MultiPolygon, Polygon

    if isinstance(geometry, Polygon):
        return MultiPolygon([geometry]) if not geometry.is_empty else MultiPolygon()
    if isinstance(geometry, MultiPolygon):
        return geometry
    raise ValueError(f"expected a polygonal geometry, got {geometry.geom_type}")


def encode(geometry: BaseGeometry, srs_id: int = WGS84_SRS_ID) -> bytes:
    """A GeoPackage geometry blob: header (+ XY envelope) and ISO WKB, little-endian."""
    import shapely

    wkb = shapely.to_wkb(geometry, byte_order=1, output_dimension=2)
    if geometry.is_empty:
        return _HEADER.pack(b"GP", 0, 0b0000_0001 | _FLAG_EMPTY, srs_id) + wkb
    minx, miny, maxx, maxy = geometry.bounds
    return _HEADER.pack(b"GP", 0, _FLAGS_LE_XY_ENVELOPE, srs_id) + _ENVELOPE_XY.pack(minx, maxx, miny, maxy) + wkb


def decode(blob: bytes) -> BaseGeometry:
    """The geometry of a GeoPackage blob (any envelope, either byte order)."""
    import shapely

    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob (no 'GP' magic)")
    flags = blob[3]
    envelope = _ENVELOPE_BYTES.get((flags >> 1) & 0b111)
    if envelope is None:
        raise ValueError(f"GeoPackage geometry blob with invalid envelope code in flags {flags:#04x}")
    return shapely.from_wkb(bytes(blob[_HEADER.size + envelope:]))
