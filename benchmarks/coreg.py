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

AROSICS is a benchmark-only extra (``pip install -e '.[bench]'``, needs GDAL's Python bindings matching the
system GDAL); without it the geo figures are still written, marked as having no reference.
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
from scipy.spatial import cKDTree
from skimage.registration import phase_cross_correlation

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the small known-shift crops are defined with the tests

from geo import paths  # noqa: E402
from geo.align.coreg import estimate_shift  # noqa: E402
from geo.align.local import estimate_local, tie_point_origins  # noqa: E402
from geo.align.pair import read_pair  # noqa: E402
from geo.align.resample import translation, write_warped  # noqa: E402

PAIR = "coreg-pair"
REF_NAME = "ref_S2A_20160608T153121_T33UUU_sub.jp2"
TGT_NAME = "tgt_S2A_20160529T153631_T33UUU_sub.jp2"
LOCAL_WINDOW, LOCAL_SPACING = 128, 64
GT = (500000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0)
PROJ = "EPSG:32633"


from tests.align.crops import CROPS, fourier_shift  # noqa: E402

REFERENCE_COMMIT = "9f9f435"  # "today's default" of issue 17: the code before the small-image changes


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


SMALL_CROP_SNIPPET = """
import inspect, json, sys, time, warnings
import numpy as np
warnings.filterwarnings("ignore")
from geo.align.coreg import estimate_shift
from geo.errors import CoregError
from tests.align.crops import CROPS, shifted_pair
data, arosics = sys.argv[1], sys.argv[2] == "arosics"
metres = "pixel_m" in inspect.signature(estimate_shift).parameters
rows = []
for crop in CROPS:
    ref, tgt = shifted_pair(__import__("pathlib").Path(data), crop)
    row = {"crop": crop.name, "shape": list(ref.shape), "pixel_m": crop.pixel_m, "true": list(crop.shift)}
    start = time.perf_counter()
    try:
        if arosics:
            from arosics import COREG
            from geoarray import GeoArray
            gt, proj = (500000.0, crop.pixel_m, 0.0, 5000000.0, 0.0, -crop.pixel_m), "EPSG:32633"
            ws = min(256, min(ref.shape) // 8 * 8)
            c = COREG(GeoArray(ref.astype(np.float32), gt, proj), GeoArray(tgt.astype(np.float32), gt, proj),
                      ws=(ws, ws), q=True)
            c.calculate_spatial_shifts()
            dx, dy, sigma = -c.x_shift_px, -c.y_shift_px, None
        else:
            s = estimate_shift(ref, tgt, **({"pixel_m": crop.pixel_m} if metres else {}))
            dx, dy, sigma = s.dx_px, s.dy_px, s.sigma_px
            row["n_windows"] = s.n_windows
        row.update(dx=round(float(dx), 5), dy=round(float(dy), 5),
                   error_px=round(float(np.hypot(dx - crop.shift[0], dy - crop.shift[1])), 5))
        if sigma is not None:
            row["sigma_px"] = round(float(sigma), 5)
    except Exception as exc:  # a failure is a result here: its message is recorded
        row["failed"] = f"{type(exc).__name__}: {exc}"
    row["s"] = round(time.perf_counter() - start, 3)
    rows.append(row)
from geo.align.local import measure_tie_points
from tests.align.crops import Crop
ties = []
for city in ("aguasclaras", "bercy", "bordeaux", "nantes", "paris", "pisa", "rennes"):
    ref, tgt = shifted_pair(__import__("pathlib").Path(data), Crop(city, f"oscd/{city}", (0, 0, 0, 0), "B04", 1, (0.8, -1.3), 10.0))
    valid = np.ones(ref.shape, bool)
    if arosics:
        break
    start = estimate_shift(ref, tgt, **({"pixel_m": 10.0} if metres else {}))
    points = measure_tie_points(ref, tgt, valid, valid, start, 64, 64, **({"pixel_m": 10.0} if metres else {}))
    error = np.hypot(points.dx - 0.8, points.dy + 1.3)[points.reliable]
    ties.append({"city": city, "shape": list(ref.shape), "n_points": len(points), "n_reliable": int(points.reliable.sum()),
                 "max_error_px": round(float(error.max()), 4) if error.size else None})
rows.append({"tie_points_10m_B04": ties})
print(json.dumps(rows))
"""


