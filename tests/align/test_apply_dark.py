"""``--apply`` on an integer image whose valid pixels reach down to just above its nodata value (an 8-bit image,
nodata 0, dark at 1 beside bright pixels): the cubic B-spline undershoots at a sharp edge and rounding put
those valid pixels on 0, read as nodata afterwards (9120 of 36100 here before)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS

from geo.align.resample import translation, write_warped
from geo.grid import Grid


def test_dark_valid_pixels_of_an_8_bit_image_stay_valid(tmp_path: Path) -> None:
    image = np.ones((200, 200), "uint8")
    image[:, ::4] = image[:, 1::4] = 255  # stripes two pixels wide: dark at 1, bright at 255
    transform = Affine(10, 0, 500000, 0, -10, 5000000)
    with rasterio.open(tmp_path / "tgt.tif", "w", driver="GTiff", width=200, height=200, count=1, dtype="uint8",
                       crs="EPSG:32633", transform=transform, nodata=0) as dst:
        dst.write(image, 1)
    write_warped(str(tmp_path / "tgt.tif"), Grid(CRS.from_epsg(32633), transform, (200, 200)),
                 translation(0.37, 0.0), str(tmp_path / "out.tif"))
    with rasterio.open(tmp_path / "out.tif") as out:
        inner = out.read(1)[5:-5, 5:-5]
        assert out.nodata == 0
    assert (inner == 0).sum() == 0
    assert (inner == 1).sum() > 5000  # the dark stripes moved off 0 stay dark
