"""Blocks of a large grid's change statistic on a Dask cluster give what they give in this process."""

from __future__ import annotations

import logging

import numpy as np
from geo.change.tiling import run_serial
from geo.change.local_blocks import apply_local, fit_local
from geo.jobs.dask_cluster import auto_workers, block_runner
from tests.change.scenes import BANDS, seasonal_pair


def test_serial_and_dask_blocks_give_the_same_statistic():
    made = seasonal_pair(shape=(300, 330), regional=True)
    x, y = made.before[BANDS.index("red")], made.after[BANDS.index("red")]
    valid = np.ones(x.shape, bool)
    valid[100:140, 120:150] = False
    fit = fit_local(x, y, valid, 32, 1.5)
    fits = [fit, fit_local(x, y, valid, 48, 1.5, min_over_sigmas_px=(2.5,))]  # two windows' minimum, as local-fusion
    serial = apply_local(x, y, valid, fit, run_serial, core_px=64)  # 5 x 6 blocks
    serial_min = apply_local(x, y, valid, fits, run_serial, core_px=64)
    with block_runner(workers=2) as runner:
        assert runner is not run_serial
        on_cluster = apply_local(x, y, valid, fit, runner, core_px=64)
        on_cluster_min = apply_local(x, y, valid, fits, runner, core_px=64)
    assert np.array_equal(on_cluster, serial, equal_nan=True)
    assert np.array_equal(on_cluster_min, serial_min, equal_nan=True)
    assert np.isnan(serial[100:140, 120:150]).all() and np.nanmax(serial[made.truth]) > 10
    assert (serial_min[valid] < serial[valid]).any() and (serial_min[valid] <= serial[valid]).all()


def test_one_worker_without_a_scheduler_runs_here():
    with block_runner() as runner:
        assert runner is run_serial


def test_auto_workers_start_a_cluster_only_for_many_blocks_on_spare_cores():
    assert [auto_workers(n, 2) for n in (1, 4, 100)] == [1, 1, 1]  # two cores: the job's process and one more
    assert [auto_workers(n, 8) for n in (1, 3, 4, 6, 100)] == [1, 1, 2, 3, 4]  # one per two blocks, at most 4
    assert [auto_workers(100, c) for c in (3, 4, 5, 64)] == [1, 3, 4, 4]  # a core left for the job's process


def _block_sum(block: np.ndarray) -> float:
    return float(block.sum())


def test_auto_runs_few_blocks_here_and_many_on_a_local_cluster(caplog):
    blocks = [(np.full((4, 4), float(i)),) for i in range(8)]
    expected = [16.0 * i for i in range(8)]
    with caplog.at_level(logging.INFO, logger="geo.jobs.dask_cluster"), block_runner(None, cpus=2) as runner:
        assert runner(_block_sum, blocks) == expected
    assert "local Dask cluster" not in caplog.text  # 2 cores: no cluster, whatever the grid
    with caplog.at_level(logging.INFO, logger="geo.jobs.dask_cluster"), block_runner(None, cpus=4) as runner:
        assert runner(_block_sum, blocks[:3]) == expected[:3]  # 3 blocks: done here before a cluster would start
        assert "local Dask cluster" not in caplog.text
        assert runner(_block_sum, blocks) == expected
    assert "computing 8 blocks on a local Dask cluster of 3 workers" in caplog.text
