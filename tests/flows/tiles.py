"""Synthetic Sentinel-2 L2A tiles anywhere on Earth, in the CRS a real tile there has (a UTM zone, north or
south), served by the loopback archive (tests/archive_server.py). Their pixels are a function of lon/lat, so
two tiles in two UTM zones show the same ground where they overlap, and a planted change (a bright lon/lat
box) is the same change in each: the truth of every figure a test asserts is known."""

from __future__ import annotations

import math

import json
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from affine import Affine
from rasterio.crs import CRS
from rasterio.warp import transform as transform_points
from shapely.geometry import box, mapping

from geo.geometry import WGS84, reproject

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry
from tests.archive_data import S2_BANDS, write_cog
from tests.archive_server import ArchiveServer

LonLatBox = tuple[float, float, float, float]  # west, south, east, north
SCL_VEGETATION = 4
SCL_CLOUD_HIGH = 9
CLOUD_DN = 8000  # a cloud's reflectance DN in every band, under its SCL class
SCL_SNOW = 11
# Fresh snow's reflectance DN by band (blue, green, red, NIR, SWIR 1.6, SWIR 2.2): bright in the visible and NIR,
# dark in the SWIR, which it absorbs (NDSI 0.74)
SNOW_DN = (8500, 8200, 7900, 7000, 1200, 900)


def _inside(lon: np.ndarray, lat: np.ndarray, area: LonLatBox) -> np.ndarray:
    west, south, east, north = area
    in_lon = (lon >= west) | (lon <= east) if west > east else (lon >= west) & (lon <= east)
    return in_lon & (lat >= south) & (lat <= north)


def ground(lon: np.ndarray, lat: np.ndarray, band: int, changed: LonLatBox | None) -> np.ndarray:
    """Reflectance DN at lon/lat: fields of a few hundred metres; DN 6000+ inside ``changed`` (a box across 180
    has its west over its east, as an RFC 7946 bbox)."""
    value = (1500 + 400 * np.sin(lon * 2000.0 + band) * np.cos(lat * 2500.0)
             + 200 * np.sin(lon * 7000.0 + lat * 5000.0))
    if changed is not None:
        value = np.where(_inside(lon, lat, changed), 6000 + 300 * band, value)
    return value


@dataclass
class Tile:
    """One item: ``bounds`` in EPSG ``epsg`` (its files' grid); ``dn_offset`` is added to every band's DN
    (processing baseline 04.00's +1000); ``noise_dn``: the standard deviation of Gaussian noise added to
    every pixel (a sensor's, drawn anew for each item and band; none by default); ``properties`` override
    the item's."""

    item_id: str
    when: datetime
    epsg: int
    bounds: tuple[float, float, float, float]
    orbit: int = 32
    changed: LonLatBox | None = None
    dn_offset: int = 0
    noise_dn: float = 0.0
    properties: dict[str, Any] = field(default_factory=dict)
    footprint: BaseGeometry | None = None  # lon/lat, as the item says it (default: ``bounds`` reprojected)
    clouds: tuple[LonLatBox, ...] = ()  # bright (``CLOUD_DN``) in every band, SCL class 9 (cloud, high probability)
    scl: bool = True  # False: an item without its scene classification (cloud not judged)
    snow: tuple[LonLatBox, ...] = ()  # snow (``SNOW_DN``) under any change, SCL class 11 (snow)


