"""Global sub-pixel translation between two co-gridded images, robust to clouds, nodata and real change.

Convention (DESIGN): a feature at (col, row) in REF is at (col + dx, row + dy) in TGT.

1. bright regions seen on one date only (clouds, glint) are masked, sized in metres (``geo.align.masks``);
2. up to ``n_windows`` separate square windows are chosen where both images are valid and REF has most
   gradient energy, spread over the overlap, or tiling it when it is small (``geo.align.windows``);
3. the integer shift comes from phase correlation of the windows (their cross-power spectra summed), or,
   when it is beyond their reach, of the whole overlap at a quarter of its resolution (``geo.align.phase``);
4. every window is refined to sub-pixel by batched Lucas-Kanade (``geo.align.lk``) on band-passed images;
5. windows that disagree with the others are dropped and the rest averaged, weighted by their precision;
   the stated error adds their spread and the method's own error on exact shifts.

Masks are honoured throughout: invalid pixels never enter a fit (their neighbours within the smoothing
and spline support are left out too).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from geo.align import filters, lk, oversampling
from geo.align.masks import DEFAULT_PIXEL_M, clean_masks
from geo.align.phase import far_start, integer_shift, region, standardised
from geo.align.quantiles import median
from geo.align.windows import MIN_WINDOW, windows_for
from geo.errors import CoregError
from geo.grid import Grid

log = logging.getLogger(__name__)

MIN_VALID_PIXELS = 2_000
DECIMATE_FROM = 1.5  # oversampling factor from which the integer start is measured on block-averaged images
MIN_QUALITY = 0.2
INTERPOLATION_ERROR_PX = 0.002  # RMS error on exact known shifts of small real crops (tests/align/crops.py)
# On k-fold interpolated images the method's error on exact shifts grows fast (the interpolation's pattern,
# the same in both images, pulls every window towards the resampling grid; no spread between windows shows
# it): 0.0014 and 0.021 px of the content at 2x and 4x (benchmarks/coreg_oversampled.py). k³ times the
# floor in the image's pixels (k² in the content's) covers both.
OVERSAMPLED_FLOOR_POWER = 3
SMOOTH_SIGMA = 1.0  # pre-smoothing (same on both images): damps aliasing before spline interpolation
HIGHPASS_BOX = 7
FILL_BOX = 11  # invalid pixels take the mean of their valid neighbours in this box
BORDER = 4  # pixels next to invalid data are left out of the fit (smoothing and spline support)
CONTEXT = 8  # extra pixels around each window so smoothing and the spline prefilter see real data
FIVE_POINT = np.array([1.0, -8.0, 0.0, 8.0, -1.0], np.float32) / 12.0  # central first derivative


@dataclass(frozen=True)
class Shift:
    """Displacement of TGT relative to REF in pixels of the common grid, with reliability figures."""

    dx_px: float
    dy_px: float
    quality: float  # weighted correlation of REF and aligned TGT over the fitted pixels, 0..1
    n_pixels: int
    iterations: int = 0
    method: str = "global"
    sigma_px: float = 0.0  # standard error of the shift
    n_windows: int = 1
    spread_px: float = 0.0  # RMS disagreement between the windows (local variation + noise)

    def metres(self, grid: Grid) -> tuple[float, float]:
        """(dx_m, dy_m): the displacement in metres on the ground — east and north positive (a lon/lat grid's
        degrees would round to 0.000)."""
        a, e = grid.pixel_metres()
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
        out.update(
            sigma_px=round(self.sigma_px, 4), n_windows=self.n_windows, spread_px=round(self.spread_px, 4),
            n_pixels=self.n_pixels, iterations=self.iterations, method=self.method,
        )
        return out


def prepare(image: np.ndarray, valid: np.ndarray, fill: np.ndarray | None = None) -> np.ndarray | None:
    """Zero mean, unit variance over valid pixels, the ``fill`` ones (default: the invalid ones) filled
    from their valid neighbours (no sharp jumps for the filters to spread), then band-passed. None when
    there is no texture."""
    prepared, textured = prepare_stack(image, valid, fill)
    return prepared if textured[0] else None


def prepare_stack(images: np.ndarray, valid: np.ndarray, fill: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``prepare`` of a 2-D image, or of each of a stack (image first) at once: the same values. Returns the
    prepared image(s) and which have texture (one flag per image; the others' values are meaningless)."""
    fill = ~valid if fill is None else fill
    flat_images, flat_valid = images.reshape((-1,) + images.shape[-2:]), valid.reshape((-1,) + valid.shape[-2:])
    # each image's mean and spread in its own type (float32 windows are standardised in float32)
    kind = images.dtype if images.dtype.kind == "f" else np.dtype(np.float64)
    mean, std = np.zeros((len(flat_images), 1, 1), kind), np.ones((len(flat_images), 1, 1), kind)
    textured = np.zeros(len(flat_images), bool)
    for k, (image, ok) in enumerate(zip(flat_images, flat_valid)):
        values = image[ok]
        spread = float(values.std()) if values.size >= 16 else 0.0
        if np.isfinite(spread) and spread != 0:
            mean[k], std[k], textured[k] = values.mean(), spread, True
    if images.ndim == 2:
        mean, std = mean[0], std[0]
    out = np.where(fill, 0.0, (images - mean) / std).astype(np.float32, copy=False)
    if images.ndim == 2:
        out = _filled(out, fill) if fill.any() else out
    else:  # only the images with pixels to fill
        need = fill.any(axis=(1, 2))
        if need.any():
            out[need] = _filled(out[need], fill[need])
    # Band-pass (difference of Gaussians): field edges, roads and buildings register; whole fields that
    # brightened or darkened between dates (crops, haze) would not, and would drown them.
    smooth = filters.gaussian_filter(out, SMOOTH_SIGMA, truncate=3.0)
    high_pass: np.ndarray = smooth - _lowpass(smooth)
    return high_pass, textured


