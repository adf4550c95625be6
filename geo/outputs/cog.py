"""Cloud-Optimised GeoTIFFs of a run's rasters: the change statistic and before/after true colour.

Written with GDAL's own COG driver (tiled, ZSTD, internal overviews, IFDs first) from a temporary
tiled GeoTIFF written band by band in strips of rows (memory stays a strip's, not a second copy of the
raster), through a temporary name and a rename.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.enums import ColorInterp, Resampling
from rasterio.io import DatasetReader
from rasterio.windows import Window

from geo.atomic import replacing
from geo.disk import beyond_size_limit, free_bytes
from geo.errors import OutputError, RasterError
from geo.grid import Grid
from geo.scenes.scratch import release
from geo.scenes.warp import open_raster

TRUE_COLOUR = ("red", "green", "blue")
# ZSTD level 1, lossless: a tile's true-colour band took 3.6 s of CPU to write instead of 6.4 with DEFLATE level 1
# (GDAL's default 6: ~10 s), its file 9 % smaller, 57 % less CPU to read back (QGIS, the report's chips);
# the pixels are the same. Tiles are compressed on all cores (the same bytes as on one).
COG_OPTIONS = {"compress": "zstd", "predictor": "3", "level": "1", "blocksize": "256",
               "overview_resampling": "average", "num_threads": "ALL_CPUS"}


STRIP_ROWS = 1024
GDAL_CACHE_BYTES = 256 << 20  # GDAL's block cache while writing (its default, 5 % of RAM, is held by the process)
# GDAL's COG driver builds the overviews in a temporary file, compressed (ZSTD or LZW) only to be read back
# once: PACKBITS costs a quarter less CPU for the whole copy of a tile's band (8.5 s -> 6.3 s), and the COG's
# pixels and overviews are the same (tile-sized bands compared; tests/outputs/test_files.py). Uncompressed is not: GDAL then
# builds the overviews by other chunks and some of their rows come out different.
COG_TMP_COMPRESSION = "PACKBITS"


def write_cog(path: Path, data: np.ndarray | Sequence[np.ndarray], grid: Grid, band_names: Sequence[str] = (),
              tags: dict[str, str] | None = None) -> Path:
    """Write ``data`` as float32 on ``grid`` as a COG; NaN is nodata. ``data``: (bands, rows, cols),
    (rows, cols), or a sequence of (rows, cols) bands (views of a stack: nothing is copied whole)."""
    path = Path(path)
    bands = [data] if isinstance(data, np.ndarray) and data.ndim == 2 else list(data)
    for band in bands:
        if band.shape != grid.shape:
            raise OutputError(f"{path}: raster shape {band.shape} does not match its grid {grid.shape}")
    profile = {
        "driver": "GTiff", "dtype": "float32", "count": len(bands), "width": grid.width, "height": grid.height,
        "crs": grid.crs, "transform": grid.transform, "nodata": float("nan"), "tiled": True,
        "blockxsize": 256, "blockysize": 256, "BIGTIFF": "IF_SAFER",
    }
    # The room writing may take: the uncompressed GeoTIFF the COG is copied from (checked first: libtiff prints a
    # dozen raw lines when it cannot be written), the COG (at most that size, a third more with its overviews)
    # and GDAL's temporary file of the overviews.
    source_bytes = len(bands) * grid.width * grid.height * 4
    room = source_bytes * 8 // 3
    _check_room(path, source_bytes, room)
    with (replacing(path) as tmp, tempfile.TemporaryDirectory(dir=path.parent, prefix=".cog-") as folder,
          rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_BYTES, COG_TMP_COMPRESSION=COG_TMP_COMPRESSION), _said(path, room)):
        source = Path(folder) / "source.tif"
        with rasterio.open(source, "w", **profile) as dataset:
            for index, band in enumerate(bands, start=1):
                for start in range(0, grid.height, STRIP_ROWS):
                    strip = np.asarray(band[start:start + STRIP_ROWS], dtype=np.float32)
                    dataset.write(strip, index, window=Window(0, start, grid.width, strip.shape[0]))
                    release()  # a band on disk (a large job's scratch stack): hand its pages back
            for index, name in enumerate(band_names, start=1):
                dataset.set_band_description(index, name)
            if tuple(band_names) == TRUE_COLOUR:  # else GDAL calls band 1 grey: QGIS's legend said "red (Gray)"
                dataset.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue]
            if tags:
                dataset.update_tags(**tags)
        with rasterio.open(source) as dataset:
            rasterio.shutil.copy(dataset, tmp, driver="COG", **COG_OPTIONS)
        free = free_bytes(path.absolute().parent)
        if free is not None and free < room:  # the disk may have filled up on the way: is the file whole?
            _read_back(tmp, source)
    return path


def _read_back(path: Path, source: Path) -> None:
    """Read every tile of the COG at ``path`` (each overview's too), its full resolution against ``source``'s
    nodata. When a write fails for want of room, GDAL's COG driver can end without an error (libtiff prints
    "_tiffWriteProc: No space left on device", GDAL warns "A strile cannot be rewritten in place") and a tile is
    cut or garbled (the report's reading it failed, naming the hidden staging folder), or missing (it reads as
    nodata). Only on a nearly full disk: it takes a third of the writing's time."""
    with rasterio.open(path) as written, rasterio.open(source) as wanted:
        levels = len(written.overviews(1))
        for start in range(0, written.height, STRIP_ROWS):
            window = Window(0, start, written.width, min(STRIP_ROWS, written.height - start))
            if np.count_nonzero(np.isnan(written.read(window=window))) != \
                    np.count_nonzero(np.isnan(wanted.read(window=window))):
                raise rasterio.errors.RasterioIOError("tiles missing from the file written")
    for level in range(levels):
        with rasterio.open(path, overview_level=level) as overview:
            for start in range(0, overview.height, STRIP_ROWS):
                overview.read(window=Window(0, start, overview.width, min(STRIP_ROWS, overview.height - start)))