REAL_CROP_SNIPPET = """
import inspect, json, sys, warnings
import numpy as np
warnings.filterwarnings("ignore")
from geo.align.coreg import estimate_shift
arrays = np.load(sys.argv[1])
metres = "pixel_m" in inspect.signature(estimate_shift).parameters
rows = []
for r, c, h, w in arrays["boxes"]:
    win = np.s_[r:r + h, c:c + w]
    try:
        s = estimate_shift(arrays["ref"][win], arrays["tgt"][win], arrays["ref_valid"][win], arrays["tgt_valid"][win],
                           **({"pixel_m": 10.0} if metres else {}))
        rows.append({"dx": s.dx_px, "dy": s.dy_px, "sigma_px": s.sigma_px})
    except Exception as exc:  # a failure is a result here: its message is recorded
        rows.append({"failed": f"{type(exc).__name__}: {exc}"})
print(json.dumps(rows))
"""


def _checkout(commit: str, into: Path) -> Path:
    """``geo/`` of ``commit`` extracted under ``into`` (the reference implementation for this run)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "geo"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def _small_crop_run(geo_path: Path, *args: str, snippet: str = SMALL_CROP_SNIPPET) -> list[dict]:
    """``snippet`` run with the ``geo`` found at ``geo_path`` in a fresh interpreter: its JSON rows."""
    env = {**__import__("os").environ, "PYTHONPATH": f"{geo_path}:{ROOT}"}
    proc = subprocess.run([sys.executable, "-c", snippet, *args], capture_output=True,
                          text=True, check=True, env=env, cwd=str(geo_path))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def real_crop_section(pair, model, reference: str, n: int = 60, seed: int = 1) -> dict:
    """Is the stated error honest on two real dates? AOI-sized crops (135 x 175 and 190 x 250 px, >= 90 %
    valid) of the real pair, each measured alone; the truth is the local model fitted on the whole
    overlap at the crop's centre (itself good to a few hundredths of a pixel). This code vs the reference."""
    rng = np.random.default_rng(seed)
    both = pair.ref_valid & pair.tgt_valid
    boxes = []
    for k in range(n):
        h, w = (135, 175) if k % 2 else (190, 250)
        r, c = int(rng.integers(0, pair.ref.shape[0] - h)), int(rng.integers(0, pair.ref.shape[1] - w))
        if both[r:r + h, c:c + w].mean() >= 0.9:
            boxes.append((r, c, h, w))
    boxes = np.array(boxes)
    tx, ty = model.displacement(boxes[:, 0] + (boxes[:, 2] - 1) / 2, boxes[:, 1] + (boxes[:, 3] - 1) / 2)
    out = {"n_crops": len(boxes)}
    with tempfile.TemporaryDirectory() as tmp:
        arrays = str(Path(tmp) / "pair.npz")
        np.savez(arrays, ref=pair.ref, tgt=pair.tgt, ref_valid=pair.ref_valid, tgt_valid=pair.tgt_valid, boxes=boxes)
        runs = {"geo": _small_crop_run(ROOT, arrays, snippet=REAL_CROP_SNIPPET)}
        runs[f"geo@{reference}"] = _small_crop_run(_checkout(reference, Path(tmp)), arrays, snippet=REAL_CROP_SNIPPET)
    for tool, rows in runs.items():
        done = [i for i, row in enumerate(rows) if "failed" not in row]
        err = np.array([(rows[i]["dx"] - tx[i], rows[i]["dy"] - ty[i]) for i in done]).reshape(-1, 2)
        z = err / np.array([rows[i]["sigma_px"] for i in done])[:, None]
        out[tool] = {
            "n_failed": len(rows) - len(done), "failures": sorted({rows[i]["failed"][:120] for i in range(len(rows))
                                                                   if i not in done}),
            "rmse_px_per_component": round(float(np.sqrt(np.mean(err**2))), 4),
            "median_abs_error_px": round(float(np.median(np.abs(err))), 4),
            "rms_error_over_sigma": round(float(np.sqrt(np.mean(z**2))), 2),
            "median_abs_error_over_sigma": round(float(np.median(np.abs(z))), 2),  # 0.67 if honest and normal
            "share_beyond_3_sigma": round(float(np.mean(np.abs(z) > 3)), 3),
        }
    return out


