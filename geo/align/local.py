"""Local alignment: a grid of tie points over the overlap, outlier rejection, a fitted displacement model.

Each tie point is a ``window``-square Lucas-Kanade fit (the same batched solver as the global shift,
started from it). Points are kept when their fit converged, correlates, and pins the shift (standard
error); then the normalised median test (Westerweel & Scarano 2005, the standard for PIV vector fields)
drops points that disagree with their neighbours. The model is an affine displacement, or a smoothing
thin-plate spline when cross-validation says the data demand it: the smooth field must predict left-out
points (a block of the overlap at a time) clearly better than the affine one.

Positions are pixel-index coordinates of the common grid (the centre of pixel (row, col) is (row, col)).
A feature at (col, row) in REF is at (col + dx, row + dy) in TGT.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import ndimage as ndi

from geo.align.coreg import INTERPOLATION_ERROR_PX, MIN_VALID_PIXELS, Shift, fit_windows
from geo.align.lk import Fit
from geo.align.masks import DEFAULT_PIXEL_M, clean_masks
from geo.align.tie_points import TiePoints
from geo.errors import CoregError, TiePointError
from geo.grid import Grid

if TYPE_CHECKING:
    from scipy.interpolate import RBFInterpolator

    from geo.align.lattice import Swapped

log = logging.getLogger(__name__)

MAX_MODEL_POINTS = 2000  # inliers a model is fitted to (spread evenly when there are more)
MEASURED_POINTS = 2 * MAX_MODEL_POINTS  # tie points a grid co-registered by tiles is measured at, about at most
BAND_PX = 1 << 21  # grid pixels of a band of tie points fitted at once
MEDIAN_TEST_EPS = 0.1  # px: the noise floor of the normalised median test
MEDIAN_TEST_LIMIT = 2.0
SMOOTHING = (1e-4, 1e-3, 1e-2, 1e-1)  # thin-plate smoothing candidates (coordinates scaled to ~unit range)
SMOOTH_GAIN = 0.8  # the smooth field must cut the cross-validated error to below this share of affine's
MIN_POINTS_SMOOTH = 25
CV_BLOCKS, CV_FOLDS = 9, 5  # cross-validation: contiguous blocks of tie points (3 x 3 on a square), dealt to folds
MIN_WINDOW = 16  # px: the smallest tie-point window


@dataclass(frozen=True)
class LocalModel:
    """A displacement field over the common grid, fitted to the inlier tie points."""

    kind: str  # "affine" or "smooth"
    points: TiePoints
    rmse_px: float  # inliers' residual to the model
    cv_rmse_px: float  # cross-validated prediction error of the chosen model
    affine: np.ndarray  # (2, 3): dx, dy = A @ (1, u, v), u/v scaled coordinates
    scale: float
    _smooth: RBFInterpolator | None = field(default=None, repr=False)

    def displacement(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(dx, dy) at the given positions (any matching shapes)."""
        rows, cols = np.broadcast_arrays(np.asarray(rows, float), np.asarray(cols, float))
        if self._smooth is None:
            u, v = cols / self.scale, rows / self.scale
            return (self.affine[0, 0] + self.affine[0, 1] * u + self.affine[0, 2] * v,
                    self.affine[1, 0] + self.affine[1, 1] * u + self.affine[1, 2] * v)
        values = self._smooth(np.column_stack([cols.ravel(), rows.ravel()]) / self.scale)
        return values[:, 0].reshape(rows.shape), values[:, 1].reshape(rows.shape)

    def field(self, rows: np.ndarray, cols: np.ndarray, step: int = 8) -> tuple[np.ndarray, np.ndarray]:
        """(dx, dy) on the lattice ``rows`` x ``cols`` (1-D index vectors). The smooth field is evaluated
        every ``step`` px and interpolated bilinearly: it varies over tens of pixels, not one."""
        rr, cc = np.meshgrid(rows, cols, indexing="ij")
        if self._smooth is None:
            return self.displacement(rr, cc)
        coarse_r = np.arange(rows.min(), rows.max() + step, step, dtype=float)
        coarse_c = np.arange(cols.min(), cols.max() + step, step, dtype=float)
        dx, dy = self.displacement(*np.meshgrid(coarse_r, coarse_c, indexing="ij"))
        at = [(rr - rows.min()) / step, (cc - cols.min()) / step]
        return (ndi.map_coordinates(dx, at, order=1, mode="nearest"),
                ndi.map_coordinates(dy, at, order=1, mode="nearest"))

    def summary(self, shape: tuple[int, int], grid: Grid | None = None) -> dict[str, Any]:
        """The model over a 33 x 33 lattice spanning ``shape``, evaluated at those points (1,089 of them,
        whatever the grid's size; a field over the whole grid cost seconds per call on large AOIs)."""
        rows = np.linspace(0, shape[0] - 1, 33)
        cols = np.linspace(0, shape[1] - 1, 33)
        dx, dy = self.displacement(*np.meshgrid(rows, cols, indexing="ij"))
        p = self.points
        out: dict[str, Any] = {  # a JSON record (manifest)
            "model": self.kind,
            "n_points": len(p),
            "n_reliable": int(p.reliable.sum()),
            "n_inliers": int(p.inlier.sum()),
            "rmse_px": round(self.rmse_px, 4),
            "cv_rmse_px": round(self.cv_rmse_px, 4),
            "mean_dx_px": round(float(dx.mean()), 4),
            "mean_dy_px": round(float(dy.mean()), 4),
            "range_dx_px": [round(float(dx.min()), 4), round(float(dx.max()), 4)],
            "range_dy_px": [round(float(dy.min()), 4), round(float(dy.max()), 4)],
        }
        if grid is not None:
            metres_x, metres_y = grid.pixel_metres()
            out.update(mean_dx_m=round(float(dx.mean()) * metres_x, 3), mean_dy_m=round(float(dy.mean()) * metres_y, 3))
        return out


