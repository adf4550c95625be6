"""The numpy filters of the shift estimator are scipy.ndimage's, element for element (so no shift moves):
on real Sentinel-2 pixels, on noise with large and small values, on odd shapes and one-pixel-wide lines."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from geo.align import filters
from geo.align.coreg import FIVE_POINT
from tests.align.crops import CROPS, shifted_pair
from tests.conftest import SHARED_DATA


def images() -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    out = [
        rng.normal(0, 1, (97, 130)).astype(np.float32),
        (rng.random((64, 33)) * 1e4).astype(np.float32),  # DN-sized values
        rng.normal(0, 1, (2, 300)).astype(np.float32),
        rng.normal(0, 1, (5, 1)).astype(np.float32),
    ]
    if (SHARED_DATA / "coreg-pair").exists():
        ref, _ = shifted_pair(SHARED_DATA, CROPS[-1])
        out.append(((ref - ref.mean()) / ref.std()).astype(np.float32))
    return out


@pytest.mark.parametrize("block", [None, 40])
@pytest.mark.parametrize("image", images(), ids=lambda a: "x".join(map(str, a.shape)))
def test_filters_equal_scipy_bit_for_bit(image, block, monkeypatch):
    """Lines are filtered a block at a time (memory bounded on a large grid): one block, or many."""
    if block:
        monkeypatch.setattr(filters, "LINE_BLOCK_VALUES", block)
    assert image.size < filters.SCIPY_FROM_PIXELS  # numpy's own filters (large images go to scipy's)
    pairs = {
        "uniform 7": (filters.uniform_filter(image, 7), ndi.uniform_filter(image, 7)),
        "uniform 11": (filters.uniform_filter(image, 11), ndi.uniform_filter(image, 11)),
        "uniform 4": (filters.uniform_filter(image, 4), ndi.uniform_filter(image, 4)),
        "gaussian": (filters.gaussian_filter(image, 1.0, truncate=3.0),
                     ndi.gaussian_filter(image, 1.0, truncate=3.0)),
        "gaussian 2.3": (filters.gaussian_filter(image, 2.3), ndi.gaussian_filter(image, 2.3)),
        "gaussian 0": (filters.gaussian_filter(image, 0.0), ndi.gaussian_filter(image, 0.0)),
        "spline": (filters.spline_filter(image), ndi.spline_filter(image, order=3, output=np.float32)),
    }
    for axis in (0, 1):
        pairs[f"derivative {axis}"] = (filters.correlate1d(image, FIVE_POINT, axis, "edge"),
                                       ndi.correlate1d(image, FIVE_POINT, axis=axis, mode="nearest"))
    for name, (ours, theirs) in pairs.items():
        assert ours.dtype == theirs.dtype == np.float32, name
        assert ours.shape == theirs.shape, name
        assert np.array_equal(ours, theirs), (name, float(np.abs(ours - theirs).max()))


@pytest.mark.parametrize("pixels", [1, 4, 7])
def test_all_within_is_a_binary_erosion_with_the_outside_invalid(pixels):
    valid = np.random.default_rng(pixels).random((60, 45)) > 0.03
    expected = ndi.minimum_filter(valid.astype(np.uint8), size=2 * pixels + 1, mode="constant", cval=0) > 0
    got = filters.all_within(valid, pixels)
    assert got.any() and not got.all()
    assert np.array_equal(got, expected)


@pytest.mark.parametrize("shape", [(3, 41, 57), (2, 5, 1), (1, 30, 30)])
def test_a_stack_is_filtered_image_by_image(shape):
    """Windows stacked (image first) get each image's own filtering, bit for bit: the shift estimator
    prepares its windows as one stack."""
    rng = np.random.default_rng(shape[1])
    stack = (rng.normal(0, 1, shape) * rng.uniform(0.1, 100, (shape[0], 1, 1))).astype(np.float32)
    valid = rng.random(shape) > 0.05
    per_image = {
        "uniform 7": lambda x: filters.uniform_filter(x, 7),
        "gaussian": lambda x: filters.gaussian_filter(x, 1.0, truncate=3.0),
        "spline": filters.spline_filter,
        "columns": lambda x: filters.correlate1d(x, FIVE_POINT, -1, "edge"),
        "rows": lambda x: filters.correlate1d(x, FIVE_POINT, -2, "edge"),
    }
    for name, run in per_image.items():
        together = run(stack)
        assert together.shape == stack.shape, name
        for k in range(shape[0]):
            assert np.array_equal(together[k], run(stack[k])), (name, k)
    eroded = filters.all_within(valid, 2)
    assert all(np.array_equal(eroded[k], filters.all_within(valid[k], 2)) for k in range(shape[0]))


def test_other_kernels_are_refused():
    with pytest.raises(ValueError, match="symmetric"):
        filters.correlate1d(np.zeros((4, 4), np.float32), np.array([1.0, 2.0, 4.0]), 0, "edge")


def masks() -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    blobs = ndi.gaussian_filter(rng.normal(size=(400, 500)), 6) > 0.02  # cloud-like regions, some very large
    spiral = np.zeros((61, 61), bool)  # one region that winds back on itself, and rings inside rings
    for i in range(0, 30, 4):
        spiral[i, i:61 - i] = spiral[i:61 - i, 60 - i] = spiral[60 - i, i + 2:61 - i] = spiral[i + 2:61 - i, i + 2] = True
    diagonal = np.eye(40, dtype=bool) | np.eye(40, dtype=bool)[::-1]  # joined by corners only
    return [blobs, spiral, diagonal, *(rng.random((90, 70)) < d for d in (0.05, 0.4, 0.6, 1.0)),
            np.zeros((5, 5), bool), rng.random((1, 30)) < 0.5, rng.random((30, 1)) < 0.5]


@pytest.mark.parametrize("mask", masks(), ids=lambda m: f"{m.shape}-{m.mean():.2f}")
def test_label_equals_scipy_numbering_included(mask):
    assert mask.size < filters.SCIPY_FROM_PIXELS
    labels, count = filters.label(mask)
    expected, expected_count = ndi.label(mask, structure=np.ones((3, 3), bool))
    assert count == expected_count
    assert labels.dtype == expected.dtype
    assert np.array_equal(labels, expected)


def test_label_counts_regions_joined_by_corners_as_one():
    mask = np.zeros((6, 6), bool)
    mask[0, 0] = mask[1, 1] = mask[2, 2] = True  # a diagonal: one region
    mask[0, 4] = mask[4, 0] = True  # two separate pixels
    labels, count = filters.label(mask)
    assert count == 3
    assert labels[0, 0] == labels[2, 2] == 1 and labels[0, 4] == 2 and labels[4, 0] == 3


@pytest.mark.parametrize("size", [3, 7, 9])
def test_maximum_filter_equals_scipy(size):
    values = np.random.default_rng(size).integers(-50, 50, (41, 57)).astype(np.int32)
    assert np.array_equal(filters.maximum_filter(values, size), ndi.maximum_filter(values, size=size))
    assert np.array_equal(filters.maximum_filter(values > 40, size), ndi.maximum_filter(values > 40, size=size))
