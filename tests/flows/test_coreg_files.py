"""``geo coreg`` as a user gives it files: rasters in lon/lat (EPSG:4326), as the OSCD crops and the demo scenes are
stored, whose shift in metres is metres on the ground (not degrees rounded to 0.000 and labelled metres); two
crops overlapping on a strip too narrow to measure, named in the message."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Geod

from rasterio.windows import Window

from tests.align.fields import texture
from tests.conftest import REPO
from tests.synthetic import fourier_shift

# ~8.5 m x 12.5 m pixels at 47.2 N, like the demo's red.tif
STEP_LON, STEP_LAT, WEST, NORTH = 0.000112, 0.000112, -1.58, 47.234
SIZE = 400
DX_PX, DY_PX = 1.3, -0.8


def write_lonlat(path, array) -> str:
    with rasterio.open(path, "w", driver="GTiff", width=SIZE, height=SIZE, count=1, dtype="uint16",
                       crs="EPSG:4326", transform=Affine(STEP_LON, 0, WEST, 0, -STEP_LAT, NORTH), nodata=0) as dst:
        dst.write(np.clip(np.rint(array), 1, 65535).astype(np.uint16), 1)
    return str(path)


def test_a_lon_lat_pair_shift_is_given_in_ground_metres(user):
    scene = 1500 + 4000 * texture((SIZE + 40, SIZE + 40), seed=5)
    write_lonlat(user.home / "before.tif", scene[20:-20, 20:-20])
    write_lonlat(user.home / "after.tif", fourier_shift(scene, DX_PX, DY_PX)[20:-20, 20:-20])
    result = user("coreg", "before.tif", "after.tif", "--json")
    assert result.returncode == 0, result.output
    shift = json.loads(result.stdout)
    assert (shift["dx_px"], shift["dy_px"]) == pytest.approx((DX_PX, DY_PX), abs=0.05)
    # A pixel's ground size at the raster's centre, measured on the ellipsoid
    geod, lat = Geod(ellps="WGS84"), NORTH - STEP_LAT * SIZE / 2
    width_m = geod.inv(-1.56, lat, -1.56 + STEP_LON, lat)[2]
    height_m = geod.inv(-1.56, lat, -1.56, lat + STEP_LAT)[2]
    assert (width_m, height_m) == pytest.approx((8.5, 12.45), abs=0.05)
    # east and north positive: the after scene's features lie east (+dx) and north (-dy rows) of the before's
    assert shift["dx_m"] == pytest.approx(shift["dx_px"] * width_m, rel=0.01)
    assert shift["dy_m"] == pytest.approx(-shift["dy_px"] * height_m, rel=0.01)
    assert shift["dx_m"] > 10 and shift["dy_m"] > 9

    local = user("coreg", "before.tif", "after.tif", "--local", "--window", "96", "--spacing", "96", "--json")
    assert local.returncode == 0, local.output
    model = json.loads(local.stdout)["local"]
    assert model["mean_dx_m"] == pytest.approx(model["mean_dx_px"] * width_m, rel=0.01)
    assert model["mean_dy_m"] == pytest.approx(-model["mean_dy_px"] * height_m, rel=0.01)

    text = user("coreg", "before.tif", "after.tif")
    assert text.returncode == 0, text.output
    assert f"({shift['dx_m']:+.3f} m)" in text.stdout and "0.000 m" not in text.stdout


def test_a_strip_of_overlap_too_narrow_to_measure_names_both_files(user):
    """The demo's red band cut into a west and an east part overlapping on 10 columns."""
    with rasterio.open(REPO / "scenes" / "demo" / "S2_30TXT_20171014_L1C_nantes" / "red.tif") as src:
        for name, window in (("west.tif", Window(0, 0, 300, src.height)),
                             ("east.tif", Window(290, 0, src.width - 290, src.height))):
            profile = {**src.profile, "width": window.width, "height": window.height,
                       "transform": src.window_transform(window)}
            with rasterio.open(user.home / name, "w", **profile) as dst:
                dst.write(src.read(window=window))
    for extra in ((), ("--local", "--strict")):
        result = user("coreg", "west.tif", "east.tif", *extra)
        assert result.returncode == 1, result.output
        # it said "no 32-px window of the overlap has enough valid, textured pixels in both images (5220 usable
        # pixels ...)", as if the pixels were at fault, not the files' placing
        assert result.stderr.strip() == (
            "Error: west.tif and east.tif: the images overlap with valid pixels on only 10 x 522 px (columns x rows): "
            "too narrow for a 32-px measuring window")
        assert result.stdout == ""


def test_a_local_model_that_falls_back_is_warned_of_once(user):
    """A 20 m copy of the demo's red band as REF, the other date's 10 m band as TGT: 2 x 2 tie points, too few
    for the local model, so the global shift is used with a warning. It was printed twice, on stdout as part of
    the result and on stderr by the log, two identical lines in a terminal."""
    demo = REPO / "scenes" / "demo"
    with rasterio.open(demo / "S2_30TXT_20171014_L1C_nantes" / "red.tif") as src:
        coarse = src.read(1, out_shape=(src.height // 2, src.width // 2), resampling=rasterio.enums.Resampling.average)
        profile = {**src.profile, "width": src.width // 2, "height": src.height // 2,
                   "transform": src.transform @ Affine.scale(2)}
    with rasterio.open(user.home / "red20.tif", "w", **profile) as dst:
        dst.write(coarse, 1)
    result = user("coreg", "red20.tif", str(demo / "S2A_30TXT_20150821_L1C_nantes" / "red.tif"), "--local")
    assert result.returncode == 0, result.output
    assert result.stdout.startswith("global: dx = ")
    both = (result.stdout + result.stderr).splitlines()
    fell_back = [line for line in both if line.startswith("warning: local model not used")]
    assert len(fell_back) == 1 and "only 4 reliable tie points of 4 (need 8)" in fell_back[0], result.output
