"""The ``local-fusion`` detector on synthetic pairs with known truth: its statistic is the per-pixel minimum
of the local-regression statistic over its windows and footprints (block by block as whole), it finds the
planted roofs and not the season, an isolated one-pixel flicker that one footprint sees does not survive
the minimum, and its parameters ship in the package."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest
from scipy import ndimage as ndi

from geo.change.detectors import DETECTORS, build_detector
from geo.change.detectors.local_fusion import PARAMS_RESOURCE, LocalFusionParams
from geo.change.local import masked_gaussian, scaled
from geo.change.gross import fit_weights
from geo.change.local_blocks import SharedSums, apply_local, halo_px, local_statistic, residual
from geo.change.stats import local_change
from tests.change.scenes import BANDS, seasonal_pair

RED = BANDS.index("red")


def test_minimum_over_footprints_is_the_minimum_of_each_footprints_statistic_and_blocks_equal_whole():
    pair = seasonal_pair(shape=(300, 280), regional=True)
    valid = np.ones(pair.truth.shape, bool)
    valid[100:130, 50:90] = False  # a cloud across block seams
    x, y = pair.before[RED], pair.after[RED]
    fused, fit = local_statistic(x, y, valid, 32, 1.0, core_px=10_000, min_over_sigmas_px=(2.0,))
    one = local_statistic(x, y, valid, 32, 1.0, core_px=10_000)[0]
    two = local_statistic(x, y, valid, 32, 2.0, core_px=10_000)[0]
    np.testing.assert_array_equal(fused, np.fmin(one, two))
    assert (fused[valid] < one[valid]).any() and (fused[valid] < two[valid]).any()  # each footprint is lower somewhere
    assert np.isnan(fused[~valid]).all()
    assert halo_px(32, 2.0) > halo_px(32, 1.0)  # the halo is the widest footprint's
    np.testing.assert_array_equal(apply_local(x, y, valid, fit, core_px=96), fused)


def test_both_directions_filtered_together_are_each_directions_footprint_averaged_to_rounding():
    """The footprints filter the two directions' |z| summed (one Gaussian filtering for both, the filter being
    linear): the statistic is the mean of each direction's own footprint mean to float rounding, at most one
    unit in the last place of float32 (on the OSCD cities 7 % of pixels move by one; no decision does)."""
    pair = seasonal_pair(shape=(300, 280), regional=True)
    valid = np.ones(pair.truth.shape, bool)
    valid[100:130, 50:90] = False
    x, y = pair.before[RED], pair.after[RED]
    statistic, fit = local_statistic(x, y, valid, 32, 1.0, core_px=10_000, min_over_sigmas_px=(2.0,))

    shared = SharedSums(x, y, valid, fit_valid=fit_weights(x, y, valid, fit.screen))  # the fits' own weights
    forward = residual(x, y, valid, fit.window_px, fit.forward, shared.moments(True), fit_valid=shared.fit_valid)
    backward = residual(y, x, valid, fit.window_px, fit.backward, shared.moments(False), fit_valid=shared.fit_valid)
    z = [np.abs(scaled(r, valid, f.centres[-1])) for r, f in ((forward, fit.forward), (backward, fit.backward))]
    each = [((masked_gaussian(z[0], valid, sigma) + masked_gaussian(z[1], valid, sigma)) / 2).astype(np.float32)
            for sigma in fit.footprints_px]
    separately = np.fmin(*each)

    assert np.array_equal(np.isnan(statistic), ~valid)
    ulps = np.abs(statistic[valid] - separately[valid]) / np.spacing(separately[valid])
    assert ulps.max() <= 1.0


@pytest.fixture(scope="module")
def flickered():
    """The seasonal pair with planted roofs, plus one-pixel bright flickers in the after image (a car, a
    glint) that no analyst wants as change."""
    pair = seasonal_pair(regional=True)
    after = pair.after.copy()
    flickers = [(15 + 28 * i, 240) for i in range(8)]  # ≥ 30 px from every roof
    for r, c in flickers:
        after[:, r, c] += 0.18
    return pair, after, flickers


def test_detector_finds_the_roofs_not_the_season_nor_single_pixel_flickers(flickered):
    pair, after, flickers = flickered
    valid = np.ones(pair.truth.shape, bool)
    detector = build_detector("local-fusion")
    found = detector.detect(pair.before, after, valid, BANDS)
    p = detector.params
    # the statistic is the minimum over each window at each footprint, on the normalised after image
    each = [local_change(pair.before, found.after_normalised, valid, BANDS, "red", w, s).values
            for w in p.windows_px for s in p.sigmas_px]
    np.testing.assert_allclose(found.statistic.values, np.min(each, axis=0), rtol=1e-6)
    mask = found.mask
    assert (mask & pair.truth).sum() / pair.truth.sum() > 0.8  # the roofs
    near_roofs = ndi.binary_dilation(pair.truth, iterations=3)  # their rims are the region step's to trim
    assert (mask & ~near_roofs).sum() < 0.02 * pair.truth.sum()  # not the season or the haze
    flicker_pixels = np.zeros_like(mask)
    for r, c in flickers:
        flicker_pixels[r - 1:r + 2, c - 1:c + 2] = True
    assert not (mask & flicker_pixels).any()
    # the narrowest footprint alone sees every flicker above the seed level
    narrow = local_change(pair.before, found.after_normalised, valid, BANDS, "red", 96, 1.0).values
    assert all(narrow[r, c] > p.threshold * p.seed_factor for r, c in flickers)


def test_detector_registered_with_the_shipped_parameters():
    data = json.loads(resources.files("geo.change.params").joinpath(PARAMS_RESOURCE).read_text())
    detector = build_detector()
    assert DETECTORS["local-fusion"] is type(detector)  # the default
    parameters = data["parameters"]
    assert detector.params == LocalFusionParams.shipped() == LocalFusionParams(
        **{**parameters, "windows_px": tuple(parameters["windows_px"]), "sigmas_px": tuple(parameters["sigmas_px"])})
    assert data["provenance"]["script"] == "benchmarks/oscd_statistics.py --write"
    assert detector.algorithm_version.startswith("local-fusion/0.2+")


@pytest.mark.parametrize("core_px", [96, 10_000])  # blocks (3 x 3, a cloud across seams) and the whole grid
def test_windows_in_one_pass_are_each_windows_own_statistic_bit_for_bit(core_px):
    """Several windows computed together (one pass over the blocks, their common sums worked out once, each
    window on the block window its own halo gives) are the minimum of each window's own statistic, exactly."""
    pair = seasonal_pair(shape=(280, 300), regional=True)
    valid = np.ones(pair.truth.shape, bool)
    valid[90:125, 80:120] = False
    valid[:, :5] = False
    x, y = pair.before[RED], pair.after[RED]
    together, fit = local_statistic(x, y, valid, 24, 1.0, core_px=core_px, min_over_sigmas_px=(2.0,),
                                    min_over_windows_px=(40,))
    each = [local_statistic(x, y, valid, w, 1.0, core_px=core_px, min_over_sigmas_px=(2.0,))[0] for w in (24, 40)]
    np.testing.assert_array_equal(together, np.fmin(*each))
    assert fit.window_px == 24 and np.isnan(together[~valid]).all()
    assert all((together[valid] < one[valid]).any() for one in each)  # each window is the lower somewhere
    through = local_change(pair.before, pair.after, valid, BANDS, "red", 24, 1.0, min_over_sigmas_px=(2.0,),
                           min_over_windows_px=(40,))
    assert through.details["min_over_windows_px"] == [40]
    if core_px == 10_000:
        np.testing.assert_array_equal(through.values, together)
