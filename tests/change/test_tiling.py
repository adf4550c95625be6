"""The local-regression statistic of a large grid, block by block with a halo (``geo.change.local_blocks``):
each block's core is the whole-image statistic given the same global quantities, and the sampled global
quantities find the same changes."""

from __future__ import annotations

import numpy as np
import pytest

from geo.change.tiling import Block, layout, spread
from geo.change.local_blocks import apply_local, fit_local, halo_px, local_statistic, sample_windows, whole
from tests.change.scenes import BANDS, seasonal_pair

RED = BANDS.index("red")
WINDOW, SIGMA, CORE = 32, 1.5, 96  # small blocks: a 400 x 440 grid is 5 x 5 of them


@pytest.fixture(scope="module")
def pair():
    roofs = ((40, 40, 20, 30), (150, 60, 12, 12), (88, 180, 16, 20), (290, 300, 25, 25), (200, 380, 8, 8))
    made = seasonal_pair(shape=(400, 440), roofs=roofs, regional=True)
    valid = np.ones(made.truth.shape, bool)
    valid[:, :9] = False  # a no-data strip and a cloud straddling block seams
    valid[180:215, 85:110] = False
    return made, made.before[RED], made.after[RED], valid


def test_layout_tiles_the_grid_with_aligned_clipped_halos():
    blocks = layout((400, 440), halo=66, core=96, align=8)
    assert len(blocks) == 5 * 5
    covered = np.zeros((400, 440), int)
    for block in blocks:
        covered[block.core] += 1
        assert block.win_row0 % 8 == 0 and block.win_col0 % 8 == 0  # the moment lattice lines up
        assert block.win_row0 == max(block.row0 - 72, 0) and block.win_row1 == min(block.row1 + 72, 400)
    assert (covered == 1).all()
    assert blocks[6] == Block(96, 96, 192, 192, 24, 24, 264, 264)
    assert blocks[6].core_in_window == (slice(72, 168), slice(72, 168))
    assert [b.row0 for b in spread(blocks, 3)] == [0, 192, 384] and spread(blocks[:2], 3) == blocks[:2]


def test_blocks_with_the_whole_image_quantities_give_the_whole_image_statistic(pair):
    _, x, y, valid = pair
    assert halo_px(WINDOW, SIGMA) == 72
    exact, fit = local_statistic(x, y, valid, WINDOW, SIGMA, core_px=10_000)  # one block: computed whole
    assert fit == fit_local(x, y, valid, WINDOW, SIGMA, windows=whole(valid.shape))
    blocked = apply_local(x, y, valid, fit, core_px=CORE)
    assert np.array_equal(np.isnan(blocked), ~valid)
    assert np.array_equal(blocked, exact, equal_nan=True)
    # a halo one moment block short does change the cores: the halo is what makes them exact
    short = apply_local(x, y, valid, fit, core_px=CORE, halo=48)  # the fits' reach (56) short: test_gross.py for the screen's
    assert np.abs(short[valid] - exact[valid]).max() > 1e-6


def test_sampled_quantities_find_the_same_changes(pair):
    made, x, y, valid = pair
    exact, fit = local_statistic(x, y, valid, WINDOW, SIGMA, core_px=10_000)
    sampled, sampled_fit = local_statistic(x, y, valid, WINDOW, SIGMA, core_px=CORE)
    assert sampled_fit != fit
    for got, want in ((sampled_fit.forward, fit.forward), (sampled_fit.backward, fit.backward)):
        assert got.centres[-1][1] == pytest.approx(want.centres[-1][1], rel=0.1)  # the robust scale
    assert np.median(np.abs(sampled[valid] / exact[valid] - 1)) < 0.1
    level = 2.7
    roofs = made.truth & valid
    assert (sampled[roofs] > level).mean() == pytest.approx((exact[roofs] > level).mean(), abs=0.02)
    assert (sampled[roofs] > level).mean() > 0.9
    assert abs(int((sampled[valid & ~made.truth] > level).sum()) - int((exact[valid & ~made.truth] > level).sum())) < 0.002 * valid.sum()


def test_the_sample_windows_are_where_the_data_is():
    """A grid of 5 x 5 sample cores, data only in its two right columns: all 10 of those are sampled (16 at
    most), none without data; with data everywhere 16 spread over the grid."""
    valid = np.zeros((1200, 1200), bool)
    valid[:, 800:] = True
    windows = sample_windows(valid, 120)
    assert len(windows) == 10 and all(valid[w.core].any() for w in windows)
    spread_out = sample_windows(np.ones((1200, 1200), bool), 120)
    assert len(spread_out) == 16 and len({w.row0 for w in spread_out}) == 5 and len({w.col0 for w in spread_out}) == 5