def tie_point_origins(valid: np.ndarray, window: int, spacing: int, min_valid: float = 0.6) -> np.ndarray:
    """Top-left corners (row, col) of a regular grid of windows with enough valid pixels."""
    rows, cols = valid.shape
    if rows < window or cols < window:
        return np.zeros((0, 2), np.int64)
    r0 = np.arange((rows - window) % spacing // 2, rows - window + 1, spacing)
    c0 = np.arange((cols - window) % spacing // 2, cols - window + 1, spacing)
    rr, cc = (a.ravel() for a in np.meshgrid(r0, c0, indexing="ij"))
    # Valid pixels per window, a row of windows at a time: no whole-grid integral image (12 bytes a pixel).
    count = np.empty((len(r0), len(c0)), np.int64)
    for i, top in enumerate(r0):
        columns = np.pad(np.count_nonzero(valid[top:top + window], axis=0).cumsum(), (1, 0))
        count[i] = columns[c0 + window] - columns[c0]
    keep = count.ravel() >= min_valid * window * window
    return np.column_stack([rr[keep], cc[keep]])


def sparse_spacing(shape: tuple[int, int], spacing: int) -> int:
    """The tie-point spacing of a grid co-registered by tiles: ``spacing``, times the smallest whole factor
    that keeps its regular grid of points to ``MEASURED_POINTS``. Its model is fitted to at most
    ``MAX_MODEL_POINTS`` of them; measuring a whole tile's ~29,000 took most of its co-registration."""
    n = (shape[0] // spacing) * (shape[1] // spacing)
    return spacing * max(1, math.ceil(math.sqrt(n / MEASURED_POINTS)))


def measure_tie_points(
    ref: np.ndarray,
    tgt: np.ndarray,
    ref_valid: np.ndarray,
    tgt_valid: np.ndarray,
    start: Shift,
    window: int = 64,
    spacing: int = 64,
    min_quality: float = 0.5,
    max_sigma: float = 0.05,
    pixel_m: float = DEFAULT_PIXEL_M,
    cleaned: tuple[np.ndarray, np.ndarray] | None = None,
    on_grid: Swapped | None = None,
) -> TiePoints:
    """Per-window shifts over a regular grid, started from the global shift ``start``; ``cleaned``: the masks
    ``clean_masks`` gives for these (the global shift's own, when the caller has them). ``on_grid``: the images
    are a coarser TGT's lattice with the roles swapped (TGT first); the points are given on REF's grid, and
    judged against their neighbours there (in REF's pixels, as any other's)."""
    ref_valid, tgt_valid = cleaned or clean_masks(ref, tgt, ref_valid, tgt_valid, pixel_m)
    origins = tie_point_origins(ref_valid & tgt_valid, window, spacing)
    if len(origins) == 0:
        empty = np.zeros(0)
        return TiePoints(empty, empty, empty, empty, empty, empty, empty.astype(bool), empty.astype(bool))
    begin = (int(round(start.dx_px)), int(round(start.dy_px)))
    fit, ok = fit_in_bands(ref, tgt, ref_valid, tgt_valid, origins, window, begin)
    reliable = (ok & fit.converged & (fit.quality >= min_quality) & (fit.sigma <= max_sigma)
                & (fit.n_pixels >= 0.5 * window * window))
    centre = (window - 1) / 2
    # the method's own error on exact shifts, which a window's residuals do not show (as the global shift's)
    sigma = np.hypot(fit.sigma, INTERPOLATION_ERROR_PX)
    points = TiePoints(origins[:, 0] + centre, origins[:, 1] + centre, fit.dx, fit.dy, fit.quality, sigma,
                       reliable, reliable)
    apart = float(spacing)  # the points' spacing where they are judged
    if on_grid is not None:
        points, apart = on_grid.points(points), spacing * on_grid.ratio
    inlier = reliable & median_test(points.row, points.col, points.dx, points.dy, reliable, apart)
    return replace(points, inlier=inlier)


def fit_in_bands(ref: np.ndarray, tgt: np.ndarray, ref_valid: np.ndarray, tgt_valid: np.ndarray,
                 origins: np.ndarray, window: int, begin: tuple[int, int]) -> tuple[Fit, np.ndarray]:
    """``fit_windows`` over the tie points a band of rows at a time (``BAND_PX`` pixels of the grid): its
    prepared planes and per-window arrays (~100 bytes a pixel) stay a band's, not a large grid's. A grid
    of one band is fitted at once, as before."""
    rows = max(window, BAND_PX // max(ref.shape[1], 1))
    band = origins[:, 0] // rows
    if band.min() == band.max():
        return fit_windows(ref, tgt, ref_valid, tgt_valid, origins, window, begin, max_iterations=10)
    parts = [fit_windows(ref, tgt, ref_valid, tgt_valid, origins[band == b], window, begin, max_iterations=10)
             for b in np.unique(band)]  # origins come row by row: the bands keep their order
    fits = [f for f, _ in parts]

    def joined_(name: str) -> np.ndarray:
        return np.concatenate([getattr(f, name) for f in fits])

    joined = Fit(joined_("dx"), joined_("dy"), joined_("quality"), joined_("sigma"), joined_("n_pixels"),
                 joined_("converged"), max(f.iterations for f in fits))
    return joined, np.concatenate([ok for _, ok in parts])


def median_test(
    row: np.ndarray, col: np.ndarray, dx: np.ndarray, dy: np.ndarray, use: np.ndarray, spacing: float
) -> np.ndarray:
    """Normalised median test over each point's (up to 8) reliable neighbours within 2.5 spacings."""
    keep = use.copy()
    index = np.flatnonzero(use)
    if index.size < 4:
        return keep
    from scipy.spatial import cKDTree  # at first use (~0.07 s): `geo coreg` without --local needs no tie points

    tree = cKDTree(np.column_stack([col[index], row[index]]))
    k = min(9, index.size)
    dist, nbr = map(np.asarray, tree.query(np.column_stack([col[index], row[index]]), k=k))  # (n, k) arrays for k > 1
    near = (dist > 0) & (dist <= 2.5 * spacing)
    judged = near.sum(axis=1) >= 3  # fewer: too isolated to judge
    for values in (dx[index], dy[index]):
        # every point's neighbours at once (np.median's values: a point per row, ~1,000 of them a grid)
        med = _row_medians(values[nbr], near)
        residual_med = _row_medians(np.abs(values[nbr] - med[:, None]), near)
        with np.errstate(invalid="ignore"):  # rows not judged: NaN, never compared
            keep[index[judged & (np.abs(values - med) / (residual_med + MEDIAN_TEST_EPS) > MEDIAN_TEST_LIMIT)]] = False
    return keep


def _row_medians(values: np.ndarray, use: np.ndarray) -> np.ndarray:
    """``np.median(values[i][use[i]])`` of each row (NaN where it uses none): the middle of the sorted values,
    or the sum of the two middles halved, as np.median averages them (one middle: (v + v) / 2 == v).
    NaN among used values makes that row's NaN, as np.median's."""
    count = use.sum(axis=1)
    padded = np.sort(np.where(use, values, np.inf), axis=1)  # unused last
    lower = np.take_along_axis(padded, np.maximum(count - 1, 0)[:, None] // 2, axis=1)[:, 0]
    upper = np.take_along_axis(padded, (count // 2)[:, None], axis=1)[:, 0]
    middle: np.ndarray = (lower + upper) / 2
    middle[count == 0] = np.nan
    middle[np.isnan(np.where(use, values, 0.0)).any(axis=1)] = np.nan
    return middle


def fit_model(points: TiePoints, shape: tuple[int, int], min_points: int = 8) -> LocalModel:
    """Affine displacement, or a smoothing thin-plate spline when it predicts left-out points better.
    Fitted to at most ``MAX_MODEL_POINTS`` inliers, spread evenly in raster order: a spline's dense system
    grows with their square (29,000 tie points of a whole tile would take 7 GB), and a smooth field
    needs no more."""
    use = points.inlier
    n = int(use.sum())
    if n < min_points:
        raise TiePointError(
            f"only {n} reliable tie points of {len(points)} (need {min_points}): too little texture, "
            "too much cloud or change, or an overlap too small for the window size"
        )
    if n > MAX_MODEL_POINTS:
        chosen = np.flatnonzero(use)[np.round(np.linspace(0, n - 1, MAX_MODEL_POINTS)).astype(int)]
        use, n = np.zeros(len(points), bool), MAX_MODEL_POINTS
        use[chosen] = True
    scale = float(max(shape))
    xy = np.column_stack([points.col[use], points.row[use]]) / scale
    d = np.column_stack([points.dx[use], points.dy[use]])
    affine = _affine(xy, d)
    folds_of = _folds(xy)
    cv_affine = _cv(xy, d, folds_of, lambda a, b: (lambda q: _affine_eval(_affine(a, b), q)))
    kind, smooth, cv_best = "affine", None, cv_affine
    if n >= MIN_POINTS_SMOOTH:
        from scipy.interpolate import RBFInterpolator  # at first use (~0.1 s): only with tie points enough

        for s in SMOOTHING:
            def make(a: np.ndarray, b: np.ndarray, s: float = s) -> RBFInterpolator:
                return RBFInterpolator(a, b, kernel="thin_plate_spline", smoothing=s * len(a), degree=1)

            cv = _cv(xy, d, folds_of, make)
            if cv < SMOOTH_GAIN * cv_affine and cv < cv_best:
                kind, cv_best = "smooth", cv
                smooth = make(xy, d)
    predicted = smooth(xy) if smooth is not None else _affine_eval(affine, xy)
    rmse = float(np.sqrt(np.mean(np.sum((predicted - d) ** 2, axis=1))))
    log.info("local model %s from %d tie points: rmse %.3f px, cross-validated %.3f px (affine %.3f)",
             kind, n, rmse, cv_best, cv_affine)
    return LocalModel(kind, points, rmse, cv_best, affine.T, scale, smooth)


def _affine(xy: np.ndarray, d: np.ndarray) -> np.ndarray:
    design = np.column_stack([np.ones(len(xy)), xy])
    coef: np.ndarray = np.linalg.lstsq(design, d, rcond=None)[0]  # (3, 2)
    return coef


def _affine_eval(coef: np.ndarray, xy: np.ndarray) -> np.ndarray:
    predicted: np.ndarray = np.column_stack([np.ones(len(xy)), xy]) @ coef
    return predicted


def _folds(xy: np.ndarray, blocks: int = CV_BLOCKS, folds: int = CV_FOLDS) -> np.ndarray:
    """The fold of each point: the square block (about ``blocks`` of them tiling the points' extent) it
    falls in, the blocks dealt to ``folds`` folds in turn (of 3 x 3, blocks k and k + 5 share one). The
    errors of neighbouring tie points are alike (overlapping windows, the same texture); random folds
    left a neighbour of each left-out point in training, and a spline through the shared error passed
    for a smooth field (chosen on 19 of 32 constant-shift pairs; 0.3 px at the corners at 60 m)."""
    lo, span = xy.min(axis=0), np.ptp(xy, axis=0)
    side = max(math.sqrt(span[0] * span[1] / blocks), span.max() / blocks)
    counts = np.maximum(1, np.round(span / side)).astype(np.int64) if side > 0 else np.ones(2, np.int64)
    cells = np.minimum(((xy - lo) / np.maximum(span, 1e-12) * counts).astype(np.int64), counts - 1)
    fold: np.ndarray = (cells[:, 0] * counts[1] + cells[:, 1]) % folds
    return fold


def _cv(xy: np.ndarray, d: np.ndarray, folds_of: np.ndarray,
        make: Callable[[np.ndarray, np.ndarray], Callable[[np.ndarray], np.ndarray]]) -> float:
    """Root mean square error of predicting each fold from the others (vector error, px)."""
    errors = []
    for f in np.unique(folds_of):
        test = folds_of == f
        if test.all():
            continue
        try:
            model = make(xy[~test], d[~test])
        except np.linalg.LinAlgError:  # the others on a line (a strip and a corner patch): no spline, not chosen
            return np.inf
        errors.append(np.sum((model(xy[test]) - d[test]) ** 2, axis=1))
    return float(np.sqrt(np.mean(np.concatenate(errors)))) if errors else np.inf


def estimate_local(
    ref: np.ndarray,
    tgt: np.ndarray,
    ref_valid: np.ndarray | None,
    tgt_valid: np.ndarray | None,
    start: Shift,
    window: int = 64,
    spacing: int = 64,
    min_points: int = 8,
    pixel_m: float = DEFAULT_PIXEL_M,
    cleaned: tuple[np.ndarray, np.ndarray] | None = None,
    on_grid: Swapped | None = None,
) -> LocalModel:
    """Tie points + fitted model; ``TiePointError`` when too few points are reliable. ``cleaned``: the masks
    ``clean_masks`` gives for these images and masks, when the caller has them. ``on_grid``: the images are a
    coarser TGT's lattice with the roles swapped (TGT first); the tie points and the model are then REF's."""
    if window < MIN_WINDOW or spacing < 1:
        raise CoregError(f"tie-point window must be >= {MIN_WINDOW} px and spacing >= 1 px (got {window}, {spacing})")
    ref_valid = np.isfinite(ref) if ref_valid is None else ref_valid & np.isfinite(ref)
    tgt_valid = np.isfinite(tgt) if tgt_valid is None else tgt_valid & np.isfinite(tgt)
    if int((ref_valid & tgt_valid).sum()) < MIN_VALID_PIXELS:
        raise CoregError("reference and target overlap on too few valid pixels for tie points")
    points = measure_tie_points(ref, tgt, ref_valid, tgt_valid, start, window, spacing, pixel_m=pixel_m,
                                cleaned=cleaned, on_grid=on_grid)
    return fit_model(points, ref.shape if on_grid is None else on_grid.grid.shape, min_points)
