"""The report's pictures of a large run: a view averaged down to at most 1,000 px (read from the COGs'
overviews) and chips read at full resolution around each change; the true-colour COGs are never read
whole (they were: two float32 copies of three bands, and their masked copies, for the whole grid)."""

from __future__ import annotations

import base64
import dataclasses
import io
import tracemalloc

import numpy as np
import pytest
from affine import Affine
from PIL import Image
from rasterio.crs import CRS
from shapely.geometry import box

from geo.geometry import WGS84, reproject
from geo.grid import Grid
from geo.outputs.cog import read_view, read_window, write_cog
from geo.outputs.render import display_stretch, to_rgb8
from geo.outputs.report_views import CHIP_MAX_SIDE, VIEW_MAX_SIDE, build_pictures
from geo.outputs.run_data import AFTER_RGB, BEFORE_RGB, RunData
from geo.vector.feature import ChangeFeature

SHAPE = (2400, 2000)
GRID = Grid(CRS.from_epsg(32630), Affine(10, 0, 500000, 0, -10, 5000000), SHAPE)


def true_colour(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rgb = (rng.random((3, *SHAPE), dtype=np.float32) * 0.3).astype(np.float32)
    rgb[:, 100:160, 300:420] = np.nan  # no data
    return rgb


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("large-run")
    images = {BEFORE_RGB: true_colour(1), AFTER_RGB: true_colour(2)}
    for name, rgb in images.items():
        write_cog(folder / name, rgb, GRID, ["red", "green", "blue"])
    return folder, images


def lonlat(col0: int, row0: int, col1: int, row1: int):
    (x0, y0), (x1, y1) = GRID.transform @ (col0, row1), GRID.transform @ (col1, row0)
    return reproject(box(x0, y0, x1, y1), GRID.crs.to_string(), WGS84)


def png_pixels(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB"))


def feature(geometry) -> ChangeFeature:
    return ChangeFeature(geometry, "c1", "aoi", "b", "a", "2020-01-01", "2021-01-01", 900.0, 3.0, 0.8,
                         "new_building", 0.9, 9, "test")


def test_a_large_cog_is_read_averaged_down_and_windows_at_full_resolution(run_folder):
    folder, images = run_folder
    full = images[BEFORE_RGB]
    view, grid, scale = read_view(folder / BEFORE_RGB, VIEW_MAX_SIDE)
    assert grid == GRID and scale == pytest.approx(1000 / 2400)
    assert view.shape == (3, 1000, 833) and view.dtype == np.float32
    # each view pixel averages ~2.4 x 2.4 full pixels: uniform noise of mean 0.15 comes out near 0.15
    assert abs(float(np.nanmean(view)) - 0.15) < 0.002 and float(np.nanstd(view)) < 0.5 * float(np.nanstd(full))
    assert np.isnan(view[:, 45:65, 130:170]).all()  # the no-data patch stays no data
    chip = read_window(folder / BEFORE_RGB, (90, 290, 40, 50))
    assert np.array_equal(chip, full[:, 90:130, 290:340], equal_nan=True)


def test_a_small_cog_is_read_as_it_is(tmp_path):
    grid = Grid(GRID.crs, GRID.transform, (300, 200))
    rgb = true_colour(3)[:, :300, :200]
    write_cog(tmp_path / "rgb.tif", rgb, grid)
    view, _, scale = read_view(tmp_path / "rgb.tif", VIEW_MAX_SIDE)
    assert scale == 1.0 and np.array_equal(view, rgb, equal_nan=True)


@pytest.mark.parametrize("side", [1000, 700, 333, 128, 5000])
def test_a_view_is_the_masked_read_of_before(tmp_path, side):
    """A run's COGs (NaN for nodata) are read plain, without GDAL's mask band beside them: the view and chips
    are what a masked read filled with NaN gives, no-data patches, scattered no-data and a band's own alike."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.windows import Window

    rng = np.random.default_rng(side)
    rgb = true_colour(4)[:, :1500, :1100]
    rgb[:, rng.random(rgb.shape[1:]) < 0.3] = np.nan
    rgb[1, rng.random(rgb.shape[1:]) < 0.2] = np.nan
    rgb[:, :200] = np.nan
    grid = Grid(GRID.crs, GRID.transform, rgb.shape[1:])
    write_cog(tmp_path / "rgb.tif", rgb, grid, ["red", "green", "blue"])
    view, _, scale = read_view(tmp_path / "rgb.tif", side)
    with rasterio.open(tmp_path / "rgb.tif") as src:
        shape = (3, *view.shape[1:])
        how = {} if scale >= 1.0 else {"out_shape": shape, "resampling": Resampling.average}
        masked = src.read(masked=True, **how).astype(np.float32).filled(np.nan)
        window = src.read(masked=True, window=Window(150, 180, 90, 60)).astype(np.float32).filled(np.nan)
    assert view.dtype == np.float32 and np.isnan(view).any() and np.array_equal(view, masked, equal_nan=True)
    assert np.array_equal(read_window(tmp_path / "rgb.tif", (180, 150, 60, 90)), window, equal_nan=True)


def test_a_raster_with_another_nodata_is_still_read_masked(tmp_path):
    import rasterio

    values = np.arange(40 * 30, dtype=np.float32).reshape(1, 40, 30)
    values[0, :5] = -9999
    grid = Grid(GRID.crs, GRID.transform, (40, 30))
    with rasterio.open(tmp_path / "other.tif", "w", driver="GTiff", count=1, dtype="float32", width=30, height=40,
                       crs=grid.crs, transform=grid.transform, nodata=-9999) as dst:
        dst.write(values)
    view, _, _ = read_view(tmp_path / "other.tif", VIEW_MAX_SIDE)
    assert np.isnan(view[0, :5]).all() and np.array_equal(view[0, 5:], values[0, 5:])
    assert np.isnan(read_window(tmp_path / "other.tif", (0, 0, 8, 8))[0, :5]).all()


def test_report_pictures_of_a_large_run_never_hold_the_whole_rasters(run_folder):
    folder, images = run_folder
    aoi = lonlat(0, 0, SHAPE[1], SHAPE[0])
    change = feature(lonlat(1500, 2000, 1504, 2004))  # centred on pixel corner (1502, 2002)
    run = RunData(folder, {"id": "aoi"}, aoi, [change], [], {})
    tracemalloc.start()
    try:
        pictures = build_pictures(run)
        chips = pictures.chips([change])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    whole = 2 * images[BEFORE_RGB].nbytes  # both dates' three bands, float32, read once (110 MiB)
    # what is held is a few copies of the 1000 x 833 view (10 MiB each), however large the grid
    assert peak < whole / 2, f"peak {peak / 2**20:.0f} MiB of Python allocations; whole rasters {whole / 2**20:.0f} MiB"
    assert (pictures.width, pictures.height) == (833, 1000)
    # the chip is the full-resolution pixels around the change, stretched as the view is
    (chip,) = chips
    assert chip.size == 40
    view = read_view(folder / AFTER_RGB, VIEW_MAX_SIDE)[0]
    changed = np.zeros(view.shape[1:], bool)
    changed[833:835, 625:627] = True  # the view pixels the 4 x 4 px change touches: x 1000 / 2400, 625-626.7, 833.3-835
    stretch = display_stretch(view, changed)
    assert pictures.stretch["after"] == [list(s) for s in stretch]
    expected = to_rgb8(images[AFTER_RGB][:, 1982:2022, 1482:1522], stretch)
    assert np.array_equal(png_pixels(chip.after_uri), expected)


def test_the_report_stretches_both_dates_on_the_ground_outside_the_changes(tmp_path):
    """A new bright tract over a third of the view: the after picture was stretched on it and the unchanged
    fields showed a third darker than before; now both dates' stretches come from the ground outside it."""
    grid = Grid(GRID.crs, GRID.transform, (300, 240))
    before = true_colour(4)[:, :300, :240]
    after = before.copy()
    after[:, :, :80] = 0.5
    for name, rgb in ((BEFORE_RGB, before), (AFTER_RGB, after)):
        write_cog(tmp_path / name, rgb, grid, ["red", "green", "blue"])
    change = feature(lonlat(0, 0, 80, 300))
    run = RunData(tmp_path, {"id": "aoi"}, lonlat(0, 0, 240, 300), [change], [], {})
    pictures = build_pictures(run)
    assert pictures.stretch["after"] == pictures.stretch["before"]  # the same ground, the same stretch
    high = pictures.stretch["after"][0][1]
    assert 0.28 < high < 0.3  # the fields' 98th percentile (uniform 0-0.3), not the tract's 0.5
    ground_after = png_pixels(pictures.after_uri)[:, 90:].astype(float)
    ground_before = png_pixels(pictures.before_uri)[:, 90:].astype(float)
    assert abs(ground_after.mean() - ground_before.mean()) < 1.0  # JPEG's error, not a darker date


def test_the_chip_of_a_change_kilometres_wide_is_averaged_down_to_a_bounded_picture(run_folder):
    """A flood or a harvested tract 15 km across in a wide area: its chips were read at full resolution, 1.5 times
    the change's extent (here the whole 2,400 px grid, 2 x 12 MiB PNGs in the report, the rasters read whole);
    now they are averaged down to at most CHIP_MAX_SIDE px a side, outline, scale bar and width alike."""
    folder, images = run_folder
    aoi = lonlat(0, 0, SHAPE[1], SHAPE[0])
    small, large = feature(lonlat(1500, 2000, 1504, 2004)), feature(lonlat(200, 300, 1700, 1900))
    large = dataclasses.replace(large, change_id="c2")
    pictures = build_pictures(RunData(folder, {"id": "aoi"}, aoi, [small, large], [], {}))
    tracemalloc.start()
    try:
        small_chip, large_chip = pictures.chips([small, large])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert small_chip.size == 40 and png_pixels(small_chip.after_uri).shape == (40, 40, 3)  # full resolution
    assert large_chip.size <= CHIP_MAX_SIDE
    for uri in (large_chip.before_uri, large_chip.after_uri):
        assert png_pixels(uri).shape == (large_chip.size, large_chip.size, 3)
        assert len(uri) < 4 * len(small_chip.after_uri) * (CHIP_MAX_SIDE / 40) ** 2  # bytes bound by the side
    assert peak < images[BEFORE_RGB].nbytes / 4  # the window is read averaged down, not whole then shrunk
    # the outline is drawn in the averaged chip's pixels: the change's corners inside its viewBox
    xs = [float(p.split(",")[0].lstrip("MLZ ")) for p in large_chip.path.replace(" Z", "").split(" L")]
    assert 0 <= min(xs) and max(xs) <= large_chip.size
    assert max(xs) - min(xs) == pytest.approx(1500 * large_chip.size / 2000, rel=0.02)  # 1,500 of 2,000 px across
    assert large_chip.furniture.width_m == pytest.approx(20_000, rel=0.01)  # the ground it shows: 2,000 px of 10 m