def _filled(image: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """``image`` with its ``fill`` pixels the mean of their valid neighbours in a ``FILL_BOX`` box (0 with
    none)."""
    weight = filters.uniform_filter((~fill).astype(np.float32), FILL_BOX)
    filled = filters.uniform_filter(image, FILL_BOX) / np.maximum(weight, 1e-6)
    out: np.ndarray = np.where(fill, np.where(weight > 1e-3, filled, 0.0), image).astype(np.float32)
    return out


def _lowpass(image: np.ndarray) -> np.ndarray:
    """Two 7-px box filters: a Gaussian of sigma ~2.8 px at a cost that does not grow with its width."""
    return filters.uniform_filter(filters.uniform_filter(image, HIGHPASS_BOX), HIGHPASS_BOX)


def fit_windows(
    ref: np.ndarray,
    tgt: np.ndarray,
    ref_valid: np.ndarray,
    tgt_valid: np.ndarray,
    origins: np.ndarray,
    size: int,
    start: tuple[int, int],
    tolerance: float = 1e-3,
    max_iterations: int = 20,
) -> tuple[lk.Fit, np.ndarray]:
    """Lucas-Kanade shift of each ``size`` window at ``origins`` (row, col), all starting from ``start``.

    Images are prepared (standardised, filled, band-passed, spline-filtered) once over the windows'
    bounding box when the windows cover most of it (a tie-point grid), else window by window (a few
    windows of a large scene): the cost follows the pixels used. Returns the fits and which windows
    could be prepared.
    """
    n = len(origins)
    m = lk.MARGIN
    top, left = origins.min(axis=0)
    bottom, right = origins.max(axis=0) + size
    if n * size * size > 0.5 * (bottom - top) * (right - left):  # one plane over the bounding box
        box = _planes(ref, tgt, ref_valid, tgt_valid, np.array([(top, left)]), bottom - top, right - left, start)
        ref_w, ref_gx, ref_gy, fit_w = (np.stack([plane[0, r - top:r - top + size, c - left:c - left + size]
                                                  for r, c in origins])
                                        for plane in (box.ref, box.ref_gx, box.ref_gy, box.fit))
        coeff_w = np.stack([box.coeffs[0, r - top:r - top + size + 2 * m, c - left:c - left + size + 2 * m]
                            for r, c in origins])
        prepared = np.repeat(box.textured, n)
    else:  # the windows alone, as one stack
        stack = _planes(ref, tgt, ref_valid, tgt_valid, origins, size, size, start)
        ref_w, ref_gx, ref_gy, fit_w, coeff_w = stack.ref, stack.ref_gx, stack.ref_gy, stack.fit, stack.coeffs
        prepared = stack.textured
    starts = np.tile(np.array(start, np.int64), (n, 1))
    windows = lk.Windows(ref_w, fit_w, coeff_w, starts, ref_gx, ref_gy)
    return lk.refine(windows, max_iterations=max_iterations, tolerance=tolerance), prepared & fit_w.any(axis=(1, 2))


@dataclass(frozen=True)
class _Planes:
    """Prepared arrays over rectangles of the REF grid (TGT ones cut where they land in TGT), stacked."""

    ref: np.ndarray
    ref_gx: np.ndarray
    ref_gy: np.ndarray
    fit: np.ndarray  # usable in REF, and in TGT wherever within MARGIN the window moves
    coeffs: np.ndarray  # TGT spline coefficients, MARGIN wider on each side
    textured: np.ndarray  # per rectangle: both images have texture (else its planes are 0, fit False)


def _planes(
    ref: np.ndarray, tgt: np.ndarray, ref_valid: np.ndarray, tgt_valid: np.ndarray,
    corners: np.ndarray, h: int, w: int, start: tuple[int, int],
) -> _Planes:
    """The planes of ``h`` x ``w`` rectangles at ``corners`` (row, col), filtered as one stack (a few
    windows: one pass of each filter, not one per window); a single rectangle as a 2-D image (a large one
    goes to scipy's filters)."""
    sx, sy = start
    m, pad = lk.MARGIN, CONTEXT + lk.MARGIN
    refs = [region(ref, ref_valid, r0 - CONTEXT, c0 - CONTEXT, h + 2 * CONTEXT, w + 2 * CONTEXT) for r0, c0 in corners]
    tgts = [region(tgt, tgt_valid, r0 + sy - pad, c0 + sx - pad, h + 2 * pad, w + 2 * pad) for r0, c0 in corners]

    def joined(parts: list[np.ndarray]) -> np.ndarray:
        return parts[0] if len(parts) == 1 else np.stack(parts)

    ref_image, ref_ok, ref_fill = (joined([r[i] for r in refs]) for i in range(3))
    tgt_image, tgt_ok, tgt_fill = (joined([t[i] for t in tgts]) for i in range(3))
    ref_p, ref_textured = prepare_stack(ref_image, ref_ok, ref_fill)
    tgt_p, tgt_textured = prepare_stack(tgt_image, tgt_ok, tgt_fill)
    inner = np.s_[..., CONTEXT:CONTEXT + h, CONTEXT:CONTEXT + w]
    fit = _erode(ref_ok, BORDER)[inner] & _erode(tgt_ok, BORDER + m)[..., pad:pad + h, pad:pad + w]
    coeffs = filters.spline_filter(tgt_p)[..., CONTEXT:CONTEXT + h + 2 * m, CONTEXT:CONTEXT + w + 2 * m]
    textured = ref_textured & tgt_textured

    def stacked(plane: np.ndarray) -> np.ndarray:  # one image per rectangle; 0 where it has no texture
        out = np.ascontiguousarray(plane.reshape((len(corners),) + plane.shape[-2:]))
        out[~textured] = 0
        return out

    return _Planes(stacked(ref_p[inner]), stacked(_derivative(ref_p, axis=-1)[inner]),
                   stacked(_derivative(ref_p, axis=-2)[inner]), stacked(fit), stacked(coeffs), textured)


def _derivative(image: np.ndarray, axis: int) -> np.ndarray:
    """Five-point central difference: near-exact on the smoothed images."""
    return filters.correlate1d(image, FIVE_POINT, axis, "edge")


def _erode(valid: np.ndarray, pixels: int) -> np.ndarray:
    """Square erosion with the outside counted invalid (a separable minimum filter: fast)."""
    return filters.all_within(valid, pixels)


def _no_window(both: np.ndarray) -> str:
    """Why no window could be placed: an overlap narrower than a window is said as such (two files that
    barely touch), not as a lack of texture."""
    rows, cols = np.nonzero(both.any(axis=1))[0], np.nonzero(both.any(axis=0))[0]
    if rows.size:
        height, width = int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)
        if min(height, width) < MIN_WINDOW:
            return (f"the images overlap with valid pixels on only {width} x {height} px (columns x rows): too "
                    f"narrow for a {MIN_WINDOW}-px measuring window")
    return (f"no {MIN_WINDOW}-px window of the overlap has enough valid, textured pixels in both images "
            f"({int(both.sum())} usable pixels after masking nodata and one-date bright regions such as clouds)")


