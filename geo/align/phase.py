"""Whole-pixel shifts by phase correlation: of the measurement windows (within half a window), and of the
whole overlap at a quarter of its resolution when the shift is beyond the windows' reach."""

from __future__ import annotations

import numpy as np

FAR_FACTOR = 4  # decimation of the whole-overlap look for a shift beyond the windows' reach


def standardised(image: np.ndarray, valid: np.ndarray) -> np.ndarray | None:
    """Zero mean, unit variance over valid pixels; invalid ones 0 (the mean). None without texture."""
    values = image[valid]
    std = float(values.std()) if values.size >= 16 else 0.0
    if not np.isfinite(std) or std == 0:
        return None
    return np.where(valid, (image - values.mean()) / std, 0.0).astype(np.float32)


def integer_shift(windows: list[tuple[np.ndarray, np.ndarray]]) -> tuple[int, int]:
    """(dx, dy) to the nearest pixel by phase correlation of standardised (REF, TGT) windows of one size
    (invalid = mean), their normalised cross-power spectra summed: the windows that see the shift add up
    at one peak, a window on cloud or change spreads its noise. (A vote per window let the most textured
    one win a tie, on a small two-date image with the wrong integer shift.)

    A Hann taper stops the window edges (a discontinuity for the FFT) from voting for zero shift. Masked
    NCC (Padfield) was tried first: on real pairs its small-overlap lags produce spurious peaks."""
    rows, cols = windows[0][0].shape
    taper = np.outer(np.hanning(rows), np.hanning(cols)).astype(np.float32)
    summed = np.zeros((rows, cols), complex)
    for ref, tgt in windows:
        cross = np.fft.fft2(ref * taper) * np.conj(np.fft.fft2(tgt * taper))
        summed += cross / np.maximum(np.abs(cross), 1e-12)
    peak = np.unravel_index(np.argmax(np.fft.ifft2(summed).real), (rows, cols))
    # the peak sits at minus the shift (modulo the window)
    dy, dx = (-(p if p <= n // 2 else p - n) for p, n in zip(peak, (rows, cols)))
    return int(dx), int(dy)


def region(
    image: np.ndarray, valid: np.ndarray, r0: int, c0: int, h: int, w: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An ``h`` x ``w`` cut at (r0, c0): (values, valid, needs filling). Beyond the image edge values are
    the edge's own (replicated: plausible for the filters, no filling needed) but not valid."""
    rows, cols = image.shape
    if r0 >= 0 and c0 >= 0 and r0 + h <= rows and c0 + w <= cols:  # inside (the common case): a slice
        cut = np.s_[r0:r0 + h, c0:c0 + w]
        values = image[cut].astype(np.float32)
        usable = valid[cut] & np.isfinite(values)
        return values, usable, ~usable
    r = np.clip(np.arange(r0, r0 + h), 0, rows - 1)
    c = np.clip(np.arange(c0, c0 + w), 0, cols - 1)
    inside = ((np.arange(r0, r0 + h) == r)[:, None]) & ((np.arange(c0, c0 + w) == c)[None, :])
    out = image[np.ix_(r, c)].astype(np.float32)
    ok = valid[np.ix_(r, c)] & np.isfinite(out)
    return out, ok & inside, ~ok


def far_start(ref: np.ndarray, tgt: np.ndarray, ref_valid: np.ndarray, tgt_valid: np.ndarray, origins: np.ndarray,
               size: int) -> tuple[int, int] | None:
    """The integer shift when it is beyond the windows' reach (phase correlation of a window sees only
    ±size/2): phase correlation of the whole overlap at 1/``FAR_FACTOR``, refined to the pixel on the windows
    cut where it puts them in TGT. None when the overlap is too small to look further."""
    f = FAR_FACTOR
    rows, cols = ref.shape[0] // f * f, ref.shape[1] // f * f
    a, b = standardised(ref, ref_valid), standardised(tgt, tgt_valid)
    if a is None or b is None or min(rows, cols) < 2 * size:
        return None
    coarse = [x[:rows, :cols].reshape(rows // f, f, cols // f, f).mean(axis=(1, 3)) for x in (a, b)]
    cx, cy = integer_shift([(coarse[0], coarse[1])])
    sx, sy = cx * f, cy * f
    windows = []
    for r, c in origins:
        cut, ok, _ = region(tgt, tgt_valid, r + sy, c + sx, size, size)
        ref0, tgt0 = standardised(ref[r:r + size, c:c + size], ref_valid[r:r + size, c:c + size]), standardised(cut, ok)
        if ref0 is not None and tgt0 is not None:
            windows.append((ref0, tgt0))
    if not windows:
        return None
    rx, ry = integer_shift(windows)
    return sx + rx, sy + ry
