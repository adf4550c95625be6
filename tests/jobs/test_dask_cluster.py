"""Blocks of a large grid's change statistic on a Dask cluster give what they give in this process."""

from __future__ import annotations

import numpy as np
from geo.change.tiling import run_serial
from geo.change.local_blocks import apply_local, fit_local
from geo.jobs.dask_cluster import block_runner
from tests.change.scenes import BANDS, seasonal_pair


def test_serial_and_dask_blocks_give_the_same_statistic():
    made = seasonal_pair(shape=(300, 330), regional=True)
    x, y = made.before[BANDS.index("red")], made.after[BANDS.index("red")]
    valid = np.ones(x.shape, bool)
    valid[100:140, 120:150] = False
    fit = fit_local(x, y, valid, 32, 1.5)
    serial = apply_local(x, y, valid, fit, run_serial, core_px=64)  # 5 x 6 blocks
    with block_runner(workers=2) as runner:
        assert runner is not run_serial
        on_cluster = apply_local(x, y, valid, fit, runner, core_px=64)
    assert np.array_equal(on_cluster, serial, equal_nan=True)
    assert np.isnan(serial[100:140, 120:150]).all() and np.nanmax(serial[made.truth]) > 10


def test_one_worker_without_a_scheduler_runs_here():
    with block_runner() as runner:
        assert runner is run_serial
