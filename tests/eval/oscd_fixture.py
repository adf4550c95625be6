"""A small OSCD-like city written by code, with the real dataset's layout and quirks: one GeoTIFF per
band in EPSG:4326, 10/20/60 m bands on different grids, uint16 DN, imgs_2 a few pixels smaller and shifted
by a known sub-pixel amount, cm.tif with 1 = no change / 2 = change and no georeference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from affine import Affine

from tests.change.scenes import seasonal_pair
from tests.synthetic import fourier_shift

PIXEL_DEG = 9.0e-5  # ~10 m
ORIGIN = (2.30, 48.87)  # lon, lat of the top-left corner
BAND_RES = {"B02": 1, "B03": 1, "B04": 1, "B08": 1, "B11": 2, "B12": 2, "B10": 6}  # in 10 m pixels
STACK_INDEX = {"B02": 0, "B03": 1, "B04": 2, "B08": 3, "B11": 4, "B12": 5}


def _block_mean(image: np.ndarray, factor: int) -> np.ndarray:
    rows, cols = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    return image[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor).mean(axis=(1, 3))


def _write(path: Path, values: np.ndarray, factor: int) -> None:
    transform = Affine(PIXEL_DEG * factor, 0, ORIGIN[0], 0, -PIXEL_DEG * factor, ORIGIN[1])
    dn = np.clip(np.round(values * 10000), 1, 65535).astype(np.uint16)
    with rasterio.open(path, "w", driver="GTiff", width=dn.shape[1], height=dn.shape[0], count=1, dtype="uint16",
                       crs="EPSG:4326", transform=transform) as dst:
        dst.write(dn, 1)


def write_city(
    root: Path, name: str = "testcity", shape: tuple[int, int] = (192, 192), shift: tuple[float, float] = (0.4, -0.3),
    crop_px: int = 3, cloud: tuple[int, int, int, int] | None = None, labels: np.ndarray | None = None,
) -> tuple[Path, np.ndarray]:
    """Write ``root/name`` and return (folder, truth mask). ``cloud`` = (row, col, height, width) of a
    thick cloud in the second date (bright in every band and in the cirrus band)."""
    pair = seasonal_pair(shape, roofs=((30, 30, 16, 24), (110, 60, 10, 10), (70, 140, 20, 18)), seed=9)
    folder = root / name
    for sub in ("imgs_1", "imgs_2"):
        (folder / sub).mkdir(parents=True)
    after = np.stack([fourier_shift(band, *shift) for band in pair.after])
    cirrus = [np.full(shape, 0.001), np.full(shape, 0.001)]
    if cloud is not None:
        r, c, h, w = cloud
        after[:, r:r + h, c:c + w] = 0.35
        cirrus[1][r:r + h, c:c + w] = 0.006
    for index, (sub, stack, prefix) in enumerate((("imgs_1", pair.before, "S2A_OPER_MSI_L1C_TL_TEST_"),
                                                  ("imgs_2", after, "T31UDQ_20170829T105021_"))):
        for band, factor in BAND_RES.items():
            values = cirrus[index] if band == "B10" else stack[STACK_INDEX[band]]
            values = _block_mean(values, factor) if factor > 1 else values
            if sub == "imgs_2" and crop_px:  # the dataset's quirk: some second-date bands are smaller
                values = values[: values.shape[0] - max(1, crop_px // factor), : values.shape[1] - max(1, crop_px // factor)]
            _write(folder / sub / f"{prefix}{band}.tif", values, factor)
    (folder / "dates.txt").write_text("date_1: 20161130\ndate_2: 20170829\n")
    values = np.where(pair.truth, 2, 1).astype(np.uint8) if labels is None else labels.astype(np.uint8)
    with rasterio.open(folder / "cm.tif", "w", driver="GTiff", width=values.shape[1], height=values.shape[0],
                       count=1, dtype="uint8") as dst:
        dst.write(values, 1)
    return folder, pair.truth
