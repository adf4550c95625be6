"""The first screen's candidate change statistics for ``benchmarks/oscd_statistics.py`` (its docstring lists
them: structure, local correlation, segments, robust fusion, directions, built-up direction), and the
building blocks they share: signed local-regression z of two images, their smoothed mean |z|, a per-city memo.
"""

from __future__ import annotations

if __name__ == "__main__":  # imported by the benchmarks, nothing of its own to run (it stopped in an import error)
    raise SystemExit("error: benchmarks/oscd_candidates.py is a part of other benchmarks, not one to run: run python benchmarks/oscd_statistics.py")

from collections.abc import Callable

import numpy as np

from geo.change.local import PRECISION, masked_gaussian, robust_z
from geo.change.local_blocks import local_regression_residual

from benchmarks.oscd_directions import SIGMA_PX, CityData


# ---- building blocks --------------------------------------------------------------------------------

def _z(x: np.ndarray, y: np.ndarray, valid: np.ndarray, window: int = 96) -> np.ndarray:
    """Signed robust z of y's local-regression residual on x (0 where invalid)."""
    return np.nan_to_num(robust_z(local_regression_residual(x, y, valid, window), valid, PRECISION))


def _band(city: CityData, name: str, date: int) -> np.ndarray:
    stack = city.before if date == 0 else city.after
    return stack[city.bands.index(name)].astype(np.float64)


