"""Scale benchmark: `geo run` on large real-pixel scenes, against the raw read of the same pixels.

Builds (once, cached in --scenes) a pair of whole Sentinel-2 tiles (30TXT, EPSG:32630, 10 980 px at 10 m,
5 490 px at 20 m) from the OSCD Nantes pair (../shared/data/oscd): each band mirror-tiled over the tile
(pixels unchanged, reflected at every copy's edge so there is no seam), written as tiled DEFLATE GeoTIFFs
with internal overviews (512 px blocks, as a COG), and a local STAC catalog of the two scenes.

For each AOI size (a square centred on the tile; "tile" = the whole tile less the job's 300 m margin), in
fresh processes, median of --repeat runs:

* the job: ``python -m geo run --aoi AOI --source CATALOG --before ID --after ID`` end to end (start-up,
  read, co-registration, detection, polygons, every output): wall seconds, CPU seconds and the process's
  peak RSS (``os.wait4``, the operating system's own accounting), and the manifest's step timings;
* the raw read: the same pixels (every band of both scenes over the job's grid, at their own resolution)
  decoded with rasterio in a fresh process: seconds of the reads only, imports excluded;
* their ratio (job ÷ raw read);
* side by side in the same run, in turn: the job of another checkout (``--reference ../main``: the code
  before this change; the whole tile too when ``--reference-max-km2`` reaches it) and the job with
  ``--workers N`` (blocks on a local Dask cluster).

    python benchmarks/scale.py [--sizes 1,100,720,2944,9900,tile] [--repeat 3] [--repeat-large 1]
                               [--reference DIR] [--workers 2] [--out benchmarks/results/scale.json]
                               [--compare]  (the job's outputs compared with the reference's, pixel for pixel)

Contains modified Copernicus Sentinel data 2015-2017.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TILE_ORIGIN = (600_000.0, 5_300_040.0)  # 30TXT upper-left corner, EPSG:32630
TILE_PX = 10_980
CRS = "EPSG:32630"
MARGIN_M = 300.0  # the optical job's read margin (geo.jobs.optical_kit.Params.margin_m)
BANDS = {"blue": ("B02", 10), "green": ("B03", 10), "red": ("B04", 10), "nir": ("B08", 10),
         "swir16": ("B11", 20), "swir22": ("B12", 20)}
SCENES = (("S2A_30TXT_20150821_nantes_tiled", "imgs_1", datetime(2015, 8, 21, 11, 0, tzinfo=timezone.utc)),
          ("S2A_30TXT_20171014_nantes_tiled", "imgs_2", datetime(2017, 10, 14, 11, 10, tzinfo=timezone.utc)))
WRITE_ROWS = 1024  # rows written per strip while building


def mirror_index(n_out: int, n_src: int, start: int = 0) -> np.ndarray:
    """Source indices of output positions ``start..start+n_out`` for a source reflected at both edges."""
    k = (np.arange(start, start + n_out)) % (2 * n_src)
    return np.where(k < n_src, k, 2 * n_src - 1 - k)


def build_band(src_path: str, dst: Path, gsd: int) -> None:
    import rasterio
    from affine import Affine

    with rasterio.open(src_path) as src:
        pixels = src.read(1)
    size = TILE_PX * 10 // gsd
    cols = mirror_index(size, pixels.shape[1])
    profile = dict(driver="GTiff", width=size, height=size, count=1, dtype="uint16", crs=CRS, nodata=0,
                   transform=Affine(gsd, 0, TILE_ORIGIN[0], 0, -gsd, TILE_ORIGIN[1]), tiled=True,
                   blockxsize=512, blockysize=512, compress="DEFLATE", predictor=2, zlevel=1, BIGTIFF="IF_SAFER")
    tmp = dst.with_suffix(".part.tif")
    with rasterio.open(tmp, "w", **profile) as out:
        for row0 in range(0, size, WRITE_ROWS):
            rows = mirror_index(min(WRITE_ROWS, size - row0), pixels.shape[0], row0)
            strip = pixels[rows][:, cols]
            strip[strip == 0] = 1  # 0 is nodata
            out.write(strip, 1, window=rasterio.windows.Window(0, row0, size, len(rows)))
        out.build_overviews([2, 4, 8, 16, 32], rasterio.enums.Resampling.average)
    tmp.rename(dst)


def build_scenes(oscd: Path, folder: Path) -> Path:
    """The two whole-tile scenes and their catalog (kept across runs)."""
    import pystac
    from shapely.geometry import box, mapping

    from geo.geometry import WGS84, reproject

    catalog_path = folder / "catalog.json"
    if catalog_path.exists():
        return catalog_path
    tile = box(TILE_ORIGIN[0], TILE_ORIGIN[1] - TILE_PX * 10, TILE_ORIGIN[0] + TILE_PX * 10, TILE_ORIGIN[1])
    footprint = reproject(tile, CRS, WGS84)
    sources = {(imgs, band): sorted((oscd / "nantes" / imgs).glob(f"*_{band}.tif"))
               for _, imgs, _ in SCENES for band, _ in BANDS.values()}
    for (imgs, band), found in sources.items():  # all found first: it stopped in an IndexError, a half-built cache
        if not found:
            raise SystemExit(f"error: no OSCD Nantes band {band} in {oscd / 'nantes' / imgs} (the shared data's oscd: "
                             "shared/data beside or above the checkout, or $GEO_SHARED_DATA); give the OSCD folder "
                             "with --oscd DIR, or set $GEO_SHARED_DATA")
    catalog = pystac.Catalog("scale", "whole-tile scenes mirror-tiled from OSCD Nantes")
    for item_id, imgs, when in SCENES:
        item = pystac.Item(item_id, mapping(footprint), list(footprint.bounds), when,
                           {"platform": "sentinel-2a", "proj:epsg": 32630, "eo:cloud_cover": 0.0})
        for name, (band, gsd) in BANDS.items():
            dst = folder / item_id / f"{name}.tif"
            dst.parent.mkdir(parents=True, exist_ok=True)
            if not dst.exists():
                print(f"building {dst}", file=sys.stderr, flush=True)
                build_band(str(sources[imgs, band][0]), dst, gsd)
            item.add_asset(name, pystac.Asset(href=str(dst), media_type=pystac.MediaType.COG, roles=["data"],
                                              extra_fields={"raster:bands": [{"scale": 0.0001, "offset": 0.0,
                                                                              "nodata": 0}]}))
        catalog.add_item(item)
    catalog.normalize_hrefs(str(folder))
    catalog.save(catalog_type=pystac.CatalogType.ABSOLUTE_PUBLISHED)
    return catalog_path


def aoi_square(size: str) -> tuple[float, float, float, float]:
    """UTM bounds of the AOI: a square of ``size`` km² centred on the tile, or the tile less the margin."""
    cx, cy = TILE_ORIGIN[0] + TILE_PX * 5, TILE_ORIGIN[1] - TILE_PX * 5
    half = (TILE_PX * 5 - MARGIN_M - 10) if size == "tile" else math.sqrt(float(size)) * 500
    return cx - half, cy - half, cx + half, cy + half


def write_aoi(bounds: tuple[float, float, float, float], path: Path) -> None:
    from shapely.geometry import box, mapping

    from geo.geometry import WGS84, reproject

    shape = reproject(box(*bounds).segmentize(1000.0), CRS, WGS84)
    path.write_text(json.dumps({"type": "Feature", "properties": {"id": "scale", "name": "scale", "kind": "other"},
                                "geometry": mapping(shape)}))


def run_measured(args: list[str], cwd: Path, code: Path = ROOT) -> tuple[float, int, int, str, float]:
    """Wall seconds, peak RSS bytes and exit code of a child process (its own rusage: the largest of it and
    the processes it waited for, e.g. Dask workers), its stderr tail and its CPU seconds (user + system: on a
    shared machine they vary less than the wall time). ``code``: the checkout it runs."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err,
                                env={**os.environ, "PYTHONPATH": str(code)})
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err.seek(0)
        tail = err.read().decode(errors="replace")[-2000:]
    return wall, usage.ru_maxrss * 1024, os.waitstatus_to_exitcode(status), tail, usage.ru_utime + usage.ru_stime


