"""Benchmark: reading a small AOI from a remote COG archive (the loopback STAC API + COG host of the tests).

For 5 x 5 km AOIs at several places over a real 24 x 32 km Sentinel-2 10 m band (../shared/data/coreg-pair)
served as a COG with Earth-Search-like 1024 px tiles (and, for contrast, 512 px tiles):

* bytes read / bytes of the full-resolution COG tiles that intersect the window (goal <= 1.5), per asset;
* seconds from the STAC search to six assets' arrays on the grid, cold (nothing cached; includes writing
  the scene cache) and warm (scene cache);
* the same window loaded with odc-stac (``odc.stac.load`` onto the same GeoBox), as the reference loader
  DESIGN prefers unless it measures worse for small windows;
* a grid half a pixel off the file's (both loaders resample, cubic);
* a 40 m grid over the whole file (overviews) against the 10 m bytes.

Run from the repository root: ``python benchmarks/archive.py [--out benchmarks/results/archive.json]``.
Prints JSON; writes it to --out too.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.grid import Grid  # noqa: E402
from geo.scenes.cache import SceneCache  # noqa: E402
from geo.scenes.read import read_stack  # noqa: E402
from geo.scenes.remote import RetryPolicy  # noqa: E402
from geo.scenes.source import StacApi  # noqa: E402
from tests.archive_data import aoi_around, big_cog, big_item, tile_bytes, utc  # noqa: E402
from tests.archive_server import ArchiveServer  # noqa: E402

AOI_KM = 5.0
MARGIN_M = 300.0  # the job's co-registration margin
# South-west corners of the 5 x 5 km AOIs (UTM 33N): inside one 1024 px tile, across a tile edge,
# across a tile corner, near the file's edge.
PLACES = {
    "inside a tile": (342000.0, 5844000.0),
    "across an edge": (348000.0, 5844000.0),
    "across a corner": (348000.0, 5849000.0),
    "near the file edge": (348500.0, 5830500.0),
}


BANDS = ("blue", "green", "red", "nir", "swir16", "swir22")  # six assets, as a change job reads


def _search(server: ArchiveServer, aoi, collection: str, cache: SceneCache | None):
    """The STAC search both loaders start from (the AOI and the acquisition day)."""
    source = StacApi(server.url, [collection], policy=RetryPolicy(), cache=cache)
    return source, source.search(aoi.geometry, date(2016, 6, 8), date(2016, 6, 8))


def ours(server: ArchiveServer, cog: Path, grid: Grid, aoi, cache_dir: Path) -> dict:
    collection = f"bench-{time.monotonic_ns()}"
    big_item(server, cog, "S2A_BENCH", utc(2016, 6, 8), BANDS, collection)
    server.clear()
    start = time.perf_counter()
    _, scenes = _search(server, aoi, collection, SceneCache(cache_dir))
    stack = read_stack(scenes[0], BANDS, grid, cloud_mask=False, cache=SceneCache(cache_dir))
    cold = time.perf_counter() - start
    cog_requests = [r for r in server.records("/") if "/big/" in r.path]
    server.clear()
    start = time.perf_counter()
    _, scenes = _search(server, aoi, collection, SceneCache(cache_dir))
    again = read_stack(scenes[0], BANDS, grid, cloud_mask=False, cache=SceneCache(cache_dir))
    warm = time.perf_counter() - start
    assert np.array_equal(stack.data, again.data, equal_nan=True)
    return {"bytes": sum(r.bytes_sent for r in cog_requests) / len(BANDS), "requests": len(cog_requests) / len(BANDS),
            "seconds_search_to_arrays": round(cold, 3), "seconds_warm_cache": round(warm, 3),
            "warm_cache_cog_requests": len([r for r in server.records("/") if "/big/" in r.path]),
            "data": stack.band("red")}


def odc(server: ArchiveServer, cog: Path, grid: Grid, aoi) -> dict:
    import odc.stac
    import pystac
    from odc.geo.geobox import GeoBox

    collection = f"bench-odc-{time.monotonic_ns()}"
    big_item(server, cog, "S2A_BENCH", utc(2016, 6, 8), BANDS, collection)
    server.clear()
    start = time.perf_counter()
    _, scenes = _search(server, aoi, collection, None)
    items = [pystac.Item.from_dict(dict(scenes[0].stac))]
    box = GeoBox(grid.shape, grid.transform, grid.crs.to_string())
    data = odc.stac.load(items, bands=list(BANDS), geobox=box, resampling="cubic", chunks=None, pool=4)
    arrays = {band: data[band].values[0].astype(np.float32) * np.float32(1e-4) for band in BANDS}
    seconds = time.perf_counter() - start
    files = [r for r in server.records("/") if "/big/" in r.path]
    return {"bytes": sum(r.bytes_sent for r in files) / len(BANDS), "requests": len(files) / len(BANDS),
            "seconds_search_to_arrays": round(seconds, 3), "data": arrays["red"]}


def place_run(server, cog, name, corner, tmp, shift_px: float = 0.0) -> dict:
    import rasterio

    with rasterio.open(cog) as src:
        crs = src.crs
    x, y = corner
    aoi = aoi_around(crs, (x, y, x + AOI_KM * 1000, y + AOI_KM * 1000), "bench")
    grid = aoi.utm_grid(10.0, MARGIN_M).shifted(shift_px, shift_px)
    tiles, count = tile_bytes(cog, grid)
    mine = ours(server, cog, grid, aoi, tmp / f"cache-{time.monotonic_ns()}")
    reference = odc(server, cog, grid, aoi)
    valid = np.isfinite(mine["data"]) & (reference["data"] > 0)
    agree = float(np.mean(np.abs(mine["data"][valid] - reference["data"][valid]) < 2e-4)) if valid.any() else None
    return {
        "place": name, "grid_shape": list(grid.shape), "tiles_intersecting": count, "tile_bytes": tiles,
        "ours": {k: v for k, v in mine.items() if k != "data"} | {"ratio_to_tiles": round(mine["bytes"] / tiles, 3)},
        "odc_stac": {k: v for k, v in reference.items() if k != "data"}
        | {"ratio_to_tiles": round(reference["bytes"] / tiles, 3)},
        "pixels_agreeing_with_odc_stac": agree,
    }


def overview_run(server, cog, tmp) -> dict:
    import rasterio

    with rasterio.open(cog) as src:
        crs, bounds = src.crs, src.bounds
    aoi = aoi_around(crs, (bounds.left + 500, bounds.bottom + 500, bounds.right - 500, bounds.top - 500), "whole")
    out = {"file_bytes": cog.stat().st_size}
    for resolution in (10.0, 40.0):
        item = big_item(server, cog, f"S2A_BENCH_OVR_{time.monotonic_ns()}", utc(2016, 6, 8))
        from pystac import Item

        from geo.scenes.item_assets import scene_from_item

        scene = scene_from_item(Item.from_dict(item))
        server.clear()
        start = time.perf_counter()
        read_stack(scene, ["red"], aoi.utm_grid(resolution), cloud_mask=False,
                   cache=SceneCache(tmp / f"ovr-{time.monotonic_ns()}"))
        out[f"{resolution:g}m"] = {"bytes": server.bytes_sent("/"), "seconds": round(time.perf_counter() - start, 3)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "archive.json")
    args = parser.parse_args()
    server = ArchiveServer(page_size=50).start()
    results: dict = {"aoi_km": AOI_KM, "margin_m": MARGIN_M, "goal_ratio_to_tiles": 1.5}
    try:
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            for blocksize in (1024, 512):
                cog = big_cog(tmp / f"red-{blocksize}.tif", blocksize=blocksize)
                runs = [place_run(server, cog, name, corner, tmp) for name, corner in PLACES.items()]
                ratios = [r["ours"]["ratio_to_tiles"] for r in runs]
                results[f"tiles_{blocksize}px"] = {
                    "file_bytes": cog.stat().st_size, "places": runs,
                    "ours_ratio_max": max(ratios), "ours_ratio_mean": round(statistics.mean(ratios), 3),
                    "odc_stac_ratio_max": max(r["odc_stac"]["ratio_to_tiles"] for r in runs),
                    "ours_seconds_median": statistics.median(r["ours"]["seconds_search_to_arrays"] for r in runs),
                    "odc_stac_seconds_median": statistics.median(
                        r["odc_stac"]["seconds_search_to_arrays"] for r in runs),
                    "goal_met": max(ratios) <= 1.5,
                }
            # Off the file's pixel grid (half a pixel): both loaders must resample (cubic).
            results["resampled_half_pixel_1024px"] = place_run(
                server, tmp / "red-1024.tif", "inside a tile, grid shifted 0.5 px", PLACES["inside a tile"], tmp, 0.5)
            results["overviews_1024px"] = overview_run(server, tmp / "red-1024.tif", tmp)
    finally:
        server.stop()
    text = json.dumps(results, indent=2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    from benchmarks.needs import run

    run(main, data=["coreg-pair/ref_S2A_20160608T153121_T33UUU_sub.jp2"], packages=["odc.stac"])