def _check_room(path: Path, needed: int, room: int) -> None:
    largest = needed + needed // 3  # the source, or the COG with its overviews
    if beyond := beyond_size_limit(largest):
        raise OutputError(f"{path}: cannot write Cloud-Optimised GeoTIFF (it may take {largest} bytes, {beyond})")
    free = free_bytes(path.absolute().parent)
    if free is not None and free < needed:
        raise OutputError(f"{path}: cannot write Cloud-Optimised GeoTIFF (no space left on its device: {free} bytes "
                          f"free, it may need {room})")


@contextmanager
def _said(path: Path, room: int) -> Iterator[None]:
    """GDAL's errors writing ``path`` as an OutputError naming it; on a full disk (GDAL says "Write failed. See
    previous exception", "IO error writing tag data" or "Error fetching directory count"), as that: less room
    left, measured before the temporary files go, than the COG's copy may take (``room``)."""
    from rasterio._err import CPLE_BaseError  # what GDAL's own failures raise (not a RasterioError)

    try:
        yield
    except (rasterio.errors.RasterioError, CPLE_BaseError) as exc:
        from geo.disk import LOW_BYTES

        free, room = free_bytes(path.absolute().parent), max(LOW_BYTES, room)
        why = f"no space left on its device: {free} bytes free, it may need {room}" \
            if free is not None and free < room else exc
        raise OutputError(f"{path}: cannot write Cloud-Optimised GeoTIFF ({why})") from None


def true_colour(data: np.ndarray, bands: Sequence[str]) -> list[np.ndarray] | None:
    """Red, green and blue reflectance of a stack (views of its bands), or None when a band is missing."""
    if not all(b in bands for b in TRUE_COLOUR):
        return None
    return [data[list(bands).index(b)] for b in TRUE_COLOUR]


def sar_display(data: np.ndarray, bands: Sequence[str]) -> np.ndarray:
    """(3, rows, cols) grey picture of a SAR stack: its first (co-polarised, VV) band in dB on all three
    bands, so the report and QGIS show radar scenes as they show true colour."""
    with np.errstate(divide="ignore", invalid="ignore"):
        db = 10.0 * np.log10(np.where(data[0] > 0, data[0], np.nan))
    return np.stack([db, db, db])


def view_shape(shape: tuple[int, int], max_side: int) -> tuple[tuple[int, int], float]:
    """((rows, cols), scale) of a picture of a ``shape`` grid whose longer side is at most ``max_side``."""
    rows, cols = shape
    scale = min(1.0, max_side / max(rows, cols))
    if scale >= 1.0:
        return shape, 1.0
    return (max(1, round(rows * scale)), max(1, round(cols * scale))), scale


def read_view(path: Path, max_side: int) -> tuple[np.ndarray, Grid, float]:
    """A run's COG back as float32 (bands, rows, cols) with NaN for nodata, averaged down so its longer side
    is at most ``max_side`` (read from its overviews: a large grid is never read whole); with its full
    grid and the scale (1: the pixels themselves)."""
    with open_raster(str(path)) as src:
        grid = Grid(src.crs, src.transform, (src.height, src.width))
        (rows, cols), scale = view_shape(grid.shape, max_side)
        if scale >= 1.0:
            return _read_nan(src), grid, scale
        return _read_nan(src, out_shape=(src.count, rows, cols), resampling=Resampling.average), grid, scale


def read_window(path: Path, window: Sequence[int], max_side: int | None = None) -> np.ndarray:
    """The (row, col, rows, cols) ``window`` of a run's COG at full resolution, as ``read_view`` gives it; with
    ``max_side``, averaged down (from the overviews) so its longer side is at most that."""
    row, col, rows, cols = window
    (out_rows, out_cols), scale = view_shape((rows, cols), max_side) if max_side else ((rows, cols), 1.0)
    with open_raster(str(path)) as src:
        if scale >= 1.0:
            return _read_nan(src, window=Window(col, row, cols, rows))
        return _read_nan(src, window=Window(col, row, cols, rows), out_shape=(src.count, out_rows, out_cols),
                         resampling=Resampling.average)


def _read_nan(src: DatasetReader, **how: Any) -> np.ndarray:
    """All bands as float32, NaN where nodata. A run's COGs have NaN for nodata (``write_cog``): their values
    are read as they are, NaN included (GDAL's average leaves nodata out either way), not with the mask band
    read and resampled beside them (the same array, a third of the time); another nodata goes through the mask."""
    if src.nodata is not None and np.isnan(src.nodata):
        plain: np.ndarray = src.read(**how).astype(np.float32, copy=False)
        return plain
    values: np.ndarray = src.read(masked=True, **how).astype(np.float32).filled(np.nan)
    return values


def is_cog(path: Path) -> bool:
    """True when GDAL reports the file's layout as COG (what its COG driver writes)."""
    try:
        with rasterio.open(path) as src:
            return bool(src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG")
    except rasterio.errors.RasterioError as exc:
        raise RasterError(f"{path}: cannot read raster ({exc})") from None
