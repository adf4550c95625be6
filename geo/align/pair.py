"""Read two rasters of the same place onto the reference's grid, over their overlap only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window, from_bounds

from geo.errors import OverlapError, RasterError
from geo.grid import Grid
from geo.scenes.read import open_raster


@dataclass(frozen=True)
class RasterPair:
    grid: Grid  # a window of the reference grid covering the overlap
    ref: np.ndarray
    tgt: np.ndarray
    ref_valid: np.ndarray
    tgt_valid: np.ndarray


def _valid(values: np.ndarray, nodata: float | None) -> np.ndarray:
    valid = np.isfinite(values)
    if nodata is not None:
        valid &= values != nodata
    return valid & (values != 0)  # Sentinel-2 DN 0 is "no data"


def read_pair(ref_path: str, tgt_path: str, band: int = 1) -> RasterPair:
    """REF's pixels over the overlap, and TGT's resampled onto exactly that grid (for estimation only)."""
    with open_raster(ref_path) as ref, open_raster(tgt_path) as tgt:
        for path, src in ((ref_path, ref), (tgt_path, tgt)):
            if not 1 <= band <= src.count:
                raise RasterError(f"{path}: has {src.count} band(s), band {band} requested")
        tgt_bounds = transform_bounds(tgt.crs, ref.crs, *tgt.bounds, densify_pts=21)
        left, bottom = max(ref.bounds.left, tgt_bounds[0]), max(ref.bounds.bottom, tgt_bounds[1])
        right, top = min(ref.bounds.right, tgt_bounds[2]), min(ref.bounds.top, tgt_bounds[3])
        if right <= left or top <= bottom:
            raise OverlapError(f"{ref_path} and {tgt_path} do not overlap")
        window = from_bounds(left, bottom, right, top, ref.transform).round_offsets().round_lengths()
        window = window.intersection(Window(0, 0, ref.width, ref.height))
        grid = Grid(ref.crs, ref.window_transform(window), (int(window.height), int(window.width)))
        ref_values = ref.read(band, window=window).astype(np.float64)
        # cubic when TGT is as fine or coarser; averaging when it is much finer (cubic would alias)
        finer = tgt.crs == ref.crs and abs(tgt.transform.a) * 1.5 <= abs(ref.transform.a)
        with WarpedVRT(tgt, crs=grid.crs, transform=grid.transform, width=grid.width, height=grid.height,
                       resampling=Resampling.average if finer else Resampling.cubic, src_nodata=tgt.nodata if tgt.nodata is not None else 0,
                       nodata=0) as vrt:
            tgt_values = vrt.read(band).astype(np.float64)
        return RasterPair(grid, ref_values, tgt_values, _valid(ref_values, ref.nodata), _valid(tgt_values, 0))
