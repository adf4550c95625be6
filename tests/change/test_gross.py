"""Changes wider than the local fits' window (``geo.change.gross``): a planted change several windows wide
stands out whole, not as its rim; small changes are decided as before; blocks give the whole-image numbers."""

from __future__ import annotations

import numpy as np
import pytest

from geo.change.gross import Screen, fit_weights
from geo.change.local_blocks import apply_local, fit_local, halo_px, local_statistic, whole
from tests.change.scenes import BANDS, seasonal_pair

RED = BANDS.index("red")
WINDOW, SIGMA, CORE, LEVEL = 32, 1.5, 96, 2.7
BIG = (100, 120, 150, 160)  # rows 100-250, cols 120-280: ~5 windows across, over block seams
SMALL = (40, 40, 12, 12)
NOTHING = Screen(None, None)  # the fits as they were: every valid pixel weighs them


def box(rows: int, cols: int, spec: tuple[int, int, int, int], inset: int = 0) -> np.ndarray:
    r, c, h, w = spec
    out = np.zeros((rows, cols), bool)
    out[r + inset:r + h - inset, c + inset:c + w - inset] = True
    return out


@pytest.fixture(scope="module")
def big():
    made = seasonal_pair(shape=(400, 440), roofs=(BIG, SMALL), regional=True)
    return made, made.before[RED], made.after[RED], np.ones(made.truth.shape, bool)


def test_a_change_wider_than_the_window_stands_out_whole(big):
    made, x, y, valid = big
    screened, fit = local_statistic(x, y, valid, WINDOW, SIGMA, core_px=10_000)
    unscreened = apply_local(x, y, valid, fit_local(x, y, valid, WINDOW, SIGMA, windows=whole(valid.shape),
                                                    screen=NOTHING), core_px=10_000)
    inside = box(400, 440, BIG, inset=8)
    assert (unscreened[inside] > LEVEL).mean() < 0.5  # explained away by the windows over it: its rim
    assert (screened[inside] > LEVEL).mean() > 0.98
    # the screen leaves the big change out of the fits, not the small one
    kept = fit_weights(x, y, valid, fit.screen)
    assert not kept[inside].any() and kept[box(400, 440, SMALL)].all()
    small, around = box(400, 440, SMALL, inset=2), ~box(400, 440, BIG, inset=-12) & ~box(400, 440, SMALL, inset=-12)
    assert (screened[small] > LEVEL).all() and (unscreened[small] > LEVEL).all()
    # no more false alarms outside the changes than without the screen
    assert (screened[around] > LEVEL).mean() <= (unscreened[around] > LEVEL).mean() + 0.002


def test_blocks_give_the_whole_image_statistic_with_the_screen(big):
    _, x, y, valid = big
    exact, fit = local_statistic(x, y, valid, WINDOW, SIGMA, core_px=10_000)
    assert fit.screen is not None and fit.screen.forward is not None
    blocked = apply_local(x, y, valid, fit, core_px=CORE)
    assert np.array_equal(blocked, exact, equal_nan=True)
    # the screen's square is part of the halo: without its reach (the halo before it) the cores change
    short = apply_local(x, y, valid, fit, core_px=CORE, halo=halo_px(WINDOW, SIGMA) - 2 * 8)
    assert np.abs(short - exact).max() > 1e-3
    assert np.abs(apply_local(x, y, valid, fit, core_px=CORE, halo=halo_px(WINDOW, SIGMA) - 8) - exact).max() > 0