def small_crop_section(data: Path, use_arosics: bool, reference: str = REFERENCE_COMMIT) -> dict:
    """Known shifts on small real crops (tests/align/crops.py: 68-190 px; OSCD cities at 40 m, AOI-sized
    10 m crops): this code, the reference commit's (today's default) and AROSICS, in the same run."""
    runs = {"geo": _small_crop_run(ROOT, str(data), "geo")}
    with tempfile.TemporaryDirectory() as tmp:
        runs[f"geo@{reference}"] = _small_crop_run(_checkout(reference, Path(tmp)), str(data), "geo")
    if use_arosics:
        runs["arosics"] = _small_crop_run(ROOT, str(data), "arosics")
    summary = {}
    for tool, rows in runs.items():
        ties = rows.pop()["tie_points_10m_B04"]
        errors = [r["error_px"] for r in rows if "error_px" in r]
        z = [r["error_px"] / np.sqrt(2) / r["sigma_px"] for r in rows if r.get("sigma_px")]
        summary[tool] = {
            "n_pairs": len(rows), "n_failed": sum("failed" in r for r in rows),
            "n_within_0.01_px": sum(e <= 0.01 for e in errors),
            "rmse_px_per_component": rmse([e / np.sqrt(2) for e in errors]),
            "max_error_px": max(errors) if errors else None,
            "rms_error_over_sigma": rmse(list(z)),
            "seconds_per_pair": float(np.mean([r["s"] for r in rows])),
            "tie_points_10m_B04": {"n_points": sum(t["n_points"] for t in ties),
                                   "n_reliable": sum(t["n_reliable"] for t in ties), "cities": ties},
        }
        logging.info("small crops, %s: %s", tool, summary[tool])
    return {"crops": [c.name for c in CROPS], "summary": summary, "runs": runs}


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


def rmse(errors: list[float]) -> float | None:
    return float(np.sqrt(np.mean(np.square(errors)))) if errors else None


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


GROSS_PX = 1.0  # a window this far off after correction is a failed measurement (wrong peak), not misregistration


def grid_shifts(ref: np.ndarray, tgt: np.ndarray, ref_valid, tgt_valid, size: int = 128, offset: int = 64):
    """Per-window (row, col, dx, dy) by phase correlation (not geo's method), on windows offset from geo's
    tie points; shifts of 4 px or more are dropped as failed."""
    both = ref_valid & tgt_valid
    origins = tie_point_origins(both[offset:, offset:], size, size, min_valid=0.95) + offset
    out = []
    for r, c in origins:
        win = np.s_[r:r + size, c:c + size]
        shift, _, _ = phase_cross_correlation(ref[win], tgt[win], upsample_factor=100)
        if np.hypot(*shift) < 4:
            out.append((r + size / 2, c + size / 2, -shift[1], -shift[0]))
    return np.array(out).reshape(-1, 4)


def independent_grid(ref: np.ndarray, tgt: np.ndarray, ref_valid, tgt_valid, size: int = 128, offset: int = 64):
    """Residual shifts on the independent grid: raw figures, figures without gross failures (windows
    ``GROSS_PX`` or more from the median: clouds, changes), and the grid's own per-window noise from
    differences between adjacent windows (robust: 1.4826 MAD / sqrt 2, per component; a smooth field
    cancels in the difference)."""
    g = grid_shifts(ref, tgt, ref_valid, tgt_valid, size, offset)
    dx, dy = g[:, 2], g[:, 3]
    gross = np.hypot(dx - np.median(dx), dy - np.median(dy)) >= GROSS_PX
    pairs = np.array(sorted(cKDTree(g[:, :2]).query_pairs(size * 1.01))).reshape(-1, 2)
    diff = np.concatenate([dx[pairs[:, 0]] - dx[pairs[:, 1]], dy[pairs[:, 0]] - dy[pairs[:, 1]]])
    return {
        "n_windows": int(len(dx)),
        "median_dx_px": round(float(np.median(dx)), 4), "median_dy_px": round(float(np.median(dy)), 4),
        "mean_dx_px": round(float(dx.mean()), 4), "mean_dy_px": round(float(dy.mean()), 4),
        "rms_px": _rms(dx, dy),
        "median_abs_px": round(float(np.median(np.hypot(dx, dy))), 4),
        "n_gross": int(gross.sum()),
        "rms_px_without_gross": _rms(dx[~gross], dy[~gross]),
        "window_noise_px": round(float(1.4826 * np.median(np.abs(diff - np.median(diff))) / np.sqrt(2)), 4),
        "gross_windows": [_flag(ref, tgt, ref_valid, tgt_valid, row, size) for row in g[gross]],
    }


