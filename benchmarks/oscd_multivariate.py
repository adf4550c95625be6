"""Multivariate local regression, screened in ``benchmarks/oscd_statistics.py``: every band of one date
predicted from ALL bands of the other by a linear fit over each pixel's neighbourhood (the red-only
``local-regression`` fit, with a matrix of gains), and the residual vector's Mahalanobis distance under a
robust (minimum covariance determinant) covariance, turned into the |z| of a normal with the same tail
probability, so that it is in the units of the red statistic and one threshold grid serves both.

The moments are summed per 8-px block and box-filtered over the window, as ``geo.change.local`` does for
one band; the gains are solved per block and interpolated back to pixels. Two fits, the second without the
pixels whose first residual is beyond the chi-square level of 3 robust deviations (as the red fit's).
"""

from __future__ import annotations

if __name__ == "__main__":  # imported by the benchmarks, nothing of its own to run (it stopped in an import error)
    raise SystemExit("error: benchmarks/oscd_multivariate.py is a part of other benchmarks, not one to run: run python benchmarks/oscd_statistics.py")

from collections.abc import Callable

import numpy as np
from scipy import ndimage as ndi
from scipy import special

from geo.change.local import BLOCK_PX, PRECISION, _block_sums, _to_pixels, masked_gaussian, robust_z

from benchmarks.oscd_directions import CityData

CLIP_P = 0.0027  # the two-sided tail of 3 standard deviations: the red fit's clip
SAMPLE = 20_000  # pixels the robust covariance is estimated from
RIDGE = 1e-3  # of the mean local variance: neighbourhoods where two bands are collinear stay solvable


def _box(values: np.ndarray, size: int) -> np.ndarray:
    return np.asarray(ndi.uniform_filter(_block_sums(values, BLOCK_PX), size=size, mode="constant"))


def local_multi_fit(x: np.ndarray, y: np.ndarray, weights: np.ndarray, window_px: int) -> np.ndarray:
    """y (m, H, W) minus its local linear prediction from x (k, H, W) with the pixels of ``weights``."""
    k, m = x.shape[0], y.shape[0]
    w = weights.astype(np.float64)
    xw, yw = x * w, y * w
    size = max(1, int(round(window_px / BLOCK_PX)))
    sw = _box(w, size)
    sw_safe = np.maximum(sw, 1e-9)
    mx = np.stack([_box(v, size) for v in xw]) / sw_safe
    my = np.stack([_box(v, size) for v in yw]) / sw_safe
    cxx = np.empty((*sw.shape, k, k))
    for i in range(k):
        for j in range(i, k):
            cxx[..., i, j] = cxx[..., j, i] = _box(xw[i] * x[j], size) / sw_safe - mx[i] * mx[j]
    cxy = np.empty((*sw.shape, k, m))
    for i in range(k):
        for j in range(m):
            cxy[..., i, j] = _box(xw[i] * y[j], size) / sw_safe - mx[i] * my[j]
    ridge = RIDGE * np.trace(cxx, axis1=-2, axis2=-1) / k + PRECISION**2
    cxx += ridge[..., None, None] * np.eye(k)
    gains = np.linalg.solve(cxx, cxy)  # (h, w, k, m)
    offsets = my - np.einsum("hwkm,khw->mhw", gains, mx)
    # a neighbourhood all but empty: its gains are those of the whole image's (the mean of the valid blocks')
    enough = sw > 0.1 * BLOCK_PX**2
    if not enough.all():
        gains[~enough] = gains[enough].mean(axis=0)
        offsets[:, ~enough] = offsets[:, enough].mean(axis=1, keepdims=True)
    shape = x.shape[1:]
    out = y.copy()
    for j in range(m):
        prediction = _to_pixels(offsets[j], BLOCK_PX, shape)
        for i in range(k):
            prediction += _to_pixels(gains[..., i, j], BLOCK_PX, shape) * x[i]
        out[j] -= prediction
    return out


