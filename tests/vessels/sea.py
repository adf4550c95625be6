"""Synthetic harbour scenes with known truth: gamma- or K-distributed sea clutter of known parameters,
planted ships of known length/width/heading, land with bright piers; and Sentinel-2-like water with
planted bright hulls, glint and a cloud. Also writes them as S1-/S2-like items of a local STAC catalog."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pystac
import rasterio
from affine import Affine
from shapely.geometry import box, mapping

from geo.geometry import WGS84, reproject
from geo.grid import Grid
from tests.synthetic import CRS_UTM, ORIGIN

PIXEL = 10.0
SUPERSAMPLE = 5


def scene_grid(shape: tuple[int, int]) -> Grid:
    return Grid(CRS_UTM, Affine(PIXEL, 0, ORIGIN[0], 0, -PIXEL, ORIGIN[1]), shape)


@dataclass(frozen=True)
class Ship:
    row: float  # centre, pixels
    col: float
    length_m: float
    width_m: float
    heading_deg: float  # long axis, clockwise from north
    contrast: float = 30.0  # mean ship intensity / mean sea intensity (VV); VH gets half of it in dB

    def coverage(self, shape: tuple[int, int]) -> np.ndarray:
        """Fraction of each pixel covered by the ship's rectangle (supersampled)."""
        half = int(math.ceil(max(self.length_m, self.width_m) / PIXEL / 2)) + 2
        r0, c0 = max(int(self.row) - half, 0), max(int(self.col) - half, 0)
        r1, c1 = min(int(self.row) + half + 1, shape[0]), min(int(self.col) + half + 1, shape[1])
        sub = (np.arange(SUPERSAMPLE) + 0.5) / SUPERSAMPLE
        rr = (np.arange(r0, r1)[:, None] + sub[None, :]).ravel()
        cc = (np.arange(c0, c1)[:, None] + sub[None, :]).ravel()
        dy, dx = (rr[:, None] - self.row) * PIXEL, (cc[None, :] - self.col) * PIXEL
        theta = math.radians(self.heading_deg)
        along = dx * math.sin(theta) - dy * math.cos(theta)  # rows grow south: north is -dy
        across = dx * math.cos(theta) + dy * math.sin(theta)
        inside = (np.abs(along) <= self.length_m / 2) & (np.abs(across) <= self.width_m / 2)
        out = np.zeros(shape)
        block = inside.reshape(r1 - r0, SUPERSAMPLE, c1 - c0, SUPERSAMPLE).mean(axis=(1, 3))
        out[r0:r1, c0:c1] = block
        return out


def clutter(shape: tuple[int, int], looks: float, texture: float | None, rng: np.random.Generator) -> np.ndarray:
    """Unit-mean sea intensity: Gamma(looks) speckle, times an i.i.d. Gamma(texture) texture for K clutter."""
    sea = rng.gamma(looks, 1.0 / looks, size=shape)
    if texture is not None:
        sea *= rng.gamma(texture, 1.0 / texture, size=shape)
    return sea


