"""Real COGs and STAC items for the loopback archive (tests/archive_server.py).

Pixels are real Sentinel-2 data: the shipped demo crops (scenes/demo, Nantes 2015 and 2017, EPSG:4326)
and the shared co-registration crop (../shared/data/coreg-pair, 10 m UTM 33N). Scene classifications
(SCL) are planted with clouds where a test needs them, so the truth of every AOI-level cloud figure is
known. Contains modified Copernicus Sentinel data 2015-2017.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.io import MemoryFile
from rasterio.shutil import copy as rio_copy
from rasterio.windows import Window
from shapely.geometry import box, mapping

from geo.geometry import WGS84, reproject
from tests.archive_server import ArchiveServer
from tests.conftest import REPO, SHARED_DATA

DEMO = REPO / "scenes" / "demo"
DEMO_SCENES = {"2015": DEMO / "S2A_30TXT_20150821_L1C_nantes", "2017": DEMO / "S2_30TXT_20171014_L1C_nantes"}
S2_BANDS = ("blue", "green", "red", "nir", "swir16", "swir22")
CORE_REF = SHARED_DATA / "coreg-pair" / "ref_S2A_20160608T153121_T33UUU_sub.jp2"
_counter = itertools.count()


def unique(name: str) -> str:
    """A URL path never used before in this process (GDAL caches per URL in-process)."""
    return f"{next(_counter)}/{name}"


def write_cog(path: Path, data: np.ndarray, crs: CRS | None, transform: Affine | None, nodata: float | None,
              blocksize: int = 256, overviews: bool = True, gcps: tuple[list, CRS] | None = None) -> Path:
    """Write a single-band Cloud-Optimised GeoTIFF (deflate, tiled, with overviews)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = data.shape
    profile = dict(driver="GTiff", width=width, height=height, count=1, dtype=data.dtype, nodata=nodata)
    if crs is not None and transform is not None:
        profile.update(crs=crs, transform=transform)
    with MemoryFile() as memory:
        with memory.open(**profile) as dst:
            dst.write(data, 1)
            if gcps is not None:
                dst.gcps = gcps
        with memory.open() as src:
            rio_copy(src, path, driver="COG", compress="DEFLATE", predictor=2, blocksize=blocksize,
                     overviews="AUTO" if overviews else "NONE", overview_resampling="average")
    return path


def demo_grid(which: str = "2015", band: str = "swir16") -> tuple[CRS, Affine, tuple[int, int]]:
    with rasterio.open(DEMO_SCENES[which] / f"{band}.tif") as src:
        return src.crs, src.transform, src.shape


def demo_footprint() -> dict[str, Any]:
    with rasterio.open(DEMO_SCENES["2015"] / "blue.tif") as src:
        return mapping(box(*src.bounds))


def rect_lonlat(rows: tuple[int, int], cols: tuple[int, int], band: str = "swir16"):
    """The lon/lat rectangle of SCL pixels rows[0]:rows[1], cols[0]:cols[1] (for truth areas)."""
    _, transform, _ = demo_grid("2015", band)
    left, top = transform @ (cols[0], rows[0])
    right, bottom = transform @ (cols[1], rows[1])
    return box(left, bottom, right, top)


