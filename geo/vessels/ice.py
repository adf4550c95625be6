"""Sea ice in Sentinel-1: where the water is ice, not sea the CFAR can count ships on.

Floes, pack ice and brash are bright to radar as hulls are (a few dB to 10 dB over calm water), so each floe
passes the CFAR as a "ship" and a field of them is counted as dozens. What tells an ice field from ships is its
texture over a large area: the water there is a patchwork of bright and dark, floe after floe, over hundreds of
metres, while ships are few bright objects on a dark homogeneous sea, however crowded the port.

Measured on 40 m cells (4 x 4 pixel means of the co-polarisation, ~70 looks: speckle gone, +-0.5 dB on calm
water), per cell the interquartile range of the cells in a 7 x 7 window (280 m) over the sea. Ships, even a
crowded anchorage or hulls moored abreast, fill under a quarter of such a window and leave its interquartile
range at the sea's (calm to spiky sea: ~0.7-1.5 dB); a field of floes at 10-80 % cover spreads it to 2-7 dB.
Swell and a spiky sea seen in coarse pixels (EW) spread it too, but about the water's level: floes stand well
above it (+5-10 dB in C band). Cells whose window spreads over ``iqr_db`` with its upper quartile ``bright_db``
over the open water's level (the darker Otsu class of the cells) are ice-like; an ice field is what of them
survives an opening by a disc ``min_width_m`` wide (a group of ships or a wind front's edge is narrower) and
covers ``min_area_m2``, with the rest of the ice-like patch it lies in (along quays and piers, where no such disc fits), widened by half a window (the floes
at its edge). Its water is not seen: its detections are not counted and it leaves the observed sea.

Not told apart: level ice or close pack (~8/10 and more) as smooth and dark as calm water, or as homogeneous as a
wind-roughened sea (no patchwork), floes scattered thinly on open water (under ~3/10 cover: each one alone is a
compact bright object, as a small ship is); and a swell of +-4 dB (rare in a harbour) passes for ice.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage as ndi
from skimage.filters import threshold_otsu

from geo.grid import Grid

CHUNK_ROWS = 64  # cell rows per sliding-window block (bounds the memory of the window view)


@dataclass(frozen=True)
class IceParams:
    enabled: bool = True
    cell_px: int = 4  # a cell is cell_px x cell_px pixels (40 m at 10 m): speckle averaged out
    window_cells: int = 7  # the texture window, in cells (280 m)
    iqr_db: float = 2.5  # interquartile range of the window's cells (dB) above which the water is ice-like
    bright_db: float = 4.0  # its upper quartile this far over the open water: floes, not swell or a spiky sea
    min_width_m: float = 360.0  # an ice field is at least this wide (opening by a disc this wide)
    min_area_m2: float = 250_000.0  # and covers at least this much (25 ha)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _cells(intensity: np.ndarray, sea: np.ndarray, size: int) -> np.ndarray:
    """Mean intensity (dB) of the sea pixels of each ``size`` x ``size`` cell; NaN where under half are sea."""
    h, w = intensity.shape
    rows, cols = -(-h // size), -(-w // size)
    use = sea & np.isfinite(intensity) & (intensity > 0)
    total = np.zeros((rows * size, cols * size))
    count = np.zeros_like(total)
    total[:h, :w] = np.where(use, intensity, 0.0)
    count[:h, :w] = use
    total = total.reshape(rows, size, cols, size).sum(axis=(1, 3))
    count = count.reshape(rows, size, cols, size).sum(axis=(1, 3))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count >= size * size / 2, 10.0 * np.log10(total / np.maximum(count, 1)), np.nan)


def _window_quartiles(db: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper quartiles of the finite cells in the k x k window around each cell (NaN where under a
    quarter are)."""
    half = k // 2
    padded = np.pad(db, half, constant_values=np.nan)
    low_q, high_q = np.full(db.shape, np.nan), np.full(db.shape, np.nan)
    for start in range(0, db.shape[0], CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, db.shape[0])
        windows = np.sort(sliding_window_view(padded[start:stop + 2 * half], (k, k))
                          .reshape(stop - start, db.shape[1], k * k), axis=2)  # NaN sorted last
        n = np.isfinite(windows).sum(axis=2)

        def quantile(q: float) -> np.ndarray:  # linear interpolation between order statistics, as np.quantile
            at = q * np.maximum(n - 1, 0)
            low = np.floor(at).astype(np.intp)
            high = np.minimum(low + 1, np.maximum(n - 1, 0))
            a = np.take_along_axis(windows, low[..., None], axis=2)[..., 0]
            b = np.take_along_axis(windows, high[..., None], axis=2)[..., 0]
            return np.asarray(a + (b - a) * (at - low))

        with np.errstate(invalid="ignore"):
            enough = n >= (k * k + 3) // 4
            low_q[start:stop] = np.where(enough, quantile(0.25), np.nan)
            high_q[start:stop] = np.where(enough, quantile(0.75), np.nan)
    return low_q, high_q


