"""The local model recovers known affine and smoothly varying displacements; failure paths are clear."""

from __future__ import annotations

import numpy as np
import pytest

from geo.align.coreg import estimate_shift
from geo.align.local import estimate_local, median_test
from geo.errors import TiePointError
from tests.align.fields import displace, texture

SHAPE = (448, 448)


@pytest.fixture(scope="module")
def ref():
    return texture(SHAPE)


def _field_error(model, truth, shape, margin=40):
    rows = np.arange(margin, shape[0] - margin, 8)
    cols = np.arange(margin, shape[1] - margin, 8)
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    dx, dy = model.field(rows, cols)
    tx, ty = truth(rr.astype(float), cc.astype(float))
    error = np.hypot(dx - tx, dy - ty)
    return float(error.max()), float(np.sqrt(np.mean(error**2)))


def test_affine_field_recovered(ref):
    def affine(r, c):
        return 0.6 + 0.9 * c / SHAPE[1] - 0.2 * r / SHAPE[0], -1.2 + 0.7 * r / SHAPE[0]

    tgt, truth = displace(ref, affine)
    shift = estimate_shift(ref, tgt)
    model = estimate_local(ref, tgt, None, None, shift, window=64, spacing=48)
    assert model.kind == "affine"
    assert model.points.inlier.sum() >= 40
    assert _field_error(model, truth, SHAPE)[0] < 0.05
    # the global shift lies within the field's range
    assert 0.4 <= shift.dx_px <= 1.5 and -1.2 <= shift.dy_px <= -0.5


def test_smooth_field_recovered_and_chosen_over_affine(ref):
    def wave(r, c):
        return (0.5 + 0.6 * np.sin(2 * np.pi * c / SHAPE[1]), -0.4 + 0.5 * np.cos(2 * np.pi * r / SHAPE[0]))

    tgt, truth = displace(ref, wave)
    shift = estimate_shift(ref, tgt)
    model = estimate_local(ref, tgt, None, None, shift, window=48, spacing=32)
    assert model.kind == "smooth"
    worst, rms = _field_error(model, truth, SHAPE, margin=48)
    assert rms < 0.03 and worst < 0.12
    assert model.cv_rmse_px < 0.15  # a left-out block predicted from the others (0.11; affine's 0.47)


def test_tie_points_on_a_strip_and_a_corner_patch_fit_a_model():
    """Valid ground only down the left edge and in a bottom-right patch: leaving the patch's block out leaves
    tie points on one line, through which no spline is fitted. Blocked folds first raised LinAlgError here
    (random folds seldom left all of the patch out); now the smooth candidate is not chosen."""
    shape = (1024, 640)
    image = texture(shape)
    tgt, _ = displace(image, lambda r, c: (np.full_like(c, 0.7), np.full_like(r, -0.4)))
    valid = np.zeros(shape, bool)
    valid[:, :64] = True
    valid[-64:, -200:] = True
    model = estimate_local(image, tgt, valid, valid, estimate_shift(image, tgt), window=48, spacing=32)
    used = model.points.inlier
    assert model.kind == "affine" and used.sum() >= 25 and len(np.unique(model.points.col[used])) > 1
    assert model.displacement(np.array([0.0, 1023.0]), np.array([639.0, 0.0]))[0] == pytest.approx(0.7, abs=0.01)


def test_tie_points_under_clouds_are_not_used(ref):
    tgt, truth = displace(ref, lambda r, c: (np.full_like(c, 1.3), np.full_like(r, -0.4)))
    valid = np.ones(SHAPE, bool)
    valid[100:260, 150:330] = False  # a masked cloud
    tgt = np.where(valid, tgt, 5 * tgt.max())
    shift = estimate_shift(ref, tgt, None, valid)
    model = estimate_local(ref, tgt, None, valid, shift, window=64, spacing=48)
    p = model.points
    # windows mostly under the cloud (centre 16 px inside it) are not measured; the rest stay exact
    inside = (p.row > 100 + 16) & (p.row < 260 - 16) & (p.col > 150 + 16) & (p.col < 330 - 16)
    assert inside.sum() == 0 or not p.inlier[inside].any()
    assert p.inlier.sum() >= 30
    assert np.abs(p.dx[p.inlier] - 1.3).max() < 0.05 and np.abs(p.dy[p.inlier] + 0.4).max() < 0.05


