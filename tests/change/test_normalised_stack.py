"""The after stack normalised where it is read: every read equals the whole normalised stack, as the
normalisation computed it before (``(after - intercept) / slope`` per band, assigned into a float32 stack),
bit for bit; and a detector, the scene levels and the region edges come out the same from either."""

from __future__ import annotations

import numpy as np
import pytest

from geo.change.classify import scene_levels
from geo.change.detectors import build_detector
from geo.change.detectors.base import NormalisedPair
from geo.change.normalise import normalise, normalise_lazily
from geo.change.threshold import StackDifference
from geo.scenes.scratch import SCRATCH_ENV, is_scratch, scratch_array
from tests.change.scenes import BANDS, seasonal_pair


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.fixture(scope="module")
def pair():
    """A float32 pair (the job's dtype) with NaN where the after date has no data."""
    p = seasonal_pair()
    before, after = p.before.astype(np.float32), p.after.astype(np.float32)
    after[3, 10:20, 30:40] = np.nan
    valid = np.isfinite(after).all(axis=0)
    return before, after, valid


@pytest.fixture(scope="module")
def lazy_and_expected(pair):
    before, after, valid = pair
    lazy, fits, _, _ = normalise_lazily(before, after, valid)
    expected = np.empty_like(after)  # the normalisation as it materialised the stack
    for band, fit in enumerate(fits):
        expected[band] = (after[band] - fit.intercept) / fit.slope
    assert not same_bits(expected, after) and {f.slope for f in fits} != {1.0}  # a real mapping, not identity
    return lazy, expected


def test_whole_bands_windows_and_fancy_indices_equal_the_materialised_stack(lazy_and_expected):
    lazy, expected = lazy_and_expected
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, 256, 500), rng.integers(0, 256, 500)
    for band in range(expected.shape[0]):
        assert same_bits(lazy[band], expected[band])
        assert lazy[band] is lazy[band]  # computed once
        assert same_bits(lazy[band, 40:90, 7:200], expected[band, 40:90, 7:200])
        assert same_bits(lazy[np.int64(band), rows, cols], expected[band, rows, cols])
    pixels = rng.choice(expected[0].size, 2000, replace=False)
    assert same_bits(lazy.take(pixels), expected.reshape(expected.shape[0], -1)[:, pixels])
    assert same_bits(lazy.materialise(), expected)
    assert lazy.shape == expected.shape and lazy.dtype == np.float32
    with pytest.raises(TypeError, match="one band at a time"):
        lazy[0:2, 5]


def test_normalise_still_gives_the_whole_stack(pair, lazy_and_expected):
    before, after, valid = pair
    whole, *_ = normalise(before, after, valid)
    assert same_bits(whole, lazy_and_expected[1])


def test_a_scratch_after_stack_gives_scratch_bands_with_the_same_bits(pair, lazy_and_expected, tmp_path, monkeypatch):
    monkeypatch.setenv(SCRATCH_ENV, str(tmp_path))
    before, after, valid = pair
    on_disk = scratch_array(after.shape, after.dtype)
    on_disk[:] = after
    lazy, *_ = normalise_lazily(before, on_disk, valid)
    expected = lazy_and_expected[1]
    assert is_scratch(lazy[2]) and same_bits(lazy[2], expected[2])
    assert is_scratch(lazy.materialise()) and same_bits(lazy.materialise(), expected)
    pixels = np.arange(0, expected[0].size, 37)
    assert same_bits(lazy.take(pixels), expected.reshape(expected.shape[0], -1)[:, pixels])


@pytest.mark.parametrize("method", ["local-fusion", "local-regression"])
def test_a_detector_decides_the_same_from_either_stack(pair, lazy_and_expected, method):
    """The detectors that read one band of the stack (a whole-stack detector materialises it: tested above)."""
    before, after, valid = pair
    lazy, expected = lazy_and_expected
    detector = build_detector(method)
    irmad = normalise_lazily(before, after, valid)[3]
    decided = [detector.decide(NormalisedPair(before, after, stack, valid, BANDS, irmad))
               for stack in (lazy, expected)]
    assert decided[0].mask.any()  # it finds the planted roofs
    assert same_bits(decided[0].statistic.values, decided[1].statistic.values)
    assert np.array_equal(decided[0].mask, decided[1].mask)


def test_scene_levels_and_region_edges_are_the_same_from_either_stack(pair, lazy_and_expected):
    before, after, valid = pair
    lazy, expected = lazy_and_expected
    assert scene_levels(before, lazy, valid, BANDS) == scene_levels(before, expected, valid, BANDS)
    rows, cols = np.nonzero(valid)
    assert same_bits(StackDifference(lazy, before).at(rows, cols), StackDifference(expected, before).at(rows, cols))
