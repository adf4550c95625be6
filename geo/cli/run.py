"""``geo run``: one change job for one AOI (and its claims) between two scenes."""

from __future__ import annotations

from pathlib import Path

import click

from geo.cli.options import (
    aoi_dir_option, aoi_folder, claim_list, collection_option, not_empty, out_option, scene_source, seeds_dir_option,
    seeds_folder, one_cluster, scheduler_option, sensor_option, workers_count,
)
from geo.scenes.model import Sensor
from geo.scenes.source import default_source


def want_quick_end() -> None:
    """The run folder is written whole, the summary printed, and the cluster, the progress display and every
    read or write thread are closed: the process may end without the interpreter's teardown (emptying the
    modules of numpy, scipy, pandas, GDAL's clean-up: ~0.1 s), as ``geo coreg`` does (``geo.cli.start_up``)."""
    from geo.cli import start_up

    start_up.want_quick_end()


@click.command("run")
@click.option("--aoi", "aoi_ref", required=True, callback=not_empty,
              help="AOI id (from aoi/) or a polygon file: GeoJSON, GeoPackage, shapefile, KML...")
@click.option("--claim", "claim_ids", multiple=True, callback=claim_list,
              help="Claim id to test (repeatable, or a,b) [default: all claims naming the AOI].")
@click.option("--before", default=None, metavar="DATE|ITEM", callback=not_empty,
              help="Before scene: an ISO date YYYY-MM-DD (the best scene on or before it) or a scene item id.")
@click.option("--after", default=None, metavar="DATE|ITEM", callback=not_empty,
              help="After scene: an ISO date YYYY-MM-DD (the best scene on or after it) or a scene item id.")
@click.option("--source", default=None, callback=scene_source,
              help="'earth-search', 'planetary-computer', 'cdse' (the Copernicus Data Space: S3 keys to read), a "
                   "STAC API URL, a local STAC catalog, or 'demo' (the Nantes scenes shipped with geo); --sensor s1 "
                   "needs one holding Sentinel-1 (not earth-search) [default: earth-search for s2, "
                   "planetary-computer for s1, as geo scenes search].")
@collection_option()
@sensor_option(Sensor.S2,
              help="s2: Sentinel-2 optical change; s1: Sentinel-1 SAR change (sees through cloud; same-orbit pair, "
                   "log-ratio test, omnibus dating over the series).")
@out_option
@aoi_dir_option
@seeds_dir_option
@click.option("--workers", metavar="auto|N", callback=workers_count, default="auto", show_default=True,
              help="Compute the blocks of a large AOI's change statistic on a local Dask cluster of this many "
                   "processes (1: in this process; auto: a cluster only for a grid of 4 blocks or more on a "
                   "machine of 4 cores or more, a worker per spare core, at most 4).")
@scheduler_option("Address of an existing Dask scheduler (tcp://host:8786) to compute the blocks on instead.")
def run_command(aoi_ref: str, claim_ids: tuple[str, ...], before: str | None, after: str | None, source: str | None,
                collections: tuple[str, ...], sensor: Sensor, out: Path, aoi_dir: Path | None, seeds_dir: Path | None, workers: int | None,
                scheduler: str | None) -> None:
    """Detect change over an AOI between a before and an after scene; link it to claims.

    Without --before/--after the pair brackets the claims' time windows. Writes into --out the change
    polygons (changes.geojson, RFC 7946; changes.gpkg; changes.kml), the parts of the area not compared: cloud,
    no data, snow on one date only (not_compared.geojson, a layer of changes.gpkg), the area (aoi.geojson), claims.json,
    manifest.json, item.json, the evidence report (report.html), the imagery and statistic as COGs, and a
    QGIS project (project.qgz; changes.qlr and not_compared.qlr add changes.geojson and not_compared.geojson
    alone).
    """
    one_cluster(scheduler)
    from geo.cli.start_up import job_imports

    with job_imports():
        from geo.cli.change_job import execute, load_job_inputs
        from geo.scenes.pairs import check_scene_ref
    check_scene_ref(before, "--before")
    check_scene_ref(after, "--after")
    aoi, claims = load_job_inputs(aoi_ref, claim_ids, aoi_folder(aoi_dir),
                                  seeds_folder(seeds_dir, needed=bool(claim_ids)))
    execute(aoi, claims, source or default_source(sensor), before, after, out, sensor, workers, scheduler,
            collections)
    want_quick_end()
