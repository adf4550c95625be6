"""STAC items from different archives reduced to one Scene: sensor, orbit, asset names, scaling."""

from __future__ import annotations

import pystac
import pytest
from shapely.geometry import box, mapping

from geo.scenes.model import scene_from_item
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
