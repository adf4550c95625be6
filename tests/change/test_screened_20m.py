"""The 20 m screen of issue 17 (``benchmarks/oscd_red_edge.py``), on synthetic images whose answer is known:
the 2 × 2 grid and its way back keep objects where they are, a change planted in a 20 m band stands out
where it was planted, and extra bands stay out of the stacks the scoring's region step reads."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from benchmarks.oscd_directions import CityData
from benchmarks.oscd_red_edge import _double, _halve, at_20m, fusion_at_20m, with_bands


def _centroid(image: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(image.shape)
    return float((image * rows).sum() / image.sum()), float((image * cols).sum() / image.sum())


def test_halving_and_doubling_keep_an_object_in_place_on_odd_shapes() -> None:
    image = np.zeros((41, 37))
    image[10:20, 6:16] = 1.0
    small, small_valid = _halve(image, np.ones(image.shape, bool))
    assert small.shape == (21, 19) and small_valid.all()
    assert small[5:10, 3:8] == pytest.approx(np.ones((5, 5)))
    back = _double(small, image.shape)
    assert back.shape == image.shape
    assert _centroid(back) == pytest.approx(_centroid(image), abs=1e-9)


def test_halving_averages_only_the_valid_pixels() -> None:
    image = np.array([[1.0, 3.0], [np.nan, 100.0]])
    valid = np.array([[True, True], [False, False]])
    small, small_valid = _halve(image, valid)
    assert small[0, 0] == pytest.approx(2.0) and small_valid[0, 0]


def _field(seed: int, shape: tuple[int, int] = (192, 192)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 0.1 + 0.05 * ndi.gaussian_filter(rng.normal(size=shape), 3) / 0.09


def test_a_change_planted_at_20m_stands_out_where_it_was_planted() -> None:
    before = _field(0)
    rng = np.random.default_rng(1)
    after = 0.8 * before + 0.03 + rng.normal(0, 0.002, before.shape)
    after[90:102, 90:102] += 0.05  # a 120 m site: six 20 m pixels across
    statistic = fusion_at_20m(before, after, np.ones(before.shape, bool))
    assert statistic.shape == before.shape
    assert np.median(statistic[92:100, 92:100]) > 6
    away = np.ones(before.shape, bool)
    away[70:122, 70:122] = False
    assert np.median(statistic[away]) < 1.2  # ~0.8 for the mean |z| of no change


def test_extra_bands_are_read_apart_from_the_stacks() -> None:
    before, after = _field(2), _field(3)  # red: unrelated dates, change everywhere
    edge_before = _field(4)
    edge_after = 0.8 * edge_before + 0.03 + np.random.default_rng(5).normal(0, 0.002, edge_before.shape)
    edge_after[90:102, 90:102] += 0.05
    valid = np.ones(before.shape, bool)
    city = CityData(before[None], after[None], valid, np.zeros(before.shape, bool), ("red",))
    extended = with_bands(city, {"rededge1": (edge_before, edge_after, valid)})
    assert extended.before is city.before and extended.after is city.after and extended.bands == ("red",)
    statistic = at_20m("rededge1")(extended)
    assert np.array_equal(statistic, fusion_at_20m(edge_before, edge_after, valid))
    assert np.median(statistic[92:100, 92:100]) > 6
