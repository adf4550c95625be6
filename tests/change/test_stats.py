"""Change statistics: chi-square false-alarm rates on data with no change match the significance level,
and index differences have the right signs."""

from __future__ import annotations

import numpy as np
import pytest

from geo.change.normalise import irmad, normalise
from geo.change.stats import cva_magnitude, index_differences, mahalanobis_change
from geo.change.threshold import chi2_threshold
from tests.change.scenes import BANDS, VEGETATION, gaussian_no_change

ALPHAS = (0.05, 0.01, 0.001)


@pytest.fixture(scope="module")
def no_change():
    before, after = gaussian_no_change(shape=(400, 400))
    return before, after, np.ones(before.shape[1:], bool)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_irmad_false_alarm_rate_matches_significance(no_change, alpha):
    before, after, valid = no_change
    result = irmad(before, after, valid)
    rate = float((result.chi2 > chi2_threshold(result.dof, alpha)).mean())
    assert rate == pytest.approx(alpha, rel=0.2), f"false-alarm rate {rate:.5f} at alpha {alpha}"


@pytest.mark.parametrize("alpha", ALPHAS)
def test_mahalanobis_false_alarm_rate_matches_significance(no_change, alpha):
    before, after, valid = no_change
    after_n, *_ = normalise(before, after, valid)
    stat = mahalanobis_change(before, after_n, valid)
    rate = float((stat.values > chi2_threshold(stat.dof, alpha)).mean())
    assert rate == pytest.approx(alpha, rel=0.2), f"false-alarm rate {rate:.5f} at alpha {alpha}"


def test_chi_square_statistics_see_a_planted_change(no_change):
    before, after, valid = no_change
    after = after.copy()
    after[:, 100:110, 100:110] *= 1.5
    after_n, *_ = normalise(before, after, valid)
    stat = mahalanobis_change(before, after_n, valid)
    assert (stat.values[100:110, 100:110] > chi2_threshold(6, 1e-6)).mean() > 0.95


def test_cva_magnitude_is_the_difference_length():
    before = np.zeros((2, 1, 2))
    after = np.array([[[3.0, 0.0]], [[4.0, 0.0]]])
    values = cva_magnitude(before, after, np.array([[True, False]])).values
    assert values[0, 0] == pytest.approx(5.0) and np.isnan(values[0, 1])


def test_index_differences_have_physical_signs():
    veg = VEGETATION[:, None, None] * np.ones((6, 1, 1))
    bare = np.array([0.12, 0.15, 0.18, 0.24, 0.32, 0.28])[:, None, None]
    water = np.array([0.06, 0.07, 0.04, 0.02, 0.01, 0.01])[:, None, None]
    loss = index_differences(veg, bare, BANDS)
    assert loss["ndvi"][0, 0] < -0.4 and loss["ndbi"][0, 0] > 0.3
    flood = index_differences(bare, water, BANDS)
    assert flood["ndwi"][0, 0] > 0.5


def test_chi_square_quantiles_are_scipy_stats_own_values():
    """The thresholds come from scipy.special (scipy.stats costs a job ~0.5 s to import): the same numbers."""
    from scipy import stats as scipy_stats

    from geo.change.stats import _trimmed_covariance

    for dof in (1, 3, 6, 8):
        for alpha in (1e-6, 1e-4, 1e-2, 0.05):
            assert chi2_threshold(dof, alpha) == float(scipy_stats.chi2.isf(alpha, dof))
    # the trimmed covariance of a Gaussian cloud: its cut-off and consistency factor as scipy.stats gives them
    d = np.random.default_rng(1).normal(0.0, 2.0, (3, 5000))
    keep, k = 0.9, 3
    subset = np.ones(d.shape[1], bool)
    cov = np.cov(d)
    for _ in range(5):
        dist = np.einsum("in,ij,jn->n", d, np.linalg.pinv(cov), d)
        subset = dist < scipy_stats.chi2.ppf(keep, k)
        cov = np.cov(d[:, subset]) / (scipy_stats.chi2.cdf(scipy_stats.chi2.ppf(keep, k), k + 2) / keep)
    assert np.array_equal(_trimmed_covariance(d, np.ones(d.shape[1], bool)), cov)
    assert np.diag(cov) == pytest.approx([4.0] * 3, rel=0.1)
