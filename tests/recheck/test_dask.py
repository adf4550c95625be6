"""Scale-out: AOIs processed on Dask workers give exactly the serial results; the store keeps one writer."""

from __future__ import annotations

from distributed import LocalCluster

from geo.recheck.run import recheck
from tests.recheck.conftest import dump_store, request

# where the scenes were read from differs between the two projects; nothing else may
DIFFERENT_PLACES = ("source", "arguments")


def test_local_cluster_of_two_workers_equals_serial(first_run_master, series, tmp_path, geo_cli):
    store = tmp_path / "dask.gpkg"
    result = geo_cli(*series.args(store, "--aoi", "site-a", "--aoi", "site-b", "--aoi", "site-c", "--aoi", "site-d",
                                  "--since", "2021-03-01", "--workers", "2"))
    assert result.returncode == 0, result.stderr
    assert "run 1: 8 new pairs, 4 new changes" in result.stdout
    serial = dump_store(first_run_master / "s.gpkg", DIFFERENT_PLACES)
    assert dump_store(store, DIFFERENT_PLACES) == serial


def test_existing_scheduler_equals_serial(first_run_master, series, tmp_path):
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        report = recheck(request(series, tmp_path / "sched.gpkg", scheduler=cluster.scheduler_address))
    assert report.run_id == 1 and not report.failed_aois
    serial = dump_store(first_run_master / "s.gpkg", DIFFERENT_PLACES)
    assert dump_store(tmp_path / "sched.gpkg", DIFFERENT_PLACES) == serial