def sar_scene(
    shape: tuple[int, int], ships: list[Ship], looks: float = 4.0, texture: float | None = None, seed: int = 0,
    sea_vv: float = 0.01, sea_vh: float = 0.002, trend: bool = True, land: np.ndarray | None = None,
    structures: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """VV/VH linear intensity. ``land`` pixels are bright textured land (x20 sea), ``structures`` (piers,
    quays) very bright (x60); a smooth x0.6..x1.6 trend across the sea mimics wind variation."""
    rng = np.random.default_rng(seed)
    level = np.ones(shape)
    if trend:
        level = 0.6 + np.linspace(0, 1, shape[1])[None, :] * np.ones(shape)
    out = {}
    for name, mean, gain in (("vv", sea_vv, 1.0), ("vh", sea_vh, 0.5)):
        image = mean * level * clutter(shape, looks, texture, rng)
        for ship in ships:
            cover = ship.coverage(shape)
            contrast = ship.contrast ** gain
            hull = mean * contrast * rng.gamma(looks, 1.0 / looks, size=shape)
            image = image * (1 - cover) + hull * cover
        if land is not None:
            image[land] = mean * 20 * rng.gamma(looks, 1.0 / looks, size=int(land.sum())) * \
                rng.gamma(2.0, 0.5, size=int(land.sum()))
        if structures is not None:
            image[structures] = mean * 60 * rng.gamma(looks, 1.0 / looks, size=int(structures.sum()))
        out[name] = image.astype(np.float32)
    return out


def harbour(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(land, structures): land on the left third, three piers 40 px (400 m) long and 3 px wide reaching
    into the sea, and a detached breakwater 45 px long, 2 px wide."""
    land = np.zeros(shape, bool)
    land[:, : shape[1] // 3] = True
    structures = np.zeros(shape, bool)
    c = shape[1] // 3
    for r in (shape[0] // 4, shape[0] // 2, 3 * shape[0] // 4):
        structures[r:r + 3, c:c + 40] = True
    structures[10:12, c + 60:c + 105] = True
    return land, structures


def random_ships(shape: tuple[int, int], n: int, rng: np.random.Generator, col_min: int = 0, margin: int = 15,
                 lengths: tuple[float, float] = (40.0, 200.0), contrast: float = 30.0) -> list[Ship]:
    """``n`` ships at least 8 px apart, with lengths uniform in ``lengths`` and width ~ length / 6."""
    ships: list[Ship] = []
    while len(ships) < n:
        row = rng.uniform(margin, shape[0] - margin)
        col = rng.uniform(max(col_min, margin), shape[1] - margin)
        if any(math.hypot(row - s.row, col - s.col) < 8 + (s.length_m / PIXEL) for s in ships):
            continue
        length = rng.uniform(*lengths)
        ships.append(Ship(row, col, length, max(length / 6, 8.0), rng.uniform(0, 180), contrast))
    return ships


def optical_scene(
    shape: tuple[int, int], ships: list[Ship], seed: int = 0, land: np.ndarray | None = None,
    cloud: tuple[int, int, int] | None = None, glint: bool = True,
) -> dict[str, np.ndarray]:
    """S2-like reflectances (blue, green, red, nir, swir16, swir22: every band ``geo run`` reads) of water with waves, an optional glint band
    (raised, more textured reflectance over the right quarter), planted hulls (nir ~0.2), land, and a
    cloud disc (row, col, radius px)."""
    rng = np.random.default_rng(seed)
    water = {"blue": 0.06, "green": 0.05, "red": 0.03, "nir": 0.012, "swir16": 0.006, "swir22": 0.004}
    hull = {"blue": 0.16, "green": 0.17, "red": 0.18, "nir": 0.20, "swir16": 0.15, "swir22": 0.12}
    soil = {"blue": 0.07, "green": 0.09, "red": 0.11, "nir": 0.28, "swir16": 0.24, "swir22": 0.17}
    cloud_r = {"blue": 0.45, "green": 0.45, "red": 0.46, "nir": 0.48, "swir16": 0.35, "swir22": 0.28}
    waves = rng.normal(size=shape)
    glint_level = np.zeros(shape)
    if glint:
        glint_level[:, 3 * shape[1] // 4:] = 1.0
    cover = np.zeros(shape)
    for ship in ships:
        cover = np.maximum(cover, ship.coverage(shape))
    disc = np.zeros(shape, bool)
    if cloud is not None:
        rr, cc = np.ogrid[: shape[0], : shape[1]]
        disc = (rr - cloud[0]) ** 2 + (cc - cloud[1]) ** 2 <= cloud[2] ** 2
    out = {}
    for band, base in water.items():
        value = base * (1 + 0.08 * waves) + glint_level * (0.03 + 0.012 * np.abs(waves))
        value = value * (1 - cover) + hull[band] * cover
        if land is not None:
            value[land] = soil[band] * (1 + 0.1 * rng.normal(size=int(land.sum())))
        value[disc] = cloud_r[band]
        out[band] = (value + rng.normal(scale=0.002, size=shape)).astype(np.float32)
    return out


def _write_band(path: Path, array: np.ndarray, transform: Affine, dtype: str, nodata: float) -> None:
    profile = dict(driver="GTiff", width=array.shape[1], height=array.shape[0], count=1, dtype=dtype,
                   crs=CRS_UTM, transform=transform, nodata=nodata, tiled=True, blockxsize=128, blockysize=128)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array.astype(dtype), 1)


def _item(item_id: str, when: datetime, shape: tuple[int, int], properties: dict,
          collection: str | None = None) -> pystac.Item:
    grid = scene_grid(shape)
    footprint = reproject(box(*grid.bounds), CRS_UTM.to_string(), WGS84)
    return pystac.Item(item_id, mapping(footprint), list(footprint.bounds), when, properties, collection=collection)


def write_s1_item(folder: Path, item_id: str, when: datetime, bands: dict[str, np.ndarray]) -> pystac.Item:
    """An RTC item (collection ``sentinel-1-rtc``, as on the Planetary Computer): float32 linear gamma0
    ``vv``/``vh`` assets (role data, no reflectance), nodata NaN."""
    folder.mkdir(parents=True, exist_ok=True)
    shape = bands["vv"].shape
    item = _item(item_id, when, shape, {"platform": "sentinel-1a", "constellation": "sentinel-1",
                                        "sar:polarizations": ["VV", "VH"], "sar:instrument_mode": "IW"},
                 collection="sentinel-1-rtc")
    for name, array in bands.items():
        _write_band(folder / f"{name}.tif", array, scene_grid(shape).transform, "float32", float("nan"))
        item.add_asset(name, pystac.Asset(href=str(folder / f"{name}.tif"), media_type=pystac.MediaType.GEOTIFF,
                                          roles=["data"]))
    return item


def write_s2_item(folder: Path, item_id: str, when: datetime, bands: dict[str, np.ndarray],
                  scl: np.ndarray | None = None) -> pystac.Item:
    """An L2A-like item: uint16 DN = 10000 * reflectance (raster:bands scale), optional SCL asset."""
    folder.mkdir(parents=True, exist_ok=True)
    shape = next(iter(bands.values())).shape
    item = _item(item_id, when, shape, {"platform": "sentinel-2a", "constellation": "sentinel-2"})
    transform = scene_grid(shape).transform
    for name, array in bands.items():
        dn = np.clip(np.round(array * 10000), 1, 65535)
        _write_band(folder / f"{name}.tif", dn, transform, "uint16", 0)
        item.add_asset(name, pystac.Asset(
            href=str(folder / f"{name}.tif"), media_type=pystac.MediaType.GEOTIFF, roles=["data", "reflectance"],
            extra_fields={"raster:bands": [{"scale": 0.0001, "offset": 0.0, "nodata": 0}]}))
    if scl is not None:
        _write_band(folder / "scl.tif", scl, transform, "uint8", 0)
        item.add_asset("scl", pystac.Asset(href=str(folder / "scl.tif"), media_type=pystac.MediaType.GEOTIFF,
                                           roles=["data"]))
    return item
