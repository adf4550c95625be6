"""How much finer than its content an image is sampled (a 20 m band resampled to 10 m, a pan-sharpened or
reprojected product): the shift's stated error must not count its interpolated pixels as independent.

The structure function D(h) (mean squared difference of pixels h apart) grows as h² where the image is
smooth, far slower across real detail: on native Sentinel-2 crops D(2h)/D(h) is 1.8-2.6 from h = 1, on the
same crops cubic-upsampled k-fold it is 3.2-3.9 up to h = k/2 (benchmarks/coreg_oversampled.py). Each octave
of lags that looks smooth doubles the factor; native images give exactly 1.
"""

from __future__ import annotations

import numpy as np

SMOOTH_RATIO = (2.8, 3.2)  # D(2h)/D(h) from which an octave starts to count, and counts fully
LAGS = (1, 2, 4, 8)  # up to 8x


def _structure(images: np.ndarray, valid: np.ndarray, lag: int) -> float:
    """Mean squared difference of valid pixels ``lag`` apart along rows and columns (of each image of a
    stack: no difference spans two images)."""
    total, count = 0.0, 0
    for a, b, ok in ((images[..., lag:], images[..., :-lag], valid[..., lag:] & valid[..., :-lag]),
                     (images[..., lag:, :], images[..., :-lag, :], valid[..., lag:, :] & valid[..., :-lag, :])):
        diff = np.where(ok, a - b, 0).ravel()
        total, count = total + float(np.dot(diff, diff)), count + int(np.count_nonzero(ok))
    return total / count if count else np.nan


def factor(images: np.ndarray, valid: np.ndarray) -> float:
    """Oversampling factor (1 native, ~k for a k-fold interpolated image) of an image, or a stack of windows
    of one, over its ``valid`` pixels."""
    values = images.astype(np.float32, copy=False)
    low, high = SMOOTH_RATIO
    octaves, short = 0.0, _structure(values, valid, LAGS[0])
    for lag in LAGS[1:]:  # on a native image this stops after the second lag
        long = _structure(values, valid, lag)
        if not (np.isfinite(short) and np.isfinite(long)) or short <= 0:
            break
        step = float(np.clip((long / short - low) / (high - low), 0.0, 1.0))
        octaves += step
        if step < 1:  # smoothness beyond the first octave that is not fully smooth is real content
            break
        short = long
    return float(2.0**octaves)


def block_mean(image: np.ndarray, valid: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
    """``image`` averaged over ``step`` x ``step`` blocks (the edge's partial blocks dropped), and which blocks
    are valid throughout. A block mean is a filter then a subsampling: a shift of d px between two images
    is one of d / step px between their block means."""
    h, w = image.shape[0] // step * step, image.shape[1] // step * step
    blocks = (h // step, step, w // step, step)
    ok = np.asarray(valid[:h, :w].reshape(blocks).all(axis=(1, 3)))
    values = np.where(valid[:h, :w], image[:h, :w], 0.0).reshape(blocks).mean(axis=(1, 3))
    return values, ok
