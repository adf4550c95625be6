"""Relative radiometric normalisation of the after image onto the before image.

Per band, an orthogonal (total least squares) regression of after on before, fitted on pixels that look
unchanged in every band; the unchanged set is refined a few times (a light-weight cousin of IR-MAD's
invariant-pixel selection). Orthogonal regression treats both dates as noisy, so it is symmetric.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BandFit:
    slope: float
    intercept: float
    n_invariant: int

    def to_dict(self) -> dict[str, float | int]:
        return {"slope": round(self.slope, 5), "intercept": round(self.intercept, 6), "n_invariant": self.n_invariant}


def orthogonal_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """y ≈ slope·x + intercept minimising perpendicular distances."""
    mx, my = x.mean(), y.mean()
    sxx, syy, sxy = ((x - mx) ** 2).mean(), ((y - my) ** 2).mean(), ((x - mx) * (y - my)).mean()
    if sxy == 0:
        return 1.0, float(my - mx)
    slope = (syy - sxx + np.sqrt((syy - sxx) ** 2 + 4 * sxy**2)) / (2 * sxy)
    return float(slope), float(my - slope * mx)


def normalise(
    before: np.ndarray, after: np.ndarray, valid: np.ndarray, iterations: int = 4, cutoff: float = 2.5
) -> tuple[np.ndarray, list[BandFit], np.ndarray]:
    """``after`` mapped onto ``before``'s radiometry. Returns (after_normalised, fits, invariant mask)."""
    invariant = valid.copy()
    fits: list[tuple[float, float]] = []
    for _ in range(iterations):
        fits = [orthogonal_fit(before[b][invariant], after[b][invariant]) for b in range(before.shape[0])]
        keep = valid.copy()
        for b, (slope, intercept) in enumerate(fits):
            residual = (after[b] - slope * before[b] - intercept) / np.sqrt(1 + slope**2)
            sigma = 1.4826 * np.median(np.abs(residual[invariant])) + 1e-9
            keep &= np.abs(residual) < cutoff * sigma
        if keep.sum() < 100:
            break
        invariant = keep
    out = np.empty_like(after)
    for b, (slope, intercept) in enumerate(fits):
        out[b] = (after[b] - intercept) / slope
    n = int(invariant.sum())
    return out, [BandFit(s, i, n) for s, i in fits], invariant
