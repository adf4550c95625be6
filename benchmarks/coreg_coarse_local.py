"""``geo coreg --local`` of a coarser TGT (20, 30, 60 m) against a 10 m REF: known displacements, this code and
a reference commit's side by side in the same run, JSON out.

The pairs are ``benchmarks/coreg_coarse.py``'s (real 10 m crops; TGT the same ground moved and block-averaged 2,
3 or 6 times; 10 m TGTs too, as the floor of the scores), moved by a constant sub-pixel shift (Fourier shift:
exact) or by a smooth field (a constant plus slow sinusoids of up to 0.8 px, sampled from the 2x Fourier-upsampled
crop). Each tool runs ``coregister_files`` (``geo coreg REF TGT --local --apply OUT``: windows of 128 px, every
128 px or ``--spacing``) in a fresh interpreter. Scored: every tie point used against the field at its position (error
per component in REF pixels, and over its stated sigma: 1 = honest; a smooth field varies inside a window, so
there even 10 m tie points are ~0.02 px off its value at the centre), the model against the field on a 9 x 9
lattice over the overlap, and the written correction: OUT block-averaged back onto TGT's lattice and measured
again against REF by ``geo coreg``'s global path (the same in both tools), which should find no shift left.

    python benchmarks/coreg_coarse_local.py [--reference COMMIT] [--spacing 128] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from affine import Affine
from scipy import ndimage as ndi

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.align.crops import fourier_shift  # noqa: E402

from benchmarks.coreg_coarse import FACTORS, TRANSFORM, _crops, _write, side_by_side  # noqa: E402

LOCAL_FACTORS = (1, *FACTORS)  # 10 m against 10 m: the floor of the scores (REF's grid in both)

CONSTANT, SMOOTH = 2, 1  # pairs per crop and resolution of each kind
EDGE = 24  # px cut from each side of a crop after moving it


def field(params: dict, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dx, dy) in REF pixels at REF positions: a feature at (col, row) of REF is at (col + dx, row + dy) of TGT."""
    cx, cy, ax, ay, bx, phase = (params[k] for k in ("cx", "cy", "ax", "ay", "bx", "phase"))
    dx = cx + ax * np.sin(2 * np.pi * rows / 1500 + phase) + bx * np.cos(2 * np.pi * cols / 1300)
    dy = cy + ay * np.cos(2 * np.pi * cols / 1200 - phase)
    return dx, dy


