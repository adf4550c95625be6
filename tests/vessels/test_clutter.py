"""Clutter models: fits recover known parameters, tails match simulation, truncation ignores targets."""

from __future__ import annotations

import numpy as np
import pytest

from geo.vessels.clutter import GammaClutter, KClutter, fit_clutter


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(42)


def test_gamma_fit_recovers_looks_and_tail(rng):
    values = rng.gamma(4.0, 0.25 * 3.0, size=400_000)  # looks 4, mean 3
    fit = fit_clutter(values, "auto")
    assert fit.model.name == "gamma"
    assert fit.model.looks == pytest.approx(4.0, rel=0.04)
    assert fit.model.mean == pytest.approx(3.0, rel=0.01)
    for pfa in (1e-3, 1e-4):
        assert (values > fit.model.isf(pfa)).mean() == pytest.approx(pfa, rel=0.3)


def test_k_tail_matches_simulation_and_fit_prefers_k(rng):
    n = 2_000_000
    values = rng.gamma(4.0, 0.25, size=n) * rng.gamma(3.0, 1 / 3.0, size=n)
    truth = KClutter(4.0, 3.0, 1.0)
    for threshold in (2.0, 5.0, 9.0):
        expected = truth.sf(threshold)
        # within 4 binomial standard deviations of the simulated exceedance
        assert abs((values > threshold).mean() - expected) < 4 * np.sqrt(expected / n) + 0.01 * expected
    fit = fit_clutter(values, "auto")
    assert fit.model.name == "k"
    assert fit.aic < fit.alternatives["gamma"] - 100
    # a gamma model of K clutter would put the 1e-4 threshold far too low
    gamma = fit_clutter(values, "gamma").model
    assert (values > gamma.isf(1e-4)).mean() > 5e-4
    assert (values > fit.model.isf(1e-4)).mean() == pytest.approx(1e-4, rel=0.35)


def test_truncated_fit_ignores_bright_targets(rng):
    clean = rng.gamma(4.0, 0.25, size=400_000)
    dirty = clean.copy()
    dirty[:4000] *= 40.0  # 1 % of the pixels are ships
    threshold_clean = fit_clutter(clean, "gamma").model.isf(1e-5)
    threshold_dirty = fit_clutter(dirty, "gamma").model.isf(1e-5)
    assert threshold_dirty == pytest.approx(threshold_clean, rel=0.05)
    # an untruncated moment fit would be ruined: the mean alone rises by 40 %
    assert dirty.mean() > 1.35 * clean.mean()


def test_k_with_large_texture_shape_tends_to_gamma():
    assert KClutter(4.0, 2000.0, 1.0).isf(1e-4) == pytest.approx(GammaClutter(4.0, 1.0).isf(1e-4), rel=0.01)


def test_too_few_pixels_is_an_error():
    with pytest.raises(ValueError, match="too few sea pixels"):
        fit_clutter(np.ones(50))
