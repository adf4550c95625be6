"""STAC items from different archives reduced to one Scene: sensor, orbit, asset names, scaling."""

from __future__ import annotations

import pystac
import pytest
from shapely.geometry import box, mapping

from geo.scenes.item_assets import scene_from_item
from tests.archive_data import utc


def item(properties, assets, collection=None):
    result = pystac.Item("X", mapping(box(0, 0, 1, 1)), [0, 0, 1, 1], utc(2024, 10, 7), properties,
                         collection=collection)
    for key, fields in assets.items():
        roles = fields.pop("roles", ["data"])
        result.add_asset(key, pystac.Asset(f"https://example.org/{key}.tif", roles=roles, extra_fields=fields))
    return result


def test_planetary_computer_sentinel2_assets_answer_to_earth_search_names():
    pc = item({"s2:processing_baseline": "05.11", "platform": "Sentinel-2B",
               "s2:product_uri": "S2B_MSIL2A_20241012T015649_N0511_R060_T52TGN_20241012T045126.SAFE"},
              {"B02": {"eo:bands": [{"name": "B02", "common_name": "blue"}]},
               "B08": {"eo:bands": [{"name": "B08", "common_name": "nir"}]},
               "SCL": {}, "visual": {"roles": ["visual"], "eo:bands": [{"common_name": "red"},
                                                                        {"common_name": "green"}]}},
              collection="sentinel-2-l2a")
    scene = scene_from_item(pc)
    assert scene.asset("blue").key == "B02" and scene.asset("nir").href.endswith("/B08.tif")
    assert scene.asset("blue").scale == pytest.approx(1e-4) and scene.asset("blue").offset == pytest.approx(-0.1)
    assert scene.asset("scl").key == "SCL" and (scene.asset("scl").scale, scene.asset("scl").offset) == (1.0, 0.0)
    assert "red" not in scene.assets  # a multi-band visual asset is not a band
    assert scene.sensor == "s2" and scene.relative_orbit == 60


def test_sentinel1_items_are_sar_and_unscaled():
    s1 = scene_from_item(item({"sar:instrument_mode": "IW", "sat:relative_orbit": 134, "sat:orbit_state": "descending",
                               "platform": "SENTINEL-1A"},
                              {"vv": {"raster:bands": [{"nodata": -32768}]}, "vh": {}}, "sentinel-1-rtc"))
    assert s1.sensor == "s1" and s1.relative_orbit == 134
    assert (s1.asset("vv").scale, s1.asset("vv").offset, s1.asset("vv").nodata) == (1.0, 0.0, -32768.0)
    assert s1.summary()["orbit_state"] == "descending"


def _cdse_band(name: str, common: str, gsd: int, sampling: str = "original") -> dict:
    """A Copernicus Data Space (CDSE) STAC 1.1 asset: one band under ``bands`` with ``eo:common_name``, the
    raster fields on the asset itself (``raster:scale``, ``raster:offset``, ``nodata``), its resolution in the key
    and the roles (the layout of CDSE's sentinel-2-l2a items)."""
    return {"roles": ["data", "reflectance", f"sampling:{sampling}", f"gsd:{gsd}m"], "gsd": gsd,
            "bands": [{"name": name, "eo:common_name": common}], "data_type": "uint16", "nodata": 0,
            "raster:scale": 0.0001, "raster:offset": -0.1}


def test_copernicus_data_space_items_answer_to_common_names_at_their_finest_resolution():
    cdse = item({"processing:version": "05.10", "platform": "sentinel-2a", "grid:code": "MGRS-13VEK",
                 "sat:relative_orbit": 27},
                {"B04_60m": _cdse_band("B04", "red", 60, "downsampled"),
                 "B04_20m": _cdse_band("B04", "red", 20, "downsampled"),
                 "B04_10m": _cdse_band("B04", "red", 10),
                 "B11_60m": _cdse_band("B11", "swir16", 60, "downsampled"),
                 "B11_20m": _cdse_band("B11", "swir16", 20),
                 "SCL_60m": {"roles": ["data", "sampling:downsampled", "gsd:60m"], "gsd": 60, "data_type": "uint8",
                             "nodata": 0},
                 "SCL_20m": {"roles": ["data", "sampling:original", "gsd:20m"], "gsd": 20, "data_type": "uint8",
                             "nodata": 0}},
                collection="sentinel-2-l2a")
    scene = scene_from_item(cdse)
    assert scene.asset("red").key == "B04_10m" and scene.asset("swir16").key == "B11_20m"
    assert scene.asset("red").scale == pytest.approx(1e-4) and scene.asset("red").offset == pytest.approx(-0.1)
    assert scene.asset("red").nodata == 0.0 and scene.asset("red").data_type == "uint16"
    assert scene.asset("scl").key == "SCL_20m" and (scene.asset("scl").scale, scene.asset("scl").offset) == (1.0, 0.0)
    assert scene.sensor == "s2" and scene.relative_orbit == 27


def test_stac_1_1_raster_fields_on_the_asset_override_the_baseline_rule():
    # an archive whose pixels already hold reflectance x 10000 with no offset says so on the asset (STAC 1.1)
    own = item({"processing:version": "05.10"},
               {"red": {"roles": ["data", "reflectance"], "bands": [{"name": "B04", "eo:common_name": "red"}],
                        "raster:scale": 0.0001, "raster:offset": 0.0, "nodata": 65535}})
    red = scene_from_item(own).asset("red")
    assert (red.scale, red.offset, red.nodata) == (pytest.approx(1e-4), 0.0, 65535.0)
