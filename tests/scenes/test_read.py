"""Windowed reads of remote COGs over the loopback archive: only the window's tiles travel, overviews serve
coarse grids, clouds are masked from SCL, reflectance is right on both sides of the baseline-04.00 break,
and Sentinel-1 VV/VH (RTC power or GRD DN, signed Planetary-Computer-style URLs) land on the same grid."""

from __future__ import annotations

import numpy as np
import pystac
import pytest
import rasterio
from rasterio.enums import Resampling
from shapely.geometry import box, mapping

from geo.errors import RasterError
from geo.geometry import WGS84, reproject
from geo.grid import Grid
from geo.scenes.cache import SceneCache
from geo.scenes.item_assets import reflectance_scaling, scene_from_item
from geo.scenes.model import Asset
from geo.scenes.read import CLOUD_BUFFER_M, read_sar, read_stack, read_window
from geo.scenes.source import StacApi
from tests import archive_data
from tests.archive_data import S2_BANDS, aoi_around, big_item, tile_bytes, unique, utc

BIG_WINDOW = (341000.0, 5847500.0, 343000.0, 5849500.0)  # 2 x 2 km inside one 512 px tile of the big COG


def scene_of(item_dict):
    return scene_from_item(pystac.Item.from_dict(item_dict))


def test_small_aoi_reads_its_tiles_not_the_file(loopback, big_cog, tmp_path):
    scene = scene_of(big_item(loopback, big_cog, "S2A_BIG_20160608", utc(2016, 6, 8)))
    with rasterio.open(big_cog) as src:
        crs = src.crs
    grid = aoi_around(crs, BIG_WINDOW).utm_grid(10.0, 300.0)
    stack = read_stack(scene, ["red"], grid, cloud_mask=False, cache=SceneCache(tmp_path / "c"))
    sent = loopback.bytes_sent("/")
    size = big_cog.stat().st_size
    tiles, count = tile_bytes(big_cog, grid)
    assert count == 1
    assert sent < 0.1 * size, f"{sent} bytes of a {size} byte file"
    assert sent <= tiles + 64_000, f"{sent} bytes for {tiles} bytes of tiles (+ header)"
    # the same pixels as reading the local file
    local = read_window("local", Asset("red", str(big_cog), 1e-4, 0.0, 0), grid)
    assert np.array_equal(stack.band("red"), local.filled(0) * np.float32(1e-4))


def test_coarse_grid_reads_an_overview(loopback, big_cog, tmp_path):
    scene = scene_of(big_item(loopback, big_cog, "S2A_BIG_OVR_20160608", utc(2016, 6, 8)))
    with rasterio.open(big_cog) as src:
        crs, factors = src.crs, src.overviews(1)
    assert factors[:2] == [2, 4]
    aoi = aoi_around(crs, (334000.0, 5836000.0, 350000.0, 5856000.0), "wide")
    fine, coarse = aoi.utm_grid(10.0), aoi.utm_grid(40.0)
    cache = SceneCache(tmp_path / "c")
    read_window(scene.id, scene.asset("red"), coarse, Resampling.nearest, cache)
    coarse_bytes = loopback.bytes_sent("/")
    loopback.clear()
    read_window(scene.id, scene.asset("red"), fine, Resampling.nearest, cache)
    fine_bytes = loopback.bytes_sent("/")
    assert coarse_bytes < fine_bytes / 6, (coarse_bytes, fine_bytes)
    # and the values are the 4x overview's (averages), not a sample of the full resolution
    with rasterio.open(big_cog, overview_level=1) as ovr:
        expected = ovr.read(1, window=ovr.window(*coarse.bounds))
    got = read_window(scene.id, scene.asset("red"), coarse, Resampling.nearest, cache)
    assert got.shape == expected.shape and np.array_equal(got.filled(0), expected)


def test_clouds_from_scl_are_masked(loopback, nantes_aoi, tmp_path):
    scene = StacApi(loopback.url).get("S2A_T30TXT_20151228_B1")  # clouds planted over the AOI
    grid = nantes_aoi.utm_grid(10.0)
    stack = read_stack(scene, ["red", "nir"], grid, cache=SceneCache(tmp_path / "c"))
    assert stack.cloud_masked
    cloud = archive_data.rect_lonlat(*archive_data.CLOUD_OVER_AOI[0])
    utm = grid.crs.to_string()
    area = nantes_aoi.projected(utm)
    cloud_frac = reproject(cloud, WGS84, utm).intersection(area).area / area.area
    # the 10 m pixels within 40 m of the 20 m SCL's cloud are masked too: a cloud's soft edge is not ground
    buffered = reproject(cloud, WGS84, utm).buffer(CLOUD_BUFFER_M).intersection(area).area / area.area
    inside = nantes_aoi.pixel_mask(grid)
    invalid = (~stack.valid & inside).sum() / inside.sum()
    assert invalid == pytest.approx(buffered, abs=0.01) and invalid > cloud_frac + 0.015, (invalid, cloud_frac)
    assert np.isnan(stack.data[:, ~stack.valid]).all() and not np.isnan(stack.data[:, stack.valid]).any()