def _moved_by_field(image: np.ndarray, params: dict, edge: int) -> np.ndarray:
    """``image``'s ground (band-limited: 2x Fourier upsampled, then a quintic spline) where TGT sees it: TGT's
    pixel at p shows the ground REF has at q with q + D(q) = p (solved by fixed-point iteration). The field is
    defined on REF's pixels, which start ``edge`` px into ``image``."""
    pad = 64
    padded = np.pad(image, pad, mode="symmetric")
    spectrum = np.fft.fftshift(np.fft.fft2(padded))
    h, w = padded.shape
    big = np.zeros((2 * h, 2 * w), complex)
    big[h // 2:h // 2 + h, w // 2:w // 2 + w] = spectrum
    fine = np.real(np.fft.ifft2(np.fft.ifftshift(big))) * 4
    rows, cols = np.meshgrid(np.arange(image.shape[0], dtype=float), np.arange(image.shape[1], dtype=float), indexing="ij")
    q_r, q_c = rows.copy(), cols.copy()
    for _ in range(8):
        dx, dy = field(params, q_r - edge, q_c - edge)
        q_r, q_c = rows - dy, cols - dx
    coeffs = ndi.spline_filter(fine, order=5)
    return ndi.map_coordinates(coeffs, [2 * (q_r + pad), 2 * (q_c + pad)], order=5, prefilter=False)


def _cases(data: Path, folder: Path) -> list[dict]:
    rng = np.random.default_rng(1)
    cases = []
    for k, image in enumerate(_crops(data)):
        for j in range(CONSTANT + SMOOTH):
            cx, cy = rng.uniform(-3, 3, 2)
            params = dict(cx=cx, cy=cy, ax=0.0, ay=0.0, bx=0.0, phase=0.0)
            if j < CONSTANT:
                moved = fourier_shift(image, cx, cy)
            else:
                params.update(ax=rng.uniform(0.4, 0.8), ay=rng.uniform(0.4, 0.8), bx=rng.uniform(-0.3, 0.3),
                              phase=rng.uniform(0, 2 * np.pi))
                moved = _moved_by_field(image, params, EDGE)
            ref, moved = image[EDGE:-EDGE, EDGE:-EDGE], moved[EDGE:-EDGE, EDGE:-EDGE]
            _write(folder / f"ref-{k}-{j}.tif", ref, TRANSFORM)
            for f in LOCAL_FACTORS:
                h = ref.shape[0] // f * f
                coarse = moved[:h, :h].reshape(h // f, f, h // f, f).mean(axis=(1, 3))
                _write(folder / f"tgt-{k}-{j}-{f}.tif", coarse, TRANSFORM @ Affine.scale(f))
                cases.append(dict(factor=f, kind="constant" if j < CONSTANT else "smooth", field=params,
                                  ref=f"ref-{k}-{j}.tif", tgt=f"tgt-{k}-{j}-{f}.tif", out=f"out-{k}-{j}-{f}.tif"))
    return cases


SNIPPET = """
import json, sys, warnings
import numpy as np
import rasterio
from rasterio.enums import Resampling
warnings.filterwarnings("ignore")
from geo.align.files import LocalSettings, coregister_files
cases = json.load(open(sys.argv[1]))
rows = []
for case in cases:
    f = case["factor"]
    try:
        done = coregister_files(case["ref"], case["tgt"], local=LocalSettings(spacing=int(sys.argv[2])), apply_to=case["out"])
    except Exception as exc:
        rows.append({"failed": f"{type(exc).__name__}: {exc}"})
        continue
    row = {"warnings": done.warnings, "global": [done.shift.dx_px, done.shift.dy_px, done.shift.sigma_px]}
    if done.model is not None:
        p = done.model.points
        row["points"] = [p.row[p.inlier].tolist(), p.col[p.inlier].tolist(), p.dx[p.inlier].tolist(),
                         p.dy[p.inlier].tolist(), p.sigma[p.inlier].tolist()]
        row["n_points"], row["kind"] = len(p), done.model.kind
        lattice = np.linspace(0, done.grid.height - 1, 9), np.linspace(0, done.grid.width - 1, 9)
        rr, cc = np.meshgrid(*lattice, indexing="ij")
        row["lattice"] = [rr.ravel().tolist(), cc.ravel().tolist()] + [v.ravel().tolist() for v in done.model.displacement(rr, cc)]
    with rasterio.open(case["out"]) as src:  # back onto TGT's lattice (the output starts where TGT does)
        h, w = src.height // f, src.width // f
        back = src.read(1, out_shape=(h, w), window=rasterio.windows.Window(0, 0, w * f, h * f),
                        resampling=Resampling.average)
        profile = dict(driver="GTiff", width=w, height=h, count=1, dtype="float32", crs=src.crs,
                       transform=src.transform * rasterio.Affine.scale(f), nodata=0)
    with rasterio.open("back.tif", "w", **profile) as dst:
        dst.write(back.astype("float32"), 1)
    again = coregister_files(case["ref"], "back.tif").shift
    row["residual"] = [again.dx_px, again.dy_px, again.sigma_px]
    rows.append(row)
print(json.dumps(rows))
"""


def _run(geo_path: Path, folder: Path, cases: list[dict], spacing: int) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": f"{geo_path}:{ROOT}", "PYTHONDONTWRITEBYTECODE": "1"}
    (folder / "cases.json").write_text(json.dumps(cases))
    proc = subprocess.run([sys.executable, "-c", SNIPPET, "cases.json", str(spacing)], capture_output=True, text=True, env=env,
                          cwd=folder, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _rms(values: list[float]) -> float | None:
    return round(float(np.sqrt(np.mean(np.square(values)))), 4) if values else None


def _score(cases: list[dict], rows: list[dict]) -> dict:
    out = {}
    for f in LOCAL_FACTORS:
        for kind in ("constant", "smooth"):
            errors, ratios, model_errors, mean_errors, residuals = [], [], [], [], []
            fell_back, failed, points = 0, 0, 0
            for case, row in zip(cases, rows):
                if case["factor"] != f or case["kind"] != kind:
                    continue
                if "failed" in row:
                    failed += 1
                    continue
                residuals += row["residual"][:2]
                if "points" not in row:
                    fell_back += 1
                    continue
                r, c, dx, dy, sigma = map(np.array, row["points"])
                tx, ty = field(case["field"], r, c)
                points += len(r)
                errors += list(dx - tx) + list(dy - ty)
                ratios += list((dx - tx) / sigma) + list((dy - ty) / sigma)
                lr, lc, mx, my = map(np.array, row["lattice"])
                tx, ty = field(case["field"], lr, lc)
                model_errors += list(mx - tx) + list(my - ty)
                mean_errors += [float(np.mean(mx - tx)), float(np.mean(my - ty))]  # what "mean_dx_px" says
            out[f"{10 * f} m {kind}"] = dict(
                pairs=sum(1 for c in cases if c["factor"] == f and c["kind"] == kind), failed=failed,
                fell_back=fell_back, tie_points_used=points, tie_point_rmse_px=_rms(errors),
                tie_point_worst_px=round(float(np.max(np.abs(errors))), 4) if errors else None,
                rms_error_over_sigma=_rms(ratios),
                median_abs_error_over_sigma=round(float(np.median(np.abs(ratios))), 2) if ratios else None,  # 0.67 honest
                model_rmse_px=_rms(model_errors),
                model_worst_px=round(float(np.max(np.abs(model_errors))), 4) if model_errors else None,
                model_mean_worst_px=round(float(np.max(np.abs(mean_errors))), 4) if mean_errors else None,
                apply_residual_rmse_px=_rms(residuals),
                apply_residual_worst_px=round(float(np.max(np.abs(residuals))), 4) if residuals else None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default="a0e064c", help="commit to compare with (its geo/)")
    parser.add_argument("--spacing", type=int, default=128, help="tie-point spacing, px of REF (window: 128)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "coreg_coarse_local.json"))
    args = parser.parse_args()

    def run(geo_path: Path, folder: Path, cases: list[dict]) -> dict:
        return _score(cases, _run(geo_path, folder, cases, args.spacing))

    side_by_side(_cases, run, args.reference, Path(args.out), spacing=args.spacing)


if __name__ == "__main__":
    from benchmarks.needs import run

    run(main, data=["coreg-pair", "oscd"])
