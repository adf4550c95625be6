"""Co-registration benchmark: geo vs AROSICS side by side in the same run, JSON out.

1. Known shifts: >= 8 non-integer (dx, dy) within +-3 px applied exactly (Fourier shift of a
   symmetrically padded crop, interior kept) to real Sentinel-2 crops (shared/data/coreg-pair REF and
   OSCD B08 bands). Both tools get the same in-memory arrays; global and local RMSE (px, per component)
   and seconds per pair. Local settings are the same for both tools (window 128 px, grid spacing 64 px).
2. The real pair (shared/data/coreg-pair): each tool end to end from the files with its defaults (geo:
   global from an overview + up to 9 windows of 128 px within a 4.2 Mpx block-decoding budget, tie
   points every 128 px, window 128; AROSICS: COREG ws 256, COREG_LOCAL grid 200 px, window 256, one CPU), each timed in a fresh interpreter (cold caches),
   global vs local agreement, and the residual after geo's correction measured by an independent
   local grid (scikit-image phase correlation, 1/100 px upsampling, 128-px windows offset by 64 px from
   geo's tie points, on REF and the corrected file, which share a grid): raw RMS, RMS without gross
   failures (>= 1 px from the median), the grid's per-window noise (adjacent-window differences), and its
   noise floor (REF vs itself, vs itself through geo's apply, vs itself Fourier-shifted by a known amount).

    python benchmarks/coreg.py [--out benchmarks/results/coreg.json] [--no-arosics] [--quick]

AROSICS is a benchmark-only extra (``pip install -e '.[bench-arosics]'``, needs GDAL's Python bindings matching
the system GDAL); without it the geo figures are still written, marked as having no reference.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the small known-shift crops are defined with the tests

from geo import paths  # noqa: E402
from geo.align.coreg import estimate_shift  # noqa: E402
from geo.align.local import estimate_local  # noqa: E402
from geo.align.pair import read_pair  # noqa: E402
from geo.align.resample import translation, write_warped  # noqa: E402
from tests.align.crops import fourier_shift  # noqa: E402

from benchmarks.coreg_crops import REFERENCE_COMMIT, real_crop_section, rmse, small_crop_section  # noqa: E402
from benchmarks.coreg_grid import grid_noise_floor, independent_grid  # noqa: E402

PAIR = "coreg-pair"
REF_NAME = "ref_S2A_20160608T153121_T33UUU_sub.jp2"
TGT_NAME = "tgt_S2A_20160529T153631_T33UUU_sub.jp2"
LOCAL_WINDOW, LOCAL_SPACING = 128, 64
GT = (500000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0)
PROJ = "EPSG:32633"




def crops(data: Path, size: int) -> list[tuple[str, np.ndarray]]:
    out = []
    with rasterio.open(data / PAIR / REF_NAME) as src:
        for row, col in ((1200, 600), (300, 1300)):
            out.append((f"coreg-pair-ref@{row},{col}", src.read(1, window=Window(col, row, size, size)).astype(float)))
    for city in ("paris", "nantes", "pisa"):
        band = next((data / "oscd" / city / "imgs_1").glob("*_B08.tif"))
        with rasterio.open(band) as src:
            h, w = src.shape
            win = Window((w - min(size, w)) // 2, (h - min(size, h)) // 2, min(size, w), min(size, h))
            out.append((f"oscd-{city}-B08", src.read(1, window=win).astype(float)))
    return out


def known_shifts(n: int, seed: int = 42) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    shifts = []
    while len(shifts) < n:
        dx, dy = rng.uniform(-3, 3, 2)
        if min(abs(dx - round(dx)), abs(dy - round(dy))) > 0.05:  # truly sub-pixel
            shifts.append((round(float(dx), 3), round(float(dy), 3)))
    return shifts


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def geo_global(ref, tgt):
    s = estimate_shift(ref, tgt)
    return s.dx_px, s.dy_px


def geo_local(ref, tgt):
    """Global start + tie points; returns the inlier points' (dx, dy) and the model at those points."""
    s = estimate_shift(ref, tgt)
    model = estimate_local(ref, tgt, None, None, s, LOCAL_WINDOW, LOCAL_SPACING)
    p = model.points
    mx, my = model.displacement(p.row[p.inlier], p.col[p.inlier])
    return p.dx[p.inlier], p.dy[p.inlier], mx, my