def test_too_few_tie_points_is_a_tie_point_error(ref):
    tgt, _ = displace(ref, lambda r, c: (np.full_like(c, 0.5), np.full_like(r, 0.5)))
    valid = np.zeros(SHAPE, bool)
    valid[:140, :140] = True  # room for 4 windows of 64 at spacing 64
    shift = estimate_shift(ref, tgt, valid, valid)
    with pytest.raises(TiePointError, match=r"only \d+ reliable tie points"):
        estimate_local(ref, tgt, valid, valid, shift, window=64, spacing=64, min_points=8)


def test_median_test_drops_a_wild_point():
    rows, cols = np.meshgrid(np.arange(5) * 50.0, np.arange(5) * 50.0, indexing="ij")
    dx = np.full(25, 0.5) + np.random.default_rng(0).normal(scale=0.01, size=25)
    dy = np.zeros(25)
    dx[12] = 1.4  # the centre point disagrees with all its neighbours
    keep = median_test(rows.ravel(), cols.ravel(), dx, dy, np.ones(25, bool), 50)
    assert not keep[12] and keep.sum() == 24


def _median_test_point_by_point(row, col, dx, dy, use, spacing):
    """The median test as it was written, a point at a time with np.median: the vectorised one must agree."""
    from scipy.spatial import cKDTree

    from geo.align.local import MEDIAN_TEST_EPS, MEDIAN_TEST_LIMIT

    keep = use.copy()
    index = np.flatnonzero(use)
    if index.size < 4:
        return keep
    tree = cKDTree(np.column_stack([col[index], row[index]]))
    dist, nbr = tree.query(np.column_stack([col[index], row[index]]), k=min(9, index.size))
    for i, (d_i, n_i) in enumerate(zip(dist, nbr)):
        near = n_i[(d_i > 0) & (d_i <= 2.5 * spacing)]
        if near.size < 3:
            continue
        for values in (dx[index], dy[index]):
            med = np.median(values[near])
            residual_med = np.median(np.abs(values[near] - med))
            if abs(values[i] - med) / (residual_med + MEDIAN_TEST_EPS) > MEDIAN_TEST_LIMIT:
                keep[index[i]] = False
    return keep


@pytest.mark.parametrize("seed", range(12))
def test_median_test_keeps_the_points_np_median_point_by_point_keeps(seed):
    """Grids with gaps (odd and even neighbour counts, isolated points, points at the edge), shifts with
    heavy tails, ties and a few NaN: the same points kept, bit for bit the same decisions."""
    rng = np.random.default_rng(seed)
    side = int(rng.integers(3, 30))
    rows, cols = np.meshgrid(np.arange(side) * 64.0 + 31.5, np.arange(side) * 64.0 + 31.5, indexing="ij")
    n = side * side
    dx = rng.standard_t(2, n) * 0.3 + 0.2
    dy = np.round(rng.normal(0, 0.2, n), 1 if seed % 2 else 6)  # rounded: ties among neighbours
    if seed % 3 == 0:
        dx[rng.integers(0, n, 3)] = np.nan
    use = rng.random(n) > rng.uniform(0.0, 0.6)
    with np.errstate(invalid="ignore"):
        expected = _median_test_point_by_point(rows.ravel(), cols.ravel(), dx, dy, use, 64.0)
        got = median_test(rows.ravel(), cols.ravel(), dx, dy, use, 64.0)
    assert np.array_equal(got, expected)
    assert (~got & use).any() or seed % 3 == 0 or n < 50  # the test judges, not only keeps


@pytest.mark.parametrize("side, spacing, expected", [
    (2_740, 64, 64),  # 720 km²: co-registered whole anyway; 1,764 points, the spacing as asked
    (5_486, 64, 128),  # 2,944 km²: 7,225 points at 64 px, 1,764 at 128
    (10_920, 64, 192),  # a whole tile: 28,900 points at 64 px (its co-registration's most costly part), 3,136
    (10_920, 200, 200),  # a spacing already sparse enough stays
])
def test_sparse_spacing_keeps_a_large_grid_to_the_points_a_model_uses(side, spacing, expected):
    from geo.align.local import MEASURED_POINTS, sparse_spacing

    got = sparse_spacing((side, side), spacing)
    assert got == expected
    assert (side // got) ** 2 <= MEASURED_POINTS or got == spacing
    assert got == spacing or (side // (got - spacing)) ** 2 > MEASURED_POINTS  # the smallest factor that does
