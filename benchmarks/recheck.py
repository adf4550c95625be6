"""Re-check speed: a no-op re-check of 50 AOIs (seconds), and AOIs per minute with 1 vs 2 Dask workers.

    python benchmarks/recheck.py [--aois 50] [--noop-only] [--runs 11] [--json OUT]
    (default OUT: benchmarks/results/recheck.json)

Builds a synthetic project (scenes with planted roofs written as GeoTIFFs in a local STAC catalog, one AOI
per cell of a grid over the footprint), then in one run:

1. re-checks every AOI serially (``--workers 1``, in-process) into a fresh store: AOIs per minute;
2. the same with ``--workers 2`` (a new local Dask cluster of 2 worker processes, its start-up included);
3. the same on an already running, warmed-up cluster (``--scheduler``) of 1 and of 2 workers, one cluster
   at a time, alternating, best of 2 each: the parallel speed-up without start-up costs;
4. re-checks the first store again with nothing new: seconds in-process (median of 5), and the whole
   ``geo recheck`` command as a process against ``geo --version`` (interpreter + CLI start-up), the two run
   in turn, the ratio taken pair by pair (goal: at most 3x); the same over a STAC API (the tests' loopback
   archive on 127.0.0.1 serving the scenes' items) instead of the local catalog.

``--noop-only`` skips 2-3. Prints JSON (and writes it to --json). Figures depend on the machine and its load
(reported).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the synthetic scene writer lives with the tests

from geo.recheck.request import RecheckRequest
from geo.recheck.run import recheck  # noqa: E402
from tests import synthetic  # noqa: E402

CELL = 40  # AOI size in pixels (400 m)
# What a no-op over a local catalog still imports beyond `geo --version` (which has click and rich): pystac to read
# the catalog (it imports urllib3 too), sqlite3 for the store, tomllib for the claims.
FLOOR_IMPORTS = "import pystac, sqlite3, tomllib, click, rich.console"
GAP = 24  # pixels between AOIs


def build(root: Path, n_aois: int) -> tuple[Path, Path, Path]:
    cols = 10
    rows = -(-n_aois // cols)
    shape = (rows * (CELL + GAP) + GAP, cols * (CELL + GAP) + GAP)
    cells = [(GAP + r * (CELL + GAP), GAP + c * (CELL + GAP)) for r in range(rows) for c in range(cols)][:n_aois]
    roofs = tuple(synthetic.Rect(r + 10, c + 10, 14, 16) for r, c in cells[::3])
    stacks = synthetic.make_series(shape, ((0.0, 0.0), (0.3, -0.2)), {1: roofs})
    items = [synthetic.write_scene(root / "scenes" / "data" / f"S2A_BENCH_{k}", f"S2A_BENCH_{k}", when, stack)
             for k, (when, stack) in enumerate(zip((synthetic.utc(2021, 3, 1), synthetic.utc(2021, 4, 1)), stacks))]
    catalog = synthetic.write_catalog(root / "scenes", items)
    aoi_dir = root / "aoi"
    aoi_dir.mkdir()
    for index, (r, c) in enumerate(cells):
        bounds = _box(r, c)
        synthetic.write_aoi(aoi_dir / f"bench-{index:03d}.geojson", f"bench-{index:03d}", bounds)
    return catalog, aoi_dir, root / "seeds"


def _box(row: int, col: int) -> tuple[float, float, float, float]:
    from shapely.geometry import box

    from geo.geometry import WGS84, reproject

    x0, y0 = synthetic.ORIGIN
    shape = box(x0 + col * 10, y0 - (row + CELL) * 10, x0 + (col + CELL) * 10, y0 - row * 10)
    return reproject(shape, synthetic.CRS_UTM.to_string(), WGS84).bounds


def timed_recheck(request: RecheckRequest) -> tuple[float, object]:
    start = time.perf_counter()
    report = recheck(request)
    return time.perf_counter() - start, report


def warm_cluster_runs(make_request, repeats: int = 2) -> dict[int, float]:
    """Best seconds per worker count (1, 2) for a fresh store each time, on a running cluster (one at a
    time) whose workers have already imported the pipeline; the counts alternate so that other load on
    the machine hits both."""
    import importlib
    from dataclasses import replace

    from distributed import Client, LocalCluster

    best: dict[int, float] = {}
    for attempt in range(repeats):
        for n in (1, 2):
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                              silence_logs=logging.ERROR) as cluster:
                with Client(cluster) as client:
                    client.run(importlib.import_module, "geo.recheck.process")
                request = replace(make_request(f"warm{n}-{attempt}.gpkg"), scheduler=cluster.scheduler_address)
                seconds, _ = timed_recheck(request)
            best[n] = min(best.get(n, seconds), seconds)
    return best


def _run(command: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of ``command`` as a whole process, running this checkout's ``geo`` as an installed
    package runs: with its modules' bytecode cached (``pip install`` compiles it; PYTHONDONTWRITEBYTECODE
    would make every run compile the modules it imports, and the no-op imports more of them than
    ``--version``). CPU (user + system, from the kernel's accounting of the reaped child) moves less than
    wall time with the machine's other load."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH"))))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env, cwd=cwd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def paired_wall_s(command: list[str], reference: list[str], runs: int, cwd: Path | None = None,
                  reference_cwd: Path | None = None) -> dict[str, float]:
    """``command`` and ``reference`` as whole processes, started in turn (A B A B ...) after one unmeasured
    run of each, so that the machine's drifting load hits both; ratios taken pair by pair. Medians, and the
    wall ratio's spread. ``cwd``/``reference_cwd``: where each runs (``python -m geo`` imports the ``geo`` of
    its working folder first: another checkout's)."""
    _run(command, cwd), _run(reference, reference_cwd)
    pairs = [(_run(command, cwd), _run(reference, reference_cwd)) for _ in range(runs)]
    wall = [a[0] / b[0] for a, b in pairs]
    cpu = [a[1] / b[1] for a, b in pairs]
    return {"wall_s_median": round(statistics.median(a[0] for a, _ in pairs), 3),
            "reference_wall_s_median": round(statistics.median(b[0] for _, b in pairs), 3),
            "ratio_median": round(statistics.median(wall), 2),
            "ratio_min": round(min(wall), 2), "ratio_max": round(max(wall), 2),
            "cpu_s_median": round(statistics.median(a[1] for a, _ in pairs), 3),
            "reference_cpu_s_median": round(statistics.median(b[1] for _, b in pairs), 3),
            "cpu_ratio_median": round(statistics.median(cpu), 2), "runs": runs}