def _water_level(db: np.ndarray) -> float:
    """The open water's level (dB): the median of the darker Otsu class of the cells (water is the darkest)."""
    values = db[np.isfinite(db)]
    if values.size == 0 or np.ptp(values) <= 0:
        return float(values[0]) if values.size else 0.0
    return float(np.median(values[values <= threshold_otsu(values)]))


def _disc(radius: int) -> np.ndarray:
    r = np.arange(-radius, radius + 1)
    disc: np.ndarray = r[:, None] ** 2 + r[None, :] ** 2 <= radius**2
    return disc


def sea_ice(copol: np.ndarray, sea: np.ndarray, grid: Grid, p: IceParams = IceParams()) -> np.ndarray:
    """The ice fields (True) among the ``sea`` pixels of a co-polarised intensity image ``copol`` on ``grid``."""
    none = np.zeros(grid.shape, bool)
    if not p.enabled or not sea.any():
        return none
    db = _cells(np.asarray(copol, dtype=np.float64), sea, p.cell_px)
    low_q, high_q = _window_quartiles(db, p.window_cells)
    with np.errstate(invalid="ignore"):
        textured = (np.nan_to_num(high_q - low_q, nan=0.0) >= p.iqr_db) & (
            np.nan_to_num(high_q, nan=-np.inf) >= _water_level(db) + p.bright_db)
    cell_m = math.sqrt(grid.pixel_area) * p.cell_px
    radius = max(1, int(round(p.min_width_m / cell_m / 2)))
    fields = ndi.binary_opening(textured, structure=_disc(radius))
    labels, count = ndi.label(fields)
    if count == 0:
        return none
    areas = np.bincount(labels.ravel(), minlength=count + 1) * cell_m**2
    big = areas >= p.min_area_m2
    big[0] = False
    # the whole textured patch each field lies in (its floes along a quay or a pier, where no disc fits), and
    # half a window beyond it (the floes at its edge)
    whole = ndi.binary_propagation(big[labels], mask=textured, structure=np.ones((3, 3), bool))
    fields = ndi.binary_dilation(whole, structure=_disc(p.window_cells // 2))
    pixels = np.repeat(np.repeat(fields, p.cell_px, axis=0), p.cell_px, axis=1)[: grid.shape[0], : grid.shape[1]]
    ice: np.ndarray = pixels & sea
    return ice


def sea_ice_on_pair(before: np.ndarray, after: np.ndarray, valid_before: np.ndarray, valid_after: np.ndarray,
                    grid: Grid, water_db: float, p: IceParams = IceParams()) -> np.ndarray:
    """The ice fields of either date of a Sentinel-1 pair (co-polarised intensities on ``grid``), over its water:
    the pixels whose 5x5 mean is water-dark (below ``water_db``) on one date or both, ice on the other showing as
    floes where the water was. For the change job: floes arriving are no new objects, and ice is no water seen."""
    def dark(image: np.ndarray, valid: np.ndarray) -> np.ndarray:
        filled = np.where(valid, np.nan_to_num(image, nan=0.0), 0.0)
        mean = ndi.uniform_filter(filled, 5) / np.maximum(ndi.uniform_filter(valid.astype(np.float64), 5), 1e-6)
        with np.errstate(divide="ignore", invalid="ignore"):
            low: np.ndarray = valid & (10.0 * np.log10(mean) < water_db)
        return low

    water = ndi.binary_opening(dark(before, valid_before) | dark(after, valid_after), structure=np.ones((3, 3), bool))
    ice: np.ndarray = sea_ice(before, water & valid_before, grid, p) | sea_ice(after, water & valid_after, grid, p)
    return ice