def _pair_z(city: CityData, x: np.ndarray, y: np.ndarray, window: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """(after from before, before from after) signed z of two images."""
    return _z(x, y, city.valid, window), _z(y, x, city.valid, window)


def _smooth_abs(city: CityData, zs: tuple[np.ndarray, np.ndarray], sigma: float = SIGMA_PX) -> np.ndarray:
    out: np.ndarray = 0.5 * (masked_gaussian(np.abs(zs[0]), city.valid, sigma)
                             + masked_gaussian(np.abs(zs[1]), city.valid, sigma))
    return np.nan_to_num(out)


_MEMO: dict[tuple[int, str], object] = {}


def forget_memos() -> None:
    """Drop every city's memos (before the next city is read: ``id`` values are reused)."""
    _MEMO.clear()


def _memo(city: CityData, key: str, make: Callable[[], object]) -> object:
    k = (id(city), key)
    if k not in _MEMO:
        _MEMO[k] = make()
    return _MEMO[k]


def red_z(city: CityData, window: int = 96) -> tuple[np.ndarray, np.ndarray]:
    return _memo(city, f"red{window}", lambda: _pair_z(city, _band(city, "red", 0), _band(city, "red", 1), window))  # type: ignore[return-value]


def default(city: CityData) -> np.ndarray:
    return _smooth_abs(city, red_z(city))


def _gradient_magnitude(image: np.ndarray, valid: np.ndarray, sigma: float) -> np.ndarray:
    from scipy import ndimage as ndi
    filled = np.where(valid, image, np.median(image[valid]))
    return np.asarray(ndi.gaussian_gradient_magnitude(filled, sigma))


def grad_z(city: CityData, sigma: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    def make() -> tuple[np.ndarray, np.ndarray]:
        b = _gradient_magnitude(_band(city, "red", 0), city.valid, sigma)
        a = _gradient_magnitude(_band(city, "red", 1), city.valid, sigma)
        return _pair_z(city, b, a)
    return _memo(city, f"grad{sigma}", make)  # type: ignore[return-value]


def structure(city: CityData) -> np.ndarray:
    return _smooth_abs(city, grad_z(city))


def structure_mean(city: CityData) -> np.ndarray:
    return np.asarray(0.5 * (default(city) + structure(city)))


def structure_geo(city: CityData) -> np.ndarray:
    return np.sqrt(default(city) * structure(city))


def structure_max(city: CityData) -> np.ndarray:
    return np.maximum(default(city), structure(city))


def local_ncc(city: CityData, sigma: float = 2.0) -> np.ndarray:
    """Normalised cross-correlation of the two dates' red over a Gaussian window of ``sigma``."""
    from scipy import ndimage as ndi
    b, a = _band(city, "red", 0), _band(city, "red", 1)
    v = city.valid
    b, a = np.where(v, b, 0.0), np.where(v, a, 0.0)

    def g(x: np.ndarray) -> np.ndarray:
        return np.asarray(ndi.gaussian_filter(x, sigma))
    mb, ma = g(b), g(a)
    cov = g(a * b) - ma * mb
    vb, va = g(b * b) - mb * mb, g(a * a) - ma * ma
    eps = (3 * PRECISION) ** 2 * 25  # a flat window has no correlation to measure: it reads as ~0 change
    return np.asarray(cov / np.sqrt((vb + eps) * (va + eps)))


def ncc_weighted(city: CityData) -> np.ndarray:
    """The red statistic × (1 + (1 − NCC)) / 1.5 ~ unchanged scale for typical NCC ~0.5."""
    ncc = np.clip(local_ncc(city), -1, 1)
    return np.asarray(default(city) * (2.0 - ncc) / 1.5)


def ncc_alone(city: CityData) -> np.ndarray:
    return np.asarray(2.0 * (1.0 - np.clip(local_ncc(city), -1, 1)))


def _segment_mean(city: CityData, values: np.ndarray, segments: np.ndarray) -> np.ndarray:
    seg = np.where(city.valid, segments, 0).ravel()
    count = int(segments.max()) + 1
    w = city.valid.ravel().astype(np.float64)
    sums = np.bincount(seg, weights=values.ravel() * w, minlength=count)
    sizes = np.maximum(np.bincount(seg, weights=w, minlength=count), 1)
    return np.asarray((sums / sizes)[segments])


def _after_stack(city: CityData) -> np.ndarray:
    stack = np.nan_to_num(city.after[[city.bands.index(b) for b in ("blue", "green", "red", "nir")]])
    stack = (stack - stack.mean(axis=(1, 2), keepdims=True)) / (stack.std(axis=(1, 2), keepdims=True) + 1e-9)
    return np.moveaxis(stack, 0, -1)


def felz_segments(city: CityData) -> np.ndarray:
    from skimage.segmentation import felzenszwalb
    return _memo(city, "felz", lambda: felzenszwalb(_after_stack(city), scale=10, sigma=0.5, min_size=6,  # type: ignore[return-value]
                                                    channel_axis=-1))


def slic_segments(city: CityData) -> np.ndarray:
    from skimage.segmentation import slic
    n = int(city.valid.size / 25)  # ~5 × 5 px superpixels: small buildings
    return _memo(city, "slic", lambda: slic(_after_stack(city), n_segments=n, compactness=0.1,  # type: ignore[return-value]
                                            channel_axis=-1, start_label=0, convert2lab=False))


def _unsmoothed(city: CityData) -> np.ndarray:
    zs = red_z(city)
    return np.asarray(0.5 * (np.abs(zs[0]) + np.abs(zs[1])))


def segments_felz(city: CityData) -> np.ndarray:
    return _segment_mean(city, _unsmoothed(city), felz_segments(city))


def segments_slic(city: CityData) -> np.ndarray:
    return _segment_mean(city, _unsmoothed(city), slic_segments(city))


def segments_felz_blend(city: CityData) -> np.ndarray:
    return np.asarray(0.5 * (default(city) + segments_felz(city)))


def robust_min(city: CityData) -> np.ndarray:
    stats = [_smooth_abs(city, red_z(city, w), s) for w in (48, 96) for s in (1.0, 2.0)]
    return np.asarray(np.min(stats, axis=0))


def _min_over(windows: tuple[int, ...], sigmas: tuple[float, ...]) -> Callable[[CityData], np.ndarray]:
    """The per-pixel minimum of the red statistic over every window × footprint."""
    def statistic(city: CityData) -> np.ndarray:
        return np.asarray(np.min([_smooth_abs(city, red_z(city, w), s) for w in windows for s in sigmas], axis=0))
    return statistic


def _directions_min(city: CityData, window: int, sigma: float) -> np.ndarray:
    """The smaller of the two directions' |z| (instead of their mean), × 1.4 onto the mean's scale."""
    forward, backward = red_z(city, window)
    return 1.4 * np.nan_to_num(masked_gaussian(np.minimum(np.abs(forward), np.abs(backward)), city.valid, sigma))


def directions_min(city: CityData) -> np.ndarray:
    return _directions_min(city, 96, SIGMA_PX)


def directions_min_fused(city: CityData) -> np.ndarray:
    return np.asarray(np.min([_directions_min(city, w, s) for w in (48, 96) for s in (1.0, 2.0)], axis=0))


def _self_trained_p(city: CityData) -> np.ndarray:
    """P(change) of ``self-trained``'s per-pair regression (its shipped tails 4 / 1.5 and C 0.1) learnt on
    the fused statistic."""
    from geo.change.self_training import reweighted
    fused = robust_min(city).astype(np.float32)
    values, _ = reweighted(city.before, city.after, city.valid, city.bands, fused, 4.0, 1.5, 0.1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(np.where(fused > 0, values / (2 * fused), 0.0))


def fused_self_trained(city: CityData) -> np.ndarray:
    return np.asarray(2 * _self_trained_p(city) * robust_min(city))


def fused_self_trained_sqrt(city: CityData) -> np.ndarray:
    return np.asarray(np.sqrt(2 * _self_trained_p(city)) * robust_min(city))


def robust_min_96(city: CityData) -> np.ndarray:
    """Minimum over the two windows at the default footprint only."""
    return np.minimum(default(city), _smooth_abs(city, red_z(city, 48)))


def _ndbi(city: CityData, date: int) -> np.ndarray:
    s, n = _band(city, "swir16", date), _band(city, "nir", date)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s + n > 0, (s - n) / (s + n), 0.0)


def ndbi_signed(city: CityData) -> np.ndarray:
    """Built-up direction: the after NDBI above what its neighbourhood predicts from the before (and the
    before below what the after predicts), positive part only, over the footprint."""
    def make() -> tuple[np.ndarray, np.ndarray]:
        return _pair_z(city, _ndbi(city, 0), _ndbi(city, 1))
    forward, backward = _memo(city, "ndbi", make)  # type: ignore[misc]
    up = 0.5 * (np.maximum(forward, 0) + np.maximum(-backward, 0))
    return np.nan_to_num(masked_gaussian(up, city.valid, SIGMA_PX))


def ndbi_added(city: CityData) -> np.ndarray:
    return np.asarray(default(city) + 0.5 * ndbi_signed(city))


def ndbi_geo(city: CityData) -> np.ndarray:
    return np.sqrt(default(city) * (1.0 + ndbi_signed(city)))
