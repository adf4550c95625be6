"""What the real pair's residual offset between estimators is: geo's Lucas-Kanade vs phase correlation.

On the real pair (shared/data/coreg-pair) the independent phase-correlation grid of ``benchmarks/coreg.py``
sees a ~0.05 px dy offset from geo's model. This script measures, on the raw pair (no resampling), on the
grid's own windows (128 px, offset 64 px from geo's tie points, >= 95 % valid, gross windows left out),
what each estimator says geo's local model misses:

- geo's Lucas-Kanade as shipped, without its robust (Tukey) weights, without its pre-smoothing, without both;
- phase correlation as the grid does it (scikit-image, 1/100 px) and with a Hann taper;
- SIFT keypoint matches (a third family: features, not correlation), median of the matches within 1 px;
- the cross-spectrum's phase slope per band of spatial frequency (what displacement each band carries).

    python benchmarks/coreg_residual.py [--out benchmarks/results/coreg_residual.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from skimage.feature import SIFT, match_descriptors
from skimage.registration import phase_cross_correlation

from geo import paths
from geo.align import coreg, lk
from geo.align.coreg import estimate_shift, fit_windows
from geo.align.local import estimate_local, tie_point_origins
from geo.align.masks import clean_masks
from geo.align.pair import read_pair

PAIR = ("coreg-pair", "ref_S2A_20160608T153121_T33UUU_sub.jp2", "tgt_S2A_20160529T153631_T33UUU_sub.jp2")
SIZE, OFFSET = 128, 64
GROSS_PX = 0.3  # per-window disagreement with the median beyond which a window is left out (cloud, change)
BANDS = ((0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5))  # cycles per pixel


@contextmanager
def variant(smooth: float, robust: bool) -> Iterator[None]:
    """geo's estimator with another pre-smoothing and with or without its Tukey weights (restored after)."""
    saved = coreg.SMOOTH_SIGMA, lk.TUKEY_C
    coreg.SMOOTH_SIGMA, lk.TUKEY_C = smooth, (lk.TUKEY_C if robust else 1e9)
    try:
        yield
    finally:
        coreg.SMOOTH_SIGMA, lk.TUKEY_C = saved


def phase_correlation(ref: np.ndarray, tgt: np.ndarray, origins: np.ndarray, taper: bool) -> np.ndarray:
    hann = np.outer(np.hanning(SIZE), np.hanning(SIZE)) if taper else 1.0
    out = []
    for r, c in origins:
        a, b = (x[r:r + SIZE, c:c + SIZE].astype(float) for x in (ref, tgt))
        shift = phase_cross_correlation((a - a.mean()) * hann, (b - b.mean()) * hann, upsample_factor=100)[0]
        out.append((-shift[1], -shift[0]))
    return np.array(out)


def sift_matches(ref: np.ndarray, tgt: np.ndarray, both: np.ndarray, tile: int = 512) -> np.ndarray:
    """(row, col, dx, dy) of SIFT matches (cross-checked, ratio 0.8) over clear tiles."""
    out = []
    for r0 in range(0, ref.shape[0] - tile + 1, tile):
        for c0 in range(0, ref.shape[1] - tile + 1, tile):
            win = np.s_[r0:r0 + tile, c0:c0 + tile]
            if both[win].mean() < 0.9:
                continue
            found = []
            for image in (ref[win].astype(float), tgt[win].astype(float)):
                lo, hi = np.percentile(image, (1, 99))
                detector = SIFT()
                try:
                    detector.detect_and_extract(np.clip((image - lo) / max(hi - lo, 1e-9), 0, 1))
                except RuntimeError:  # no keypoints
                    break
                found.append(detector)
            if len(found) < 2:
                continue
            pairs = match_descriptors(found[0].descriptors, found[1].descriptors, cross_check=True, max_ratio=0.8)
            a, b = found[0].positions[pairs[:, 0]], found[1].positions[pairs[:, 1]]
            out += [(r0 + p[0], c0 + p[1], q[1] - p[1], q[0] - p[0]) for p, q in zip(a, b)]
    return np.array(out).reshape(-1, 4)