def stac_api_noop(root: Path, catalog: Path, aoi_dir: Path, seeds_dir: Path, ids: tuple[str, ...],
                  runs: int) -> dict[str, float]:
    """The no-op over a STAC API: the loopback archive of the tests serves the catalog's items and their
    pixels (geo reads no local path an archive names); a first re-check registers the AOIs, then the no-op
    command is timed."""
    import pystac

    from tests.archive_server import ArchiveServer

    server = ArchiveServer(page_size=100).start()
    try:
        for item in pystac.Catalog.from_file(str(catalog)).get_items(recursive=True):
            served = item.to_dict(include_self_link=False)
            for key, asset in item.assets.items():
                served["assets"][key]["href"] = server.add_file(f"files/{item.id}/{key}.tif",
                                                                Path(asset.get_absolute_href() or ""))
            server.add_item({**served, "collection": "sentinel-2-l2a", "links": []})
        store = root / "stac.gpkg"
        recheck(RecheckRequest(store=store, source=server.url, aoi_refs=ids, since=date(2021, 3, 1),
                               aoi_dir=aoi_dir, seeds_dir=seeds_dir))
        geo = [sys.executable, "-m", "geo"]
        cli = geo + ["recheck", "--store", str(store), "--source", server.url, "--aoi-dir", str(aoi_dir),
                     "--seeds-dir", str(seeds_dir)]
        return paired_wall_s(cli, geo + ["--version"], runs)
    finally:
        server.stop()