def _robust_covariance(residual: np.ndarray, valid: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.covariance import MinCovDet

    values = residual[:, valid].T
    rng = np.random.default_rng(seed)
    sample = values[rng.choice(len(values), min(SAMPLE, len(values)), replace=False)]
    mcd = MinCovDet(random_state=seed).fit(sample)
    covariance = mcd.covariance_ + PRECISION**2 * np.eye(residual.shape[0])
    return mcd.location_, covariance


def mahalanobis2(residual: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Squared robust Mahalanobis distance of each pixel's residual vector (0 where invalid)."""
    location, covariance = _robust_covariance(residual, valid)
    centred = residual - location[:, None, None]
    inverse = np.linalg.inv(covariance)
    d2 = np.einsum("ihw,ij,jhw->hw", centred, inverse, centred)
    return np.where(valid, d2, 0.0)


def equivalent_z(d2: np.ndarray, dof: int) -> np.ndarray:
    """|z| of a standard normal with the tail probability of ``d2`` under chi-square(``dof``)."""
    p = np.clip(special.chdtrc(dof, d2), 1e-300, 1.0)
    return np.asarray(-special.ndtri(p / 2))


def multi_residual(x: np.ndarray, y: np.ndarray, valid: np.ndarray, window_px: int) -> np.ndarray:
    """Both fits (the second without the first's outliers); the residual vector, NaN-free (0 where invalid)."""
    x = np.where(valid, x, 0.0)
    y = np.where(valid, y, 0.0)
    residual = local_multi_fit(x, y, valid, window_px)
    kept = valid & (mahalanobis2(residual, valid) < special.chdtri(x.shape[0], CLIP_P))
    residual = local_multi_fit(x, y, kept, window_px)
    return np.where(valid, residual, 0.0)


def multi_z(x: np.ndarray, y: np.ndarray, valid: np.ndarray, window_px: int) -> np.ndarray:
    """The equivalent |z| of y's multivariate local-regression residual on x."""
    return equivalent_z(mahalanobis2(multi_residual(x, y, valid, window_px), valid), y.shape[0])


# ---- candidates of benchmarks/oscd_statistics.py: each fused as local-fusion is (min over windows × footprints)

ALL_BANDS = ("blue", "green", "red", "nir", "swir16", "swir22")
TEN_M = ("blue", "green", "red", "nir")
WINDOWS, SIGMAS = (48, 96), (1.0, 2.0)
ZPair = tuple[np.ndarray, np.ndarray]


def _stacks(city: CityData, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    index = [city.bands.index(n) for n in names]
    return city.before[index].astype(np.float64), city.after[index].astype(np.float64)


def fused(valid: np.ndarray, pair_of_window: Callable[[int], ZPair], sigmas: tuple[float, ...] = SIGMAS) -> np.ndarray:
    """The per-pixel minimum over ``WINDOWS`` × ``sigmas`` of the two directions' mean |z| over the footprint."""
    parts = []
    for window in WINDOWS:
        forward, backward = pair_of_window(window)
        for sigma in sigmas:
            parts.append(0.5 * (masked_gaussian(np.abs(forward), valid, sigma)
                                + masked_gaussian(np.abs(backward), valid, sigma)))
    return np.nan_to_num(np.min(parts, axis=0))


def chi_square(predicted: tuple[str, ...]) -> Callable[[CityData], np.ndarray]:
    """The equivalent |z| of the Mahalanobis distance of the ``predicted`` bands' residual vector."""
    def statistic(city: CityData) -> np.ndarray:
        before, after = _stacks(city, predicted)
        return fused(city.valid, lambda w: (multi_z(before, after, city.valid, w),
                                             multi_z(after, before, city.valid, w)))
    return statistic


def red_on(predictors: tuple[str, ...], clip_on_all: bool) -> Callable[[CityData], np.ndarray]:
    """The red band's robust z, predicted from ``predictors``; the second fit without the outliers of the
    Mahalanobis distance of all six bands' residuals (``clip_on_all``) or of red's alone."""
    def one_way(x: np.ndarray, y: np.ndarray, valid: np.ndarray, window: int) -> np.ndarray:
        red = ALL_BANDS.index("red")
        use = [ALL_BANDS.index(n) for n in predictors]
        if clip_on_all:
            residual = multi_residual(x, y, valid, window)[red]
        else:
            residual = multi_residual(x[use], y[[red]], valid, window)[0]
        return np.nan_to_num(robust_z(np.where(valid, residual, np.nan), valid, PRECISION))

    def statistic(city: CityData) -> np.ndarray:
        before, after = _stacks(city, ALL_BANDS)
        return fused(city.valid, lambda w: (one_way(before, after, city.valid, w),
                                             one_way(after, before, city.valid, w)))
    return statistic
