"""Windowed reads: every asset of a scene onto one target grid, as float values with a validity mask.

Only the part of each file under the grid (plus the resampling kernel's reach) is read, so a small AOI
over a 110 km tile costs a few tiles of each COG, not the file; it is then resampled onto the grid in
memory, or copied when the grid is the file's own pixel grid. When the grid is coarser
than the file, the coarsest overview still at least as fine as the grid is read instead of full
resolution. Remote windows go through the scene cache and are retried (``geo.scenes.remote``); local
files are read directly.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from rasterio.enums import Resampling
from rasterio.errors import RasterioError
from rasterio.io import DatasetReader
from rasterio.warp import transform_bounds
from rasterio.windows import Window, from_bounds
from rasterio.warp import reproject
from rasterio.warp import transform as transform_points
from shapely.geometry import box

from geo.errors import OverlapError, RasterError
from geo.geometry import WGS84
from geo.geometry import reproject as reproject_geometry
from geo.grid import Grid
from geo.scenes.cache import CacheKey, SceneCache
from geo.scenes.gdal_env import gdal_env
from geo.scenes.model import SCL_ASSET, SCL_MASKED, Asset, Scene
from geo.scenes.remote import RetryPolicy, is_remote, sign_href, with_retries

log = logging.getLogger(__name__)

DEFAULT_NODATA = 0  # Sentinel-2 DN 0 is "no data" in every product level
READ_THREADS = 4  # remote reads wait on the network, not the CPU
SAR_POLARISATIONS = ("vv", "vh")


@dataclass(frozen=True)
class Stack:
    """Bands of one scene on one grid. ``data`` is float32 (band, row, col), NaN where not ``valid``.
    ``quantity`` says what the values are: ``reflectance`` (S2), ``gamma0_linear`` (S1 RTC, linear
    power) or ``dn`` (S1 GRD digital numbers, amplitude)."""

    scene: Scene
    grid: Grid
    bands: tuple[str, ...]
    data: np.ndarray
    valid: np.ndarray
    cloud_masked: bool
    quantity: str = "reflectance"

    def band(self, name: str) -> np.ndarray:
        return self.data[self.bands.index(name)]

    @property
    def valid_fraction(self) -> float:
        return float(self.valid.mean())


def _georeferenced(src: DatasetReader, href: str) -> None:
    if src.gcps[0]:  # ground control points (e.g. Sentinel-1 GRD in radar geometry) georeference it too
        return
    if src.crs is None:
        raise RasterError(f"{href}: raster has no CRS (georeference missing)")
    if src.transform.is_identity:
        raise RasterError(f"{href}: raster has no geotransform (georeference missing)")


@contextmanager
def open_raster(href: str, **env: Any) -> Iterator[DatasetReader]:
    """Open a georeferenced raster or raise ``RasterError`` naming it (corrupt, missing, no CRS)."""
    try:
        with gdal_env(**env), rasterio.open(href) as src:
            _georeferenced(src, href)
            yield src
    except RasterioError as exc:
        raise RasterError(f"{href}: cannot read raster ({exc})") from None


def source_resolution(src: DatasetReader, grid: Grid) -> float | None:
    """The size of one source pixel in the grid's units (near the file's centre), None if unknown."""
    if src.crs is None or src.transform.is_identity:
        return None
    if src.crs == grid.crs:
        return abs(src.transform.a)
    col, row = src.width / 2, src.height / 2
    xs, ys = zip(*(src.transform @ (c, r) for c, r in ((col, row), (col + 1, row), (col, row + 1))))
    gx, gy = transform_points(src.crs, grid.crs, list(xs), list(ys))
    east = np.hypot(gx[1] - gx[0], gy[1] - gy[0])
    south = np.hypot(gx[2] - gx[0], gy[2] - gy[0])
    return float(np.sqrt(east * south))


def overview_level(src: DatasetReader, grid: Grid) -> int | None:
    """Index of the coarsest overview whose pixels are still no larger than the grid's, or None for
    full resolution."""
    factors = src.overviews(1)
    size = source_resolution(src, grid)
    if not factors or size is None:
        return None
    ratio = min(grid.res) / size
    usable = [i for i, factor in enumerate(factors) if factor <= ratio * (1 + 1e-6)]
    return usable[-1] if usable else None


def aligned_window(src: DatasetReader, grid: Grid) -> Window | None:
    """The window of ``src`` that *is* ``grid`` (same CRS, same pixel size, whole-pixel offset), or None.
    The common Sentinel-2 case: a 10 m AOI grid in the tile's own UTM zone, snapped to 10 m."""
    a, g = src.transform, grid.transform
    if src.crs is None or src.crs != grid.crs or a.b or a.d or g.b or g.d:
        return None
    if not (np.isclose(a.a, g.a, rtol=1e-9) and np.isclose(a.e, g.e, rtol=1e-9)):
        return None
    col, row = (g.c - a.c) / a.a, (g.f - a.f) / a.e
    if abs(col - round(col)) > 1e-6 or abs(row - round(row)) > 1e-6:
        return None
    return Window(round(col), round(row), grid.width, grid.height)