def _flag(ref, tgt, ref_valid, tgt_valid, window_row, size: int) -> dict:
    """A gross window: where, what it measured, and what it holds (geo's one-date-bright mask share in
    either image: cloud; REF-TGT correlation: change)."""
    from geo.align.masks import clean_masks

    r, c, dx, dy = window_row
    win = np.s_[int(r - (size - 1) / 2):int(r - (size - 1) / 2) + size, int(c - (size - 1) / 2):int(c - (size - 1) / 2) + size]
    a, b = ref[win], tgt[win]
    ok_a, ok_b = clean_masks(a, b, ref_valid[win], tgt_valid[win])
    return {"row": int(r), "col": int(c), "dx_px": round(float(dx), 3), "dy_px": round(float(dy), 3),
            "cloud_share": round(float(1 - (ok_a & ok_b).mean()), 3),
            "correlation": round(float(np.corrcoef(a.ravel(), b.ravel())[0, 1]), 3)}


def _rms(dx: np.ndarray, dy: np.ndarray) -> float:
    """Per-component root mean square (px)."""
    return round(float(np.sqrt(np.mean(dx**2 + dy**2) / 2)), 4)


def grid_noise_floor(ref: np.ndarray, valid: np.ndarray, grid, applied_ref: str, shift, tmp: Path) -> dict:
    """What the independent grid reports when there is nothing to find: REF against itself, REF against
    REF passed through geo's apply at zero displacement, REF against REF Fourier-shifted by a known
    sub-pixel amount (the grid's own error on identical content), and REF against REF Fourier-shifted by
    geo's global shift then corrected through geo's apply by exactly that shift (the truth is 0: what the
    grid reports is the interpolation of the correction as phase correlation sees it; geo's Lucas-Kanade
    on the same windows for comparison)."""
    same = grid_shifts(ref, ref, valid, valid)
    with rasterio.open(applied_ref) as src:
        applied, applied_valid = src.read(1).astype(float), src.read_masks(1) > 0
    through = grid_shifts(ref, applied, valid, valid & applied_valid)
    dx, dy = KNOWN_NOISE_SHIFT
    moved = grid_shifts(ref, fourier_shift(ref, dx, dy), valid, valid)
    exact = _exact_correction(ref, valid, grid, shift, tmp)
    return {
        "identical_rms_px": _rms(same[:, 2], same[:, 3]),
        "through_apply_rms_px": _rms(through[:, 2], through[:, 3]),
        "known_shift_px": [dx, dy],
        "known_shift_rmse_px": _rms(moved[:, 2] - dx, moved[:, 3] - dy),
        "known_shift_mean_error_px": [round(float(np.mean(moved[:, 2] - dx)), 4),
                                      round(float(np.mean(moved[:, 3] - dy)), 4)],
        "exact_correction": exact,
    }


def _exact_correction(ref: np.ndarray, valid: np.ndarray, grid, shift, tmp: Path) -> dict:
    from geo.align.coreg import fit_windows

    profile = dict(driver="GTiff", width=grid.width, height=grid.height, count=1, dtype="float32", crs=grid.crs,
                   transform=grid.transform, nodata=0)
    moved_path, corrected_path = tmp / "ref_moved.tif", tmp / "ref_moved_corrected.tif"
    with rasterio.open(moved_path, "w", **profile) as dst:
        dst.write(np.where(valid, fourier_shift(ref, shift.dx_px, shift.dy_px), 0).astype(np.float32), 1)
    write_warped(str(moved_path), grid, translation(shift.dx_px, shift.dy_px), str(corrected_path))
    with rasterio.open(corrected_path) as src:
        corrected, ok = src.read(1).astype(float), (src.read_masks(1) > 0) & valid
    g = grid_shifts(ref, corrected, valid, ok)
    fit, fitted = fit_windows(ref, corrected, valid, ok, (g[:, :2] - 63.5).astype(int), 128, (0, 0), tolerance=2e-4)
    lk_ok = fitted & np.isfinite(fit.sigma)
    return {
        "shift_px": [round(shift.dx_px, 4), round(shift.dy_px, 4)],
        "grid_mean_px": [round(float(g[:, 2].mean()), 4), round(float(g[:, 3].mean()), 4)],
        "grid_rms_px": _rms(g[:, 2], g[:, 3]),
        "lucas_kanade_mean_px": [round(float(fit.dx[lk_ok].mean()), 4), round(float(fit.dy[lk_ok].mean()), 4)],
        "lucas_kanade_rms_px": _rms(fit.dx[lk_ok], fit.dy[lk_ok]),
    }


KNOWN_NOISE_SHIFT = (0.3, -0.2)


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
            logging.warning("arosics not installed (pip install -e '.[bench]'): geo figures only")
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
    main()
