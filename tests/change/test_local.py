"""Local regression: follows radiometry that varies across the scene, leaves objects as residual."""

from __future__ import annotations

import numpy as np
import pytest

from geo.change.local import local_linear_fit, masked_gaussian, robust_z
from geo.change.local_blocks import local_regression_residual


def _scene(shape=(200, 240), seed=0):
    rng = np.random.default_rng(seed)
    x = 0.1 + 0.05 * rng.random(shape)
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]]
    gain = 1.0 + 0.3 * cols / shape[1]  # a gain and an offset that drift across the scene
    offset = 0.02 * rows / shape[0]
    return x, gain, offset


def test_local_fit_follows_a_drifting_gain_and_offset():
    x, gain, offset = _scene()
    y = gain * x + offset
    g, o = local_linear_fit(x, y, np.ones(x.shape), window_px=32)
    inner = (slice(24, -24), slice(24, -24))  # a 32 px window sees a nearly constant drift
    assert np.abs(g - gain)[inner].max() < 0.02
    assert np.abs(o - offset)[inner].max() < 0.003


def test_residual_isolates_a_planted_object_and_ignores_invalid_pixels():
    x, gain, offset = _scene(seed=1)
    y = gain * x + offset + np.random.default_rng(2).normal(scale=0.002, size=x.shape)
    y[80:92, 100:115] += 0.15
    valid = np.ones(x.shape, bool)
    valid[:, :10] = False
    x[:, :10] = np.nan  # invalid pixels may hold anything
    residual = local_regression_residual(x, y, valid, window_px=48)
    z = robust_z(residual, valid)
    assert np.isnan(residual[:, :10]).all()
    assert np.nanmin(z[80:92, 100:115]) > 20
    outside = valid.copy()
    outside[75:97, 95:120] = False
    assert np.nanpercentile(np.abs(z[outside]), 99) < 4


def test_robust_z_and_masked_gaussian():
    values = np.array([[1.0, 2.0, 3.0, 100.0]])
    valid = np.array([[True, True, True, False]])
    z = robust_z(values, valid)
    assert z[0, 1] == pytest.approx(0.0) and np.isnan(z[0, 3])
    smooth = masked_gaussian(np.where(valid, 1.0, 50.0), valid, 1.0)
    assert np.allclose(smooth[valid], 1.0)  # invalid values never leak in


def test_identical_images_have_no_change():
    """Rounding errors of the fit are not change: the scale never drops below the data's precision."""
    from geo.change.stats import local_change
    from tests.change.scenes import BANDS, seasonal_pair

    pair = seasonal_pair()
    valid = np.ones(pair.truth.shape, bool)
    score = local_change(pair.after, pair.after.copy(), valid, BANDS, "red", 96, 1.5).values
    assert np.nanmax(score) < 0.5


@pytest.mark.parametrize("shape", [(64, 80), (61, 77)])
def test_block_sums_are_numpys_block_sums_bit_for_bit(shape):
    """The 8 px moment sums from strided columns equal numpy's reshaped sum exactly (the statistic's values
    must not move): zeros completing the last blocks included."""
    from geo.change.local import _block_sums

    rng = np.random.default_rng(3)
    values = rng.random(shape) * rng.random(shape) ** 3 * 1e-3
    padded = np.zeros((-(-shape[0] // 8) * 8, -(-shape[1] // 8) * 8))
    padded[:shape[0], :shape[1]] = values
    h, w = padded.shape[0] // 8, padded.shape[1] // 8
    expected = padded.reshape(h * 8, w, 8).sum(axis=2).reshape(h, 8, w).sum(axis=1)
    assert np.array_equal(_block_sums(values, 8), expected)
    assert np.array_equal(_block_sums(values, 4), padded.reshape(h * 2 * 4, w * 2, 4).sum(axis=2)
                          .reshape(h * 2, 4, w * 2).sum(axis=1))


def test_shared_moments_and_a_part_of_the_pixels_give_the_whole_fits_numbers():
    """What the blocked statistic shares and crops (``both_moment_sums`` for both directions, ``pixels``)
    changes no number of the fit: the same gains and offsets, bit for bit."""
    from geo.change.local import both_moment_sums

    x, gain, offset = _scene()
    rng = np.random.default_rng(3)
    y = (gain * x + offset + 0.01 * rng.normal(size=x.shape)).astype(np.float32)
    x = x.astype(np.float32)
    valid = rng.random(x.shape) > 0.1
    forward, backward = both_moment_sums(x, y, valid)
    for a, b, moments in ((x, y, forward), (y, x, backward)):
        whole = local_linear_fit(a, b, valid, 40, line=(1.0, 0.0))
        shared = local_linear_fit(a, b, valid, 40, line=(1.0, 0.0), block_moments=moments)
        part = (slice(13, 151), slice(5, 203))
        cropped = local_linear_fit(a, b, valid, 40, line=(1.0, 0.0), pixels=part)
        for got_whole, got_shared, got_part in zip(whole, shared, cropped):
            assert np.array_equal(got_shared, got_whole)
            assert got_part.shape == (138, 198) and np.array_equal(got_part, got_whole[part])
    assert not np.array_equal(local_linear_fit(x, y, valid, 40, line=(1.0, 0.0), block_moments=backward)[0],
                              local_linear_fit(x, y, valid, 40, line=(1.0, 0.0))[0])  # the moments are used


def test_bilinear_gives_the_two_axis_formula_bit_for_bit_whatever_the_dtypes():
    from geo.grid import bilinear

    rng = np.random.default_rng(5)
    types = ((np.float64, np.float64, np.float64), (np.float32, np.float64, np.float64),
             (np.float32, np.float32, np.float32), (np.float32, np.float32, np.float64))  # lattice, rows, cols
    for lattice_type, rows_type, cols_type in types:
        lattice = rng.random((7, 9)).astype(lattice_type)
        rows_at = np.linspace(-0.7, 7.2, 41).astype(rows_type)
        cols_at = np.linspace(-0.3, 8.9, 53).astype(cols_type)
        r0 = np.minimum(np.clip(rows_at, 0, 6).astype(np.intp), 5)
        c0 = np.minimum(np.clip(cols_at, 0, 8).astype(np.intp), 7)
        fr, fc = np.clip(rows_at, 0, 6) - r0, np.clip(cols_at, 0, 8) - c0
        rows = lattice[r0] * (1 - fr)[:, None] + lattice[r0 + 1] * fr[:, None]
        expected = rows[:, c0] * (1 - fc) + rows[:, c0 + 1] * fc
        got = bilinear(lattice, rows_at, cols_at)
        assert got.dtype == expected.dtype and np.array_equal(got, expected)