RAW_READ = """
import json, sys, time
import rasterio
from rasterio.windows import from_bounds
left, bottom, right, top = json.loads(sys.argv[1])
paths = json.loads(sys.argv[2])
start = time.perf_counter()
pixels = 0
for path in paths:
    with rasterio.open(path) as ds:
        window = from_bounds(left, bottom, right, top, ds.transform).round_offsets().round_lengths()
        pixels += ds.read(1, window=window).size
print(json.dumps({"seconds": time.perf_counter() - start, "pixels": pixels}))
"""


def raw_read(bounds: tuple[float, float, float, float], catalog: Path) -> tuple[float, int]:
    paths = sorted(str(p) for p in catalog.parent.glob("*/*.tif") if ".part" not in p.name)
    out = subprocess.run([sys.executable, "-c", RAW_READ, json.dumps(bounds), json.dumps(paths)], check=True,
                         capture_output=True, text=True)
    figures = json.loads(out.stdout)
    return float(figures["seconds"]), int(figures["pixels"])


def job(size: str, aoi: Path, catalog: Path, work: Path, run: int, code: Path = ROOT,
        extra: tuple[str, ...] = (), keep: Path | None = None
        ) -> tuple[float, int, str | None, float, dict[str, float], str | None]:
    """One ``geo run`` of the AOI: (wall s, peak RSS bytes, failure or None, CPU s, the manifest's step
    timings, the co-registration it applied: a translation or a local model the after scene is read
    through). ``keep``: the run folder is left there (written there: the same disk as the others')."""
    out = keep or work / f"out-{size}-{run}-{abs(hash((str(code), extra)))}"
    shutil.rmtree(out, ignore_errors=True)
    wall, peak, code_, tail, cpu = run_measured(
        [sys.executable, "-m", "geo", "run", "--aoi", str(aoi), "--source", str(catalog),
         "--before", SCENES[0][0], "--after", SCENES[1][0], "--out", str(out), *extra], work, code)
    manifest = out / "manifest.json"
    written = json.loads(manifest.read_text()) if manifest.exists() else {}
    steps, applied = written.get("timings_s", {}), written.get("coregistration_applied")
    if keep is None:
        shutil.rmtree(out, ignore_errors=True)
    failure = None
    if code_ != 0:
        failure = f"exit {code_}: {tail.strip().splitlines()[-1] if tail.strip() else ''}"
    return wall, peak, failure, cpu, steps, applied


