"""Scenes onto one target grid: every asset read over the grid's window only (``geo.scenes.warp``) and
turned into float values with a validity mask; Sentinel-2 reflectance with SCL cloud masking, Sentinel-1
backscatter. Remote windows come from the scene cache, or are read with retries and then cached; local
files are read directly. Failures name the item and the asset.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from rasterio.enums import Resampling
from rasterio.errors import RasterioError
from shapely.geometry import box

from geo.antimeridian import cut_at_antimeridian
from geo.errors import AssetGoneError, EmptyReadError, OverlapError, RasterError, SceneError, UnusableSceneError
from geo.geometry import WGS84, reproject
from geo.grid import Grid
from geo.scenes.cache import CacheKey, SceneCache
from geo.scenes.model import SAR_ASSETS, SCL_ASSET, SCL_CLOUDY, SCL_MASKED, Asset, Scene, Sensor
from geo.scenes.reflectance_check import check_reflectance
from geo.scenes.remote import RetryPolicy, is_remote, sign_href, with_retries
from geo.scenes.warp import gdal_message, open_raster, read_onto  # noqa: F401  (re-exported)

if TYPE_CHECKING:  # scipy comes with it, needed only for reads through a co-registration model
    from shapely.geometry.base import BaseGeometry

    from geo.scenes.displace import Displacement

log = logging.getLogger(__name__)

DISPLACEMENT_LATTICE = 16

READ_THREADS = 4  # remote reads wait on the network, not the CPU
# Pixels this close to an SCL cloud, cirrus or cloud shadow are masked too: the SCL is 20 m, the bands 10 m, and a
# cloud's edge is soft, so the 10 m pixels along its SCL outline are often bright with cloud (left in, they were
# found as new bright surfaces and supported a claim). 40 m: two SCL pixels.
CLOUD_BUFFER_M = 40.0
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
        band: np.ndarray = self.data[self.bands.index(name)]
        return band

    @property
    def valid_fraction(self) -> float:
        return float(self.valid.mean())


def _non_cached(href: str) -> dict[str, str]:
    """GDAL settings that make a retry fetch ``href`` again instead of reusing what it cached in-process."""
    path = (href if href.startswith("/vsi") else f"/vsis3/{href.removeprefix('s3://')}" if href.startswith("s3://")
            else f"/vsicurl/{href}")
    return {"CPL_VSIL_CURL_NON_CACHED": path}


def _access(asset: Asset) -> dict[str, str]:
    """The GDAL settings the item gives for reaching ``asset`` (its storage's S3 endpoint ...), each one the user
    has not set in the environment: a user's ``AWS_S3_ENDPOINT`` wins, as GDAL users expect."""
    return {key: value for key, value in asset.gdal_options if key not in os.environ}


def displacement_digest(displacement: Displacement, grid: Grid) -> str:
    """A fingerprint of a displacement model on ``grid`` (its values on a 16 px lattice, to 1e-4 px), so a
    window read through the same model is found in the cache on a rerun."""
    rows = np.unique(np.append(np.arange(0, grid.height, DISPLACEMENT_LATTICE), grid.height - 1)).astype(float)
    cols = np.unique(np.append(np.arange(0, grid.width, DISPLACEMENT_LATTICE), grid.width - 1)).astype(float)
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    dx, dy = displacement(rr, cc)
    values = np.round(np.stack([np.asarray(dx, float), np.asarray(dy, float)]), 4) + 0.0  # no -0.0
    return hashlib.sha256(values.tobytes()).hexdigest()[:16]


def read_window(
    scene_id: str,
    asset: Asset,
    grid: Grid,
    resampling: Resampling = Resampling.cubic,
    cache: SceneCache | None = None,
    displacement: Displacement | None = None,
) -> np.ma.MaskedArray:
    """The raw values (DN, before scale/offset) of one asset on ``grid``, masked where nodata.

    With ``displacement`` (a local co-registration model) the source pixels are resampled once through
    it (``geo.scenes.displace``) instead of through GDAL's warper. Remote assets come from the scene cache
    when this window was read before; otherwise they are read with retries and then cached. Failures
    raise ``RasterError``/``ArchiveError`` naming item and asset.
    """
    endpoint = dict(asset.gdal_options).get("AWS_S3_ENDPOINT")
    what = f"scene {scene_id} asset {asset.key!r} ({asset.href}{f' at {endpoint}' if endpoint else ''})"

    def read(href: str, env: dict[str, str]) -> tuple[np.ma.MaskedArray, float]:
        if displacement is None:
            return read_onto(href, grid, resampling, asset.nodata, env)
        from geo.scenes.displace import read_displaced  # scipy: only reads through a model need it

        return read_displaced(href, grid, displacement, resampling, asset.nodata, env)

    if not is_remote(asset.href):
        try:
            return read(asset.href, {})[0]
        except RasterioError as exc:
            raise RasterError(f"{what}: cannot read raster ({gdal_message(exc)})") from None
        except RasterError as exc:
            raise _not_georeferenced(scene_id, asset, exc) from None
    cache = cache if cache is not None else SceneCache.default()
    variant = "" if displacement is None else f"displaced:{displacement_digest(displacement, grid)}"
    key = CacheKey(scene_id, asset.key, grid, resampling.name, variant, asset.href)
    cached = cache.load(key)
    if cached is not None:
        return cached
    policy = RetryPolicy.from_env()

    def attempt(number: int) -> tuple[np.ma.MaskedArray, float]:
        return read(sign_href(asset.href), {**_access(asset), **(_non_cached(asset.href) if number else {})})

    def retryable(exc: Exception) -> str | None:
        return gdal_message(exc) if isinstance(exc, RasterioError) else None

    try:
        data, nodata = with_retries(attempt, asset.href, what, policy, retryable, dict(asset.gdal_options))
    except RasterError as exc:  # not georeferenced: no retry helps
        raise _not_georeferenced(scene_id, asset, exc) from None
    except AssetGoneError as exc:  # 404, an HTML page: the scene's file, not the network
        if not scene_id:
            raise
        raise UnusableSceneError(scene_id, f"asset {asset.key!r} ({asset.href}): {exc.reason}") from None
    cache.store(key, data, nodata, asset.href)
    return data


def _not_georeferenced(scene_id: str, asset: Asset, exc: RasterError) -> SceneError:
    """A scene's file without georeference will not gain one: the scene is unusable (a re-check goes around
    it, ``geo.recheck.process``), not failed for now."""
    if not scene_id:
        return RasterError(f"asset {asset.key!r}: {exc}")
    return UnusableSceneError(scene_id, f"asset {asset.key!r}: {exc}")


def read_asset(asset: Asset, grid: Grid, resampling: Resampling = Resampling.cubic, scene_id: str = "",
               cache: SceneCache | None = None, displacement: Displacement | None = None,
               ) -> tuple[np.ndarray, np.ndarray]:
    """One asset onto ``grid``: (float32 values with scale/offset applied, NaN where invalid; bool validity).
    Without ``scene_id`` the file itself names the cache entry (two scenes never share one)."""
    item = scene_id or "file-" + hashlib.sha256(asset.href.encode()).hexdigest()[:16]
    raw = read_window(item, asset, grid, resampling, cache, displacement=displacement)
    valid = ~np.ma.getmaskarray(raw)
    values = np.ma.getdata(raw).astype(np.float32)  # (masked pixels become NaN below whatever they hold)
    scale, offset = (1.0, 0.0) if asset.scale_assumed and _float_file(asset.href) else (asset.scale, asset.offset)
    values *= np.float32(scale)
    values += np.float32(offset)
    valid &= np.isfinite(values)
    values[~valid] = np.nan
    return values, valid


def _float_file(href: str) -> bool:
    """Whether ``href`` is a local file of floating-point pixels (a remote one is not opened for it)."""
    if is_remote(href):
        return False
    try:
        with open_raster(href) as src:
            return bool(np.issubdtype(np.dtype(src.dtypes[0]), np.floating))
    except RasterError:
        return False  # the read names the fault


def grid_footprint(grid: Grid) -> BaseGeometry:
    """The grid's outline in lon/lat, cut at 180 as footprints are (RFC 7946): a grid across it would otherwise
    read as a band round the globe."""
    return cut_at_antimeridian(reproject(box(*grid.bounds), grid.crs.to_string(), WGS84))


def check_overlap(scene: Scene, grid: Grid) -> None:
    footprint = grid_footprint(grid)
    if not scene.geometry.intersects(footprint):  # named in lon/lat, as the user drew the area
        raise OverlapError(f"scene {scene.id} does not cover the requested area ({_lon_lat(footprint.bounds)}; the "
                           f"scene: {_lon_lat(scene.geometry.bounds)})")


def _lon_lat(bounds: tuple[float, float, float, float]) -> str:
    west, south, east, north = bounds
    return f"lon {west:.4f}..{east:.4f}, lat {south:.4f}..{north:.4f}"


def _read_many(scene: Scene, requests: Sequence[tuple[str, Resampling]], grid: Grid,
               cache: SceneCache | None, displacement: Displacement | None = None,
               extra: Sequence[tuple[str, Resampling, Grid, Displacement | None]] = (),
               ) -> list[tuple[np.ndarray, np.ndarray]]:
    """The assets of ``requests`` on ``grid``, then those of ``extra`` each on its own grid, read concurrently."""
    reads = [(name, resampling, grid, displacement) for name, resampling in requests] + list(extra)
    assets = [(scene.asset(name), resampling) for name, resampling, _, _ in reads]  # fail early on a missing one
    if len(reads) == 1:
        results = [read_asset(assets[0][0], reads[0][2], assets[0][1], scene.id, cache, reads[0][3])]
    else:
        with ThreadPoolExecutor(max_workers=min(READ_THREADS, len(reads))) as pool:
            futures = [pool.submit(read_asset, a, on, resampling, scene.id, cache, moved)
                       for (a, resampling), (_, _, on, moved) in zip(assets, reads)]
            results = [f.result() for f in futures]
    if scene.stac is not None and scene.source and any(is_remote(a.href) for a, _ in assets):
        # Keep the item beside its windows: a rerun naming this scene by id in the same source needs no
        # lookup. Once is enough (a job reads a scene several times; a warm rerun then writes nothing).
        cache = cache if cache is not None else SceneCache.default()
        if not cache.has_item(scene.id, scene.source):
            cache.store_item(scene.stac, scene.source)
    return results


def read_stack(
    scene: Scene,
    bands: Sequence[str],
    grid: Grid,
    resampling: Resampling = Resampling.cubic,
    cloud_mask: bool = True,
    cache: SceneCache | None = None,
    displacement: Displacement | None = None,
) -> Stack:
    """Read ``bands`` of ``scene`` onto ``grid``; mask nodata and, where the scene has SCL, clouds.
    ``displacement``: read through a local co-registration model (see ``read_window``)."""
    check_overlap(scene, grid)
    data, valid, masked_clouds = read_bands(scene, bands, grid, resampling, cloud_mask, cache, displacement)
    if not valid.any():
        raise EmptyReadError(f"scene {scene.id}: no valid pixels over the area ({nothing_seen(masked_clouds)})")
    check_reflectance(scene, bands, data, valid)
    log.debug("read %s: %d bands, %.1f%% valid", scene.id, len(bands), 100 * valid.mean())
    return Stack(scene, grid, tuple(bands), data, valid, masked_clouds)


def nothing_seen(cloud_masked: bool) -> str:
    """Why a scene shows nothing of a grid: cloud only where its SCL masked it (an L1C item has none)."""
    return "all nodata or cloud" if cloud_masked else "all nodata"


def read_bands(
    scene: Scene, bands: Sequence[str], grid: Grid, resampling: Resampling = Resampling.cubic,
    cloud_mask: bool = True, cache: SceneCache | None = None, displacement: Displacement | None = None,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """``read_stack``'s (data, valid, cloud masked) without its checks: a window of a larger grid may lie
    outside the scene or hold no valid pixel."""
    if scene.parts:
        masked = [cloud_mask]  # all tiles' clouds masked

        def read_tile(tile: Scene) -> tuple[np.ndarray, np.ndarray]:
            values, ok, tile_masked = read_bands(tile, bands, grid, resampling, cloud_mask, cache, displacement)
            masked[0] &= tile_masked
            return values, ok

        return (*first_valid(scene.parts, len(bands), grid, read_tile), masked[0])
    masked_clouds = cloud_mask and scene.cloud_classified
    requests = [(name, resampling) for name in bands]
    pad = cloud_buffer_px(grid) if masked_clouds else 0
    scl_read = [(SCL_ASSET, Resampling.nearest, *padded(grid, displacement, pad))] if masked_clouds else []
    results = _read_many(scene, requests, grid, cache, displacement, scl_read)
    data = np.empty((len(bands), grid.height, grid.width), dtype=np.float32)
    valid = np.ones(grid.shape, dtype=bool)
    for index in range(len(bands)):
        data[index], band_valid = results[index]
        valid &= band_valid
    if masked_clouds:
        valid &= scl_clear(*results[-1], pad)
    data[:, ~valid] = np.nan
    return data, valid, masked_clouds


class OffsetDisplacement:
    """A displacement model of a grid, asked about a window of it (its own pixel coordinates)."""

    def __init__(self, displacement: Displacement, row0: int, col0: int) -> None:
        self.displacement, self.row0, self.col0 = displacement, row0, col0

    def __call__(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.displacement(np.asarray(rows, float) + self.row0, np.asarray(cols, float) + self.col0)


def cloud_buffer_px(grid: Grid) -> int:
    """``CLOUD_BUFFER_M`` in pixels of ``grid`` (at least one)."""
    step = min(abs(v) for v in grid.pixel_metres())
    return max(1, math.ceil(CLOUD_BUFFER_M / step - 1e-6))


def padded(grid: Grid, displacement: Displacement | None, pad: int) -> tuple[Grid, Displacement | None]:
    """``grid`` grown by ``pad`` pixels on every side, and the displacement model asked about it."""
    grown = grid.window(-pad, -pad, grid.height + 2 * pad, grid.width + 2 * pad)
    return grown, None if displacement is None else OffsetDisplacement(displacement, -pad, -pad)


def scl_clear(scl: np.ndarray, scl_valid: np.ndarray, pad: int) -> np.ndarray:
    """Where an SCL read over a grid grown by ``pad`` pixels (``padded``) shows the ground on the grid: not a
    masked class (``SCL_MASKED``), nor within ``pad`` pixels of a cloud, cirrus or cloud shadow. Read over the
    grown grid, a window of a larger grid (a block, ``geo.scenes.read_blocks``) is masked as the whole grid is."""
    cloudy = scl_valid & np.isin(scl, SCL_CLOUDY)
    if cloudy.any():
        from scipy import ndimage  # only a scene with cloud over the grid needs it

        yy, xx = np.ogrid[-pad:pad + 1, -pad:pad + 1]
        cloudy = ndimage.binary_dilation(cloudy, structure=yy * yy + xx * xx <= pad * pad)
    clear: np.ndarray = (scl_valid & ~np.isin(scl, SCL_MASKED) & ~cloudy)[pad:-pad, pad:-pad]
    return clear


def first_valid(tiles: Sequence[Scene], count: int, grid: Grid,
                read_tile: Callable[[Scene], tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """(values, valid) of ``count`` bands of the tiles of one pass (``geo.scenes.mosaic``), each read by
    ``read_tile``: each pixel from the first tile with a valid one; tiles whose footprint misses the grid
    are not read."""
    footprint = grid_footprint(grid)
    data = np.full((count, grid.height, grid.width), np.nan, dtype=np.float32)
    valid = np.zeros(grid.shape, dtype=bool)
    for tile in tiles:
        if tile.geometry.intersects(footprint):
            values, ok = read_tile(tile)
            fill = ok & ~valid
            data[:, fill] = values[:, fill]
            valid |= fill
    return data, valid


def _sar_data_type(scene: Scene) -> str | None:
    """The pixel type of a Sentinel-1 scene's first polarisation: as its item says, else (a local file) as the
    file says; None when neither does."""
    asset = next((scene.assets[k] for k in SAR_ASSETS if k in scene.assets), None)
    if asset is None or asset.data_type or is_remote(asset.href):
        return None if asset is None else asset.data_type
    try:
        with open_raster(asset.href) as src:
            return str(src.dtypes[0])
    except RasterError:
        return None  # the read that follows names the fault


def sar_quantity(scene: Scene) -> str:
    """What a Sentinel-1 item's pixels are: GRD digital numbers (amplitude, uncalibrated) are integers;
    floats are calibrated linear power (RTC gamma0, or a user's own sigma0). When the pixel type is not
    known, the collection says: RTC is power, anything else DN."""
    data_type = _sar_data_type(scene)
    if data_type is not None and np.issubdtype(np.dtype(data_type), np.integer):
        return "dn"
    if "rtc" in scene.collection.lower():
        return "gamma0_linear"
    return "dn" if data_type is None else "power_linear"


def read_sar(
    scene: Scene,
    grid: Grid,
    polarisations: Sequence[str] = SAR_POLARISATIONS,
    resampling: Resampling = Resampling.bilinear,
    cache: SceneCache | None = None,
) -> Stack:
    """Sentinel-1 backscatter (``vv``, ``vh``, ...) of ``scene`` onto ``grid``; ``Stack.quantity`` says
    whether it is RTC linear power or GRD DN. Bilinear by default: it keeps power non-negative."""
    if scene.sensor is not Sensor.S1:
        raise RasterError(f"scene {scene.id} is not a Sentinel-1 scene (collection {scene.collection!r})")
    check_overlap(scene, grid)
    keys = [p.lower() for p in polarisations]
    data, valid = _sar_bands(scene, keys, grid, resampling, cache)
    if not valid.any():
        raise EmptyReadError(f"scene {scene.id}: no valid SAR pixels over the area")
    return Stack(scene, grid, tuple(keys), data, valid, False, sar_quantity(scene))


def _sar_bands(scene: Scene, keys: Sequence[str], grid: Grid, resampling: Resampling,
               cache: SceneCache | None) -> tuple[np.ndarray, np.ndarray]:
    if scene.parts:
        return first_valid(scene.parts, len(keys), grid, lambda tile: _sar_bands(tile, keys, grid, resampling, cache))
    results = _read_many(scene, [(key, resampling) for key in keys], grid, cache)
    data = np.stack([values for values, _ in results]).astype(np.float32)
    valid = np.logical_and.reduce([v for _, v in results])
    data[:, ~valid] = np.nan
    return data, valid
