"""``geo coreg`` of a coarser TGT (20, 30, 60 m) against a 10 m REF: known shifts, this code and a reference
commit's side by side in the same run, JSON out.

REF is a real 10 m crop (the co-registration pair's REF, OSCD B04 of three cities); TGT is the same ground
moved by a known sub-pixel shift (Fourier shift of a symmetric extension) and block-averaged 2, 3 or 6 times:
each TGT pixel is REF's ground averaged, as a coarser band's pixel is. Each tool runs ``python -m geo coreg
--json`` on the files; error per component in REF pixels, and RMS of error over stated sigma (1 = honest).

    python benchmarks/coreg_coarse.py [--reference COMMIT] [--out benchmarks/results/coreg_coarse.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.windows import Window

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo import paths  # noqa: E402
from tests.align.crops import fourier_shift  # noqa: E402

from benchmarks.coreg_crops import _checkout  # noqa: E402

FACTORS = (2, 3, 6)
PER_CROP = 5
TRANSFORM = Affine(10, 0, 500000, 0, -10, 5000000)


def _crops(data: Path) -> list[np.ndarray]:
    sources = [(data / "coreg-pair" / "ref_S2A_20160608T153121_T33UUU_sub.jp2", (900, 700)),
               (data / "coreg-pair" / "ref_S2A_20160608T153121_T33UUU_sub.jp2", (300, 1300))]
    sources += [(next((data / "oscd" / city / "imgs_1").glob("*_B04.tif")), (0, 0)) for city in ("paris", "pisa", "nantes")]
    out = []
    for path, (row, col) in sources:
        with rasterio.open(path) as src:
            n = min(src.height - row, src.width - col, 660) // 12 * 12
            out.append(src.read(1, window=Window(col, row, n, n)).astype(float))
    return out


def _write(path: Path, image: np.ndarray, transform: Affine) -> None:
    with rasterio.open(path, "w", driver="GTiff", width=image.shape[1], height=image.shape[0], count=1,
                       dtype="float32", crs="EPSG:32633", transform=transform) as dst:
        dst.write(image.astype(np.float32), 1)


def _cases(data: Path, folder: Path) -> list[dict]:
    """The pairs written under ``folder``: (factor, known shift, files)."""
    rng = np.random.default_rng(0)
    cases = []
    for k, image in enumerate(_crops(data)):
        for j in range(PER_CROP):
            dx, dy = rng.uniform(-3, 3, 2)
            ref, moved = image[24:-24, 24:-24], fourier_shift(image, dx, dy)[24:-24, 24:-24]
            _write(folder / f"ref-{k}-{j}.tif", ref, TRANSFORM)
            for f in FACTORS:
                h = ref.shape[0] // f * f
                coarse = moved[:h, :h].reshape(h // f, f, h // f, f).mean(axis=(1, 3))
                _write(folder / f"tgt-{k}-{j}-{f}.tif", coarse, TRANSFORM @ Affine.scale(f))
                cases.append(dict(factor=f, shift=(float(dx), float(dy)), ref=f"ref-{k}-{j}.tif", tgt=f"tgt-{k}-{j}-{f}.tif"))
    return cases


def _run(geo_path: Path, folder: Path, cases: list[dict]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(geo_path)}
    summary = {}
    for f in FACTORS:
        errors, ratios, failed = [], [], 0
        for case in (c for c in cases if c["factor"] == f):
            proc = subprocess.run([sys.executable, "-m", "geo", "coreg", case["ref"], case["tgt"], "--json"],
                                  capture_output=True, text=True, env=env, cwd=folder)
            if proc.returncode != 0:
                failed += 1
                continue
            report = json.loads(proc.stdout)
            error = (report["dx_px"] - case["shift"][0], report["dy_px"] - case["shift"][1])
            errors += list(error)
            ratios.append(np.hypot(*error) / np.sqrt(2) / report["sigma_px"])
        summary[f"{10 * f} m"] = dict(
            pairs=len(ratios), failed=failed, rmse_px=round(float(np.sqrt(np.mean(np.square(errors)))), 4),
            worst_px=round(float(np.max(np.abs(errors))), 4),
            rms_error_over_sigma=round(float(np.sqrt(np.mean(np.square(ratios)))), 2))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default="0379f63", help="commit to compare with (its geo/)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "coreg_coarse.json"))
    args = parser.parse_args()
    side_by_side(_cases, _run, args.reference, Path(args.out))


def side_by_side(make_cases: Callable[[Path, Path], list[dict]], run: Callable[[Path, Path, list[dict]], object],
                 commit: str, out: Path, **extra: object) -> None:
    """``run`` (geo's folder, the pairs' folder, the cases) with this code and ``commit``'s on the pairs
    ``make_cases`` (the shared data, a folder) writes; JSON to ``out`` (``extra`` first) and printed."""
    with tempfile.TemporaryDirectory() as tmp:
        folder, reference = Path(tmp) / "pairs", Path(tmp) / "reference"
        folder.mkdir(), reference.mkdir()
        cases = make_cases(paths.shared_data(), folder)
        result = {**extra, "geo": run(ROOT, folder, cases),
                  f"geo@{commit}": run(_checkout(commit, reference), folder, cases)}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    from benchmarks.needs import run

    run(main, data=["coreg-pair", "oscd"])
