"""The per-pair levels and the surrogate null of ``benchmarks/oscd_decision_levels.py`` (issue 17's screen of
decision levels): the measurement is only as honest as these are."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from benchmarks.oscd_decision_levels import LEVEL_GRID, excess_scores, kittler_illingworth, knee, surrogate


def test_kittler_illingworth_splits_a_bimodal_histogram_between_its_modes():
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.normal(1.0, 0.2, 19_000), rng.normal(4.0, 0.5, 1_000)])
    level = kittler_illingworth(values)
    assert 1.6 < level < 3.0


def test_the_surrogate_keeps_the_histogram_and_breaks_up_a_coherent_object():
    rng = np.random.default_rng(2)
    field = ndi.gaussian_filter(np.abs(rng.normal(size=(160, 160))), 1.0)
    field[60:80, 60:80] += 3.0  # one 400 px changed site
    valid = np.ones(field.shape, bool)
    null = surrogate(field, valid)
    assert np.array_equal(np.sort(null, axis=None), np.sort(field, axis=None))
    level = float(np.quantile(field, 1 - 400 / field.size))  # as many pixels above it as the site has
    _, real = excess_scores(field, valid, level)
    _, fake = excess_scores(null, valid, level)
    # the site is one object with a large excess mass; in the surrogate its values are scattered
    assert real.max() > 3 * fake.max()


def test_the_knee_is_where_the_object_count_stops_falling():
    counts = np.where(LEVEL_GRID < 2.0, 1000 * np.exp(-3 * (LEVEL_GRID - 1.2)), 90.0)
    assert knee(counts, 0.9) == 2.0
