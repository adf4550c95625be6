"""Synthetic Sentinel-2-like scenes with known truth: textured background, planted changes, exact
sub-pixel shifts, written as GeoTIFFs in a local STAC catalog the real pipeline reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pystac
import rasterio
from affine import Affine
from rasterio.crs import CRS
from scipy import ndimage as ndi
from shapely.geometry import box, mapping

from geo.geometry import WGS84, reproject

BANDS = ("blue", "green", "red", "nir", "swir16", "swir22")
# Mean reflectance of a mixed urban/vegetated background per band, and of a new bright roof.
BACKGROUND = np.array([0.06, 0.08, 0.09, 0.25, 0.20, 0.14])
ROOF = np.array([0.25, 0.27, 0.30, 0.33, 0.38, 0.33])
CRS_UTM = CRS.from_epsg(32631)
ORIGIN = (500_000.0, 5_000_000.0)  # top-left corner, multiples of 10 m (lon 3 E, lat ~45.1 N)


@dataclass(frozen=True)
class Rect:
    row: int
    col: int
    height: int
    width: int

    def mask(self, shape: tuple[int, int]) -> np.ndarray:
        m = np.zeros(shape, bool)
        m[self.row:self.row + self.height, self.col:self.col + self.width] = True
        return m


def textured_background(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """(band, row, col) reflectance with field-like texture shared (correlated) across bands."""
    common = ndi.gaussian_filter(rng.normal(size=shape), 4) * 6 + ndi.gaussian_filter(rng.normal(size=shape), 1.2) * 1.5
    out = np.empty((len(BANDS), *shape))
    for b in range(len(BANDS)):
        own = ndi.gaussian_filter(rng.normal(size=shape), 2)
        out[b] = BACKGROUND[b] * (1 + 0.25 * common + 0.05 * own)
    return out


def fourier_shift(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """``image`` moved by (dx, dy) px exactly (band-limited): feature at (c, r) goes to (c + dx, r + dy)."""
    ky = np.fft.fftfreq(image.shape[-2])[:, None]
    kx = np.fft.fftfreq(image.shape[-1])[None, :]
    phase = np.exp(-2j * np.pi * (kx * dx + ky * dy))
    return np.real(np.fft.ifft2(np.fft.fft2(image) * phase))


def box_coverage(rect: Rect, shape: tuple[int, int], dx: float, dy: float) -> np.ndarray:
    """Exact area fraction of each pixel covered by ``rect`` moved by (dx, dy): an anti-aliased box."""
    def cover(lo: float, hi: float, n: int) -> np.ndarray:
        edges = np.arange(n)
        return np.clip(np.minimum(edges + 1, hi) - np.maximum(edges, lo), 0, 1)

    rows = cover(rect.row + dy, rect.row + rect.height + dy, shape[0])
    cols = cover(rect.col + dx, rect.col + rect.width + dx, shape[1])
    return rows[:, None] * cols[None, :]


def make_pair(
    shape: tuple[int, int] = (320, 320),
    shift: tuple[float, float] = (0.37, -0.62),
    rects: tuple[Rect, ...] = (Rect(60, 70, 30, 40), Rect(180, 200, 35, 25), Rect(230, 60, 28, 50)),
    noise: float = 0.004,
    gain: float = 1.08,
    offset: float = 0.01,
    seed: int = 7,
) -> tuple[np.ndarray, np.ndarray]:
    """(before, after) stacks; ``after`` has roofs planted at ``rects`` (in the before frame), is shifted
    by ``shift`` = (dx, dy) and has a radiometric gain/offset and independent noise."""
    rng = np.random.default_rng(seed)
    scene = textured_background(shape, rng)
    dx, dy = shift
    before = scene + rng.normal(scale=noise, size=scene.shape)
    after = fourier_shift(scene, dx, dy)
    for rect in rects:
        weight = box_coverage(rect, shape, dx, dy)
        after = after * (1 - weight) + ROOF[:, None, None] * weight
    after = gain * after + offset + rng.normal(scale=noise, size=scene.shape)
    return before, after


def write_scene(
    folder: Path, item_id: str, when: datetime, stack: np.ndarray, transform: Affine | None = None,
    crs: CRS | None = CRS_UTM, nodata_value: int = 0,
) -> pystac.Item:
    """Write a stack as uint16 L2A-like GeoTIFFs (DN = 10000 * reflectance) and return its STAC item."""
    folder.mkdir(parents=True, exist_ok=True)
    transform = transform or Affine(10.0, 0, ORIGIN[0], 0, -10.0, ORIGIN[1])
    height, width = stack.shape[-2:]
    item_assets = {}
    for b, name in enumerate(BANDS):
        path = folder / f"{name}.tif"
        dn = np.clip(np.round(stack[b] * 10000), 1, 65535).astype(np.uint16)
        profile = dict(driver="GTiff", width=width, height=height, count=1, dtype="uint16",
                       transform=transform, nodata=nodata_value, tiled=True, blockxsize=128, blockysize=128)
        if crs is not None:
            profile["crs"] = crs
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(dn, 1)
        item_assets[name] = pystac.Asset(
            href=str(path), media_type=pystac.MediaType.GEOTIFF, roles=["data", "reflectance"],
            extra_fields={"raster:bands": [{"scale": 0.0001, "offset": 0.0, "nodata": 0}]},
        )
    left, top = transform @ (0, 0)
    right, bottom = transform @ (width, height)
    footprint = reproject(box(left, bottom, right, top), (crs or CRS_UTM).to_string(), WGS84)
    item = pystac.Item(item_id, mapping(footprint), list(footprint.bounds), when, {"platform": "sentinel-2a"})
    for name, asset in item_assets.items():
        item.add_asset(name, asset)
    return item


def write_catalog(root: Path, items: list[pystac.Item]) -> Path:
    catalog = pystac.Catalog("synthetic", "synthetic test scenes")
    for item in items:
        catalog.add_item(item)
    catalog.normalize_hrefs(str(root))
    catalog.save(catalog_type=pystac.CatalogType.ABSOLUTE_PUBLISHED)
    return root / "catalog.json"


def grid_bounds_lonlat(shape: tuple[int, int], inset_px: int) -> tuple[float, float, float, float]:
    """Lon/lat bounds of the scene grid shrunk by ``inset_px`` on every side (an AOI inside the scene)."""
    left = ORIGIN[0] + inset_px * 10
    top = ORIGIN[1] - inset_px * 10
    right = ORIGIN[0] + (shape[1] - inset_px) * 10
    bottom = ORIGIN[1] - (shape[0] - inset_px) * 10
    return reproject(box(left, bottom, right, top), CRS_UTM.to_string(), WGS84).bounds


def write_aoi(path: Path, aoi_id: str, bounds: tuple[float, float, float, float]) -> Path:
    feature = {"type": "Feature", "properties": {"id": aoi_id, "name": aoi_id, "kind": "other"},
               "geometry": mapping(box(*bounds))}
    path.write_text(json.dumps(feature))
    return path


def utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 10, 30, tzinfo=timezone.utc)



def make_series(
    shape: tuple[int, int],
    shifts: tuple[tuple[float, float], ...],
    plants: dict[int, tuple[Rect, ...]],
    noise: float = 0.004,
    psf_sigma: float = 0.6,
    seed: int = 11,
) -> list[np.ndarray]:
    """One stack per date over the same ground: scene k shows every roof planted at dates <= k (``plants``
    maps a date index to the rectangles that appear then, in the ground frame), is blurred by a Gaussian
    sensor PSF (real images are band-limited; a razor-sharp roof edge would alias under resampling) and
    is moved by ``shifts[k]``."""
    rng = np.random.default_rng(seed)
    ground = textured_background(shape, rng)
    stacks = []
    for k, (dx, dy) in enumerate(shifts):
        scene = ground.copy()
        for when, rects in sorted(plants.items()):
            if when <= k:
                for rect in rects:
                    scene[:, rect.mask(shape)] = ROOF[:, None]
        scene = fourier_shift(ndi.gaussian_filter(scene, (0, psf_sigma, psf_sigma)), dx, dy)
        gain, offset = 1 + 0.03 * rng.standard_normal(), 0.005 * rng.standard_normal()
        stacks.append(gain * scene + offset + rng.normal(scale=noise, size=scene.shape))
    return stacks


def change_feature(geometry, change_type="new_bright_surface", change_id=None, **attributes):
    """A change polygon (``geo.vector.feature.ChangeFeature``) with plausible contract attributes; those a
    test cares about given by keyword."""
    from geo.vector.feature import ChangeFeature

    values = {"change_id": change_id or f"c-{change_type}", "aoi_id": "test-aoi", "before_scene": "S2_BEFORE",
              "after_scene": "S2_AFTER", "before_date": "2021-03-01", "after_date": "2021-04-01",
              "area_m2": 5_000.0, "score": 3.0, "confidence": 0.9, "change_type": change_type,
              "type_confidence": 0.9, "pixels": 50, "algorithm_version": "test/0"}
    values.update(attributes)
    return ChangeFeature(geometry, **values)
