"""Self-training per pair: the local-regression statistic re-weighted by what this pair's own spectra say.

No labels: the statistic's confident tails are the training set (above ``high``: change, below ``low``:
not), a logistic regression on per-pixel features of the band and index changes learns which spectral
changes go with them *in this pair*, and the statistic is multiplied by twice its probability (a pixel the
pair's own changes vouch for is raised up to 2×, one they disown lowered towards 0). Learnt across cities
the same features did not carry from one to another (``benchmarks/oscd_learned.py``); learnt per pair they
adapt to its season, haze and land cover.

Features, all in the pair's own robust standard deviations: each band's normalised difference (absolute),
dNDVI, dNDWI, dNDBI and the brightness difference (signed), each averaged over Gaussian footprints of
``SIGMAS``. Two phases as every blocked detector (``geo.change.detectors.base``): the scales of the raw
changes from a bounded sample of pixels and the regression from a bounded sample of the tails (global);
the features and the re-weighted statistic block by block with a halo of the largest footprint's reach.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from geo.change import tiling
from geo.change.local import robust_scale
from geo.change.sampling import sample_index
from geo.change.stats import INDICES, normalised_difference
from geo.change.tiling import BlockRunner, iter_windows, layout, run_serial

SIGMAS = (1.5, 4.0)
NEGATIVES = 20_000  # no-change rows of the regression (a fixed random sample of the low tail)
POSITIVES = 200_000  # at most this many change rows
SCALE_FLOOR = 1e-4  # one digital number: no change is known better


@dataclass(frozen=True)
class Model:
    """A standardised logistic regression: P(change) = 1 / (1 + exp(-(((x - mean) / sd) · weights + bias)))."""

    mean: np.ndarray
    sd: np.ndarray
    weights: np.ndarray
    bias: float

    def logit(self, rows: np.ndarray) -> np.ndarray:
        out: np.ndarray = ((rows - self.mean) / self.sd) @ self.weights + self.bias
        return out


def raw_changes(before: np.ndarray, after: np.ndarray, valid: np.ndarray, bands: Sequence[str]) -> np.ndarray:
    """(feature, row, col) float32 raw changes: each band's difference, the index differences, brightness."""
    b = np.where(valid, np.nan_to_num(before), 0.0).astype(np.float64)
    a = np.where(valid, np.nan_to_num(after), 0.0).astype(np.float64)
    maps = [a[i] - b[i] for i in range(len(bands))]
    maps += [normalised_difference(a, bands, index) - normalised_difference(b, bands, index) for index in INDICES]
    maps.append(a.mean(axis=0) - b.mean(axis=0))
    return np.stack(maps).astype(np.float32)


def scales(before: np.ndarray, after: np.ndarray, valid: np.ndarray, bands: Sequence[str]) -> np.ndarray:
    """(feature, 2): the robust (median, scale) of each raw change over a bounded sample of valid pixels."""
    rows, cols = np.nonzero(valid)
    pick = sample_index(rows.size)
    if pick is not None:
        rows, cols = rows[pick], cols[pick]
    changes = raw_changes(before[:, rows, cols][..., None], after[:, rows, cols][..., None],
                          np.ones((rows.size, 1), bool), bands)
    return np.array([robust_scale(c.ravel().astype(np.float64), SCALE_FLOOR) for c in changes])


def features(before: np.ndarray, after: np.ndarray, valid: np.ndarray, bands: Sequence[str],
             centres: np.ndarray) -> np.ndarray:
    """(feature, row, col) float32: the raw changes in robust SDs (bands' absolute), over each footprint."""
    changes = raw_changes(before, after, valid, bands)
    # masked_gaussian's normalised convolution, its denominator (the valid pixels' weight) filtered once
    weights = {sigma: ndi.gaussian_filter(valid.astype(np.float64), sigma) for sigma in SIGMAS}
    out = np.empty((len(changes) * len(SIGMAS), *valid.shape), np.float32)
    for k, change in enumerate(changes):
        z = (change - centres[k, 0]) / centres[k, 1]
        if k < len(bands):
            z = np.abs(z)
        z = np.where(valid, z, 0.0).astype(np.float64)
        for j, sigma in enumerate(SIGMAS):
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = ndi.gaussian_filter(z, sigma) / weights[sigma]
            out[k * len(SIGMAS) + j] = np.where(valid, np.nan_to_num(mean), 0.0)
    return out


def halo_px() -> int:
    """How far the features read: scipy truncates a Gaussian at 4σ."""
    return int(np.ceil(4 * max(SIGMAS))) + 1