def same_outputs(one: Path, other: Path) -> dict[str, bool]:
    """Whether two run folders hold the same results: changes.kml and claims.json byte for byte, changes.geojson's
    JSON (its layout aside), each raster's pixels (NaN equal to NaN) and those of each of its overviews, compared in
    strips of rows."""
    import rasterio
    from rasterio.windows import Window

    same = {name: (one / name).read_bytes() == (other / name).read_bytes() for name in ("changes.kml", "claims.json")}
    # parsed: a reference from before it was written one feature a line (it was indented) holds the same changes
    same["changes.geojson"] = json.loads((one / "changes.geojson").read_bytes()) == \
        json.loads((other / "changes.geojson").read_bytes())
    for path in sorted(one.glob("*.tif")):
        with rasterio.open(path) as a:
            levels = len(a.overviews(1))
        equal = True
        for level in range(-1, levels):
            opts = {} if level < 0 else {"overview_level": level}
            with rasterio.open(path, **opts) as a, rasterio.open(other / path.name, **opts) as b:
                equal = equal and (a.shape, a.count) == (b.shape, b.count)
                for row in range(0, a.height, WRITE_ROWS):
                    window = Window(0, row, a.width, min(WRITE_ROWS, a.height - row))
                    equal = equal and bool(np.array_equal(a.read(window=window), b.read(window=window), equal_nan=True))
        same[path.name] = equal
    return same


def figures(walls: list[float], peaks: list[int], failure: str | None, cpus: list[float]) -> dict[str, object]:
    out: dict[str, object] = {"runs": len(walls), "peak_rss_mib": round(max(peaks) / 2**20) if peaks else None}
    if walls:
        out.update(wall_s=round(statistics.median(walls), 2), wall_all_s=[round(w, 2) for w in walls],
                   cpu_s=round(statistics.median(cpus), 2))
    if failure:
        out["failure"] = failure
    return out


