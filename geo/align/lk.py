"""Batched Lucas-Kanade: the sub-pixel translation of many windows at once, pure numpy.

For each window i the target, sampled at x + d_i through its cubic B-spline, is fitted to a_i·REF + b_i by
Gauss-Newton with Tukey weights (real change, leftover cloud edges and shadows stop pulling the fit).
Sampling and its exact derivatives are separable 4-tap B-spline sums, evaluated for the whole batch with
array slicing: no per-pixel interpolation calls, no full-image shifts. One global shift is a batch of
one; a tie-point grid is a batch of hundreds. The fixed point is the minimum of the interpolated sum of
squares, so it does not depend on how a correlation peak is interpolated (what limits peak-fitting
methods such as AROSICS: 0.01 px global, 0.06 px local on exact shifts in benchmarks/coreg.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MARGIN = 3  # slab margin: a window may move this far (minus the 2-px spline support) from its start
TUKEY_C = 4.685
SCALE_FLOOR = 0.02  # residual scale floor in units of the image's standard deviation


@dataclass(frozen=True)
class Windows:
    """Square REF windows of one size and their TGT spline-coefficient slabs, stacked.

    ``ref`` (n, h, w) prepared REF values, ``fit`` (n, h, w) where both images may be used, ``coeffs``
    (n, h + 2M, w + 2M) TGT cubic B-spline coefficients around the window moved by its integer ``start``.
    """

    ref: np.ndarray
    fit: np.ndarray
    coeffs: np.ndarray
    start: np.ndarray  # (n, 2) integer (dx, dy) the slabs were cut at
    ref_gx: np.ndarray  # REF derivatives along columns and rows (for the symmetric, ESM, step)
    ref_gy: np.ndarray


@dataclass(frozen=True)
class Fit:
    """Per-window result: shift, reliability and what it rests on."""

    dx: np.ndarray
    dy: np.ndarray
    quality: np.ndarray  # weighted correlation of REF and aligned TGT, 0..1
    sigma: np.ndarray  # standard error of the shift (px), from the residuals and the normal matrix
    n_pixels: np.ndarray
    converged: np.ndarray
    iterations: int


def _bspline_weights(t: np.ndarray, derivative: bool) -> np.ndarray:
    """(n, 4) cubic B-spline weights (or their derivatives) for coefficient offsets -1, 0, 1, 2."""
    t = t[:, None]
    if derivative:
        return np.hstack([-0.5 * (1 - t) ** 2, -2 * t + 1.5 * t**2, 0.5 + t - 1.5 * t**2, 0.5 * t**2])
    return np.hstack([(1 - t) ** 3, 4 - 6 * t**2 + 3 * t**3, 1 + 3 * t + 3 * t**2 - 3 * t**3, t**3]) / 6


def _dense_taps(offset: np.ndarray, derivative: bool) -> np.ndarray:
    """(n, 2M + 1) weights over slab offsets -M..M placing each window's 4 B-spline taps at its offset."""
    k = np.floor(offset).astype(np.int64)
    w4 = _bspline_weights(offset - k, derivative).astype(np.float32)
    taps = np.zeros((len(offset), 2 * MARGIN + 1), np.float32)
    rows = np.arange(len(offset))
    for j in range(4):
        taps[rows, k + j - 1 + MARGIN] = w4[:, j]
    return taps


def _pass(slab: np.ndarray, taps: np.ndarray, axis: int, length: int) -> np.ndarray:
    """Sum of ``taps``-weighted slices of ``slab`` along ``axis`` (1 rows, 2 cols): a per-window shift."""
    used = np.flatnonzero(np.any(taps != 0, axis=0))
    shape = list(slab.shape)
    shape[axis] = length
    out = np.zeros(shape, np.float32)
    term = np.empty(shape, np.float32)
    for j in used:
        part = slab[:, j:j + length, :] if axis == 1 else slab[:, :, j:j + length]
        np.multiply(taps[:, j, None, None], part, out=term)
        out += term
    return out


