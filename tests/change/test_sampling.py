"""Global statistics from bounded samples, chunked IR-MAD and one-pass labelled means: the same figures as
the whole-image computations they replace (exactly where the sample is the whole), bounded work beyond."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from geo.change.labels import label_means, labelled_pixels
from geo.change.local import robust_z
from geo.change.normalise import irmad
from geo.change.sampling import SAMPLE_MAX, distinct_sample, median, percentiles, sample_index, sampled_median
from tests.change.scenes import gaussian_no_change


def test_small_inputs_are_not_sampled_and_large_ones_are_pinned_by_the_sample():
    assert sample_index(SAMPLE_MAX) is None
    values = np.random.default_rng(3).normal(5.0, 2.0, 3 * SAMPLE_MAX)
    pick = sample_index(values.size)
    assert pick is not None and pick.size == SAMPLE_MAX
    assert np.array_equal(pick, sample_index(values.size))  # fixed: reruns give the same figures
    # the standard error of a median of 1e6 normal values is 1.25 * 2 / 1000 = 0.0025
    assert sampled_median(values) == pytest.approx(np.median(values), abs=0.01)
    assert sampled_median(values) != np.median(values)


def test_robust_z_of_a_large_image_matches_the_whole_image_scale():
    rng = np.random.default_rng(5)
    values = rng.normal(0.3, 0.05, (1100, 1000))
    values[:50] += 1.0  # a changed strip must not move the robust scale
    valid = np.ones(values.shape, bool)
    z = robust_z(values, valid)
    exact = (values - np.median(values)) / (1.4826 * np.median(np.abs(values - np.median(values))))
    assert np.abs(z - exact).max() < 0.01 * np.abs(exact).max()
    assert np.median(z[:50]) > 15  # the changed strip stands out by its 1.0 over a 0.05 scale


def test_irmad_chi_square_does_not_depend_on_the_chunk_size():
    before, after = gaussian_no_change(seed=4)
    valid = np.ones(before.shape[1:], bool)
    valid[:7] = False
    whole = irmad(before, after, valid)
    chunked = irmad(before, after, valid, chunk=997)
    assert np.array_equal(whole.chi2, chunked.chi2, equal_nan=True)
    assert np.array_equal(whole.no_change, chunked.no_change, equal_nan=True)
    assert np.isnan(whole.chi2[:7]).all() and np.isfinite(whole.chi2[7:]).all()
    # no change: the statistic is chi-square with k dof, mean k
    assert np.nanmean(whole.chi2) == pytest.approx(before.shape[0], rel=0.1)


def test_label_means_are_scipy_means_in_one_selection():
    rng = np.random.default_rng(9)
    labels, count = ndi.label(rng.random((200, 300)) > 0.7)
    image = rng.normal(size=labels.shape).astype(np.float32)
    where, selected = labelled_pixels(labels)
    assert np.array_equal(selected, labels[labels > 0])
    [means] = label_means(selected, [image.ravel()[where]], count + 2)  # two labels with no pixel
    assert np.array_equal(means[:count], ndi.mean(image, labels, np.arange(1, count + 1)))
    assert np.isnan(means[count:]).all()


def test_distinct_sample_is_numpys_unique_of_the_sample_and_nth_valid_finds_it_by_strips():
    from geo.change.sampling import distinct_sample
    from geo.scenes.scratch import nth_valid

    assert distinct_sample(SAMPLE_MAX) is None
    n = SAMPLE_MAX + 130_000  # a 100 km2 grid: most picks drawn more than once
    ranks = distinct_sample(n, seed=2)
    pick = sample_index(n, seed=2)
    assert ranks is not None and pick is not None
    assert np.array_equal(ranks, np.unique(pick)) and ranks.dtype == np.unique(pick).dtype
    assert 600_000 < ranks.size < SAMPLE_MAX and np.all(np.diff(ranks) > 0)
    valid = np.random.default_rng(8).random((1300, 1000)) < 0.9
    valid[400:700] = False  # whole strips with no valid pixel
    ranks = distinct_sample(int(valid.sum()), size=50_000)
    assert ranks is not None
    expected = np.flatnonzero(valid)[ranks]
    assert np.array_equal(nth_valid(valid, ranks, strip_px=100_000), expected)  # 13 strips of 100 rows
    unsorted = sample_index(int(valid.sum()), size=50_000, seed=5)
    assert unsorted is not None
    assert np.array_equal(nth_valid(valid, unsorted, strip_px=100_000), np.flatnonzero(valid)[unsorted])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(1_000_001,), (6, 4_000), (6, 3_999), (2, 1), (2,), (3, 5)])
def test_median_is_numpys_value_for_value(shape, dtype):
    """The one-partition median against ``np.median`` on random data with ties and signed values: the same
    values, dtype and shape, with and without ``keepdims``."""
    rng = np.random.default_rng(sum(shape))
    values = rng.standard_normal(shape).astype(dtype)
    values[..., : shape[-1] // 3] = np.round(values[..., : shape[-1] // 3])  # ties around the middle
    for keepdims in (False, True):
        mine, numpys = median(values, keepdims=keepdims), np.median(values, axis=-1, keepdims=keepdims)
        assert np.asarray(mine).dtype == np.asarray(numpys).dtype and np.shape(mine) == np.shape(numpys)
        assert np.array_equal(mine, numpys)


def test_median_leaves_nan_integers_and_empty_rows_to_numpy():
    with_nan = np.array([[1.0, np.nan, 3.0], [1.0, 2.0, 4.0]])
    assert np.array_equal(median(with_nan), [np.nan, 2.0], equal_nan=True)
    assert median(np.array([1, 2, 3, 10])) == 2.5
    halves = np.array([0.1, 0.2, 0.3, 0.7], np.float16)
    assert median(halves) == np.median(halves) and median(halves).dtype == np.float16
    with pytest.warns(RuntimeWarning):
        assert np.isnan(median(np.array([], float)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [2, 3, 7, 51, 1_000, 123_457, 1_000_001])
def test_percentiles_are_numpys_value_for_value(n, dtype):
    """The display stretch's percentiles by single-place partitions against ``np.percentile`` (linear): the same
    float64 numbers on skewed data with ties, at the stretch's 2/98 and at other places."""
    rng = np.random.default_rng(n)
    values = rng.gamma(2.0, 0.05, n).astype(dtype)
    values[: n // 3] = np.round(values[: n // 3], 2)  # ties
    for q in ((2.0, 98.0), (0.5, 99.5), (25.0, 50.0, 75.0), (33.3,)):
        mine, numpys = percentiles(values, q), np.percentile(values, q)
        assert mine.dtype == numpys.dtype and np.array_equal(mine, numpys)


def test_percentiles_leave_nan_ends_and_other_dtypes_to_numpy():
    assert np.array_equal(percentiles(np.array([1.0, np.nan, 3.0]), (2.0, 98.0)), [np.nan, np.nan], equal_nan=True)
    assert np.array_equal(percentiles(np.arange(10), (0.0, 100.0)), [0.0, 9.0])
    assert np.array_equal(percentiles(np.array([5.0]), (2.0,)), [5.0])


def test_the_sample_in_order_is_drawn_once_read_only_and_the_same_sample():
    from geo.change.sampling import sample_in_order

    first = sample_in_order(3_000_000, seed=7)
    assert first is not None and not first.flags.writeable
    assert sample_in_order(3_000_000, seed=7) is first
    drawn = sample_index(3_000_000, seed=7)
    assert np.array_equal(drawn, np.random.default_rng(7).integers(0, 3_000_000, SAMPLE_MAX))  # not sorted by it
    assert np.array_equal(first, np.sort(drawn))
    assert np.array_equal(distinct_sample(3_000_000, seed=7), np.unique(drawn))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_order_statistics_of_the_sample_in_raster_order_are_those_of_the_sample(dtype):
    """``robust_scale`` and IR-MAD's centre and scale gather the million-pixel sample in index order: the same
    multiset as the random order ``sample_index`` draws, so the same medians, bit for bit."""
    from geo.change.local import robust_scale
    from geo.change.sampling import sample_in_order, sampled, sampled_in_order

    values = np.random.default_rng(3).standard_t(3, 1_300_001).astype(dtype)
    values[::7] = np.round(values[::7], 1)  # ties
    assert np.array_equal(np.sort(sampled_in_order(values)), np.sort(sampled(values)))
    assert np.array_equal(sample_in_order(values.size), np.sort(sample_index(values.size)))
    sample = sampled(values)  # robust_scale as it was computed, on the sample in its drawn order
    centre = np.median(sample)
    assert robust_scale(values) == (float(centre), 1.4826 * float(np.median(np.abs(sample - centre))))
    flat = np.zeros(1_300_001, dtype)  # MAD 0: the fallback, a sum over the sample in its drawn order
    flat[:400_000] = np.random.default_rng(4).standard_normal(400_000)
    assert robust_scale(flat) == (0.0, float(np.std(sampled(flat))))


def test_irmad_scale_from_the_sample_in_raster_order_is_that_of_the_drawn_sample():
    from geo.change.normalise import _robust_variance, _variates_at
    from geo.scenes.scratch import nth_valid

    before, after = gaussian_no_change((1_050, 1_000))
    valid = np.ones(before.shape[1:], bool)
    valid[:40] = False
    result = irmad(before, after, valid)
    t = result.transform
    mad = _variates_at(before, after, nth_valid(valid, sample_index(int(valid.sum()), seed=1)), t.a, t.b, t.mx, t.my)
    centre = np.median(mad, axis=-1, keepdims=True)
    assert np.array_equal(t.centre, centre)
    assert np.array_equal(t.variance, _robust_variance(mad, centre))
