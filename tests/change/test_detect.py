"""Every change method on synthetic pairs with planted roofs, seasonal change and haze: F1 asserted."""

from __future__ import annotations

import numpy as np
import pytest

from geo.change.detect import METHODS, LocalParams, detect
from geo.change.threshold import change_regions
from geo.errors import ChangeError
from geo.eval.scoring import Confusion
from tests.change.scenes import BANDS, seasonal_pair


@pytest.fixture(scope="module", params=[False, True], ids=["uniform", "regional"])
def pair(request):
    return seasonal_pair(regional=request.param)


@pytest.mark.parametrize("method", METHODS)
def test_planted_roofs_found(pair, method):
    valid = np.ones(pair.truth.shape, bool)
    found = detect(pair.before, pair.after, valid, BANDS, method)
    regions = change_regions(found.mask, found.after_normalised - pair.before, max(8, found.min_area_px), found.edge_px) > 0
    score = Confusion.of(regions, pair.truth)
    assert score.f1 >= 0.95, f"{method}: F1 {score.f1:.3f} (precision {score.precision:.3f}, recall {score.recall:.3f})"
    assert found.summary()["method"] == method


def test_local_regression_small_object_and_invalid_pixels():
    pair = seasonal_pair(roofs=((100, 100, 5, 5),))
    valid = np.ones(pair.truth.shape, bool)
    valid[:, :30] = False
    found = detect(pair.before, pair.after, valid, BANDS, "local-regression")
    assert found.mask[100:105, 100:105].all()  # 25 px >= the 16 px minimum
    assert not found.mask[:, :30].any()
    assert found.mask.sum() < 4 * 25  # and little else: the roof and a rim the region step trims


def test_shipped_parameters_are_read_from_the_package():
    shipped = LocalParams.shipped()
    assert shipped.band in BANDS and shipped.window_px > 0 and shipped.threshold > 0


def test_unknown_method_and_missing_band_are_clear_errors():
    pair = seasonal_pair()
    valid = np.ones(pair.truth.shape, bool)
    with pytest.raises(ChangeError, match="unknown change method 'magic'"):
        detect(pair.before, pair.after, valid, BANDS, "magic")
    with pytest.raises(ChangeError, match="band 'red' is needed"):
        detect(pair.before[:2], pair.after[:2], valid, BANDS[:2], "local-regression")