def _lon_lat(crs: CRS, transform: Affine, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    cols, rows = np.meshgrid(np.arange(shape[1]) + 0.5, np.arange(shape[0]) + 0.5)
    xs, ys = transform.c + cols * transform.a, transform.f + rows * transform.e  # north-up
    lon, lat = transform_points(crs, "EPSG:4326", xs.ravel(), ys.ravel())
    return np.asarray(lon).reshape(shape), np.asarray(lat).reshape(shape)


def tile_item(server: ArchiveServer, folder: Path, tile: Tile) -> dict[str, Any]:
    """Write the tile's COGs (six 10 m bands, a 20 m SCL unless ``tile.scl`` is False), serve them, and register its item (Earth Search
    asset keys, ``raster:bands`` with scale 1e-4 and no offset, ``proj:epsg``); the item is returned."""
    crs = CRS.from_epsg(tile.epsg)
    left, bottom, right, top = tile.bounds
    assets: dict[str, Any] = {}
    for res, names in ((10.0, S2_BANDS), (20.0, ("scl",) if tile.scl else ())):
        transform = Affine(res, 0, left, 0, -res, top)
        shape = (round((top - bottom) / res), round((right - left) / res))
        lon, lat = _lon_lat(crs, transform, shape)
        clouded, snowy = np.zeros(shape, bool), np.zeros(shape, bool)
        for cloud in tile.clouds:
            clouded |= _inside(lon, lat, cloud)
        for snow in tile.snow:
            snowy |= _inside(lon, lat, snow)
        for index, band in enumerate(names):
            if band == "scl":
                data = np.where(clouded, SCL_CLOUD_HIGH, np.where(snowy, SCL_SNOW, SCL_VEGETATION)).astype(np.uint8)
            else:
                value = ground(lon, lat, index, tile.changed) + tile.dn_offset
                if tile.snow:
                    value = np.where(snowy & ~_inside(lon, lat, tile.changed) if tile.changed else snowy,
                                     SNOW_DN[index] + tile.dn_offset, value)
                value = np.where(clouded, CLOUD_DN, value)
                if tile.noise_dn:
                    seed = zlib.crc32(f"{tile.item_id}/{band}".encode())
                    value = value + np.random.default_rng(seed).normal(0.0, tile.noise_dn, value.shape)
                data = np.clip(value, 1, 65535).astype(np.uint16)
            path = write_cog(folder / tile.item_id / f"{band}.tif", data, crs, transform, 0)
            assets[band] = {"href": server.add_file(f"files/tiles/{tile.item_id}/{band}.tif", path),
                            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                            "roles": ["data"] if band == "scl" else ["data", "reflectance"],
                            "raster:bands": [{"nodata": 0}] if band == "scl"
                            else [{"nodata": 0, "scale": 0.0001, "offset": 0.0}]}
    footprint = tile.footprint or reproject(box(*tile.bounds), f"EPSG:{tile.epsg}", WGS84)
    item = {"type": "Feature", "stac_version": "1.0.0", "id": tile.item_id, "collection": "sentinel-2-l2a",
            "geometry": mapping(footprint), "bbox": list(footprint.bounds),
            "properties": {"datetime": tile.when.strftime("%Y-%m-%dT%H:%M:%SZ"), "platform": "sentinel-2a",
                           "sat:relative_orbit": tile.orbit, "eo:cloud_cover": 1.0, "proj:epsg": tile.epsg,
                           "s2:processing_baseline": "02.14", **tile.properties},
            "assets": assets, "links": []}
    server.add_item(item)
    return item


def utm_box(epsg: int, lon: float, lat: float, half_width_m: float, half_height_m: float
            ) -> tuple[float, float, float, float]:
    """Bounds in EPSG ``epsg`` of a box centred on lon/lat, its corners on a 60 m lattice (as S2 tiles')."""
    xs, ys = transform_points("EPSG:4326", CRS.from_epsg(epsg), [lon], [lat])
    x, y = round(xs[0] / 60) * 60, round(ys[0] / 60) * 60
    return (x - half_width_m, y - half_height_m, x + half_width_m, y + half_height_m)


def lon_lat_square(lon: float, lat: float, side_m: float) -> LonLatBox:
    """The lon/lat box of a square ``side_m`` metres a side centred on (lon, lat)."""
    half_lat, half_lon = side_m / 2 / 111_320, side_m / 2 / (111_320 * math.cos(math.radians(lat)))
    return lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat


def lon_lat_aoi(path: Path, area: LonLatBox) -> Path:
    """A drawn AOI file (as geojson.io saves one) of the lon/lat box ``area``."""
    west, south, east, north = area
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}]}))
    return path


def split_at_antimeridian(epsg: int, bounds: tuple[float, float, float, float]) -> BaseGeometry:
    """The lon/lat footprint of a UTM box that crosses 180°, cut there into two polygons (RFC 7946, as Earth
    Search writes such a tile's footprint)."""
    from shapely import affinity
    from shapely.geometry import MultiPolygon, Polygon

    left, bottom, right, top = bounds
    xs, ys = np.linspace(left, right, 50), np.linspace(bottom, top, 50)
    ring = ([(x, bottom) for x in xs] + [(right, y) for y in ys] + [(x, top) for x in xs[::-1]]
            + [(left, y) for y in ys[::-1]])
    lon, lat = transform_points(CRS.from_epsg(epsg), "EPSG:4326", [p[0] for p in ring], [p[1] for p in ring])
    unwrapped = Polygon([(x + 360 if x < 0 else x, y) for x, y in zip(lon, lat)])
    east = unwrapped.intersection(box(0, -90, 180, 90))
    west = affinity.translate(unwrapped.intersection(box(180, -90, 540, 90)), -360)
    return MultiPolygon([east, west])


def changed_square_pair(server: ArchiveServer, folder: Path, name: str, lon: float, lat: float, epsg: int,
                        dates: tuple[datetime, datetime], tile_half_m: float, change_side_m: float) -> None:
    """Two tiles centred on (``lon``, ``lat``), ``tile_half_m`` each way, ``name``_YYYYMMDD on each date: the second
    with a bright square of ``change_side_m`` planted at their centre."""
    for when, changed in zip(dates, (None, lon_lat_square(lon, lat, change_side_m))):
        tile_item(server, folder, Tile(f"{name}_{when:%Y%m%d}", when, epsg,
                                       utm_box(epsg, lon, lat, tile_half_m, tile_half_m), changed=changed))
