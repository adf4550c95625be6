"""SAR change on simulated gamma speckle: false-alarm rates at the significance level, planted changes
detected, the date of change found."""

from __future__ import annotations

import numpy as np
import pytest

from geo.change.sar import lee_filter, log_ratio_change, omnibus_change
from geo.errors import ChangeError

LOOKS = 4.4  # Sentinel-1 IW GRD


def speckle(mean: np.ndarray, looks: float, rng: np.random.Generator) -> np.ndarray:
    """Multi-looked intensity: gamma with shape ``looks`` and the given mean."""
    return rng.gamma(looks, mean / looks)


def _square(shape, lo, hi):
    mask = np.zeros(shape, bool)
    mask[lo:hi, lo:hi] = True
    return mask


def test_lee_filter_smooths_flat_areas_and_keeps_a_point_target():
    rng = np.random.default_rng(0)
    mean = np.full((200, 200), 0.05)
    mean[100, 100] = 5.0  # a ship-like point target
    filtered = lee_filter(speckle(mean, LOOKS, rng), LOOKS, 7)
    flat = filtered[20:80, 20:80]
    assert flat.mean() == pytest.approx(0.05, rel=0.03)
    assert (flat.mean() / flat.std()) ** 2 > 10 * LOOKS  # equivalent number of looks raised many times
    assert filtered[100, 100] > 1.0


@pytest.mark.parametrize("filter_size", [1, 7])
def test_log_ratio_false_alarm_rate_and_detection(filter_size):
    rng = np.random.default_rng(1)
    shape = (400, 400)
    mean = np.where(np.add.outer(np.arange(400), np.arange(400)) < 400, 0.05, 0.12)  # two fields
    bright, dark = _square(shape, 60, 100), _square(shape, 250, 290)
    after_mean = np.where(bright, mean * 4.0, np.where(dark, mean / 4.0, mean))  # +-6 dB
    alpha = 0.01
    result = log_ratio_change(speckle(mean, LOOKS, rng), speckle(after_mean, LOOKS, rng), LOOKS, alpha, filter_size)
    unchanged = ~np.asarray(np.abs(np.add.outer(np.arange(400), np.arange(400)) - 400) < 8)  # off the field edge
    unchanged &= ~_square(shape, 50, 110) & ~_square(shape, 240, 300)
    rate = result.changed[unchanged].mean()
    if filter_size == 1:  # unfiltered: the F(2L, 2L) test is exact
        assert rate == pytest.approx(alpha, rel=0.15)
        assert result.looks == LOOKS
    else:  # filtered: looks estimated from the data, the test calibrated to within a factor of two
        assert alpha / 2 < rate < 2 * alpha
        assert result.looks > 10 * LOOKS
        inner = (slice(64, 96), slice(64, 96)), (slice(254, 286), slice(254, 286))
        assert result.changed[inner[0]].mean() > 0.99 and result.changed[inner[1]].mean() > 0.99
        assert np.nanmedian(result.log_ratio[inner[0]]) == pytest.approx(np.log(4), abs=0.15)
        assert np.nanmedian(result.log_ratio[inner[1]]) == pytest.approx(-np.log(4), abs=0.15)


def _series(rng, k=6, shape=(200, 200), looks=LOOKS):
    vv, vh = np.full(shape, 0.08), np.full(shape, 0.015)
    return np.stack([np.stack([speckle(vv, looks, rng), speckle(vh, looks, rng)]) for _ in range(k)])


@pytest.mark.parametrize("alpha", [0.01, 0.001])
def test_omnibus_false_alarm_rate_matches_significance(alpha):
    series = _series(np.random.default_rng(2), shape=(400, 400))
    result = omnibus_change(series, LOOKS, alpha)
    assert result.dof == 2 * 5
    assert result.changed.mean() == pytest.approx(alpha, rel=0.15)


def test_omnibus_detects_and_dates_a_change():
    rng = np.random.default_rng(3)
    looks = 18.0  # a speckle-filtered series
    series = _series(rng, looks=looks)
    changed = _square((200, 200), 50, 150)
    series[3:, :, changed] *= 3.0  # new structure from the 4th date on (index 3), both channels
    result = omnibus_change(series, looks, 0.001)
    assert result.changed[changed].mean() > 0.99
    assert (result.first_change[changed] == 3).mean() > 0.95
    assert result.changed[~changed].mean() < 0.002
    assert (result.first_change[~result.changed] == -1).all()


def test_bad_sar_inputs_are_clear_errors():
    with pytest.raises(ChangeError, match="differ in shape"):
        log_ratio_change(np.ones((20, 20)), np.ones((20, 21)), LOOKS)
    with pytest.raises(ChangeError, match="odd number"):
        lee_filter(np.ones((20, 20)), LOOKS, 4)
    with pytest.raises(ChangeError, match="dates >= 2"):
        omnibus_change(np.ones((1, 2, 5, 5)), LOOKS)
    with pytest.raises(ChangeError, match="significance level"):
        omnibus_change(np.ones((3, 2, 5, 5)), LOOKS, alpha=2.0)


@pytest.mark.parametrize("texture_shape", [16.0, 4.0, 1.0])
def test_log_ratio_stays_calibrated_on_textured_ground(texture_shape):
    """Land with a stable texture (the same on both dates) keeps more speckle through the Lee filter than
    flat ground; each pixel is tested with its own equivalent looks, so the false-alarm rate stays at alpha
    (one global ENL made it 30-50 times alpha here). Looks are estimated from the data (looks=None)."""
    rng = np.random.default_rng(4)
    shape = (400, 400)
    ground = 0.08 * rng.gamma(texture_shape, 1.0 / texture_shape, size=shape)
    alpha = 1e-3
    result = log_ratio_change(speckle(ground, LOOKS, rng), speckle(ground, LOOKS, rng), None, alpha, 7)
    assert result.raw_looks == pytest.approx(LOOKS, rel=0.05)
    assert alpha / 2 < result.changed.mean() < 2 * alpha
    assert np.nanmin(result.looks_map) >= LOOKS * 0.99 and np.nanmax(result.looks_map) <= 49 * result.raw_looks * 1.01
