"""Global sub-pixel translation between two co-gridded images, robust to clouds, nodata and real change.

Convention (DESIGN): a feature at (col, row) in REF is at (col + dx, row + dy) in TGT.

Two stages:
1. integer shift by masked normalised cross-correlation (Padfield's FFT method in scikit-image), which
   ignores invalid pixels instead of treating them as data;
2. sub-pixel refinement by iterative least squares (Lucas-Kanade with a gain/offset term and robust
   weights): TGT sampled at x + d by cubic splines is fitted to a·REF + b. Its fixed point does not depend
   on interpolation of the correlation peak, which is what limits peak-fitting methods to ~0.1 px.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from skimage.registration import phase_cross_correlation

from geo.errors import CoregError
from geo.grid import Grid

log = logging.getLogger(__name__)

MIN_VALID_PIXELS = 2_000
MIN_QUALITY = 0.2
SMOOTH_SIGMA = 1.0  # pre-smoothing (same on both images): damps aliasing before spline interpolation
BORDER = 4  # pixels next to invalid data or the edge are left out of the fit (spline ringing)


@dataclass(frozen=True)
class Shift:
    """Displacement of TGT relative to REF in pixels of the common grid, with a reliability figure."""

    dx_px: float
    dy_px: float
    quality: float  # weighted correlation of REF and aligned TGT over the fitted pixels, 0..1
    n_pixels: int
    iterations: int = 0
    method: str = "global"

    def metres(self, grid: Grid) -> tuple[float, float]:
        """(dx_m, dy_m): the displacement in map units — east and north positive."""
        a, e = grid.transform.a, grid.transform.e
        return (self.dx_px * a, self.dy_px * e)

    def to_dict(self, grid: Grid | None = None) -> dict[str, float | int | str]:
        out: dict[str, float | int | str] = {
            "dx_px": round(self.dx_px, 4),
            "dy_px": round(self.dy_px, 4),
            "quality": round(self.quality, 4),
        }
        if grid is not None:
            dx_m, dy_m = self.metres(grid)
            out.update(dx_m=round(dx_m, 3), dy_m=round(dy_m, 3))
        out.update(n_pixels=self.n_pixels, iterations=self.iterations, method=self.method)
        return out


def _standardise(image: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance over valid pixels; invalid pixels set to 0 so filters see no NaN."""
    values = image[valid]
    out = np.zeros(image.shape, dtype=np.float64)
    std = values.std()
    if std == 0 or not np.isfinite(std):
        raise CoregError("image has no texture over its valid pixels (constant values)")
    out[valid] = (values - values.mean()) / std
    return out


def mask_bright_outliers(image: np.ndarray, valid: np.ndarray, k: float = 6.0, grow_px: int = 10) -> np.ndarray:
    """``valid`` without pixels far brighter than the scene (clouds, glint, saturation), grown a little so
    their soft edges go too. Unmasked, a cloud dominates the correlation of a whole scene."""
    values = image[valid]
    median = np.median(values)
    spread = 1.4826 * np.median(np.abs(values - median))
    bright = valid & (image > median + k * spread)
    if not bright.any():
        return valid
    return valid & ~ndi.binary_dilation(bright, iterations=grow_px)