def _copy(src: DatasetReader, window: Window, grid: Grid, nodata: float) -> np.ma.MaskedArray:
    """Pixels of an aligned window as they are (no resampling), nodata outside the file."""
    out = np.full(grid.shape, nodata, dtype=src.dtypes[0])
    inner = window.intersection(Window(0, 0, src.width, src.height)) if _overlaps(window, src) else None
    if inner is not None:
        r0, c0 = int(inner.row_off - window.row_off), int(inner.col_off - window.col_off)
        out[r0:r0 + int(inner.height), c0:c0 + int(inner.width)] = src.read(1, window=inner)
    return _masked(out, nodata)


def _overlaps(window: Window, src: DatasetReader) -> bool:
    return (window.col_off < src.width and window.row_off < src.height
            and window.col_off + window.width > 0 and window.row_off + window.height > 0)


def _masked(out: np.ndarray, nodata: float) -> np.ma.MaskedArray:
    return np.ma.masked_invalid(out) if np.isnan(nodata) else np.ma.masked_equal(out, nodata)


def source_window(src: DatasetReader, grid: Grid, resampling: Resampling) -> Window | None:
    """The part of ``src`` under ``grid``, grown by the resampling kernel's reach, clipped to the file
    (None when they do not meet)."""
    left, bottom, right, top = transform_bounds(grid.crs, src.crs, *grid.bounds, densify_pts=21)
    window = from_bounds(left, bottom, right, top, src.transform)
    size = source_resolution(src, grid) or min(grid.res)
    pad = 3 + math.ceil(min(grid.res) / size)  # cubic reaches 2 px, lanczos 3; coarser grids average more
    col0, row0 = math.floor(window.col_off) - pad, math.floor(window.row_off) - pad
    col1 = math.ceil(window.col_off + window.width) + pad
    row1 = math.ceil(window.row_off + window.height) + pad
    col0, row0, col1, row1 = max(col0, 0), max(row0, 0), min(col1, src.width), min(row1, src.height)
    if col1 <= col0 or row1 <= row0:
        return None
    return Window(col0, row0, col1 - col0, row1 - row0)


def _warp(src: DatasetReader, grid: Grid, resampling: Resampling, nodata: float) -> np.ma.MaskedArray:
    window = aligned_window(src, grid)
    if window is not None:  # no resampling to do: read the pixels (any kernel would return them unchanged)
        return _copy(src, window, grid, nodata)
    out = np.full(grid.shape, nodata, dtype=src.dtypes[0])
    gcps, gcp_crs = src.gcps
    if gcps and src.transform.is_identity:
        # Georeferenced by ground control points only (Sentinel-1 GRD): GDAL's GCP transformer; the
        # warper reads only the source windows it needs.
        reproject(rasterio.band(src, 1), out, gcps=gcps, src_crs=gcp_crs, src_nodata=nodata,
                  dst_crs=grid.crs, dst_transform=grid.transform, dst_nodata=nodata, resampling=resampling)
        return _masked(out, nodata)
    # Read the window in one go (GDAL fetches its tiles in one merged, parallel request), then resample
    # in memory: measured faster over HTTP than letting a WarpedVRT pull blocks chunk by chunk.
    window = source_window(src, grid, resampling)
    if window is not None:
        data = src.read(1, window=window)
        origin = src.transform @ Affine.translation(window.col_off, window.row_off)
        reproject(data, out, src_transform=origin, src_crs=src.crs, src_nodata=nodata,
                  dst_transform=grid.transform, dst_crs=grid.crs, dst_nodata=nodata, resampling=resampling)
    return _masked(out, nodata)