def band_shifts(ref: np.ndarray, tgt: np.ndarray, origins: np.ndarray, start: tuple[float, float]) -> dict:
    """Displacement carried by each band of spatial frequency: the least-squares phase slope of the
    windows' summed cross-spectrum (Hann-tapered), around ``start`` so the phase does not wrap."""
    hann = np.outer(np.hanning(SIZE), np.hanning(SIZE))
    f = np.fft.fftfreq(SIZE)
    fy, fx = np.meshgrid(f, f, indexing="ij")
    cross = np.zeros((SIZE, SIZE), complex)
    for r, c in origins:
        a, b = (x[r:r + SIZE, c:c + SIZE].astype(float) for x in (ref, tgt))
        cross += np.fft.fft2((a - a.mean()) * hann) * np.conj(np.fft.fft2((b - b.mean()) * hann))
    cross *= np.exp(-2j * np.pi * (fx * start[0] + fy * start[1]))
    phase, weight, radius = np.angle(cross), np.abs(cross), np.hypot(fx, fy)
    out = {}
    for lo, hi in BANDS:
        m = (radius >= lo) & (radius < hi)
        design = np.column_stack([fx[m], fy[m]]) * 2 * np.pi * np.sqrt(weight[m])[:, None]
        sol = np.linalg.lstsq(design, phase[m] * np.sqrt(weight[m]), rcond=None)[0]
        out[f"{lo:.1f}-{hi:.1f}"] = [round(start[0] + sol[0], 4), round(start[1] + sol[1], 4)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "coreg_residual.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("geo").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")
    folder = paths.shared_data() / PAIR[0]
    pair = read_pair(str(folder / PAIR[1]), str(folder / PAIR[2]))
    ref, tgt, ref_valid, tgt_valid = pair.ref, pair.tgt, pair.ref_valid, pair.tgt_valid
    shift = estimate_shift(ref, tgt, ref_valid, tgt_valid)
    model = estimate_local(ref, tgt, ref_valid, tgt_valid, shift, 128, 128)
    both = ref_valid & tgt_valid
    origins = tie_point_origins(both[OFFSET:, OFFSET:], SIZE, SIZE, min_valid=0.95) + OFFSET
    centre = origins + (SIZE - 1) / 2
    mx, my = model.displacement(centre[:, 0], centre[:, 1])
    grid = phase_correlation(ref, tgt, origins, taper=False)
    gross = np.hypot(grid[:, 0] - mx - np.median(grid[:, 0] - mx), grid[:, 1] - my - np.median(grid[:, 1] - my)) >= GROSS_PX
    keep = ~gross
    start = (int(round(shift.dx_px)), int(round(shift.dy_px)))
    ref_ok, tgt_ok = clean_masks(ref, tgt, ref_valid, tgt_valid)

    def residual(values: np.ndarray, use: np.ndarray) -> dict:
        d = values[use] - np.column_stack([mx, my])[use]
        return {"n": int(use.sum()), "median_px": np.median(d, axis=0).round(4).tolist(),
                "mean_px": d.mean(axis=0).round(4).tolist()}

    estimators = {}
    for name, smooth, robust in (("lucas_kanade", coreg.SMOOTH_SIGMA, True), ("lucas_kanade_least_squares", coreg.SMOOTH_SIGMA, False),
                                 ("lucas_kanade_unsmoothed", 0.0, True), ("lucas_kanade_unsmoothed_least_squares", 0.0, False)):
        with variant(smooth, robust):
            fit, ok = fit_windows(ref, tgt, ref_ok, tgt_ok, origins, SIZE, start, tolerance=2e-4)
        estimators[name] = residual(np.column_stack([fit.dx, fit.dy]), keep & ok & np.isfinite(fit.sigma))
    estimators["phase_correlation"] = residual(grid, keep)
    estimators["phase_correlation_hann"] = residual(phase_correlation(ref, tgt, origins, taper=True), keep)
    sift = sift_matches(ref, tgt, both)
    sx, sy = model.displacement(sift[:, 0], sift[:, 1])
    d = sift[:, 2:] - np.column_stack([sx, sy])
    near = np.hypot(*d.T) < 1
    estimators["sift_matches"] = {"n": int(near.sum()), "median_px": np.median(d[near], axis=0).round(4).tolist(),
                                  "mean_px": d[near].mean(axis=0).round(4).tolist(),
                                  "standard_error_px": (d[near].std(axis=0) / np.sqrt(near.sum())).round(4).tolist()}
    report = {
        "benchmark": "coreg_residual",
        "geo_global_px": [round(shift.dx_px, 4), round(shift.dy_px, 4)],
        "geo_local_mean_px": [round(float(mx.mean()), 4), round(float(my.mean()), 4)],
        "n_windows": int(len(origins)), "n_left_out": int(gross.sum()),
        "residual_vs_geo_local_model": estimators,
        "displacement_by_frequency_band": band_shifts(ref, tgt, origins[keep], (float(mx.mean()), float(my.mean()))),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.needs import run

    run(main, data=["coreg-pair"])