def estimate_shift(
    ref: np.ndarray,
    tgt: np.ndarray,
    ref_valid: np.ndarray | None = None,
    tgt_valid: np.ndarray | None = None,
    min_quality: float = MIN_QUALITY,
    window: int = 128,
    n_windows: int = 9,
    pixel_m: float = DEFAULT_PIXEL_M,
    cleaned: tuple[np.ndarray, np.ndarray] | None = None,
) -> Shift:
    """Global translation of ``tgt`` relative to ``ref`` (same shape, same grid), sub-pixel; ``pixel_m``
    (the pixel side in metres) sizes the cloud mask. ``window`` is the largest window side: a small
    overlap gets smaller windows (``global_window_size``). ``cleaned``: the masks ``clean_masks`` gives for
    these images and masks, when the caller has them (it needs them for tie points too)."""
    if ref.shape != tgt.shape:
        raise CoregError(f"reference and target must share a grid; shapes {ref.shape} and {tgt.shape} differ")
    ref_valid = np.isfinite(ref) if ref_valid is None else ref_valid & np.isfinite(ref)
    tgt_valid = np.isfinite(tgt) if tgt_valid is None else tgt_valid & np.isfinite(tgt)
    overlap = int((ref_valid & tgt_valid).sum())
    if overlap < MIN_VALID_PIXELS:
        raise CoregError(f"reference and target overlap on only {overlap} valid pixels (need {MIN_VALID_PIXELS})")
    ref_valid, tgt_valid = cleaned or clean_masks(ref, tgt, ref_valid, tgt_valid, pixel_m)
    both = ref_valid & tgt_valid
    size, picks = windows_for(ref, both, window, n_windows)
    if not picks:
        raise CoregError(_no_window(both))
    origins = np.array([(r, c) for r, c, _ in picks])
    windows = []
    for r, c in origins:
        win = (slice(r, r + size), slice(c, c + size))
        ref0, tgt0 = standardised(ref[win], ref_valid[win]), standardised(tgt[win], tgt_valid[win])
        if ref0 is not None and tgt0 is not None:
            windows.append((ref0, tgt0))
    if not windows:
        raise CoregError("image has no texture over its valid pixels (constant values)")
    finer = _oversampling(ref, tgt, ref_valid, tgt_valid, origins, size)
    start = integer_shift(windows) if finer < DECIMATE_FROM else _coarse_start(
        ref, tgt, ref_valid, tgt_valid, min_quality, window, n_windows, pixel_m, finer, windows)
    try:
        shift = _fit(ref, tgt, ref_valid, tgt_valid, origins, size, start, finer)
    except CoregError as exc:
        shift, failure = None, exc
    if shift is None or shift.quality < min_quality:  # the shift may be beyond the windows' reach (size / 2)
        far = far_start(ref, tgt, ref_valid, tgt_valid, origins, size)
        if far is not None and max(abs(far[0] - start[0]), abs(far[1] - start[1])) >= size // 4:
            shift = _fit(ref, tgt, ref_valid, tgt_valid, origins, size, far, finer)
        elif shift is None:
            raise failure
    log.info("global shift dx=%.3f dy=%.3f px (sigma %.4f, %d windows, spread %.3f), quality %.3f",
             shift.dx_px, shift.dy_px, shift.sigma_px, shift.n_windows, shift.spread_px, shift.quality)
    if shift.quality < min_quality:
        raise CoregError(
            f"no reliable shift: correlation {shift.quality:.2f} after alignment is below {min_quality} "
            "(images too different: cloud or snow on one date, or not the same place)"
        )
    return shift


