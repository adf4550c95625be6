"""Every registered detector on synthetic pairs with planted roofs, seasonal change and haze: F1 asserted.
And what a detector is: a name, a version and parameters read once, whose digest is its algorithm version."""

from __future__ import annotations

import re
from dataclasses import asdict, replace

import numpy as np
import pytest

from geo.change.detectors import DEFAULT_METHOD, DETECTORS, build_detector, detector_settings
from geo.change.detectors.chi_square import ChiSquareParams
from geo.change.detectors.local_fusion import LocalFusionParams
from geo.change.detectors.local_regression import LocalParams, LocalRegression
from geo.change.threshold import StackDifference, change_regions
from geo.errors import ChangeError
from geo.eval.scoring import Confusion
from tests.change.scenes import BANDS, seasonal_pair


@pytest.fixture(scope="module", params=[False, True], ids=["uniform", "regional"])
def pair(request):
    return seasonal_pair(regional=request.param)


@pytest.mark.parametrize("method", list(DETECTORS))
def test_planted_roofs_found(pair, method):
    valid = np.ones(pair.truth.shape, bool)
    detector = build_detector(method)
    found = detector.detect(pair.before, pair.after, valid, BANDS)
    regions = change_regions(found.mask, found.after_normalised.materialise() - pair.before, max(8, found.min_area_px), found.edge_px) > 0
    score = Confusion.of(regions, pair.truth)
    assert score.f1 >= 0.95, f"{method}: F1 {score.f1:.3f} (precision {score.precision:.3f}, recall {score.recall:.3f})"
    assert found.summary()["method"] == method
    assert found.algorithm_version == detector.algorithm_version


def test_regions_from_the_two_stacks_equal_those_from_their_difference(pair):
    """The job passes the stacks (the difference is taken at the change regions only, not as a whole third
    stack): the regions are the same, NaN pixels (no data on one date) included."""
    before, after = pair.before.astype(np.float32), pair.after.astype(np.float32)
    found = build_detector("local-regression").detect(before, after, np.ones(pair.truth.shape, bool), BANDS)
    after_n = found.after_normalised.materialise()
    after_n[2, 95:110, 95:110] = np.nan  # inside a planted roof's region
    args = (max(8, found.min_area_px), found.edge_px)
    from_stacks = change_regions(found.mask, StackDifference(after_n, before), *args)
    whole = change_regions(found.mask, after_n - before, *args)
    assert whole.max() >= 3 and (whole > 0).sum() < (found.mask > 0).sum()  # regions, and edge pixels trimmed
    assert np.array_equal(from_stacks, whole)


def test_local_regression_small_object_and_invalid_pixels():
    pair = seasonal_pair(roofs=((100, 100, 5, 5),))
    valid = np.ones(pair.truth.shape, bool)
    valid[:, :30] = False
    found = build_detector("local-regression").detect(pair.before, pair.after, valid, BANDS)
    assert found.mask[100:105, 100:105].all()  # 25 px >= the 16 px minimum
    assert not found.mask[:, :30].any()
    assert found.mask.sum() < 4 * 25  # and little else: the roof and a rim the region step trims


def test_shipped_parameters_are_read_from_the_package():
    shipped = LocalParams.shipped()
    assert shipped.band in BANDS and shipped.window_px > 0 and shipped.threshold > 0
    assert build_detector("local-regression").params == shipped and DEFAULT_METHOD == "local-fusion"


def test_algorithm_version_is_name_version_and_parameter_digest():
    versions = {name: build_detector(name).algorithm_version for name in DETECTORS}
    for name, version in versions.items():
        assert re.fullmatch(rf"{re.escape(name)}/{re.escape(DETECTORS[name].version)}\+[0-9a-f]{{8}}", version)
    shipped = build_detector("local-regression")
    assert shipped.algorithm_version.startswith("local-regression/0.3+")
    # any effective parameter moves the digest, the same parameters give the same version
    relearnt = LocalRegression(replace(shipped.params, threshold=shipped.params.threshold + 0.1))
    assert relearnt.algorithm_version.split("+")[0] == "local-regression/0.3"
    assert relearnt.algorithm_version != shipped.algorithm_version
    assert LocalRegression(replace(shipped.params)).algorithm_version == shipped.algorithm_version
    # the chi-square detectors take the job's significance levels, and their version follows them
    stricter = build_detector("cva-chi2", {"alpha": 1e-6, "alpha_grow": 1e-2, "min_area_px": 99})
    assert stricter.params == ChiSquareParams(1e-6, 1e-2)
    assert stricter.algorithm_version != build_detector("cva-chi2").algorithm_version
    assert detector_settings() == {"method", "alpha", "alpha_grow"}


@pytest.mark.parametrize("method, params", [("local-regression", LocalParams), ("local-fusion", LocalFusionParams)])
def test_learnt_parameters_are_read_when_built_not_when_run(monkeypatch, method, params):
    """The parameters that ran are the ones the version names: a parameter file changed (or gone) after the
    detector was built changes nothing in what it detects or stamps."""
    pair = seasonal_pair()
    valid = np.ones(pair.truth.shape, bool)
    detector = build_detector(method)
    expected = detector.detect(pair.before, pair.after, valid, BANDS)

    def unreadable(cls):
        raise AssertionError("learnt parameters read at run time")

    monkeypatch.setattr(params, "shipped", classmethod(unreadable))
    found = detector.detect(pair.before, pair.after, valid, BANDS)
    assert np.array_equal(found.mask, expected.mask) and found.algorithm_version == expected.algorithm_version
    assert found.summary()["parameters"] == expected.summary()["parameters"] == asdict(detector.params)


def test_unknown_method_and_missing_band_are_clear_errors():
    pair = seasonal_pair()
    valid = np.ones(pair.truth.shape, bool)
    with pytest.raises(ChangeError, match="unknown change method 'magic'; choose one of local-regression, cva-chi2"):
        build_detector("magic")
    with pytest.raises(ChangeError, match="band 'red' is needed"):
        build_detector("local-regression").detect(pair.before[:2], pair.after[:2], valid, BANDS[:2])