def arosics_global(ref, tgt):
    from arosics import COREG
    from geoarray import GeoArray

    c = COREG(GeoArray(ref.astype(np.float32), GT, PROJ), GeoArray(tgt.astype(np.float32), GT, PROJ),
              ws=(256, 256), q=True)
    c.calculate_spatial_shifts()
    return -c.x_shift_px, -c.y_shift_px  # AROSICS reports the correction: the opposite sign of ours


def arosics_local(ref, tgt):
    from arosics import COREG_LOCAL
    from geoarray import GeoArray

    c = COREG_LOCAL(GeoArray(ref.astype(np.float32), GT, PROJ), GeoArray(tgt.astype(np.float32), GT, PROJ),
                    grid_res=LOCAL_SPACING, window_size=(LOCAL_WINDOW, LOCAL_WINDOW), q=True, CPUs=1)
    c.calculate_spatial_shifts()
    table = c.CoRegPoints_table
    good = table[(table.OUTLIER == False) & (table.X_SHIFT_PX != -9999)]  # noqa: E712 (pandas)
    return -good.X_SHIFT_PX.to_numpy(float), -good.Y_SHIFT_PX.to_numpy(float)


def known_shift_section(data: Path, n_shifts: int, size: int, use_arosics: bool) -> dict:
    images = crops(data, size)
    shifts = known_shifts(n_shifts)
    margin = 16
    rows = []
    err = {k: [] for k in ("geo_global", "geo_local_points", "geo_local_model", "arosics_global", "arosics_local")}
    secs = {k: [] for k in ("geo_global", "geo_local", "arosics_global", "arosics_local")}
    for i, (dx, dy) in enumerate(shifts):
        name, image = images[i % len(images)]
        ref = image[margin:-margin, margin:-margin]
        tgt = fourier_shift(image, dx, dy)[margin:-margin, margin:-margin]
        row = {"crop": name, "shape": list(ref.shape), "true": [dx, dy]}
        (gx, gy), t = timed(lambda: geo_global(ref, tgt))
        err["geo_global"] += [gx - dx, gy - dy]
        secs["geo_global"].append(t)
        row["geo_global"] = {"dx": round(gx, 4), "dy": round(gy, 4), "s": round(t, 3)}
        (px, py, mx, my), t = timed(lambda: geo_local(ref, tgt))
        err["geo_local_points"] += list(px - dx) + list(py - dy)
        err["geo_local_model"] += list(mx - dx) + list(my - dy)
        secs["geo_local"].append(t)
        row["geo_local"] = {"n_points": int(len(px)), "rmse_points": rmse(list(px - dx) + list(py - dy)), "s": round(t, 3)}
        if use_arosics:
            (ax, ay), t = timed(lambda: arosics_global(ref, tgt))
            err["arosics_global"] += [ax - dx, ay - dy]
            secs["arosics_global"].append(t)
            row["arosics_global"] = {"dx": round(float(ax), 4), "dy": round(float(ay), 4), "s": round(t, 3)}
            (lx, ly), t = timed(lambda: arosics_local(ref, tgt))
            err["arosics_local"] += list(lx - dx) + list(ly - dy)
            secs["arosics_local"].append(t)
            row["arosics_local"] = {"n_points": int(len(lx)), "rmse_points": rmse(list(lx - dx) + list(ly - dy)),
                                    "s": round(t, 3)}
        logging.info("%s %s: %s", name, (dx, dy), row)
        rows.append(row)
    summary = {
        "rmse_px": {k: rmse(v) for k, v in err.items()},
        "seconds_per_pair": {k: (float(np.mean(v)) if v else None) for k, v in secs.items()},
    }
    if use_arosics:
        s = summary["seconds_per_pair"]
        summary["speedup_vs_arosics"] = {
            "global": s["arosics_global"] / s["geo_global"],
            "local": s["arosics_local"] / s["geo_local"],
        }
    return {"n_pairs": len(rows), "pairs": rows, "summary": summary}


