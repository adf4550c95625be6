"""How ``--local`` chooses its model: main's random cross-validation folds and this code's spatially blocked
ones, side by side on the same tie points, JSON out.

The tie points are measured once per pair (this code; the folds only change the model fitted to them); the
model is then fitted with each fold rule. Pairs: ``benchmarks/coreg_coarse_local.py``'s (5 real crops, 2
constant shifts and 1 smooth field each, TGT at 10/20/30/60 m) at ``--spacing`` (64: 36-64 tie points;
128 gives 9-16, too few for a smooth model), the same on 768-px crops of the co-registration pair's REF at
128 (36 tie points), and ``benchmarks/coreg.py``'s 384-px known-shift pairs (10 m, window 128, spacing 64:
25 tie points). Only pairs with at least ``MIN_POINTS_SMOOTH`` inliers (a choice to make) are scored: how often
the smooth model is chosen, and the model against the truth on a 9 x 9 lattice over the overlap (RMSE per
component, worst component, worst vector error at the 4 corners), px of REF.

    python benchmarks/coreg_cv_folds.py [--quick] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geo.align.local as local  # noqa: E402
from geo import paths  # noqa: E402
from geo.align.coreg import estimate_shift  # noqa: E402
from geo.align.files import LocalSettings, coregister_files  # noqa: E402
from tests.align.crops import fourier_shift  # noqa: E402

from benchmarks import coreg_coarse_local as ccl  # noqa: E402
from benchmarks.coreg import LOCAL_SPACING, LOCAL_WINDOW, PAIR, REF_NAME, crops, known_shifts  # noqa: E402


def main_folds(xy: np.ndarray, folds: int = 5) -> np.ndarray:
    """Main's rule (``fit_model`` before the blocked folds)."""
    return np.random.default_rng(0).permutation(len(xy)) % min(folds, len(xy))


RULES: dict[str, Callable[..., np.ndarray]] = {"main (random folds)": main_folds, "blocked folds": local._folds}


def _captured(run: Callable[[], object]) -> list[tuple[local.TiePoints, tuple[int, int]]]:
    """The tie points and grid shape every ``fit_model`` call during ``run`` got."""
    seen: list[tuple[local.TiePoints, tuple[int, int]]] = []
    fit = local.fit_model

    def spy(points: local.TiePoints, shape: tuple[int, int], *args: object) -> local.LocalModel:
        seen.append((points, tuple(shape)))  # type: ignore[arg-type]
        return fit(points, shape, *args)  # type: ignore[arg-type]

    local.fit_model = spy  # type: ignore[assignment]
    try:
        run()
    except Exception:  # noqa: BLE001 - a pair that fails scores nothing, in both rules alike
        pass
    finally:
        local.fit_model = fit  # type: ignore[assignment]
    return seen


def _big_crops(data: Path) -> list[np.ndarray]:
    with rasterio.open(data / PAIR / REF_NAME) as src:
        return [src.read(1, window=Window(c, r, 816, 816)).astype(float)
                for r, c in ((900, 700), (300, 1300), (2000, 200), (1700, 1400))]


def _coarse(data: Path, spacing: int, quick: bool, big: bool) -> list[dict]:
    make_crops = ccl._crops
    if big:
        ccl._crops = _big_crops  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cases = ccl._cases(data, Path(tmp))
            if quick:
                cases = [c for c in cases if c["factor"] in (2, 6)]
            out = []
            for case in cases:
                seen = _captured(lambda: coregister_files(str(Path(tmp) / case["ref"]), str(Path(tmp) / case["tgt"]),
                                                          local=LocalSettings(spacing=spacing)))
                if seen:
                    out.append(dict(group=f"{10 * case['factor']} m {case['kind']}", field=case["field"],
                                    points=seen[-1][0], shape=seen[-1][1]))
            return out
    finally:
        ccl._crops = make_crops  # type: ignore[assignment]


def _known(data: Path, quick: bool) -> list[dict]:
    out = []
    for _, image in crops(data, 384 + 48):
        for dx, dy in known_shifts(4 if quick else 10):
            ref, tgt = image[24:-24, 24:-24], fourier_shift(image, dx, dy)[24:-24, 24:-24]
            seen = _captured(lambda: local.estimate_local(ref, tgt, None, None, estimate_shift(ref, tgt),
                                                          LOCAL_WINDOW, LOCAL_SPACING))
            if seen:
                out.append(dict(group="10 m constant", field=dict(cx=dx, cy=dy, ax=0.0, ay=0.0, bx=0.0, phase=0.0),
                                points=seen[-1][0], shape=seen[-1][1]))
    return out


def _score(items: list[dict], rule: Callable[..., np.ndarray]) -> dict:
    out: dict[str, dict] = {}
    folds = local._folds
    local._folds = rule  # type: ignore[assignment]
    try:
        for item in items:
            if item["points"].inlier.sum() < local.MIN_POINTS_SMOOTH:
                continue
            model = local.fit_model(item["points"], item["shape"])
            h, w = item["shape"]
            rr, cc = np.meshgrid(np.linspace(0, h - 1, 9), np.linspace(0, w - 1, 9), indexing="ij")
            mx, my = model.displacement(rr, cc)
            tx, ty = ccl.field(item["field"], rr, cc)
            row = out.setdefault(item["group"], dict(pairs=0, smooth=0, errors=[], corners=[]))
            row["pairs"] += 1
            row["smooth"] += model.kind == "smooth"
            row["errors"] += list((mx - tx).ravel()) + list((my - ty).ravel())
            row["corners"].append(float(np.hypot(mx - tx, my - ty)[[0, 0, -1, -1], [0, -1, 0, -1]].max()))
    finally:
        local._folds = folds  # type: ignore[assignment]
    return {group: dict(pairs=r["pairs"], smooth_chosen=r["smooth"],
                        model_rmse_px=round(float(np.sqrt(np.mean(np.square(r["errors"])))), 4),
                        model_worst_px=round(float(np.max(np.abs(r["errors"]))), 4),
                        corner_worst_px=round(max(r["corners"]), 4)) for group, r in sorted(out.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 and 60 m TGTs only, 4 known shifts a crop")
    parser.add_argument("--spacing", type=int, default=64, help="tie-point spacing of the coarser-TGT pairs (px of REF)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "coreg_cv_folds.json"))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    data = paths.shared_data()
    sets = {f"coarse TGT, 612-660 px, spacing {args.spacing}": _coarse(data, args.spacing, args.quick, big=False),
            "coarse TGT, 768 px, spacing 128": _coarse(data, 128, args.quick, big=True),
            "known shifts, 384 px, 10 m, spacing 64": _known(data, args.quick)}
    result = {name: {rule_name: _score(items, rule) for rule_name, rule in RULES.items()} for name, items in sets.items()}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    from benchmarks.needs import run

    run(main, data=["coreg-pair", "oscd"])