def best_window(valid: np.ndarray, size: int) -> tuple[slice, slice]:
    """The ``size``-square window (or the whole image when smaller) holding the most valid pixels."""
    rows, cols = valid.shape
    h, w = min(size, rows), min(size, cols)
    if (h, w) == (rows, cols):
        return slice(0, rows), slice(0, cols)
    step = max(1, size // 8)
    integral = np.pad(valid.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    r0 = np.arange(0, rows - h + 1, step)
    c0 = np.arange(0, cols - w + 1, step)
    rr, cc = np.meshgrid(r0, c0, indexing="ij")
    counts = integral[rr + h, cc + w] - integral[rr, cc + w] - integral[rr + h, cc] + integral[rr, cc]
    i, j = np.unravel_index(np.argmax(counts), counts.shape)
    return slice(int(r0[i]), int(r0[i]) + h), slice(int(c0[j]), int(c0[j]) + w)


def _prepare(image: np.ndarray, valid: np.ndarray) -> np.ndarray:
    valid = valid & np.isfinite(image)
    return ndi.gaussian_filter(_standardise(image, valid), SMOOTH_SIGMA)


def _usable(valid: np.ndarray) -> np.ndarray:
    """Valid pixels far enough from invalid ones and the edge for smoothing + cubic sampling."""
    inner = ndi.binary_erosion(valid, iterations=BORDER, border_value=0)
    return inner


def _derivative(image: np.ndarray, axis: int) -> np.ndarray:
    """Five-point central difference: far less high-frequency bias than np.gradient, so Gauss-Newton
    steps are nearly exact and the refinement converges in a few iterations."""
    kernel = np.array([-1.0, 8.0, 0.0, -8.0, 1.0]) / 12.0
    return ndi.correlate1d(image, kernel[::-1], axis=axis, mode="nearest")


def integer_shift(ref: np.ndarray, tgt: np.ndarray, ref_valid: np.ndarray, tgt_valid: np.ndarray) -> tuple[int, int]:
    """(dx, dy) to the nearest pixel by masked normalised cross-correlation."""
    shift = phase_cross_correlation(
        ref, tgt, reference_mask=ref_valid, moving_mask=tgt_valid, overlap_ratio=0.3
    )[0]
    return int(round(-shift[1])), int(round(-shift[0]))


def refine_shift(
    ref: np.ndarray,
    tgt: np.ndarray,
    fit_mask: np.ndarray,
    tgt_usable: np.ndarray,
    start: tuple[float, float],
    max_iterations: int = 30,
    tolerance: float = 2e-4,
) -> tuple[float, float, float, int, int]:
    """Least-squares sub-pixel refinement from ``start``; returns (dx, dy, quality, n_pixels, iterations)."""
    coeffs = ndi.spline_filter(tgt, order=3)
    gx_coeffs = ndi.spline_filter(_derivative(tgt, axis=1), order=3)
    gy_coeffs = ndi.spline_filter(_derivative(tgt, axis=0), order=3)
    usable = tgt_usable.astype(np.float32)
    dx, dy = start
    weights = fit_mask.astype(np.float64)
    quality, n_used, iteration = 0.0, 0, 0
    for iteration in range(1, max_iterations + 1):
        # A pure translation: sampling TGT at x + d is a shift by -d of the whole image.
        offset_rc = (dy, dx)
        inside = fit_mask & (ndi.shift(usable, (-dy, -dx), order=0, mode="constant", cval=0.0) > 0.5)
        if inside.sum() < MIN_VALID_PIXELS:
            raise CoregError(f"too few overlapping valid pixels after shifting ({int(inside.sum())})")
        sample = lambda c: ndi.shift(c, (-offset_rc[0], -offset_rc[1]), order=3, mode="constant", prefilter=False)[inside]
        warped, gx, gy = sample(coeffs), sample(gx_coeffs), sample(gy_coeffs)
        r = ref[inside]
        w = weights[inside]
        design = np.column_stack([gx, gy, -r, -np.ones_like(r)])
        sw = np.sqrt(w)
        solution, *_ = np.linalg.lstsq(design * sw[:, None], -warped * sw, rcond=None)
        step_x, step_y, gain, offset = solution
        residual = warped - gain * r - offset
        # Tukey biweight on residuals: real change and leftover cloud edges stop pulling the fit.
        scale = 1.4826 * np.median(np.abs(residual)) + 1e-12
        u = residual / (4.685 * scale)
        new_w = np.where(np.abs(u) < 1, (1 - u**2) ** 2, 0.0)
        weights[:] = 0.0
        weights[inside] = new_w
        dx, dy = dx + step_x, dy + step_y
        n_used = int(inside.sum())
        wc = new_w / max(new_w.sum(), 1e-12)
        wm_a, wm_b = (wc * warped).sum(), (wc * r).sum()
        cov = (wc * (warped - wm_a) * (r - wm_b)).sum()
        var_a, var_b = (wc * (warped - wm_a) ** 2).sum(), (wc * (r - wm_b) ** 2).sum()
        quality = float(cov / np.sqrt(var_a * var_b + 1e-24))
        if abs(step_x) < tolerance and abs(step_y) < tolerance:
            break
        if abs(dx - start[0]) > 3 or abs(dy - start[1]) > 3:
            raise CoregError("sub-pixel refinement diverged from the correlation peak")
    return float(dx), float(dy), max(0.0, quality), n_used, iteration


def estimate_shift(
    ref: np.ndarray,
    tgt: np.ndarray,
    ref_valid: np.ndarray | None = None,
    tgt_valid: np.ndarray | None = None,
    min_quality: float = MIN_QUALITY,
    window: int = 1024,
) -> Shift:
    """Global translation of ``tgt`` relative to ``ref`` (same shape, same grid), sub-pixel.

    Works on the ``window``-square part of the overlap with the most valid pixels: a translation is the
    same everywhere, and a million pixels pin it far below 0.01 px.
    """
    if ref.shape != tgt.shape:
        raise CoregError(f"reference and target must share a grid; shapes {ref.shape} and {tgt.shape} differ")
    ref_valid = np.isfinite(ref) if ref_valid is None else ref_valid & np.isfinite(ref)
    tgt_valid = np.isfinite(tgt) if tgt_valid is None else tgt_valid & np.isfinite(tgt)
    overlap = int((ref_valid & tgt_valid).sum())
    if overlap < MIN_VALID_PIXELS:
        raise CoregError(f"reference and target overlap on only {overlap} valid pixels (need {MIN_VALID_PIXELS})")
    ref_valid, tgt_valid = mask_bright_outliers(ref, ref_valid), mask_bright_outliers(tgt, tgt_valid)
    rows, cols = best_window(ref_valid & tgt_valid, window)
    ref, tgt, ref_valid, tgt_valid = ref[rows, cols], tgt[rows, cols], ref_valid[rows, cols], tgt_valid[rows, cols]
    ref_p, tgt_p = _prepare(ref, ref_valid), _prepare(tgt, tgt_valid)
    start = integer_shift(ref_p, tgt_p, ref_valid, tgt_valid)
    fit_mask = _usable(ref_valid)
    dx, dy, quality, n_used, iterations = refine_shift(ref_p, tgt_p, fit_mask, _usable(tgt_valid), start)
    shift = Shift(dx, dy, quality, n_used, iterations)
    log.info("global shift dx=%.3f dy=%.3f px, quality %.3f over %d px", dx, dy, quality, n_used)
    if quality < min_quality:
        raise CoregError(
            f"no reliable shift: correlation {quality:.2f} after alignment is below {min_quality} "
            "(images too different, too cloudy, or not the same place)"
        )
    return shift