def _baseline_item(folder, name, shift_dn, properties, raster_bands):
    """An item whose red/nir are the 2015 demo bands with ``shift_dn`` added to every valid pixel."""
    item = pystac.Item(name, mapping(box(-1.58, 47.17, -1.51, 47.24)), [-1.58, 47.17, -1.51, 47.24],
                       utc(2022, 3, 1), properties)
    for band in ("red", "nir"):
        with rasterio.open(archive_data.DEMO_SCENES["2015"] / f"{band}.tif") as src:
            data, crs, transform = src.read(1), src.crs, src.transform
        data = np.where(data > 0, data.astype(np.int32) + shift_dn, 0).astype(np.uint16)
        path = archive_data.write_cog(folder / name / f"{band}.tif", data, crs, transform, 0)
        extra = {"raster:bands": [raster_bands]} if raster_bands else {}
        item.add_asset(band, pystac.Asset(str(path), roles=["data", "reflectance"], extra_fields=extra))
    return scene_from_item(item)


def test_reflectance_is_the_same_on_both_sides_of_baseline_0400(tmp_path, nantes_aoi):
    grid = nantes_aoi.utm_grid(10.0)
    old = _baseline_item(tmp_path, "pre", 0, {"s2:processing_baseline": "03.01"}, None)
    variants = {
        "post, baseline rule": _baseline_item(tmp_path, "post", 1000, {"s2:processing_baseline": "05.10"}, None),
        "post, raster:bands": _baseline_item(tmp_path, "post_rb", 1000, {"s2:processing_baseline": "04.00"},
                                             {"scale": 0.0001, "offset": -0.1, "nodata": 0}),
        "earth-search, offset already applied": _baseline_item(
            tmp_path, "e84", 0, {"s2:processing_baseline": "05.09", "earthsearch:boa_offset_applied": True},
            {"scale": 0.0001, "offset": -0.1, "nodata": 0}),
        "pre, bogus raster:bands offset": _baseline_item(
            tmp_path, "pre_bogus", 0, {"s2:processing_baseline": "02.14"}, {"scale": 0.0001, "offset": -0.1}),
    }
    reference = read_stack(old, ["red", "nir"], grid, cloud_mask=False)
    for name, scene in variants.items():
        stack = read_stack(scene, ["red", "nir"], grid, cloud_mask=False)
        both = reference.valid & stack.valid
        assert both.mean() > 0.99, name
        # (cubic undershoot below DN 1 is clamped in the unshifted file only: those pixels aside)
        both &= (reference.data > 1.5e-4).all(axis=0)
        diff = np.abs(stack.data[:, both] - reference.data[:, both])
        assert diff.max() < 2e-4, f"{name}: max difference {diff.max():.4f}"
    # the control: post-baseline pixels read as if pre-baseline are 0.1 too bright everywhere
    wrong = _baseline_item(tmp_path, "post_as_pre", 1000, {"s2:processing_baseline": "03.01"}, None)
    stack = read_stack(wrong, ["red", "nir"], grid, cloud_mask=False)
    assert np.nanmedian(stack.data - reference.data) == pytest.approx(0.1, abs=1e-3)


@pytest.mark.parametrize("fields, properties, expected", [
    ({}, {"s2:processing_baseline": "03.01"}, (1e-4, 0.0)),
    ({}, {"s2:processing_baseline": "04.00"}, (1e-4, -0.1)),
    ({}, {"processing:version": "05.11"}, (1e-4, -0.1)),
    ({}, {}, (1e-4, 0.0)),
    ({}, {"s2:product_uri": "S2B_MSIL2A_20220301T021559_N0400_R003_T52TGM_20220301T044325.SAFE"}, (1e-4, -0.1)),
    ({}, {"s2:product_uri": "S2A_MSIL2A_20210301T021559_N0300_R003_T52TGM_20210301T044325.SAFE"}, (1e-4, 0.0)),
    ({}, {"datetime": "2022-01-25T02:00:00Z"}, (1e-4, -0.1)),  # acquired since 04.00 became the only baseline
    ({}, {"start_datetime": "2023-06-01T02:00:00Z", "datetime": None}, (1e-4, -0.1)),
    ({}, {"datetime": "2022-01-24T02:00:00Z"}, (1e-4, 0.0)),  # older: baseline unknown, no offset assumed
    ({"raster:bands": [{"scale": 2e-4, "offset": -0.2}]}, {"s2:processing_baseline": "05.00"}, (2e-4, -0.2)),
    ({"raster:bands": [{"scale": 1e-4, "offset": -0.1}]},
     {"s2:processing_baseline": "05.00", "earthsearch:boa_offset_applied": True}, (1e-4, 0.0)),
    ({"raster:bands": [{"scale": 1e-4, "offset": -0.1}]}, {"s2:processing_baseline": "02.14"}, (1e-4, 0.0)),
])
def test_reflectance_scaling_rules(fields, properties, expected):
    assert reflectance_scaling(fields, properties, True) == pytest.approx(expected)