def _coarse_start(ref: np.ndarray, tgt: np.ndarray, ref_valid: np.ndarray, tgt_valid: np.ndarray,
                  min_quality: float, window: int, n_windows: int, pixel_m: float, finer: float,
                  windows: list[tuple[np.ndarray, np.ndarray]]) -> tuple[int, int]:
    """The integer start of an oversampled pair: its shift measured on the images block-averaged to about
    their content's sampling, scaled back. At full resolution phase correlation locks to the resampling
    grid and the band-pass, fixed in pixels, keeps little of a smooth image: from a start more than a
    content pixel off no window converged (3x / 4x: 27 / 14 of 49 known shifts of 0.1-1.5 content px).
    Rounded up: 3x reads ~2.4 and, averaged by 2 only, was still too smooth (44 of 49)."""
    step = int(np.ceil(finer))
    (ref_c, ref_ok), (tgt_c, tgt_ok) = (oversampling.block_mean(image, valid, step)
                                        for image, valid in ((ref, ref_valid), (tgt, tgt_valid)))
    try:
        coarse = estimate_shift(ref_c, tgt_c, ref_ok, tgt_ok, min_quality, window, n_windows, pixel_m * step,
                                cleaned=(ref_ok, tgt_ok))
    except CoregError:
        return integer_shift(windows)
    return int(round(coarse.dx_px * step)), int(round(coarse.dy_px * step))