def sample(windows: Windows, dx: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TGT at (col + dx, row + dy) over each window, and its exact x and y derivatives."""
    size = windows.ref.shape[1]
    ox, oy = dx - windows.start[:, 0], dy - windows.start[:, 1]
    along_x = _pass(windows.coeffs, _dense_taps(ox, False), 2, size)
    along_x_d = _pass(windows.coeffs, _dense_taps(ox, True), 2, size)
    ty, ty_d = _dense_taps(oy, False), _dense_taps(oy, True)
    return _pass(along_x, ty, 1, size), _pass(along_x_d, ty, 1, size), _pass(along_x, ty_d, 1, size)


def refine(
    windows: Windows,
    max_iterations: int = 20,
    tolerance: float = 1e-3,
    reweight_iterations: int = 3,
) -> Fit:
    """Gauss-Newton from each window's integer start until every step is below ``tolerance`` px.

    Tukey weights are re-estimated during the first ``reweight_iterations`` only, then held: plain
    Gauss-Newton then converges in a step or two instead of dithering with the weights. Windows that have
    converged (or left their slab) drop out of the batch.
    """
    n = len(windows.start)
    dx = windows.start[:, 0].astype(np.float64)
    dy = windows.start[:, 1].astype(np.float64)
    ref_all = windows.ref.reshape(n, -1)
    rgx_all, rgy_all = windows.ref_gx.reshape(n, -1), windows.ref_gy.reshape(n, -1)
    gain = np.full(n, np.nan)
    fit_all = windows.fit.reshape(n, -1)
    weights = fit_all.astype(np.float32)
    alive = np.ones(n, bool)
    converged = np.zeros(n, bool)
    limit = MARGIN - 2  # beyond this the slab no longer holds the 4 taps
    iteration = 0
    for iteration in range(1, max_iterations + 1):
        active = np.flatnonzero(alive & ~converged)
        if active.size == 0:
            break
        # every window still in the batch (the common case): the arrays themselves, not copies of their rows
        rows: slice | np.ndarray = slice(None) if active.size == n else active
        batch = windows if active.size == n else _subset(windows, active)
        ref = ref_all[rows]
        warped, gx, gy = (a.reshape(active.size, -1) for a in sample(batch, dx[rows], dy[rows]))
        a = gain[rows]
        if np.isfinite(a).all():
            # ESM: the mean of both images' gradients converges in far fewer steps than TGT's alone
            gx = 0.5 * (gx + a[:, None].astype(np.float32) * rgx_all[rows])
            gy = 0.5 * (gy + a[:, None].astype(np.float32) * rgy_all[rows])
        solution = _solve(*_normal_equations([gx, gy, -ref, -np.ones_like(ref)], warped, weights[rows]))
        gain[rows] = solution[:, 2]
        if iteration <= reweight_iterations:
            residual = warped - solution[:, 2, None] * ref - solution[:, 3, None]
            weights[rows] = _tukey(residual, fit_all[rows])
        step_x, step_y = solution[:, 0], solution[:, 1]
        dx[rows] += step_x
        dy[rows] += step_y
        outside = (np.abs(dx - windows.start[:, 0]) > limit) | (np.abs(dy - windows.start[:, 1]) > limit)
        outside |= ~np.isfinite(dx) | ~np.isfinite(dy)
        alive &= ~outside
        dx[outside] = windows.start[outside, 0]
        dy[outside] = windows.start[outside, 1]
        small = (np.abs(step_x) < tolerance) & (np.abs(step_y) < tolerance)
        converged[active[small & (iteration > 1)]] = True
        converged &= alive
    warped, gx, gy = (a.reshape(n, -1) for a in sample(windows, dx, dy))
    quality, sigma, used = _reliability(warped, gx, gy, ref_all, weights)
    quality[~alive], sigma[~alive] = 0.0, np.inf
    return Fit(dx, dy, quality, sigma, used, converged, iteration)


def _subset(windows: Windows, index: np.ndarray) -> Windows:
    return Windows(windows.ref[index], windows.fit[index], windows.coeffs[index], windows.start[index],
                   windows.ref_gx[index], windows.ref_gy[index])


def _normal_equations(
    columns: list[np.ndarray], target: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-window weighted normal equations of ``columns @ x = -target`` (unknowns: step x, step y, gain,
    offset), from row-wise dot products: far cheaper than stacking a design matrix."""
    k = len(columns)
    weighted = [c * weights for c in columns]
    normal = np.empty((len(target), k, k))
    for i in range(k):
        for j in range(i, k):
            normal[:, i, j] = normal[:, j, i] = np.einsum("np,np->n", weighted[i], columns[j])
    rhs = np.stack([-np.einsum("np,np->n", w, target) for w in weighted], axis=1).astype(np.float64)
    return normal, rhs


def _solve(normal: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Per-window solution; singular systems (no texture, no pixels) give NaN, not an exception."""
    out = np.full(rhs.shape, np.nan)
    ok = np.linalg.cond(normal) < 1e12
    if ok.any():
        out[ok] = np.linalg.solve(normal[ok], rhs[ok][..., None])[..., 0]
    return out


def _tukey(residual: np.ndarray, fit: np.ndarray) -> np.ndarray:
    """Tukey biweights with a per-window robust scale (MAD of the fitted pixels, on a subsample)."""
    # floor: on clean data (residuals ~0) weights would flicker and the iteration dither
    scale = np.maximum(1.4826 * _row_median(np.abs(residual[:, ::5]), fit[:, ::5]), SCALE_FLOOR)
    u = residual / (TUKEY_C * scale[:, None])
    u = np.where(np.isfinite(u), u, np.inf)
    return np.where(fit & (np.abs(u) < 1), (1 - u**2) ** 2, 0.0).astype(np.float32)


def _row_median(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Median of each row over ``keep`` (inf where a row keeps nothing); one sort, no per-row loop."""
    ordered = np.sort(np.where(keep, values, np.inf), axis=1)
    count = keep.sum(axis=1)
    middle = np.clip((count - 1) // 2, 0, values.shape[1] - 1)
    out = np.take_along_axis(ordered, middle[:, None], axis=1)[:, 0]
    return np.where(count > 0, out, np.inf)


def _reliability(
    warped: np.ndarray, gx: np.ndarray, gy: np.ndarray, ref: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted correlation, standard error of the shift (px) and pixels used, per window."""
    w = weights.astype(np.float64)
    total = w.sum(axis=1)
    safe = np.maximum(total, 1e-12)[:, None]
    ma, mb = (w * warped).sum(1, keepdims=True) / safe, (w * ref).sum(1, keepdims=True) / safe
    da, db = warped - ma, ref - mb
    cov, va, vb = (w * da * db).sum(1), (w * da * da).sum(1), (w * db * db).sum(1)
    with np.errstate(all="ignore"):
        quality = np.clip(np.nan_to_num(cov / np.sqrt(va * vb)), 0.0, 1.0)
        gain = cov / vb
        resid = da - gain[:, None] * db
        dof = np.maximum(total - 4, 1)
        noise = (w * resid**2).sum(1) / dof
        # Gradient energy orthogonal to the photometric terms: the shift's information matrix.
        gxx, gyy, gxy = (w * gx * gx).sum(1), (w * gy * gy).sum(1), (w * gx * gy).sum(1)
        det = gxx * gyy - gxy**2
        sigma = np.sqrt(noise * (gxx + gyy) / np.maximum(det, 1e-12) / 2)
    sigma = np.where(np.isfinite(sigma) & (total > 0), sigma, np.inf)
    return quality, sigma, (w > 0.05).sum(axis=1)
