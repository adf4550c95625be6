"""Small real Sentinel-2 images (100-250 px) with exact known sub-pixel shifts: the size of a 1.5-2.5 km AOI
at 10 m, or a city at 40 m. Cut from the shared data (OSCD cities, the co-registration pair's REF); the
target is the same image moved by a Fourier shift of its symmetric extension (exact for the band-limited
image), so the truth is known to machine precision."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.windows import Window

MARGIN = 8  # px cut from each side after shifting: the shifted border has no counterpart in REF


@dataclass(frozen=True)
class Crop:
    name: str
    path: str  # relative to the shared data folder
    window: tuple[int, int, int, int]  # (row, col, rows, cols) at the file's resolution; rows 0 = whole file
    band: str  # OSCD band file (the coreg-pair REF has one band)
    factor: int  # block-average by this much (40 m from 10 m: a coarse look at a whole city)
    shift: tuple[float, float]  # (dx, dy) px at the crop's resolution
    pixel_m: float



CROPS = [  # names say the size in px: REF is the crop minus MARGIN on each side
    Crop("aguasclaras-40m-B04", "oscd/aguasclaras", (0, 0, 0, 0), "B04", 4, (1.372, -2.418), 40.0),
    Crop("bercy-40m-B04", "oscd/bercy", (0, 0, 0, 0), "B04", 4, (-0.645, 0.283), 40.0),
    Crop("bordeaux-40m-B04", "oscd/bordeaux", (0, 0, 0, 0), "B04", 4, (2.716, 1.139), 40.0),
    Crop("nantes-40m-B04", "oscd/nantes", (0, 0, 0, 0), "B04", 4, (-1.864, -0.552), 40.0),
    Crop("paris-40m-B04", "oscd/paris", (0, 0, 0, 0), "B04", 4, (0.418, 2.951), 40.0),
    Crop("pisa-40m-B04", "oscd/pisa", (0, 0, 0, 0), "B04", 4, (-2.287, 1.764), 40.0),
    Crop("rennes-40m-B04", "oscd/rennes", (0, 0, 0, 0), "B04", 4, (0.933, -1.077), 40.0),
    Crop("nantes-40m-B02", "oscd/nantes", (0, 0, 0, 0), "B02", 4, (1.148, 2.067), 40.0),
    Crop("paris-40m-B02", "oscd/paris", (0, 0, 0, 0), "B02", 4, (-2.562, -0.309), 40.0),
    Crop("paris-10m-B04-151x191", "oscd/paris", (120, 100, 151, 191), "B04", 1, (-0.371, -1.629), 10.0),
    Crop("pisa-10m-B04-206x266", "oscd/pisa", (300, 250, 206, 266), "B04", 1, (1.554, 0.812), 10.0),
    Crop("bordeaux-10m-B04-116x136", "oscd/bordeaux", (200, 160, 116, 136), "B04", 1, (-2.741, 2.205), 10.0),
    Crop("coreg-pair-10m-151x191", "coreg-pair/ref_S2A_20160608T153121_T33UUU_sub.jp2", (1400, 1200, 151, 191), "", 1,
         (0.627, -0.934), 10.0),
    Crop("coreg-pair-10m-206x266", "coreg-pair/ref_S2A_20160608T153121_T33UUU_sub.jp2", (600, 1500, 206, 266), "", 1,
         (-1.183, 2.476), 10.0),
]
# a 512 px pair (the start-up benchmark's): no more pixels than ``geo coreg``'s windowed path would read in
# windows, so it is read and measured whole
COREG_PAIR_512 = Crop("coreg-pair-10m-512", "coreg-pair/ref_S2A_20160608T153121_T33UUU_sub.jp2", (900, 700, 528, 528),
                      "", 1, (0.431, -1.274), 10.0)
# a 768 px pair: large enough for the windowed path (an overview, then chosen windows read)
COREG_PAIR_768 = Crop("coreg-pair-10m-768", "coreg-pair/ref_S2A_20160608T153121_T33UUU_sub.jp2", (900, 700, 784, 784),
                      "", 1, (-0.617, 1.352), 10.0)


def fourier_shift(image: np.ndarray, dx: float, dy: float, pad: int = 64) -> np.ndarray:
    """``image`` moved by (dx, dy): the feature at (c, r) goes to (c + dx, r + dy). Symmetric padding
    makes the periodic extension continuous, so the kept interior is the exact band-limited shift."""
    padded = np.pad(image, pad, mode="symmetric")
    ky = np.fft.fftfreq(padded.shape[0])[:, None]
    kx = np.fft.fftfreq(padded.shape[1])[None, :]
    moved = np.real(np.fft.ifft2(np.fft.fft2(padded) * np.exp(-2j * np.pi * (kx * dx + ky * dy))))
    out: np.ndarray = moved[pad:-pad, pad:-pad]
    return out


def read_crop(data: Path, crop: Crop) -> np.ndarray:
    """The crop's image (float), block-averaged by its factor."""
    path = data / crop.path
    if path.is_dir():
        path = next((path / "imgs_1").glob(f"*_{crop.band}.tif"))
    with rasterio.open(path) as src:
        row, col, rows, cols = crop.window
        window = Window(col, row, cols, rows) if rows else None
        image = src.read(1, window=window).astype(float)
    f = crop.factor
    h, w = image.shape[0] // f * f, image.shape[1] // f * f
    averaged: np.ndarray = image[:h, :w].reshape(h // f, f, w // f, f).mean(axis=(1, 3))
    return averaged


def shifted_pair(data: Path, crop: Crop) -> tuple[np.ndarray, np.ndarray]:
    """(REF, TGT): TGT is REF moved by the crop's known shift."""
    image = read_crop(data, crop)
    m = np.s_[MARGIN:-MARGIN, MARGIN:-MARGIN]
    return image[m], fourier_shift(image, *crop.shift)[m]


def pairs(data: Path) -> Iterator[tuple[Crop, np.ndarray, np.ndarray]]:
    for crop in CROPS:
        yield (crop, *shifted_pair(data, crop))


def write_pair(folder: Path, data: Path, crop: Crop) -> None:
    """The crop's pair as ``ref.tif`` and ``tgt.tif`` (float32 GeoTIFFs on one UTM grid) in ``folder``."""
    ref, tgt = shifted_pair(data, crop)
    transform = Affine(crop.pixel_m, 0, 500000, 0, -crop.pixel_m, 5000000)
    for name, image in (("ref.tif", ref), ("tgt.tif", tgt)):
        with rasterio.open(folder / name, "w", driver="GTiff", width=image.shape[1], height=image.shape[0],
                           count=1, dtype="float32", crs="EPSG:32630", transform=transform) as dst:
            dst.write(image.astype(np.float32), 1)
