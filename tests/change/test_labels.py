"""Region labels as small as their count allows: the same numbers as scipy's int32 labels, whatever the type."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from geo.change.detectors.local_regression import local_decision, local_regions
from geo.change.labels import EIGHT, label_compact, label_regions, most_regions
from geo.change.threshold import change_regions, drop_small


def _blobs(shape=(300, 320), seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return ndi.gaussian_filter(rng.random(shape), 2.0) > 0.52


def test_labels_fit_in_uint16_and_are_scipys_numbers():
    mask = _blobs()
    reference, count = ndi.label(mask, structure=EIGHT)
    labels, got = label_compact(mask, EIGHT, count)
    assert labels.dtype == np.uint16 and got == count > 20
    assert np.array_equal(labels, reference)


def test_a_bound_too_small_still_gives_every_region_as_int32():
    mask = np.zeros((600, 600), bool)
    mask[::2, ::2] = True  # 90,000 one-pixel regions: more than uint16 holds
    labels, count = label_compact(mask, EIGHT, 10)
    assert labels.dtype == np.int32 and count == 90_000
    assert np.array_equal(labels, ndi.label(mask, structure=EIGHT)[0])


def test_compact_change_regions_and_sieve_equal_the_int32_ones():
    mask = _blobs(seed=1)
    difference = np.random.default_rng(2).normal(size=(3, *mask.shape)).astype(np.float32)
    wide, count = label_regions(mask, 8)
    small, same = label_regions(mask, 8, compact=True)
    assert (wide.dtype, small.dtype) == (np.int32, np.uint16) and same == count > 20
    assert np.array_equal(small, wide)
    assert np.array_equal(change_regions(mask, difference, 8, compact=True), change_regions(mask, difference, 8))


def test_local_regions_with_a_counted_bound_equal_the_decision_then_the_sieve():
    rng = np.random.default_rng(3)
    score = ndi.gaussian_filter(rng.random((300, 320)), 1.5) * 10
    valid = rng.random(score.shape) > 0.02
    reference = drop_small(local_decision(score, valid, 5.05, 1.01), 6)
    got = local_regions(score, valid, 5.05, 1.01, 6)
    assert 0 < got.sum() < reference.size and np.array_equal(got, reference)


def test_the_bound_on_4_or_8_connected_regions_holds_and_is_reached_by_separate_blocks():
    for seed in range(4):
        mask = _blobs((257, 190), seed)  # (strips of 64 rows: regions that cross them)
        assert most_regions(mask, rows=64) >= ndi.label(mask)[1] > 10
        assert most_regions(mask, eight=True, rows=64) >= ndi.label(mask, EIGHT)[1] > 10
    squares = np.zeros((40, 40), bool)
    squares[1::4, 1::4] = squares[2::4, 2::4] = True  # 100 diagonal pairs: 200 4-connected regions
    assert most_regions(squares, rows=7) == ndi.label(squares)[1] == 200
    assert most_regions(squares, eight=True, rows=7) == ndi.label(squares, EIGHT)[1] == 100
    squares[2::4, 2::4], squares[2::4, :-1:4] = False, True  # anti-diagonal pairs: joined only 8-connected
    assert most_regions(squares, eight=True, rows=7) == ndi.label(squares, EIGHT)[1] == 100