def _read_raw(href: str, grid: Grid, resampling: Resampling, nodata: float | None,
              env: dict[str, Any]) -> tuple[np.ma.MaskedArray, float]:
    """One file onto ``grid`` (raises rasterio's errors as they come, for the caller to classify)."""
    with gdal_env(**env):
        with rasterio.open(href) as src:
            _georeferenced(src, href)
            src_nodata = nodata if nodata is not None else src.nodata
            if src_nodata is None:
                src_nodata = DEFAULT_NODATA
            level = overview_level(src, grid)
            if level is None:
                return _warp(src, grid, resampling, src_nodata), src_nodata
        log.debug("%s: reading overview %d for a %.1f m grid", href, level, grid.res[0])
        with rasterio.open(href, overview_level=level) as overview:
            return _warp(overview, grid, resampling, src_nodata), src_nodata


def gdal_message(exc: BaseException) -> str:
    """The messages of a rasterio error and of the GDAL errors behind it, in one line (rasterio puts the
    HTTP status of a failed read in the chained exception, not in the one raised)."""
    messages: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(messages) < 5:
        text = " ".join(str(seen).split())
        if text and "See previous exception" not in text and text not in messages:
            messages.append(text)
        seen = seen.__cause__ or seen.__context__
    return "; ".join(messages) or type(exc).__name__


def _non_cached(href: str) -> dict[str, str]:
    """GDAL settings that make a retry fetch ``href`` again instead of reusing what it cached in-process."""
    path = href if href.startswith("/vsi") else f"/vsicurl/{href}"
    return {"CPL_VSIL_CURL_NON_CACHED": path}


def read_window(
    scene_id: str,
    asset: Asset,
    grid: Grid,
    resampling: Resampling = Resampling.cubic,
    cache: SceneCache | None = None,
    policy: RetryPolicy | None = None,
) -> np.ma.MaskedArray:
    """The raw values (DN, before scale/offset) of one asset on ``grid``, masked where nodata.

    Remote assets come from the scene cache when this window was read before; otherwise they are read
    with retries and then cached. Failures raise ``RasterError``/``ArchiveError`` naming item and asset.
    """
    what = f"scene {scene_id} asset {asset.key!r} ({asset.href})"
    if not is_remote(asset.href):
        try:
            return _read_raw(asset.href, grid, resampling, asset.nodata, {})[0]
        except RasterioError as exc:
            raise RasterError(f"{what}: cannot read raster ({gdal_message(exc)})") from None
        except RasterError as exc:
            raise RasterError(f"scene {scene_id} asset {asset.key!r}: {exc}") from None
    cache = cache if cache is not None else SceneCache.default()
    key = CacheKey(scene_id, asset.key, grid, resampling.name)
    cached = cache.load(key)
    if cached is not None:
        return cached
    policy = policy or RetryPolicy.from_env()

    def attempt(number: int) -> tuple[np.ma.MaskedArray, float]:
        env = _non_cached(asset.href) if number else {}
        return _read_raw(sign_href(asset.href), grid, resampling, asset.nodata, env)

    def retryable(exc: Exception) -> str | None:
        return gdal_message(exc) if isinstance(exc, RasterioError) else None

    try:
        data, nodata = with_retries(attempt, asset.href, what, policy, retryable)
    except RasterError as exc:  # not georeferenced: no retry helps
        raise RasterError(f"scene {scene_id} asset {asset.key!r}: {exc}") from None
    cache.store(key, data, nodata, asset.href)
    return data


