"""The two screens of issue 17 that are new code, not a recombination: the multivariate local regression
(``benchmarks/oscd_multivariate.py``) and the graph-cut decision (``benchmarks/oscd_graphcut.py``), on
synthetic images whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from benchmarks.oscd_graphcut import graph_cut
from benchmarks.oscd_multivariate import equivalent_z, local_multi_fit, multi_z

SHAPE = (160, 160)


def _fields(count: int, seed: int = 0, shape: tuple[int, int] = SHAPE) -> np.ndarray:
    """``count`` smooth, textured reflectance-like bands."""
    rng = np.random.default_rng(seed)
    return np.stack([0.1 + 0.05 * ndi.gaussian_filter(rng.normal(size=shape), 2) / 0.14 for _ in range(count)])


def test_the_multivariate_fit_explains_a_mix_of_bands_that_no_one_band_explains() -> None:
    before = _fields(3)
    rows = np.linspace(0, 1, SHAPE[0])[:, None]
    # after red = a mix of before red and NIR whose weights drift across the image, plus an offset
    after_red = (1 - 0.5 * rows) * before[0] + 0.5 * rows * before[2] + 0.01
    valid = np.ones(SHAPE, bool)
    multi = local_multi_fit(before, after_red[None], valid, 32)[0]
    single = local_multi_fit(before[:1], after_red[None], valid, 32)[0]
    assert np.sqrt(np.mean(multi[16:-16, 16:-16] ** 2)) < 1e-3  # drift in the gains: interpolated, not exact
    assert np.sqrt(np.mean(single[16:-16, 16:-16] ** 2)) > 5e-3


def test_a_planted_change_stands_out_in_the_equivalent_z() -> None:
    rng = np.random.default_rng(1)
    before = _fields(3, shape=(96, 96))
    after = 0.9 * before + 0.02 + rng.normal(0, 0.002, before.shape)
    after[:, 44:52, 44:52] += np.array([0.03, -0.03, 0.02])[:, None, None]  # a new roof: every band moves
    z = multi_z(before, after, np.ones((96, 96), bool), 32)
    inside, outside = z[45:51, 45:51], np.delete(z, np.s_[36:60], axis=0)
    assert np.median(inside) > 8
    assert np.median(outside) == pytest.approx(0.674, abs=0.1)  # the median |z| of a standard normal


def test_the_equivalent_z_keeps_the_units_of_the_red_statistic() -> None:
    d2 = np.random.default_rng(2).chisquare(6, 200_000)  # no change: chi-square with the bands' dof
    assert np.mean(equivalent_z(d2, 6)) == pytest.approx(np.sqrt(2 / np.pi), abs=0.01)
    assert equivalent_z(np.array([1e4]), 6)[0] > 30  # far tail: finite, not inf


def test_graph_cut_without_a_boundary_cost_is_the_threshold() -> None:
    score = np.random.default_rng(3).gamma(2.0, 0.6, (60, 70))
    valid = np.ones(score.shape, bool)
    clear = np.abs(score - 2.2) > 0.01  # capacities are hundredths: margins under that are ties
    assert np.array_equal(graph_cut(score, valid, 2.2, 0.0)[clear], (score > 2.2)[clear])


def test_graph_cut_drops_a_lone_pixel_and_keeps_an_object() -> None:
    score = np.zeros((40, 40))
    score[5, 5] = 3.0  # margin 1 over t = 2: labelled change it saves 1 and costs 4 boundary edges × β 1
    score[20:25, 20:25] = 3.0  # saves 25, costs 20
    score[22, 22] = 1.5  # a weak pixel inside it: filled, its margin (0.5) costs less than its 4 boundary edges
    mask = graph_cut(score, np.ones(score.shape, bool), 2.0, 1.0)
    assert not mask[5, 5]
    assert mask[20:25, 20:25].all() and mask.sum() == 25
    plain = graph_cut(score, np.ones(score.shape, bool), 2.0, 0.0)
    assert plain[5, 5] and not plain[22, 22]  # the boundary cost made both differences
    valid = np.ones(score.shape, bool)
    valid[22, :] = False
    assert not graph_cut(score, valid, 2.0, 1.0)[22].any()  # no-data is never change