def throughput(make_request, serial, n_aois: int, root: Path) -> dict[str, object]:
    """Steps 2 and 3: a new 2-worker cluster, and running clusters of 1 and 2 workers."""
    parallel_s, parallel = timed_recheck(make_request(root / "parallel.gpkg", workers=2))
    warm = warm_cluster_runs(lambda name: make_request(root / name))
    return {
        "same_results_1_vs_2_workers": serial.summary["n_new_changes"] == parallel.summary["n_new_changes"],
        "workers_2": {"seconds": round(parallel_s, 2), "aois_per_minute": round(60 * n_aois / parallel_s, 1),
                      "includes": "LocalCluster start-up and the workers' imports"},
        "warm_cluster_best_of_2": {f"workers_{n}": {"seconds": round(s, 2), "aois_per_minute": round(60 * n_aois / s, 1)}
                                   for n, s in warm.items()},
        "warm_speedup_2_vs_1": round(warm[1] / warm[2], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aois", type=int, default=50)
    parser.add_argument("--noop-only", action="store_true", help="only the no-op figures (steps 1 and 4)")
    parser.add_argument("--runs", type=int, default=21, help="paired runs of each whole-process no-op timing")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "recheck.json",
                        help="also write the JSON here")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="geo-bench-recheck-"))
    catalog, aoi_dir, seeds_dir = build(root, args.aois)
    ids = tuple(sorted(p.stem for p in aoi_dir.glob("*.geojson")))

    def request(store: Path, **extra) -> RecheckRequest:
        return RecheckRequest(store=store, source=str(catalog), aoi_refs=ids, since=date(2021, 3, 1),
                              aoi_dir=aoi_dir, seeds_dir=seeds_dir, **extra)

    serial_s, serial = timed_recheck(request(root / "serial.gpkg"))
    result: dict[str, object] = {
        "benchmark": "recheck",
        "source": "local STAC catalog of synthetic GeoTIFF scenes",
        "n_aois": len(ids),
        "aoi_size_m": CELL * 10,
        "pairs_per_aoi": 1,
        "new_changes": serial.summary["n_new_changes"],
        "workers_1": {"seconds": round(serial_s, 2), "aois_per_minute": round(60 * len(ids) / serial_s, 1)},
    }
    if not args.noop_only:
        result.update(throughput(request, serial, len(ids), root))
    noop_times = []
    for _ in range(5):
        seconds, report = timed_recheck(request(root / "serial.gpkg"))
        assert report.run_id is None, "the no-op re-check found something new"
        noop_times.append(seconds)
    geo = [sys.executable, "-m", "geo"]
    cli = geo + ["recheck", "--store", str(root / "serial.gpkg"), "--source", str(catalog), "--aoi-dir", str(aoi_dir),
                 "--seeds-dir", str(seeds_dir)]
    result["noop"] = {
        "in_process_s_median": round(statistics.median(noop_times), 4),
        "in_process_s_max": round(max(noop_times), 4),
        "cli_vs_geo_version": paired_wall_s(cli, geo + ["--version"], args.runs),
        "stac_api_cli_vs_geo_version": stac_api_noop(root, catalog, aoi_dir, seeds_dir, ids, args.runs),
        "stac_api_note": "one search request per AOI; the loopback server answers each in about 40 ms",
        # What no no-op can avoid: the libraries that read a STAC catalog (pystac), the store, the claims, and
        # the CLI's own (the geometry stack, numpy, shapely and pyproj, is not needed: geo.recheck.quick).
        "floor_imports_vs_geo_version": paired_wall_s([sys.executable, "-c", FLOOR_IMPORTS], geo + ["--version"],
                                                      args.runs),
        "goal_ratio_at_most": 3.0,
    }
    result["machine"] = {"cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)}
    print_and_write(result, args.json)


def print_and_write(result: dict[str, object], path: Path) -> None:
    """A benchmark's figures printed as JSON and written to ``path``."""
    text = json.dumps(result, indent=2)
    print(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


if __name__ == "__main__":
    main()