COLD_SNIPPETS = {
    # each runs in a fresh interpreter (cold GDAL block cache), timing only the call itself
    "geo_global": """
from geo.align.pair import estimate_shift_from_files
result = estimate_shift_from_files(REF, TGT).to_dict()
""",
    "geo_local": """
from geo.align.coreg import estimate_shift
from geo.align.local import estimate_local
from geo.align.pair import read_pair
pair = read_pair(REF, TGT)
s = estimate_shift(pair.ref, pair.tgt, pair.ref_valid, pair.tgt_valid)
model = estimate_local(pair.ref, pair.tgt, pair.ref_valid, pair.tgt_valid, s, 128, 128)
result = {"global": s.to_dict(pair.grid), "local": model.summary(pair.grid.shape, pair.grid)}
""",
    "arosics_global": """
from arosics import COREG
c = COREG(REF, TGT, ws=(256, 256), q=True)
c.calculate_spatial_shifts()
result = {"dx_px": -c.x_shift_px, "dy_px": -c.y_shift_px, "reliability_pct": float(c.shift_reliability)}
""",
    "arosics_local": """
from arosics import COREG_LOCAL
c = COREG_LOCAL(REF, TGT, grid_res=200, window_size=(256, 256), q=True, CPUs=1, path_out=OUT, fmt_out="GTiff")
c.calculate_spatial_shifts()
t = c.CoRegPoints_table
good = t[(t.OUTLIER == False) & (t.X_SHIFT_PX != -9999)]
result = {"n_points": len(t), "n_valid": len(good), "mean_dx_px": float(-good.X_SHIFT_PX.mean()),
          "mean_dy_px": float(-good.Y_SHIFT_PX.mean()), "std_dx_px": float(good.X_SHIFT_PX.std()),
          "std_dy_px": float(good.Y_SHIFT_PX.std())}
c.correct_shifts()  # after the clock stops (below): geo's apply is not timed either
""",
}


