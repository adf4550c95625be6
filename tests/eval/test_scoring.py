"""Scoring maths on arrays small enough to count by hand."""

from __future__ import annotations

import numpy as np
import pytest

from geo.eval.scoring import Confusion, mean_metrics

PREDICTED = np.array([[1, 1, 0], [0, 1, 0]], bool)
TRUTH = np.array([[1, 0, 0], [0, 1, 1]], bool)


def test_counts_and_metrics():
    c = Confusion.of(PREDICTED, TRUTH)
    assert (c.tp, c.fp, c.fn, c.tn) == (2, 1, 1, 2)
    assert c.precision == pytest.approx(2 / 3)
    assert c.recall == pytest.approx(2 / 3)
    assert c.f1 == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert c.iou == pytest.approx(2 / 4)


def test_f1_is_harmonic_mean_and_iou_relation():
    c = Confusion.of(np.array([1, 1, 1, 1, 0, 0], bool), np.array([1, 0, 0, 0, 1, 0], bool))
    assert (c.tp, c.fp, c.fn) == (1, 3, 1)
    p, r = c.precision, c.recall
    assert c.f1 == pytest.approx(2 * p * r / (p + r))
    assert c.iou == pytest.approx(c.f1 / (2 - c.f1))


def test_empty_prediction_scores_zero_not_nan():
    c = Confusion.of(np.zeros(4, bool), np.array([1, 0, 0, 0], bool))
    assert c.metrics() == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "iou": 0.0}


def test_pooled_counts_add_up():
    a = Confusion.of(PREDICTED, TRUTH)
    total = a + Confusion.of(TRUTH, TRUTH)
    assert (total.tp, total.fp, total.fn, total.tn) == (5, 1, 1, 5)


def test_mean_weights_every_city_equally():
    rows = [{"f1": 0.2, "seconds": 1.0}, {"f1": 0.6, "seconds": 3.0}]
    assert mean_metrics(rows, ("f1", "seconds")) == pytest.approx({"f1": 0.4, "seconds": 2.0})


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="differ in shape"):
        Confusion.of(np.zeros((2, 2), bool), np.zeros((2, 3), bool))