def planted_scl(path: Path, clouds: list[tuple[tuple[int, int], tuple[int, int]]], cloud_class: int = 9) -> Path:
    """An SCL COG on the demo 20 m grid: vegetation (4) with ``cloud_class`` in each (rows, cols) box."""
    crs, transform, shape = demo_grid()
    scl = np.full(shape, 4, dtype=np.uint8)
    scl[:, : shape[1] // 3] = 5  # bare soil on the left third: a second clear class
    for (r0, r1), (c0, c1) in clouds:
        scl[r0:r1, c0:c1] = cloud_class
    return write_cog(path, scl, crs, transform, 0)


@dataclass(frozen=True)
class S2Spec:
    item_id: str
    when: datetime
    orbit: int
    pixels: str  # "2015" or "2017": which demo acquisition's bands
    clouds: tuple = ()
    eo_cloud_cover: float = 0.0
    baseline: str = "02.01"


def s2_item(server: ArchiveServer, tmp: Path, spec: S2Spec, collection: str = "sentinel-2-l2a",
            files_as: str | None = None) -> dict[str, Any]:
    """Register a Sentinel-2 L2A-like item (Earth Search asset names, raster:bands) with the server; its files
    are served under ``files/s2/<files_as or item id>/`` (a hostile id needs a harmless ``files_as``)."""
    name = files_as or spec.item_id
    assets: dict[str, Any] = {}
    for band in S2_BANDS:
        href = server.add_file(f"files/s2/{name}/{band}.tif", DEMO_SCENES[spec.pixels] / f"{band}.tif")
        assets[band] = {"href": href, "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                        "roles": ["data", "reflectance"],
                        "raster:bands": [{"nodata": 0, "data_type": "uint16", "scale": 0.0001, "offset": 0.0}]}
    scl = planted_scl(tmp / name / "scl.tif", list(spec.clouds))
    assets["scl"] = {"href": server.add_file(f"files/s2/{name}/scl.tif", scl),
                     "type": "image/tiff; application=geotiff; profile=cloud-optimized", "roles": ["data"],
                     "raster:bands": [{"nodata": 0, "data_type": "uint8"}]}
    footprint = demo_footprint()
    item = {
        "type": "Feature", "stac_version": "1.0.0", "id": spec.item_id, "collection": collection,
        "geometry": footprint, "bbox": list(box(*_bounds(footprint)).bounds),
        "properties": {"datetime": spec.when.strftime("%Y-%m-%dT%H:%M:%SZ"), "platform": "sentinel-2a",
                       "constellation": "sentinel-2", "sat:relative_orbit": spec.orbit,
                       "eo:cloud_cover": spec.eo_cloud_cover, "s2:processing_baseline": spec.baseline,
                       "proj:epsg": 4326},
        "assets": assets, "links": [],
    }
    server.add_item(item)
    return item


def _bounds(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    xs = [p[0] for p in geometry["coordinates"][0]]
    ys = [p[1] for p in geometry["coordinates"][0]]
    return min(xs), min(ys), max(xs), max(ys)


def utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 11, 0, tzinfo=timezone.utc)


# AOI demo-nantes-port covers rows ~41-219 and cols ~33-256 of the 261 x 291 SCL grid.
CLOUD_OVER_AOI = (((60, 200), (50, 230)),)
CLOUD_OUTSIDE_AOI = (((0, 36), (0, 291)), ((224, 261), (0, 291)))
CLOUD_EVERYWHERE = (((0, 261), (0, 291)),)

# Around the demo claim's window (2016-01-01 .. 2017-06-30): known best pair is B2 -> A2.
SELECTION_SCENES = (
    S2Spec("S2A_T30TXT_20151228_B1", utc(2015, 12, 28), 94, "2015", CLOUD_OVER_AOI, eo_cloud_cover=20),
    S2Spec("S2A_T30TXT_20151221_B2", utc(2015, 12, 21), 51, "2015", CLOUD_OUTSIDE_AOI, eo_cloud_cover=85),
    S2Spec("S2A_T30TXT_20151216_B3", utc(2015, 12, 16), 94, "2015", (), eo_cloud_cover=10),
    S2Spec("S2A_T30TXT_20170701_A1", utc(2017, 7, 1), 94, "2017", (), eo_cloud_cover=5),
    S2Spec("S2A_T30TXT_20170702_A3", utc(2017, 7, 2), 51, "2017", CLOUD_EVERYWHERE, eo_cloud_cover=100),
    S2Spec("S2A_T30TXT_20170704_A2", utc(2017, 7, 4), 51, "2017", (), eo_cloud_cover=30),
)


def _core_ref() -> Path:
    """The shared co-registration crop, or a skip naming where it was looked for (a checkout without
    ../shared/data: these tests need its real pixels)."""
    if not CORE_REF.is_file():
        pytest.skip(f"shared data not found: {CORE_REF} (set GEO_SHARED_DATA)")
    return CORE_REF


def big_cog(path: Path, blocksize: int = 512) -> Path:
    """The 24 x 32 km real 10 m band of the co-registration pair as a COG (tiles ``blocksize``, overviews)."""
    if path.exists():
        return path
    with rasterio.open(_core_ref()) as src:
        data, crs, transform = src.read(1), src.crs, src.transform
    return write_cog(path, data, crs, transform, 0, blocksize=blocksize)


def big_item(server: ArchiveServer, cog: Path, item_id: str, when: datetime, bands: tuple[str, ...] = ("red",),
             collection: str = "sentinel-2-l2a") -> dict[str, Any]:
    """An item whose ``bands`` are all the big COG, each at its own URL (so each is fetched)."""
    with rasterio.open(cog) as src:
        footprint = reproject(box(*src.bounds), src.crs.to_string(), WGS84)
    assets = {band: {"href": server.add_file(unique(f"big/{item_id}/{band}.tif"), cog),
                     "roles": ["data", "reflectance"], "type": "image/tiff",
                     "raster:bands": [{"nodata": 0, "data_type": "uint16", "scale": 0.0001, "offset": 0}]}
              for band in bands}
    item = {
        "type": "Feature", "stac_version": "1.0.0", "id": item_id, "collection": collection,
        "geometry": mapping(footprint), "bbox": list(footprint.bounds),
        "properties": {"datetime": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "platform": "sentinel-2a",
                       "s2:processing_baseline": "02.02", "sat:relative_orbit": 22},
        "assets": assets, "links": [],
    }
    server.add_item(item)
    return item


def sar_cogs(folder: Path, size: int = 600) -> dict[str, Path]:
    """Sentinel-1-like COGs from a real 10 m crop (a stand-in for backscatter: the reader, not the physics,
    is under test): RTC float32 linear power with nodata -32768 on a left border, and a GRD uint16 DN file
    georeferenced only by ground control points, as GRD is."""
    with rasterio.open(_core_ref()) as src:
        window = Window(800, 1200, size, size)
        dn = src.read(1, window=window).astype(np.float32)
        transform, crs = src.window_transform(window), src.crs
    power = (dn / 10000.0) ** 2
    vv = power.copy()
    vv[:, :40] = -32768.0
    vh = np.where(vv == -32768.0, -32768.0, vv * 0.2).astype(np.float32)
    out = {"vv": write_cog(folder / "rtc_vv.tif", vv.astype(np.float32), crs, transform, -32768.0),
           "vh": write_cog(folder / "rtc_vh.tif", vh, crs, transform, -32768.0)}
    from rasterio.control import GroundControlPoint

    corners = [(0, 0), (0, size), (size, 0), (size, size), (size // 2, size // 2)]
    gcps = [GroundControlPoint(row=r, col=c, x=(transform @ (c, r))[0], y=(transform @ (c, r))[1]) for r, c in corners]
    grd = np.clip(dn, 1, 65535).astype(np.uint16)
    out["grd_vv"] = write_cog(folder / "grd_vv.tif", grd, None, None, 0, overviews=False, gcps=(gcps, crs))
    out["geo_vv"] = write_cog(folder / "geo_vv.tif", grd, crs, transform, 0, overviews=False)
    out["power_truth"] = folder / "power_truth.npy"
    np.save(out["power_truth"], power)
    return out


def s1_item(server: ArchiveServer, item_id: str, when: datetime, hrefs: dict[str, str], collection: str,
            footprint: dict[str, Any], orbit: int = 118, orbit_state: str = "ascending",
            instrument_mode: str = "IW") -> dict[str, Any]:
    assets = {pol: {"href": href, "roles": ["data"], "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                    "raster:bands": [{"nodata": -32768 if "rtc" in collection else 0,
                                      "data_type": "float32" if "rtc" in collection else "uint16"}]}
              for pol, href in hrefs.items()}
    item = {
        "type": "Feature", "stac_version": "1.0.0", "id": item_id, "collection": collection,
        "geometry": footprint, "bbox": list(_bounds(footprint)),
        "properties": {"datetime": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "platform": "SENTINEL-1A",
                       "constellation": "Sentinel-1", "sar:instrument_mode": instrument_mode,
                       "sar:polarizations": ["VV", "VH"], "sat:relative_orbit": orbit, "sat:orbit_state": orbit_state},
        "assets": assets, "links": [],
    }
    server.add_item(item)
    return item


def aoi_around(crs: CRS, bounds: tuple[float, float, float, float], aoi_id: str = "test-window"):
    """An AOI from a box in a projected CRS (e.g. inside the big COG)."""
    from geo.aoi import aoi_from_geojson

    polygon = reproject(box(*bounds), crs.to_string(), WGS84)
    feature = {"type": "Feature", "properties": {"id": aoi_id, "kind": "other"}, "geometry": mapping(polygon)}
    return aoi_from_geojson(feature, aoi_id)


def tile_bytes(path: Path, grid, kernel_px: int = 2) -> tuple[int, int]:
    """(bytes, count) of the full-resolution tiles of ``path`` that intersect ``grid`` (grown by the
    resampling kernel's reach): what an ideal reader of that window must fetch."""
    from rasterio.warp import transform_bounds
    from rasterio.windows import from_bounds

    with rasterio.open(path) as src:
        left, bottom, right, top = transform_bounds(grid.crs, src.crs, *grid.bounds)
        window = from_bounds(left, bottom, right, top, src.transform)
        col0 = max(0, int(np.floor(window.col_off)) - kernel_px)
        row0 = max(0, int(np.floor(window.row_off)) - kernel_px)
        col1 = min(src.width, int(np.ceil(window.col_off + window.width)) + kernel_px)
        row1 = min(src.height, int(np.ceil(window.row_off + window.height)) + kernel_px)
        bh, bw = src.block_shapes[0]
        total = count = 0
        for i in range(row0 // bh, (row1 - 1) // bh + 1):
            for j in range(col0 // bw, (col1 - 1) // bw + 1):
                total += src.block_size(1, i, j)
                count += 1
    return total, count


def local_catalog(folder: Path, specs: list[S2Spec]) -> Path:
    """The same kind of items as ``s2_item`` in a static catalog on disk (bands: the demo files)."""
    import pystac

    catalog = pystac.Catalog("local-test", "local test scenes")
    for spec in specs:
        item = pystac.Item(spec.item_id, demo_footprint(), list(_bounds(demo_footprint())), spec.when,
                           {"platform": "sentinel-2a", "sat:relative_orbit": spec.orbit,
                            "eo:cloud_cover": spec.eo_cloud_cover, "s2:processing_baseline": spec.baseline})
        for band in S2_BANDS:
            item.add_asset(band, pystac.Asset(str(DEMO_SCENES[spec.pixels] / f"{band}.tif"), roles=["data", "reflectance"],
                                              extra_fields={"raster:bands": [{"nodata": 0, "scale": 1e-4, "offset": 0}]}))
        scl = planted_scl(folder / "scl" / f"{spec.item_id}.tif", list(spec.clouds))
        item.add_asset("scl", pystac.Asset(str(scl), roles=["data"]))
        catalog.add_item(item)
    catalog.normalize_hrefs(str(folder))
    catalog.save(catalog_type=pystac.CatalogType.ABSOLUTE_PUBLISHED)
    return folder / "catalog.json"