def test_sar_rtc_from_signed_blob_urls(loopback, tmp_path, monkeypatch):
    """Planetary-Computer-style items: hrefs on *.blob.core.windows.net, refused without a SAS token. The
    token comes from the loopback SAS endpoint through the real planetary-computer package; GDAL reaches
    the 'blob storage' through the loopback server as its HTTP proxy."""
    import planetary_computer.sas
    from planetary_computer.settings import Settings

    monkeypatch.setattr(Settings.get(), "sas_url", f"{loopback.url}/api/sas/v1/token")
    monkeypatch.setattr(planetary_computer.sas, "TOKEN_CACHE", {})
    monkeypatch.setenv("GDAL_HTTP_PROXY", loopback.url.removeprefix("http://"))
    cogs = archive_data.sar_cogs(tmp_path / "sar")
    hrefs = {}
    for pol in ("vv", "vh"):
        path = unique(f"rtc/{pol}.tif")
        loopback.add_file(path, cogs[pol])
        hrefs[pol] = f"http://s1store.blob.core.windows.net/{path}"
    with rasterio.open(cogs["vv"]) as src:
        crs, transform, shape = src.crs, src.transform, src.shape
        footprint = mapping(archive_data.reproject(box(*src.bounds), crs.to_string(), archive_data.WGS84))
    scene = scene_of(archive_data.s1_item(loopback, "S1A_IW_RTC_TEST_1", utc(2024, 10, 7), hrefs,
                                          "sentinel-1-rtc", footprint))
    assert scene.sensor == "s1" and scene.relative_orbit == 118
    grid = Grid(crs, transform, shape)
    stack = read_sar(scene, grid, resampling=Resampling.nearest, cache=SceneCache(tmp_path / "c"))
    assert stack.quantity == "gamma0_linear" and stack.bands == ("vv", "vh")
    truth = np.load(cogs["power_truth"])
    assert not stack.valid[:, :40].any() and stack.valid[:, 40:].all()  # nodata border masked
    assert np.allclose(stack.band("vv")[:, 40:], truth[:, 40:], rtol=1e-6)
    assert np.allclose(stack.band("vh")[:, 40:], 0.2 * truth[:, 40:], rtol=1e-5)
    blob = [r for r in loopback.records("/") if r.host.endswith(".blob.core.windows.net")]
    assert blob and all(r.status in (200, 206) for r in blob)
    assert loopback.records("/api/sas/v1/token/s1store/")  # signed by the package, at read time


def test_sar_grd_with_ground_control_points(tmp_path):
    cogs = archive_data.sar_cogs(tmp_path / "sar")
    with rasterio.open(cogs["geo_vv"]) as src:
        crs, transform, shape = src.crs, src.transform, src.shape
        footprint = mapping(archive_data.reproject(box(*src.bounds), crs.to_string(), archive_data.WGS84))
    item = pystac.Item("S1A_IW_GRDH_TEST", footprint, None, utc(2024, 10, 7),
                       {"platform": "sentinel-1a", "sar:instrument_mode": "IW"}, collection="sentinel-1-grd")
    item.add_asset("vv", pystac.Asset(str(cogs["grd_vv"]), roles=["data"]))
    scene = scene_from_item(item)
    grid = Grid(crs, transform, shape)
    stack = read_sar(scene, grid, ["vv"], Resampling.nearest)
    assert stack.quantity == "dn"
    with rasterio.open(cogs["geo_vv"]) as src:
        truth = src.read(1).astype(np.float32)
    inner = (slice(5, -5), slice(5, -5))
    assert np.mean(stack.band("vv")[inner] == truth[inner]) > 0.98


def test_sar_reader_refuses_optical_scenes(loopback):
    scene = StacApi(loopback.url).get("S2A_T30TXT_20151216_B3")
    with pytest.raises(RasterError, match="not a Sentinel-1 scene"):
        read_sar(scene, Grid(rasterio.crs.CRS.from_epsg(32630), rasterio.Affine(10, 0, 0, 0, -10, 0), (2, 2)))


def test_missing_asset_is_named(loopback, nantes_aoi):
    scene = StacApi(loopback.url).get("S2A_T30TXT_20151216_B3")
    with pytest.raises(Exception, match="no asset 'rededge1'"):
        read_stack(scene, [*S2_BANDS, "rededge1"], nantes_aoi.utm_grid(10.0))
