"""Known displacement fields applied exactly (band-limited images, quintic-spline sampling) for tests."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from tests.synthetic import textured_background


def texture(shape: tuple[int, int], seed: int = 5) -> np.ndarray:
    return textured_background(shape, np.random.default_rng(seed))[3]


def displace(image: np.ndarray, field) -> tuple[np.ndarray, callable]:
    """TGT in which the feature at REF (col, row) sits at (col, row) + ``field``(row, col).

    ``field(rows, cols) -> (dx, dy)`` is evaluated at the TGT position (so TGT(q) = REF(q - f(q))); the
    returned ``truth(rows, cols)`` gives the displacement at REF positions (the fixed point p + f(q) = q).
    """
    rows, cols = np.mgrid[: image.shape[0], : image.shape[1]].astype(float)
    fx, fy = field(rows, cols)
    coeffs = ndi.spline_filter(image, order=5)
    moved = ndi.map_coordinates(coeffs, [rows - fy, cols - fx], order=5, prefilter=False, mode="mirror")

    def truth(r: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dx, dy = np.zeros_like(c, dtype=float), np.zeros_like(r, dtype=float)
        for _ in range(20):
            dx, dy = field(r + dy, c + dx)
        return dx, dy

    return moved, truth