def read_asset(asset: Asset, grid: Grid, resampling: Resampling = Resampling.cubic, scene_id: str = "",
               cache: SceneCache | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One asset onto ``grid``: (float32 values with scale/offset applied, NaN where invalid; bool validity)."""
    raw = read_window(scene_id or "?", asset, grid, resampling, cache)
    valid = ~np.ma.getmaskarray(raw)
    values = raw.filled(0).astype(np.float32) * np.float32(asset.scale) + np.float32(asset.offset)
    valid &= np.isfinite(values)
    values[~valid] = np.nan
    return values, valid


def check_overlap(scene: Scene, grid: Grid) -> None:
    left, bottom, right, top = grid.bounds
    footprint = reproject_geometry(box(left, bottom, right, top), grid.crs.to_string(), WGS84)
    if not scene.geometry.intersects(footprint):
        raise OverlapError(f"scene {scene.id} does not cover the requested area (grid bounds {grid.bounds})")


def _read_many(scene: Scene, requests: Sequence[tuple[str, Resampling]], grid: Grid,
               cache: SceneCache | None) -> list[tuple[np.ndarray, np.ndarray]]:
    assets = [(scene.asset(name), resampling) for name, resampling in requests]  # fail early on a missing one
    if len(assets) == 1:
        results = [read_asset(assets[0][0], grid, assets[0][1], scene.id, cache)]
    else:
        with ThreadPoolExecutor(max_workers=min(READ_THREADS, len(assets))) as pool:
            futures = [pool.submit(read_asset, a, grid, resampling, scene.id, cache) for a, resampling in assets]
            results = [f.result() for f in futures]
    if scene.stac is not None and any(is_remote(a.href) for a, _ in assets):
        # Keep the item beside its windows: a rerun naming this scene by id needs no lookup.
        (cache if cache is not None else SceneCache.default()).store_item(scene.stac)
    return results


def read_stack(
    scene: Scene,
    bands: Sequence[str],
    grid: Grid,
    resampling: Resampling = Resampling.cubic,
    cloud_mask: bool = True,
    cache: SceneCache | None = None,
) -> Stack:
    """Read ``bands`` of ``scene`` onto ``grid``; mask nodata and, where the scene has SCL, clouds."""
    check_overlap(scene, grid)
    masked_clouds = cloud_mask and SCL_ASSET in scene.assets
    requests = [(name, resampling) for name in bands]
    if masked_clouds:
        requests.append((SCL_ASSET, Resampling.nearest))
    results = _read_many(scene, requests, grid, cache)
    data = np.empty((len(bands), grid.height, grid.width), dtype=np.float32)
    valid = np.ones(grid.shape, dtype=bool)
    for index in range(len(bands)):
        data[index], band_valid = results[index]
        valid &= band_valid
    if masked_clouds:
        scl, scl_valid = results[-1]
        valid &= scl_valid & ~np.isin(scl, SCL_MASKED)
    data[:, ~valid] = np.nan
    if not valid.any():
        raise RasterError(f"scene {scene.id}: no valid pixels over the area (all nodata or cloud)")
    log.debug("read %s: %d bands, %.1f%% valid", scene.id, len(bands), 100 * valid.mean())
    return Stack(scene, grid, tuple(bands), data, valid, masked_clouds)


def sar_quantity(scene: Scene) -> str:
    """What a Sentinel-1 item's pixels are: RTC collections hold terrain-corrected gamma0 as linear
    power; GRD holds digital numbers (amplitude), uncalibrated."""
    return "gamma0_linear" if "rtc" in scene.collection.lower() else "dn"


def read_sar(
    scene: Scene,
    grid: Grid,
    polarisations: Sequence[str] = SAR_POLARISATIONS,
    resampling: Resampling = Resampling.bilinear,
    cache: SceneCache | None = None,
) -> Stack:
    """Sentinel-1 backscatter (``vv``, ``vh``, ...) of ``scene`` onto ``grid``; ``Stack.quantity`` says
    whether it is RTC linear power or GRD DN. Bilinear by default: it keeps power non-negative."""
    if scene.sensor != "s1":
        raise RasterError(f"scene {scene.id} is not a Sentinel-1 scene (collection {scene.collection!r})")
    check_overlap(scene, grid)
    keys = [p.lower() for p in polarisations]
    results = _read_many(scene, [(key, resampling) for key in keys], grid, cache)
    data = np.stack([values for values, _ in results]).astype(np.float32)
    valid = np.logical_and.reduce([v for _, v in results])
    data[:, ~valid] = np.nan
    if not valid.any():
        raise RasterError(f"scene {scene.id}: no valid SAR pixels over the area")
    return Stack(scene, grid, tuple(keys), data, valid, False, sar_quantity(scene))
