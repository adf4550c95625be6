"""The order statistics of the shift estimator are numpy's, value for value, without importing numpy.ma."""

from __future__ import annotations

import numpy as np
import pytest

from geo.align.quantiles import median, percentile

RNG = np.random.default_rng(5)
SAMPLES = [RNG.gamma(2.0, size=n).astype(dtype) * 10.0 ** RNG.integers(-3, 4)
           for n in (1, 2, 3, 10, 11, 20_001) for dtype in (np.float64, np.float32)]


@pytest.mark.parametrize("values", SAMPLES, ids=lambda v: f"{v.size}-{v.dtype}")
def test_median_is_numpys(values):
    assert median(values) == float(np.median(values))


@pytest.mark.parametrize("values", [v for v in SAMPLES if v.dtype == np.float64], ids=lambda v: str(v.size))
@pytest.mark.parametrize("q", [0, 5, 37.5, 50, 95, 99.9, 100])
def test_percentile_is_numpys_linear_one(values, q):
    assert percentile(values, q) == float(np.percentile(values, q))


def test_nan_and_no_values():
    assert np.isnan(median(np.array([1.0, np.nan, 2.0]))) and np.isnan(median(np.zeros(0)))
    assert np.isnan(percentile(np.zeros(0), 95))