def training_pixels(statistic: np.ndarray, valid: np.ndarray, high: float, low: float) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices of the rows of the regression and whether each is change: the tails of the statistic,
    each capped by a fixed random sample."""
    values = np.where(valid, np.nan_to_num(statistic), np.nan).ravel()
    with np.errstate(invalid="ignore"):
        positive, negative = np.flatnonzero(values > high), np.flatnonzero(values < low)
    chosen = []
    for indices, cap in ((positive, POSITIVES), (negative, NEGATIVES)):
        pick = sample_index(indices.size, cap)
        chosen.append(np.unique(indices[pick]) if pick is not None else indices)
    return np.concatenate(chosen), np.concatenate([np.ones(chosen[0].size, bool), np.zeros(chosen[1].size, bool)])


def fit_logistic(rows: np.ndarray, labels: np.ndarray, c: float, iterations: int = 50) -> Model:
    """L2-regularised logistic regression (scikit-learn's objective: ½‖w‖² + C Σ log-loss, the bias not
    penalised) on standardised rows, by Newton's method."""
    mean, sd = rows.mean(axis=0), rows.std(axis=0) + 1e-9
    x = np.hstack([(rows - mean) / sd, np.ones((rows.shape[0], 1))]).astype(np.float64)
    y = labels.astype(np.float64)
    penalty = np.eye(x.shape[1])
    penalty[-1, -1] = 0.0
    theta = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(x @ theta)))
        gradient = penalty @ theta + c * x.T @ (p - y)
        hessian = penalty + c * (x * (p * (1 - p))[:, None]).T @ x + 1e-9 * np.eye(x.shape[1])
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return Model(mean, sd, theta[:-1], float(theta[-1]))


def _block_rows(before: np.ndarray, after: np.ndarray, valid: np.ndarray, bands: Sequence[str],
                centres: np.ndarray, core: tuple[slice, slice], picked: np.ndarray) -> np.ndarray:
    """Feature rows at the ``picked`` (row, col) pixels of a block's core (in core coordinates)."""
    values = features(before, after, valid, bands, centres)[(slice(None), *core)]
    rows: np.ndarray = values[:, picked[:, 0], picked[:, 1]].T
    return rows


def _block_reweighted(before: np.ndarray, after: np.ndarray, valid: np.ndarray, statistic: np.ndarray,
                      bands: Sequence[str], centres: np.ndarray, model: Model, core: tuple[slice, slice]) -> np.ndarray:
    return _apply(features(before, after, valid, bands, centres)[(slice(None), *core)], statistic[core], model)


def _apply(values: np.ndarray, statistic: np.ndarray, model: Model) -> np.ndarray:
    """The statistic × 2 P(change) given the features ``values`` (feature, row, col)."""
    logit = model.logit(values.reshape(values.shape[0], -1).T).reshape(values.shape[1:])
    out: np.ndarray = (np.nan_to_num(statistic) * 2.0 / (1.0 + np.exp(-logit))).astype(np.float32)
    return out


def reweighted(before: np.ndarray, after: np.ndarray, valid: np.ndarray, bands: Sequence[str],
               statistic: np.ndarray, high: float, low: float, c: float, runner: BlockRunner = run_serial,
               core_px: int | None = None) -> tuple[np.ndarray, Model | None]:
    """The statistic × 2 P(change) and the pair's model; the statistic unchanged (and None) when either
    tail is empty."""
    centres = scales(before, after, valid, bands)
    indices, labels = training_pixels(statistic, valid, high, low)
    if labels.all() or not labels.any():
        return statistic, None
    blocks = layout(valid.shape, halo_px(), core_px or tiling.CORE_PX)
    if len(blocks) == 1:  # a small grid: its features computed once, for the fit and the statistic alike
        values = features(before, after, valid, bands, centres)
        model = fit_logistic(values.reshape(values.shape[0], -1)[:, indices].T, labels, c)
        return np.where(valid, _apply(values, statistic, model), np.nan).astype(np.float32), model
    windows = list(iter_windows(blocks, before, after, valid))
    rows_at, cols_at = np.unravel_index(indices, valid.shape)
    arguments, order = [], []
    for block, (b, a, ok) in zip(blocks, windows):
        inside = (rows_at >= block.row0) & (rows_at < block.row1) & (cols_at >= block.col0) & (cols_at < block.col1)
        if not inside.any():  # no training pixel: its features are computed once, when applied
            continue
        picked = np.stack([rows_at[inside] - block.row0, cols_at[inside] - block.col0], axis=1)
        arguments.append((b, a, ok, tuple(bands), centres, block.core_in_window, picked))
        order.append(np.flatnonzero(inside))
    parts = runner(_block_rows, arguments)
    rows = np.empty((indices.size, 2 * centres.shape[0]), np.float32)
    for where, part in zip(order, parts):
        rows[where] = part
    model = fit_logistic(rows, labels, c)
    out = np.empty(valid.shape, np.float32)
    apply_arguments = [(b, a, ok, statistic[block.window], tuple(bands), centres, model, block.core_in_window)
                       for block, (b, a, ok) in zip(blocks, windows)]
    for block, values in zip(blocks, runner(_block_reweighted, apply_arguments)):
        out[block.core] = values
    return np.where(valid, out, np.nan).astype(np.float32), model
