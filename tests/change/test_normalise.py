"""IR-MAD and orthogonal-regression normalisation on pairs with known radiometry and known change."""

from __future__ import annotations

import numpy as np
import pytest

from geo.change.normalise import irmad, normalise, orthogonal_fit
from geo.errors import ChangeError, UniformPairError
from tests.change.scenes import gaussian_no_change, seasonal_pair


def test_orthogonal_fit_is_symmetric_and_exact_without_noise():
    x = np.linspace(0.0, 1.0, 50)
    slope, intercept = orthogonal_fit(x, 1.3 * x + 0.2)
    assert slope == pytest.approx(1.3) and intercept == pytest.approx(0.2)
    back, back_intercept = orthogonal_fit(1.3 * x + 0.2, x)
    assert back == pytest.approx(1 / 1.3) and back_intercept == pytest.approx(-0.2 / 1.3)


def test_normalisation_recovers_gain_and_offset_despite_change():
    before, after = gaussian_no_change(seed=11)
    truth = np.zeros(before.shape[1:], bool)
    truth[50:120, 60:140] = True  # 6 % of the scene changes strongly
    after = after.copy()
    after[:, truth] += 0.2
    valid = np.ones(truth.shape, bool)
    after_n, fits, invariant, result = normalise(before, after, valid)
    gains = np.linspace(0.9, 1.2, before.shape[0])
    for fit, gain in zip(fits, gains):
        assert fit.slope == pytest.approx(gain, abs=0.03)
        assert fit.intercept == pytest.approx(0.02, abs=0.006)
    # the changed block is no invariant pixel, and IR-MAD's statistic separates it
    assert not (invariant & truth).any()
    assert np.nanmedian(result.chi2[truth]) > 20 * np.nanmedian(result.chi2[~truth])
    assert np.abs(np.median(after_n[:, ~truth] - before[:, ~truth], axis=1)).max() < 0.003


def test_irmad_converges_and_orders_correlations():
    pair = seasonal_pair()
    result = irmad(pair.before, pair.after, np.ones(pair.truth.shape, bool))
    assert result.converged
    assert np.all(np.diff(result.rho) >= 0) and 0 < result.rho[0] and result.rho[-1] < 1


def test_irmad_refuses_too_few_pixels():
    before, after = gaussian_no_change(shape=(5, 5))
    with pytest.raises(ChangeError, match="valid pixels"):
        irmad(before, after, np.ones((5, 5), bool))


@pytest.mark.parametrize("flat, date", [("before", "the before date"), ("after", "the after date"), ("both", "both dates")])
def test_irmad_refuses_a_date_without_texture_saying_which(flat, date):
    """One value in every band (noise-free snow): the canonical correlation divided by the zero variance and the
    run ended in "array must not contain infs or NaNs"; now a ChangeError naming the date."""
    before, after = gaussian_no_change(seed=3)
    if flat in ("before", "both"):
        before = np.full_like(before, 0.7)
    if flat in ("after", "both"):
        after = np.full_like(after, 0.6)
    with pytest.raises(UniformPairError, match=f"one value in every band on {date}"):
        irmad(before, after, np.ones(before.shape[1:], bool))


def test_chi2_and_variates_by_columns_are_those_of_one_pass():
    """The MAD variates and their chi-square are computed a few thousand pixels at a time: each pixel's
    numbers equal the whole-array formulas' bit for bit (random fits over 2.5 columns' worth of pixels)."""
    from geo.change.normalise import COLUMNS, MadTransform, _standardised_sum, _variates, _variates_at

    rng = np.random.default_rng(4)
    k, n = 6, 2 * COLUMNS + 1234
    before = rng.random((k, 1, n), dtype=np.float32)
    after = rng.random((k, 1, n), dtype=np.float32)
    a, b = rng.standard_normal((k, k)), rng.standard_normal((k, k))
    mx, my = rng.random(k), rng.random(k)
    transform = MadTransform(a, b, mx, my, rng.standard_normal((k, 1)), rng.random(k) + 0.1)
    x, y = before[:, 0].astype(np.float64), after[:, 0].astype(np.float64)
    whole = _variates(x, y, a, b, mx, my)
    assert np.array_equal(transform.chi2(before[:, 0], after[:, 0]),
                          _standardised_sum(whole, transform.centre, transform.variance))
    pixels = rng.permutation(n)[: n - 5]
    assert np.array_equal(_variates_at(before, after, pixels, a, b, mx, my), whole[:, pixels])