def measure(size: str, catalog: Path, repeat: int, work: Path, reference: Path | None,
            workers: int, keep: Path | None = None) -> dict[str, object]:
    bounds = aoi_square(size)
    grid = (bounds[0] - MARGIN_M, bounds[1] - MARGIN_M, bounds[2] + MARGIN_M, bounds[3] + MARGIN_M)
    aoi = work / f"aoi-{size}.geojson"
    write_aoi(bounds, aoi)
    area = (bounds[2] - bounds[0]) * (bounds[3] - bounds[1]) / 1e6
    grid_px = round((grid[2] - grid[0]) / 10) * round((grid[3] - grid[1]) / 10)
    result: dict[str, object] = {"size": size, "aoi_km2": round(area, 1), "grid_mpx": round(grid_px / 1e6, 2)}
    variants: dict[str, tuple[Path, tuple[str, ...]]] = {"job": (ROOT, ())}
    if reference is not None:
        variants["reference"] = (reference, ())
    if workers > 1 and grid_px > 1536**2:  # one block: the cluster is never started, nothing to compare
        variants[f"job_{workers}_workers"] = (ROOT, ("--workers", str(workers)))
    walls: dict[str, list[float]] = {name: [] for name in variants}
    peaks: dict[str, list[int]] = {name: [] for name in variants}
    failures: dict[str, str | None] = {name: None for name in variants}
    cpus: dict[str, list[float]] = {name: [] for name in variants}
    steps: dict[str, dict[str, float]] = {}  # each variant's last run's step timings
    applied: dict[str, str | None] = {}  # and the co-registration it applied
    raws = []
    for k in range(repeat):  # the variants in turn, so drift of the shared machine's speed hits them alike
        for name, (code, extra) in variants.items():
            if failures[name]:
                continue
            kept = keep / f"{size}-{name}" if keep is not None and k == 0 else None  # (first runs, compared below)
            wall, peak, failure, cpu, steps[name], applied[name] = job(size, aoi, catalog, work, k, code, extra,
                                                                       kept)
            peaks[name].append(peak)
            if failure:
                failures[name] = failure
            else:
                walls[name].append(wall)
                cpus[name].append(cpu)
            print(f"  {size}: {name} run {k + 1}: {wall:.1f} s ({cpu:.1f} s CPU), {peak / 2**20:.0f} MiB {failure or ''}",
                  file=sys.stderr, flush=True)
        raws.append(raw_read(grid, catalog)[0])
    raw = statistics.median(raws)
    result["raw_read_s"] = round(raw, 3)
    for name in variants:
        row = figures(walls[name], peaks[name], failures[name], cpus[name])
        if steps.get(name):
            row["steps_s"] = steps[name]
        if applied.get(name):
            row["coregistration_applied"] = applied[name]
        if walls[name]:
            row["over_raw"] = round(statistics.median(walls[name]) / raw, 1)
        result[name] = row
    if keep is not None and reference is not None and not failures["job"] and not failures["reference"]:
        result["same_outputs_as_reference"] = same_outputs(keep / f"{size}-job", keep / f"{size}-reference")
    if keep is not None:
        for name in variants:  # compared: a tile's run folders are gigabytes
            shutil.rmtree(keep / f"{size}-{name}", ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oscd", type=Path, default=None, help="[default: the shared data's oscd/, geo.paths]")
    parser.add_argument("--scenes", type=Path, default=Path(tempfile.gettempdir()) / "geo-scale-scenes")
    parser.add_argument("--sizes", default="1,100,720,2944,9900,tile")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--repeat-large", type=int, default=1, help="runs of sizes over 500 km2")
    parser.add_argument("--reference", type=Path, default=None,
                        help="another checkout (e.g. main) whose job runs side by side, up to --reference-max-km2")
    parser.add_argument("--reference-max-km2", type=float, default=1000.0)
    parser.add_argument("--workers", type=int, default=1, help="also run each size with --workers N (Dask)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "scale.json")
    parser.add_argument("--compare", action="store_true",
                        help="compare the job's outputs (first run) with the reference's: changes.kml and "
                             "claims.json byte for byte, changes.geojson's JSON, each raster's pixels and overviews")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from geo.paths import shared_data

    # as every other benchmark finds it ($GEO_SHARED_DATA or shared/data above the checkout), not one machine's path
    oscd = args.oscd or shared_data() / "oscd"
    args.scenes.mkdir(parents=True, exist_ok=True)
    catalog = build_scenes(oscd, args.scenes)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            large = size == "tile" or float(size) > 500
            km2 = TILE_PX**2 / 1e4 if size == "tile" else float(size)
            reference = args.reference if km2 <= args.reference_max_km2 else None
            rows.append(measure(size, catalog, args.repeat_large if large else args.repeat, Path(tmp), reference,
                                args.workers, Path(tmp) if args.compare else None))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    report = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
              "reference": str(args.reference) if args.reference else None,
              "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "sizes": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
