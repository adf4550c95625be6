"""Cloud-Optimised GeoTIFFs of a run's rasters: the change statistic and before/after true colour.

Written with GDAL's own COG driver (tiled, DEFLATE, internal overviews, IFDs first) from an in-memory
dataset, through a temporary name and a rename.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.io import MemoryFile

from geo.atomic import replacing
from geo.errors import OutputError, RasterError
from geo.grid import Grid
from geo.scenes.warp import open_raster

TRUE_COLOUR = ("red", "green", "blue")
COG_OPTIONS = {"compress": "deflate", "predictor": "3", "blocksize": "256", "overview_resampling": "average"}


def write_cog(path: Path, data: np.ndarray, grid: Grid, band_names: Sequence[str] = (),
              tags: dict[str, str] | None = None) -> Path:
    """Write float32 ``data`` (bands, rows, cols) or (rows, cols) on ``grid`` as a COG; NaN is nodata."""
    path = Path(path)
    stack = np.asarray(data, dtype=np.float32)
    if stack.ndim == 2:
        stack = stack[None]
    if stack.shape[1:] != grid.shape:
        raise OutputError(f"{path}: raster shape {stack.shape[1:]} does not match its grid {grid.shape}")
    profile = {
        "driver": "GTiff", "dtype": "float32", "count": stack.shape[0], "width": grid.width,
        "height": grid.height, "crs": grid.crs, "transform": grid.transform, "nodata": float("nan"),
    }
    try:
        with MemoryFile() as memory, replacing(path) as tmp:
            with memory.open(**profile) as dataset:
                dataset.write(stack)
                for index, name in enumerate(band_names, start=1):
                    dataset.set_band_description(index, name)
                if tags:
                    dataset.update_tags(**tags)
            with memory.open() as dataset:
                rasterio.shutil.copy(dataset, tmp, driver="COG", **COG_OPTIONS)
    except rasterio.errors.RasterioError as exc:
        raise OutputError(f"{path}: cannot write Cloud-Optimised GeoTIFF ({exc})") from None
    return path


def true_colour(data: np.ndarray, bands: Sequence[str]) -> np.ndarray | None:
    """(3, rows, cols) red/green/blue reflectance from a stack, or None when a band is missing."""
    if not all(b in bands for b in TRUE_COLOUR):
        return None
    return np.stack([data[list(bands).index(b)] for b in TRUE_COLOUR])


def sar_display(data: np.ndarray, bands: Sequence[str]) -> np.ndarray:
    """(3, rows, cols) grey picture of a SAR stack: its first (co-polarised, VV) band in dB on all three
    bands, so the report and QGIS show radar scenes as they show true colour."""
    with np.errstate(divide="ignore", invalid="ignore"):
        db = 10.0 * np.log10(np.where(data[0] > 0, data[0], np.nan))
    return np.stack([db, db, db])


def read_raster(path: Path) -> tuple[np.ndarray, Grid]:
    """A run's COG back as float32 (bands, rows, cols) with NaN for nodata, and its grid."""
    with open_raster(str(path)) as src:
        data = src.read(masked=True).astype(np.float32).filled(np.nan)
        return data, Grid(src.crs, src.transform, (src.height, src.width))


def is_cog(path: Path) -> bool:
    """True when GDAL reports the file's layout as COG (what its COG driver writes)."""
    try:
        with rasterio.open(path) as src:
            return bool(src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG")
    except rasterio.errors.RasterioError as exc:
        raise RasterError(f"{path}: cannot read raster ({exc})") from None
