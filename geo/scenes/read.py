"""Windowed reads: every band of a scene onto one target grid, as float reflectance with a validity mask.

Only the part of each file under the grid is read (GDAL's warper asks for the source windows it needs),
so a small AOI over a 110 km tile costs a few tiles of each COG, not the file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.errors import RasterioError
from rasterio.io import DatasetReader
from rasterio.vrt import WarpedVRT

from geo.errors import EmptyReadError, OverlapError, RasterError
from geo.geometry import WGS84, reproject
from geo.grid import Grid
from geo.scenes.gdal_env import gdal_env
from geo.scenes.model import SCL_MASKED, Asset, Scene

log = logging.getLogger(__name__)

# (rows, cols) of a grid -> (dx, dy) px: where each pixel's content lies in the source (geo.align)
Displacement = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Stack:
    """Bands of one scene on one grid. ``data`` is float32 (band, row, col), NaN where not ``valid``."""

    scene: Scene
    grid: Grid
    bands: tuple[str, ...]
    data: np.ndarray
    valid: np.ndarray
    cloud_masked: bool

    def band(self, name: str) -> np.ndarray:
        return self.data[self.bands.index(name)]

    @property
    def valid_fraction(self) -> float:
        return float(self.valid.mean())


@contextmanager
def open_raster(href: str) -> Iterator[DatasetReader]:
    """Open a georeferenced raster or raise ``RasterError`` naming it (corrupt, missing, no CRS)."""
    try:
        with gdal_env(), rasterio.open(href) as src:
            if src.crs is None:
                raise RasterError(f"{href}: raster has no CRS (georeference missing)")
            if src.transform.is_identity:
                raise RasterError(f"{href}: raster has no geotransform (georeference missing)")
            yield src
    except RasterioError as exc:
        raise RasterError(f"{href}: cannot read raster ({exc})") from None


def read_asset(
    asset: Asset, grid: Grid, resampling: Resampling = Resampling.cubic, displacement: Displacement | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One asset onto ``grid``: (float32 values with scale/offset applied, bool validity).

    With ``displacement`` (a local co-registration model), the source pixels are resampled once through
    it instead of through GDAL's warper (``geo.align.resample``)."""
    with open_raster(asset.href) as src:
        src_nodata = asset.nodata if asset.nodata is not None else src.nodata
        if src_nodata is None:
            src_nodata = 0  # Sentinel-2 DN 0 is "no data" in every product level
        if displacement is not None:
            from geo.align.resample import warp_band  # align depends on scenes, not the reverse

            order = 0 if resampling == Resampling.nearest else 3
            raw_values, raw_valid = warp_band(src, 1, grid, displacement, src_nodata, order)
            values = raw_values * np.float32(asset.scale) + np.float32(asset.offset)
            values[~raw_valid] = np.nan
            return values, raw_valid
        with WarpedVRT(
            src,
            crs=grid.crs,
            transform=grid.transform,
            width=grid.width,
            height=grid.height,
            resampling=resampling,
            src_nodata=src_nodata,
            nodata=src_nodata,
        ) as vrt:
            raw = vrt.read(1, masked=True)
    valid = ~np.ma.getmaskarray(raw)
    values = raw.filled(0).astype(np.float32) * np.float32(asset.scale) + np.float32(asset.offset)
    values[~valid] = np.nan
    return values, valid


def check_overlap(scene: Scene, grid: Grid) -> None:
    left, bottom, right, top = grid.bounds
    from shapely.geometry import box

    footprint = reproject(box(left, bottom, right, top), grid.crs.to_string(), WGS84)
    if not scene.geometry.intersects(footprint):
        raise OverlapError(f"scene {scene.id} does not cover the requested area (grid bounds {grid.bounds})")


def read_stack(
    scene: Scene,
    bands: Sequence[str],
    grid: Grid,
    resampling: Resampling = Resampling.cubic,
    cloud_mask: bool = True,
    displacement: Displacement | None = None,
) -> Stack:
    """Read ``bands`` of ``scene`` onto ``grid``; mask nodata and, where the scene has SCL, clouds."""
    check_overlap(scene, grid)
    data = np.empty((len(bands), grid.height, grid.width), dtype=np.float32)
    valid = np.ones(grid.shape, dtype=bool)
    for index, name in enumerate(bands):
        data[index], band_valid = read_asset(scene.asset(name), grid, resampling, displacement)
        valid &= band_valid
    masked_clouds = cloud_mask and "scl" in scene.assets
    if masked_clouds:
        scl, scl_valid = read_asset(scene.asset("scl"), grid, Resampling.nearest, displacement)
        valid &= scl_valid & ~np.isin(scl, SCL_MASKED)
    data[:, ~valid] = np.nan
    if not valid.any():
        raise EmptyReadError(f"scene {scene.id}: no valid pixels over the area (all nodata or cloud)")
    log.debug("read %s: %d bands, %.1f%% valid", scene.id, len(bands), 100 * valid.mean())
    return Stack(scene, grid, tuple(bands), data, valid, masked_clouds)
