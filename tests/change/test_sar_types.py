"""SAR change typing and the water mask: rules on known region figures, a mask from a simulated series."""

from __future__ import annotations

import numpy as np
import pytest

from geo.change.classify import VESSEL_MAX_AREA_M2
from geo.change.sar import lee_filter
from geo.change.sar_types import SarRegion, magnitude_confidence, sar_change_type, water_mask
from geo.claims import SIGNATURES


@pytest.mark.parametrize("region, expected", [
    (SarRegion(15_000, 18.0, 1.0, 1.0, 0.0), "vessel"),
    (SarRegion(VESSEL_MAX_AREA_M2 * 2, 10.0, 0.9, 0.9, 0.0), "water_to_land"),
    (SarRegion(120_000, 7.8, 0.0, 0.0, 0.0), "new_bright_surface"),
    (SarRegion(90_000, -7.0, 0.0, 0.0, 0.0), "darkening"),
    (SarRegion(300_000, -9.0, 0.8, 0.0, 0.9), "land_to_water"),  # flooded: water-dark after only
    (SarRegion(12_000, -15.0, 1.0, 0.0, 1.0), "water_change"),  # a ship that left
])
def test_sar_change_types(region, expected):
    kind, confidence = sar_change_type(region)
    assert kind == expected
    assert 0.0 < confidence <= 0.95


def test_sar_types_feed_the_claim_signatures():
    assert "new_bright_surface" in SIGNATURES["new_construction"].change_types
    assert "new_bright_surface" in SIGNATURES["vehicle_parks"].change_types
    assert "vessel" in SIGNATURES["large_vessels_at_berth"].change_types


def test_type_confidence_grows_with_the_backscatter_change():
    assert magnitude_confidence(3.0) == pytest.approx(0.5)
    assert magnitude_confidence(-9.0) == pytest.approx(0.9)
    assert magnitude_confidence(1.0) < magnitude_confidence(6.0) < magnitude_confidence(12.0)


def test_water_mask_from_low_backscatter_on_every_date():
    rng = np.random.default_rng(5)
    shape = (120, 120)
    mean = np.full(shape, 0.08)  # land, -11 dB
    mean[:, 70:] = 0.005  # water, -23 dB
    dates = [rng.gamma(4.4, mean / 4.4) for _ in range(4)]
    dates[2][50:56, 90:110] = 0.5  # a ship on one date stays water in the mask
    filtered = [lee_filter(d, 4.4, 7) for d in dates]
    water = water_mask(filtered, np.ones(shape, bool))
    truth = np.zeros(shape, bool)
    truth[:, 70:] = True
    assert (water == truth)[:, 3:-3].mean() > 0.98  # all but the filter's reach at the border
    assert water[50:56, 90:110].all()
