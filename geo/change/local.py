"""Local relative normalisation: each date predicted from the other by a linear fit over its neighbourhood.

A global gain and offset per band cannot follow what varies across a scene between two dates a season
apart: haze and adjacency, sun elevation (shadow length, dark/bright contrast), the phenology of the local
land-cover mix, a river turning turbid. Over a neighbourhood of a few hundred metres those effects are
close to linear in reflectance, so a robust local regression absorbs them and leaves, as residual, what
the neighbourhood cannot explain: an object that appeared, vanished or changed material.

Moments are accumulated per block and box-filtered over the window, then interpolated back to pixels, so
the cost is a few passes over the image whatever the window.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from geo.change.sampling import median, sampled, sampled_in_order
from geo.grid import bilinear

BLOCK_PX = 8
PRECISION = 1e-4  # one Sentinel-2 digital number in reflectance: no residual is known better than this


def _block_sums(values: np.ndarray, block: int) -> np.ndarray:
    rows, cols = values.shape
    h, w = -(-rows // block), -(-cols // block)
    if (rows, cols) != (h * block, w * block):  # zeros complete the last blocks
        padded = np.zeros((h * block, w * block), dtype=np.float64)
        padded[:rows, :cols] = values
        values = padded
    # along rows first, then down the columns of the (much smaller) result
    if block == 8:  # numpy adds 8 neighbours pairwise; the same sums from strided columns, ~2x faster
        c = [values[:, k::8] for k in range(8)]
        across = ((c[0] + c[1]) + (c[2] + c[3])) + ((c[4] + c[5]) + (c[6] + c[7]))
    else:
        across = values.reshape(h * block, w, block).sum(axis=2)
    sums: np.ndarray = across.reshape(h, block, w).sum(axis=1)
    return sums


Pixels = tuple[slice, slice]  # a rectangle of an image's pixels (with start and stop)


def _to_pixels(blocks: np.ndarray, block: int, shape: tuple[int, int], pixels: Pixels | None = None) -> np.ndarray:
    """Bilinear interpolation of block-centre values back onto the pixel grid (only its ``pixels``: the
    same values as there in the whole)."""
    rows, cols = pixels or (slice(0, shape[0]), slice(0, shape[1]))
    return bilinear(blocks, (np.arange(rows.start, rows.stop) + 0.5) / block - 0.5,
                    (np.arange(cols.start, cols.stop) + 0.5) / block - 0.5)


Line = tuple[float, float]  # (gain, offset) of y ≈ gain·x + offset


def line_sums(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(Σw, Σwx, Σwy, Σwx², Σwxy): what a weighted line needs, summable over blocks."""
    return np.array([w.sum(), (w * x).sum(), (w * y).sum(), (w * x * x).sum(), (w * x * y).sum()])


def line_from_sums(sums: np.ndarray) -> Line | None:
    """The weighted least-squares line of ``line_sums``; None without weight."""
    total = sums[0]
    if total <= 0:
        return None
    gx, gy = sums[1] / total, sums[2] / total
    g_var = sums[3] / total - gx * gx
    g_gain = (sums[4] / total - gx * gy) / max(g_var, 1e-12)
    return float(g_gain), float(gy - g_gain * gx)


def moment_sums(x: np.ndarray, y: np.ndarray, weights: np.ndarray, block_px: int = BLOCK_PX) -> list[np.ndarray]:
    """The ``block_px`` block sums of (w, wx, wy, wx², wxy): what ``local_linear_fit`` filters over its window.
    Each block's sums are its own pixels' (the same numbers in any window whose blocks line up)."""
    w = weights.astype(np.float64)
    kept = weights if weights.dtype == bool else w > 0
    x = np.where(kept, x, 0.0).astype(np.float64)
    y = np.where(kept, y, 0.0).astype(np.float64)
    # weights of 0 or 1 multiply nothing: w·x is x exactly (x is 0 where w is), and so on
    moments = (w, x, y, x * x, x * y) if weights.dtype == bool else (w, w * x, w * y, w * x * x, w * x * y)
    return [_block_sums(v, block_px) for v in moments]