def _oversampling(ref: np.ndarray, tgt: np.ndarray, ref_valid: np.ndarray, tgt_valid: np.ndarray,
                  origins: np.ndarray, size: int) -> float:
    """The coarser image's oversampling factor over the windows (what limits the information in the pair)."""
    def over(image: np.ndarray, valid: np.ndarray) -> float:
        return oversampling.factor(np.stack([image[r:r + size, c:c + size] for r, c in origins]),
                                   np.stack([valid[r:r + size, c:c + size] for r, c in origins]))
    return max(over(ref, ref_valid), over(tgt, tgt_valid))


def _fit(ref: np.ndarray, tgt: np.ndarray, ref_valid: np.ndarray, tgt_valid: np.ndarray, origins: np.ndarray,
         size: int, start: tuple[int, int], finer: float = 1.0) -> Shift:
    fit, ok = fit_windows(ref, tgt, ref_valid, tgt_valid, origins, size, start, tolerance=2e-4)
    return combine(fit, ok & (fit.n_pixels >= MIN_VALID_PIXELS // 4), finer)


def combine(fit: lk.Fit, ok: np.ndarray, finer: float = 1.0) -> Shift:
    """One translation from the windows: outliers (> 3 robust spreads from the median, at least 0.1 px
    off) dropped, the rest averaged with weights from their standard errors and correlation. ``finer``:
    how much finer than their content the images are sampled (``geo.align.oversampling``); it scales
    the stated error only, not the weights, so the shift itself does not depend on it."""
    good = ok & np.isfinite(fit.sigma) & (fit.quality > 0)
    if not good.any():
        raise CoregError("no reliable shift: no window converged (images too different: cloud or snow on one date, "
                         "or not the same place)")
    dx, dy = fit.dx[good], fit.dy[good]
    mx, my = median(dx), median(dy)
    dist = np.hypot(dx - mx, dy - my)
    keep = dist <= max(0.1, 3 * 1.4826 * median(dist))
    sigma, quality, pixels = fit.sigma[good][keep], fit.quality[good][keep], fit.n_pixels[good][keep]
    dx, dy = dx[keep], dy[keep]
    sigma = np.maximum(sigma, 1e-4)
    w = quality**2 / (sigma**2 + _between_windows_variance(dx, dy, sigma))
    w /= w.sum()
    x, y = float((w * dx).sum()), float((w * dy).sum())
    spread = float(np.sqrt((w * ((dx - x) ** 2 + (dy - y) ** 2)).sum())) if len(dx) > 1 else 0.0
    # k-fold interpolated pixels carry ~k² fewer independent residuals: k times the windows' error
    sigma_mean = finer * float(np.sqrt((w**2 * sigma**2).sum()))
    # The windows' spread bounds how well one translation describes the overlap (n - 1: few windows
    # understate it); the floor is the method's own error on exact shifts, which no spread shows.
    between = spread / np.sqrt(len(dx) - 1) if len(dx) > 1 else 0.0
    sigma_total = float(np.sqrt(sigma_mean**2 + between**2 + (finer**OVERSAMPLED_FLOOR_POWER * INTERPOLATION_ERROR_PX) ** 2))
    return Shift(x, y, float((w * quality).sum()), int(pixels.sum()), fit.iterations, "global",
                 sigma_total, int(len(dx)), spread)


def _between_windows_variance(dx: np.ndarray, dy: np.ndarray, sigma: np.ndarray) -> float:
    """How much more the windows disagree than their standard errors say (DerSimonian-Laird, per
    component, averaged): on real pairs, scene change and haze move a window's shift by more than its
    noise, and weights from the standard errors alone would let the sharpest window or two decide."""
    if len(dx) < 2:
        return 0.0
    w = 1 / sigma**2
    scale = w.sum() - (w**2).sum() / w.sum()
    tau2 = []
    for values in (dx, dy):
        mean = (w * values).sum() / w.sum()
        q = (w * (values - mean) ** 2).sum()
        tau2.append(max(0.0, (q - (len(values) - 1)) / scale))
    return float(np.mean(tau2))


def combine_shifts(shifts: list[Shift]) -> Shift:
    """One translation from shifts measured separately (windows read one by one), as ``combine``."""
    fit = lk.Fit(
        np.array([s.dx_px for s in shifts]), np.array([s.dy_px for s in shifts]),
        np.array([s.quality for s in shifts]), np.array([s.sigma_px for s in shifts]),
        np.array([s.n_pixels for s in shifts]), np.ones(len(shifts), bool), max(s.iterations for s in shifts),
    )
    return combine(fit, np.ones(len(shifts), bool))
