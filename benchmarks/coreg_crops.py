"""Co-registration benchmark, small images: known shifts on the small real crops of the tests
(``tests/align/crops.py``) and AOI-sized crops of the real pair, each run by this code and by a reference
commit's ``geo`` in a fresh interpreter (``benchmarks/coreg.py`` puts them in its JSON)."""

from __future__ import annotations

if __name__ == "__main__":  # imported by the benchmarks, nothing of its own to run (it stopped in an import error)
    raise SystemExit("error: benchmarks/coreg_crops.py is a part of other benchmarks, not one to run: run python benchmarks/coreg.py")

import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from tests.align.crops import CROPS

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_COMMIT = "9f9f435"  # "today's default" of issue 17: the code before the small-image changes


def rmse(errors: list[float]) -> float | None:
    return float(np.sqrt(np.mean(np.square(errors)))) if errors else None



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
