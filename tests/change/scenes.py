"""Synthetic reflectance pairs with known truth for the change methods.

A scene is a smooth mix of vegetation and urban surface. Between the dates the season turns (vegetation
senesces: NIR falls, red and SWIR rise — everywhere there is vegetation), haze thickens from west to east,
and new bright roofs appear at known rectangles. Only the roofs are change a user wants to see.

With ``regional=True`` the season and the haze vary across the scene the way they do over tens of
kilometres (senescence strong in the north-west, absent in the south-east; a haze bank in one corner), so
no single gain and offset per band maps one date onto the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

BANDS = ("blue", "green", "red", "nir", "swir16", "swir22")
VEGETATION = np.array([0.03, 0.06, 0.04, 0.35, 0.20, 0.10])
SENESCENT = np.array([0.04, 0.07, 0.06, 0.24, 0.26, 0.15])
URBAN = np.array([0.09, 0.10, 0.11, 0.17, 0.21, 0.19])
ROOF = np.array([0.25, 0.27, 0.30, 0.33, 0.38, 0.33])
WATER = np.array([0.06, 0.07, 0.04, 0.02, 0.01, 0.01])
HAZE = np.array([0.03, 0.025, 0.02, 0.01, 0.0, 0.0])  # path radiance added at the east edge


@dataclass(frozen=True)
class Pair:
    before: np.ndarray
    after: np.ndarray
    truth: np.ndarray  # planted change
    vegetation: np.ndarray  # vegetation fraction of each pixel


def vegetation_fraction(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    field = ndi.gaussian_filter(rng.normal(size=shape), 6)
    field = (field - field.mean()) / field.std()
    return np.clip(0.5 + 0.35 * field, 0.0, 1.0)


def seasonal_pair(
    shape: tuple[int, int] = (256, 256),
    roofs: tuple[tuple[int, int, int, int], ...] = ((40, 40, 20, 30), (150, 60, 12, 12), (90, 170, 30, 25), (200, 200, 6, 6)),
    noise: float = 0.004,
    season: bool = True,
    haze: bool = True,
    regional: bool = False,
    seed: int = 3,
) -> Pair:
    """(before, after) stacks of ``BANDS``; roofs are (row, col, height, width) planted in ``after``."""
    rng = np.random.default_rng(seed)
    veg = vegetation_fraction(shape, rng)
    texture = 1.0 + 0.05 * ndi.gaussian_filter(rng.normal(size=shape), 1.0)
    before = (veg[None] * VEGETATION[:, None, None] + (1 - veg[None]) * URBAN[:, None, None]) * texture
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]]
    strength = (1.0 - (rows + cols) / (shape[0] + shape[1] - 2)) if regional else np.ones(shape)
    after_veg = VEGETATION[:, None, None] + (SENESCENT - VEGETATION)[:, None, None] * (strength[None] if season else 0.0)
    after = (veg[None] * after_veg + (1 - veg[None]) * URBAN[:, None, None]) * texture
    truth = np.zeros(shape, bool)
    for row, col, height, width in roofs:
        truth[row:row + height, col:col + width] = True
    after = np.where(truth[None], ROOF[:, None, None] * texture, after)
    if haze:
        if regional:  # a haze bank centred on the north-east corner
            ramp = np.exp(-((rows / shape[0]) ** 2 + ((cols - shape[1]) / shape[1]) ** 2) / 0.3)[None]
            ramp = 2.0 * ramp
        else:
            ramp = np.linspace(0.0, 1.0, shape[1])[None, None, :]
        after = 1.04 * after + HAZE[:, None, None] * ramp
    before = before + rng.normal(scale=noise, size=before.shape)
    after = after + rng.normal(scale=noise, size=after.shape)
    return Pair(before.astype(np.float32), after.astype(np.float32), truth, veg)


def gaussian_no_change(shape: tuple[int, int] = (300, 300), bands: int = 6, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """A pair with no change at all: correlated Gaussian 'surface' seen twice with a gain, an offset and
    independent Gaussian noise — the null hypothesis of the chi-square statistics, exactly."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(bands, bands)) * 0.02 + np.eye(bands) * 0.03
    surface = np.einsum("ij,jrc->irc", mixing, rng.normal(size=(bands, *shape))) + 0.15
    gain = np.linspace(0.9, 1.2, bands)[:, None, None]
    before = surface + rng.normal(scale=0.01, size=surface.shape)
    after = gain * surface + 0.02 + rng.normal(scale=0.01, size=surface.shape)
    return before, after
