"""Self-training per pair (``geo.change.self_training``, the ``self-trained`` detector) on synthetic pairs with
known truth: the regression is the optimum of its objective, a planted change is raised and an unchanged
seasonal shift lowered, block by block equals whole, and the detector's parameters ship in the package."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np

from geo.change.detectors import DETECTORS, build_detector
from geo.change.detectors.self_trained import PARAMS_RESOURCE, SelfTrainedParams
from geo.change.self_training import fit_logistic, reweighted
from geo.change.stats import local_change
from tests.change.scenes import BANDS, seasonal_pair


def test_logistic_regression_is_the_optimum_of_its_objective():
    """½‖w‖² + C Σ log-loss on standardised rows, the bias not penalised: its gradient is zero at the fit,
    and the fit separates the classes it was given."""
    rng = np.random.default_rng(1)
    rows = rng.normal(size=(4000, 5)) * [1.0, 2.0, 3.0, 1.0, 5.0] + 3.0
    labels = rows[:, 0] + 0.3 * rows[:, 1] + rng.normal(size=4000) > 3.9
    model = fit_logistic(rows, labels, c=0.1)
    x = (rows - model.mean) / model.sd
    p = 1.0 / (1.0 + np.exp(-(x @ model.weights + model.bias)))
    assert np.abs(model.weights + 0.1 * x.T @ (p - labels)).max() < 1e-6
    assert abs(float(np.sum(p - labels))) < 1e-6
    assert model.weights[0] > 1.0 and abs(model.weights[3]) < 0.1  # the informative feature, not the noise one
    assert ((p > 0.5) == labels).mean() > 0.72  # the noise leaves ~0.76 to the best rule


def _statistic(pair, valid):
    return local_change(pair.before, pair.after, valid, BANDS, "red", 96, 1.5).values


def test_planted_roofs_raised_and_the_seasonal_change_lowered():
    pair = seasonal_pair(regional=True)
    valid = np.ones(pair.truth.shape, bool)
    statistic = _statistic(pair, valid)
    values, model = reweighted(pair.before, pair.after, valid, BANDS, statistic, 4.0, 1.5, 0.1)
    assert model is not None
    inside, outside = pair.truth, ~pair.truth
    # the roofs' own spectra are those of the high tail: raised (×2 at most); elsewhere lowered
    assert np.median(values[inside] / statistic[inside]) > 1.5
    assert np.median(values[outside] / np.maximum(statistic[outside], 1e-6)) < 0.5
    # nothing the season changed outside the roofs reaches the roofs' lowest re-weighted level
    assert np.quantile(values[outside], 0.999) < np.quantile(values[inside], 0.25)


def test_without_a_tail_the_statistic_is_kept():
    pair = seasonal_pair(roofs=())
    valid = np.ones(pair.truth.shape, bool)
    statistic = _statistic(pair, valid)
    values, model = reweighted(pair.before, pair.after, valid, BANDS, statistic, 1e9, 1.5, 0.1)
    assert model is None and values is statistic


def test_blocks_equal_whole_with_invalid_pixels():
    pair = seasonal_pair()
    valid = np.ones(pair.truth.shape, bool)
    valid[:, :20] = False
    before = np.where(valid, pair.before, np.nan)
    statistic = _statistic(pair, valid)
    whole, model = reweighted(before, pair.after, valid, BANDS, statistic, 4.0, 1.5, 0.1)
    blocked, blocked_model = reweighted(before, pair.after, valid, BANDS, statistic, 4.0, 1.5, 0.1, core_px=64)
    assert model is not None and blocked_model is not None
    np.testing.assert_array_equal(model.weights, blocked_model.weights)
    np.testing.assert_allclose(np.nan_to_num(blocked), np.nan_to_num(whole), rtol=0, atol=1e-5)
    assert np.isnan(blocked[:, :20]).all() and not np.isnan(blocked[:, 20:]).any()


def test_detector_registered_with_the_shipped_parameters():
    data = json.loads(resources.files("geo.change.params").joinpath(PARAMS_RESOURCE).read_text())
    detector = build_detector("self-trained")
    assert DETECTORS["self-trained"] is type(detector)
    assert detector.params == SelfTrainedParams(**data["parameters"]) == SelfTrainedParams.shipped()
    assert data["provenance"]["script"] == "benchmarks/oscd_learned.py --write"
    assert detector.algorithm_version.startswith("self-trained/0.2+")
    found = detector.detect(*(lambda p: (p.before, p.after))(seasonal_pair()), np.ones((256, 256), bool), BANDS)
    summary = found.summary()
    assert summary["method"] == "self-trained" and summary["threshold_grow"] == round(detector.params.threshold, 4)
    assert [level["key"] for level in summary["levels"]][0] == "detection"
