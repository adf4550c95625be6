"""The six development ports of sen2ships (real Sentinel-2 L2A, expert ship masks) in ../shared/data:
read as the vessel detectors' reflectance bands on their own grid, with the labelled ships.

Used by ``benchmarks/vessels.py`` (the real-data table) and by the land-model tests (small crops cut at
test time). The rasters are EPSG:3857, so a grid metre is 1/cos(latitude) ground metres; ``ground_m``
converts lengths for the size classes.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from pyproj import Transformer

from geo.grid import Grid
from geo.paths import shared_data

PORTS = ("algiers", "busan", "durban", "genoa", "klang", "valencia")
BANDS = {"B02": "blue", "B03": "green", "B04": "red", "B08": "nir", "B11": "swir16"}
SCALE = 1.0 / 65535.0  # the "Raw" exports: reflectance x 65535


def data_root() -> Path:
    """The shared data's sen2ships/ (``GEO_SEN2SHIPS`` overrides), found as every other shared set is
    (``$GEO_SHARED_DATA``, or ``shared/data`` above the checkout): a checkout elsewhere, given
    ``GEO_SHARED_DATA``, found no ports and ``benchmarks/vessels.py`` skipped its real table."""
    return Path(os.environ.get("GEO_SEN2SHIPS") or shared_data() / "sen2ships")


@dataclass(frozen=True)
class Port:
    name: str
    date: str
    grid: Grid
    bands: dict[str, np.ndarray]  # reflectance, float32
    ships: np.ndarray  # int32 label image: 0 water/land, k = the k-th labelled ship (1-based)
    lat: float

    @property
    def ground_m(self) -> float:
        """Ground metres per grid metre (Web Mercator stretches by 1/cos(lat))."""
        return math.cos(math.radians(self.lat))

    @property
    def n_ships(self) -> int:
        return int(self.ships.max())

    def crop(self, rows: slice, cols: slice) -> Port:
        t = self.grid.transform @ Affine.translation(cols.start, rows.start)
        ships = self.ships[rows, cols]
        grid = Grid(self.grid.crs, t, ships.shape)
        return Port(self.name, self.date, grid, {k: v[rows, cols].copy() for k, v in self.bands.items()},
                    ships.copy(), self.lat)


def _rle_mask(counts: list[int], shape: tuple[int, int]) -> np.ndarray:
    """COCO uncompressed RLE (column-major, alternating background/foreground runs) -> bool mask."""
    flat = np.zeros(shape[0] * shape[1], bool)
    position = 0
    for i, run in enumerate(counts):
        if i % 2:
            flat[position:position + run] = True
        position += run
    return flat.reshape(shape[1], shape[0]).T


def load_port(name: str, root: Path | None = None) -> Port:
    folder = (root or data_root()) / name
    bands: dict[str, np.ndarray] = {}
    grid = None
    date = ""
    for code, band in BANDS.items():
        path = next(folder.glob(f"*_{code}_*.tif*"))
        date = path.name[:10]
        with rasterio.open(path) as src:
            bands[band] = src.read(1).astype(np.float32) * SCALE
            grid = Grid(src.crs, src.transform, (src.height, src.width))
    assert grid is not None
    coco = json.loads(next(folder.glob("*_coco.json")).read_text())
    ships = np.zeros(grid.shape, np.int32)
    for k, annotation in enumerate(coco["annotations"], start=1):
        ships[_rle_mask(annotation["segmentation"]["counts"], grid.shape) & (ships == 0)] = k
    x, y = grid.transform @ (grid.width / 2, grid.height / 2)
    lat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True).transform(x, y)[1]
    return Port(name, date, grid, bands, ships, float(lat))


def available(root: Path | None = None) -> bool:
    folder = root or data_root()
    return all((folder / p).is_dir() for p in PORTS)


def ports_or_exit() -> list[Port]:
    """The six development ports, for a benchmark's command line: it stops naming the folder when they are absent."""
    if not available():
        raise SystemExit(f"error: no sen2ships ports in {data_root()} (the shared data's sen2ships: shared/data beside "
                         "or above the checkout, or $GEO_SHARED_DATA); set $GEO_SHARED_DATA, or $GEO_SEN2SHIPS to the ports' folder")
    return [load_port(name) for name in PORTS]
