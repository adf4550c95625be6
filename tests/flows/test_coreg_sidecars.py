"""``geo coreg`` on an 8-bit PNG georeferenced as GIS software leaves one: a world file (``.wld``) for the grid
and ``.aux.xml`` for its CRS. GDAL found neither while ``geo`` told it not to list the folder (meant for remote
files), so the PNG was refused as having no CRS; a world file alone is refused saying what to do."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.windows import Window

from tests.conftest import SHARED_DATA

REF_JP2 = SHARED_DATA / "coreg-pair" / "ref_S2A_20160608T153121_T33UUU_sub.jp2"
pytestmark = pytest.mark.skipif(not REF_JP2.exists(), reason="../shared/data not present")


def _files(home: Path) -> None:
    """ref.tif (uint16 GeoTIFF) and "target 8bit.png": the same real pixels scaled to 8 bits, georeferenced
    3.7 m east and 2.4 m north of them (a shift of +0.37, -0.24 px) by its world file, its CRS in .aux.xml."""
    with rasterio.open(REF_JP2) as src:
        block = src.read(1, window=Window(400, 800, 800, 800))
        transform, crs = src.window_transform(Window(400, 800, 800, 800)), src.crs
    with rasterio.open(home / "ref.tif", "w", driver="GTiff", width=500, height=500, count=1, dtype="uint16",
                       crs=crs, transform=transform @ Affine.translation(150, 150)) as dst:
        dst.write(block[150:650, 150:650], 1)
    grey = np.clip(block / np.percentile(block, 99.5) * 254 + 1, 1, 255).astype("uint8")
    with rasterio.open(home / "target 8bit.png", "w", driver="PNG", width=800, height=800, count=1,
                       dtype="uint8", crs=crs, transform=Affine.translation(3.7, 2.4) @ transform,
                       WORLDFILE="YES") as dst:
        dst.write(grey, 1)
    assert (home / "target 8bit.wld").exists() and (home / "target 8bit.png.aux.xml").exists()


def test_a_png_with_world_file_and_aux_xml_is_measured_and_applied(user):
    _files(user.home)
    result = user("coreg", "ref.tif", "target 8bit.png", "--json", "--apply", "fixed.tif")
    assert result.returncode == 0, result.output
    shift = json.loads(result.stdout)
    assert abs(shift["dx_px"] - 0.37) < 0.02 and abs(shift["dy_px"] + 0.24) < 0.02, shift
    with rasterio.open(user.home / "fixed.tif") as out, rasterio.open(user.home / "ref.tif") as ref:
        assert (out.crs, out.transform, out.shape, out.dtypes[0]) == (ref.crs, ref.transform, ref.shape, "uint8")


def test_a_world_file_alone_is_refused_saying_how_to_give_a_crs(user):
    _files(user.home)
    (user.home / "target 8bit.png.aux.xml").unlink()
    result = user("coreg", "ref.tif", "target 8bit.png", "--apply", "fixed.tif")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: target 8bit.png: raster has a geotransform but no CRS (a world file alone?); give it one: "
        "gdal_translate -a_srs EPSG:CODE 'target 8bit.png' georeferenced.tif")
    assert sorted(p.name for p in user.home.iterdir()) == ["ref.tif", "target 8bit.png", "target 8bit.wld"]
