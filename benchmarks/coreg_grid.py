"""Co-registration benchmark, the residual: an independent grid of phase-correlation windows (scikit-image,
not geo's method), offset from geo's tie points, and what that grid reports when there is nothing to find
(``benchmarks/coreg.py`` puts both in its JSON)."""

from __future__ import annotations

if __name__ == "__main__":  # imported by the benchmarks, nothing of its own to run (it stopped in an import error)
    raise SystemExit("error: benchmarks/coreg_grid.py is a part of other benchmarks, not one to run: run python benchmarks/coreg.py")

from pathlib import Path

import numpy as np
import rasterio
from scipy.spatial import cKDTree
from skimage.registration import phase_cross_correlation

from geo.align.local import tie_point_origins
from geo.align.resample import translation, write_warped
from tests.align.crops import fourier_shift


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
