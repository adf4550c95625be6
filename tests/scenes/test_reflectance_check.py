"""The plausibility check of reflectance read (``geo.scenes.reflectance_check``): a share of visible pixels above
1.5 is warned of once per scene and band, naming the asset and the scaling read; snow and cloud (~1.2) are not."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import numpy as np
import pytest
from shapely.geometry import box

from geo.scenes import reflectance_check
from geo.scenes.model import Asset, Scene
from geo.scenes.reflectance_check import check_reflectance

BANDS = ("blue", "red", "nir")


def scene(scene_id: str) -> Scene:
    assets = {name: Asset(key, f"/data/{key}.tif", 1e-4, -0.1) for name, key in
              (("blue", "B02"), ("red", "B04"), ("nir", "B08"))}
    return Scene(scene_id, datetime(2023, 8, 17, tzinfo=timezone.utc), box(3, 36, 4, 37), assets)


def stack(visible_bright: float, share: float, nir: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    data = np.full((3, 100, 100), 0.1, np.float32)
    data[:2].reshape(2, -1)[:, :int(share * 10_000)] = visible_bright
    data[2] = nir  # only the visible bands are judged
    return data, np.ones((100, 100), bool)


@pytest.fixture(autouse=True)
def fresh():
    reflectance_check._warned.clear()
    yield
    reflectance_check._warned.clear()


def test_a_share_above_1_5_is_warned_of_once_naming_asset_values_and_scaling(caplog):
    data, valid = stack(2.4, 0.02)
    with caplog.at_level(logging.WARNING):
        check_reflectance(scene("s1"), BANDS, data, valid)
        check_reflectance(scene("s1"), BANDS, data, valid)  # read again by another step: said once
    message, = [r.getMessage() for r in caplog.records]
    assert message.startswith("scene s1: reflectance brighter than snow or cloud: asset 'B02' (blue) above 1.5 on "
                              "2.0% of its pixels (99th percentile 2.40, median 0.10); asset 'B04' (red)"), message
    assert "read as DN × 0.0001 − 0.1" in message and "raster:bands scale/offset" in message, message


@pytest.mark.parametrize("bright, share", [(1.2, 0.6), (2.4, 0.004)], ids=["snow-or-cloud", "a-few-glints"])
def test_snow_cloud_and_a_few_glints_are_not_warned_of(caplog, bright, share):
    data, valid = stack(bright, share)
    with caplog.at_level(logging.WARNING):
        check_reflectance(scene("s2"), BANDS, data, valid)
    assert not caplog.records


def test_invalid_pixels_are_not_judged(caplog):
    data, valid = stack(2.4, 0.02)
    valid.reshape(-1)[:200] = False  # the bright pixels: masked (cloud, no data)
    with caplog.at_level(logging.WARNING):
        check_reflectance(scene("s3"), BANDS, data, valid)
    assert not caplog.records