def cold_run(name: str, ref_path: str, tgt_path: str, out_path: str = "") -> tuple[dict, float]:
    body = COLD_SNIPPETS[name]
    timed_part, untimed, _ = body.partition("c.correct_shifts()")
    code = (
        "import json, time, warnings\nwarnings.filterwarnings('ignore')\n"
        f"REF, TGT, OUT = {ref_path!r}, {tgt_path!r}, {out_path!r}\n"
        "start = time.perf_counter()\n" + timed_part + "seconds = time.perf_counter() - start\n"
        + (untimed + "\n" if untimed else "")
        + "print(json.dumps({'result': result, 'seconds': seconds}, default=float))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return data["result"], data["seconds"]


def real_pair_section(data: Path, use_arosics: bool, reference: str = REFERENCE_COMMIT) -> dict:
    ref_path, tgt_path = str(data / PAIR / REF_NAME), str(data / PAIR / TGT_NAME)
    out: dict = {"ref": REF_NAME, "tgt": TGT_NAME}
    global_files, t_global = cold_run("geo_global", ref_path, tgt_path)
    local_run, t_local = cold_run("geo_local", ref_path, tgt_path)
    pair = read_pair(ref_path, tgt_path)
    shift = estimate_shift(pair.ref, pair.tgt, pair.ref_valid, pair.tgt_valid)
    model = estimate_local(pair.ref, pair.tgt, pair.ref_valid, pair.tgt_valid, shift, 128, 128)
    summary = model.summary(pair.grid.shape, pair.grid)
    with tempfile.TemporaryDirectory() as tmp:
        corrected = str(Path(tmp) / "corrected.tif")
        _, t_apply = timed(lambda: write_warped(tgt_path, pair.grid, model.displacement, corrected))
        after = read_pair(ref_path, corrected)
        residual = independent_grid(after.ref, after.tgt, after.ref_valid, after.tgt_valid)
        translated = str(Path(tmp) / "translated.tif")
        write_warped(tgt_path, pair.grid, translation(global_files["dx_px"], global_files["dy_px"]), translated)
        after_global = read_pair(ref_path, translated)
        residual_global = independent_grid(after_global.ref, after_global.tgt, after_global.ref_valid,
                                           after_global.tgt_valid)
        applied_ref = str(Path(tmp) / "ref_through_apply.tif")
        write_warped(ref_path, pair.grid, translation(0.0, 0.0), applied_ref)
        noise_floor = grid_noise_floor(pair.ref, pair.ref_valid, pair.grid, applied_ref, shift, Path(tmp))
    before = independent_grid(pair.ref, pair.tgt, pair.ref_valid, pair.tgt_valid)
    out["geo"] = {
        "global": global_files,
        "global_whole_overlap": shift.to_dict(pair.grid),
        "local": summary,
        "global_vs_local_mean_px": [round(summary["mean_dx_px"] - global_files["dx_px"], 4),
                                    round(summary["mean_dy_px"] - global_files["dy_px"], 4)],
        "seconds": {"global_end_to_end": round(t_global, 2), "local_end_to_end": round(t_local, 2),
                    "apply_local": round(t_apply, 2)},
        "independent_grid_before": before,
        "independent_grid_after_global": residual_global,
        "independent_grid_after_local": residual,
    }
    out["independent_grid_noise_floor"] = noise_floor
    out["small_crops_two_dates"] = real_crop_section(pair, model, reference)
    if use_arosics:
        with tempfile.TemporaryDirectory() as tmp:
            arosics_out = str(Path(tmp) / "arosics.tif")
            g, t_g = cold_run("arosics_global", ref_path, tgt_path)
            loc, t_l = cold_run("arosics_local", ref_path, tgt_path, arosics_out)
            after_arosics = read_pair(ref_path, arosics_out)
            residual_arosics = independent_grid(after_arosics.ref, after_arosics.tgt, after_arosics.ref_valid,
                                                after_arosics.tgt_valid)
        out["arosics"] = {
            "global": g, "local": loc,
            "seconds": {"global_end_to_end": round(t_g, 2), "local_end_to_end": round(t_l, 2)},
            "independent_grid_after_local": residual_arosics,
        }
        out["speedup_vs_arosics"] = {"global": t_g / t_global, "local": t_l / t_local}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "coreg.json")
    parser.add_argument("--no-arosics", action="store_true", help="geo only (no reference in this run)")
    parser.add_argument("--quick", action="store_true", help="8 pairs, no real pair")
    parser.add_argument("--reference", default=REFERENCE_COMMIT, help="commit whose geo is today's default")
    parser.add_argument("--pairs", type=int, default=10)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("geo").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")
    use_arosics = not args.no_arosics
    if use_arosics:
        try:
            import arosics  # noqa: F401
        except ImportError:
            logging.warning("arosics not installed (pip install -e '.[bench-arosics]'): geo figures only")
            use_arosics = False
    data = paths.shared_data()
    report = {
        "benchmark": "coreg",
        "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()},
        "arosics": _version("arosics") if use_arosics else None,
        "known_shifts": known_shift_section(data, 8 if args.quick else args.pairs, 416, use_arosics),
        "small_crops": small_crop_section(data, use_arosics, args.reference),
    }
    if not args.quick:
        report["real_pair"] = real_pair_section(data, use_arosics, args.reference)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({"known_shifts": report["known_shifts"]["summary"],
                      "small_crops": report["small_crops"]["summary"],
                      "real_pair": {k: v for k, v in report.get("real_pair", {}).items() if k != "pairs"}}, indent=2))


def _version(name: str) -> str:
    from importlib import metadata

    return metadata.version(name)


if __name__ == "__main__":
    from benchmarks.needs import run

    run(main, data=["coreg-pair", "oscd"], packages=[] if "--no-arosics" in sys.argv else ["arosics"])