def both_moment_sums(x: np.ndarray, y: np.ndarray, valid: np.ndarray,
                     block_px: int = BLOCK_PX) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``moment_sums`` of y from x and of x from y, weighted by the boolean ``valid``: the same numbers,
    the four block sums they have in common (w, x, y, xy) worked out once."""
    w = valid.astype(np.float64)
    xs = np.where(valid, x, 0.0).astype(np.float64)
    ys = np.where(valid, y, 0.0).astype(np.float64)
    sw, sx, sy, sxx, syy, sxy = (_block_sums(v, block_px) for v in (w, xs, ys, xs * xs, ys * ys, xs * ys))
    return [sw, sx, sy, sxx, sxy], [sw, sy, sx, syy, sxy]  # y·x is x·y exactly


def local_linear_fit(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray, window_px: int, block_px: int = BLOCK_PX,
    line: Line | None = None, block_moments: list[np.ndarray] | None = None, pixels: Pixels | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel (gain, offset) of the weighted least-squares line y ≈ gain·x + offset over a
    ``window_px``-square neighbourhood (to the nearest block). Zero-weight pixels take no part; where a
    neighbourhood has almost no weight the global ``line`` is used (by default the fit over all of x, y:
    a block of a larger image is given the image's). Boolean ``weights``: 1 where True, 0 elsewhere.
    ``block_moments``: ``moment_sums(x, y, weights, block_px)`` when they are known already. ``pixels``: the
    gain and offset of those pixels only (the fit still over the whole image)."""
    size = max(1, int(round(window_px / block_px)))
    blocks = moment_sums(x, y, weights, block_px) if block_moments is None else block_moments
    sums = [ndi.uniform_filter(v, size=size, mode="constant") for v in blocks]
    sw, sx, sy, sxx, sxy = sums
    if line is None:
        w = weights.astype(np.float64)
        line = line_from_sums(line_sums(np.where(w > 0, x, 0.0).astype(np.float64),
                                        np.where(w > 0, y, 0.0).astype(np.float64), w))
    shape = x.shape if pixels is None else (pixels[0].stop - pixels[0].start, pixels[1].stop - pixels[1].start)
    if line is None:
        return np.ones(shape), np.zeros(shape)
    g_gain, g_offset = line
    enough = sw > 0.1 * block_px**2  # a tenth of the neighbourhood valid (sums are per-block means)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = sx / sw, sy / sw
        var = sxx / sw - mx * mx
        cov = sxy / sw - mx * my
        # A neighbourhood flat to the data's precision has no slope to fit: the ridge makes it an offset.
        gain = cov / (var + PRECISION**2)
        gain = np.where(enough, gain, g_gain)
        # where a neighbourhood is all but empty its means can be ±inf (round-off weight): the global line
        offset = np.where(enough, my - gain * mx, g_offset)
    return _to_pixels(gain, block_px, x.shape, pixels), _to_pixels(offset, block_px, x.shape, pixels)


def robust_scale(values: np.ndarray, floor: float = 0.0) -> tuple[float, float]:
    """(median, max(1.4826 · MAD, ``floor``)) of 1-D ``values``, from at most a million of them."""
    sample = sampled_in_order(values)  # all of them up to a million: a tile's scale is pinned as well by a sample
    centre = median(sample)
    scale = max(1.4826 * float(median(np.abs(sample - centre))), floor)
    if not np.isfinite(scale) or scale <= 0:
        scale = float(np.std(sampled(values))) or 1.0  # (a sum: in the sample's own order)
    return float(centre), scale


def robust_z(values: np.ndarray, valid: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """(values − median) / max(1.4826 · MAD, ``floor``) over ``valid``; NaN elsewhere. The floor is the
    data's own precision: two identical images must not turn rounding errors into change."""
    return scaled(values, valid, robust_scale(values[valid], floor))


def scaled(values: np.ndarray, valid: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    """(values − median) / scale over ``valid`` as float32, NaN elsewhere; ``centre`` = (median, scale)."""
    median, scale = centre
    shifted: np.ndarray = np.subtract(values, median)  # every pixel, in place: cheaper than selecting the valid
    np.divide(shifted, scale, out=shifted)
    out = shifted.astype(np.float32, copy=False)
    out[~valid] = np.nan
    return out


def masked_gaussian(values: np.ndarray, valid: np.ndarray, sigma: float, den: np.ndarray | None = None) -> np.ndarray:
    """Gaussian-weighted mean over valid pixels only (normalised convolution); NaN where invalid. ``den``:
    ``valid_weight(valid, sigma)`` when it is known already (it is the same for every image on ``valid``)."""
    if sigma <= 0:
        return np.where(valid, values, np.nan)
    # filtered in float64 (scipy reads each line as float64: the same numbers as a float64 copy, not made)
    out: np.ndarray = ndi.gaussian_filter(np.where(valid, values, 0.0), sigma, output=np.float64)
    den = valid_weight(valid, sigma) if den is None else den
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(out, den, out=out)
    out[~valid] = np.nan
    return out


def valid_weight(valid: np.ndarray, sigma: float) -> np.ndarray:
    """The Gaussian weight of the valid pixels around each pixel: ``masked_gaussian``'s denominator."""
    weight: np.ndarray = ndi.gaussian_filter(valid.astype(np.float64), sigma)
    return weight
