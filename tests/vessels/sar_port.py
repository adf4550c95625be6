"""A synthetic single-date Sentinel-1 port with known truth, for the single-scene SAR land model.

Realistic in the ways that decide whether a land model eats ships: gamma speckle at the ENL of an IW GRD
product (4.4) on sea clutter with a wind trend, an irregular coastline of bright textured land with dark
patches (tarmac, fields), a concrete pier reaching 450 m into the sea, ships of 30-400 m alone in open
water and ships moored side by side along both sides of the pier, and the sinc-squared azimuth/range
side lobes of every bright hull (-13 dB first lobe, decaying as 1/k^2) smeared along rows and columns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from geo.vessels.model import VesselDetection
from tests.vessels import sea

SHAPE = (600, 800)
ENL = 4.4
SEA_VV = 0.01
COAST_COL = 200
PIER_ROW, PIER_LENGTH_PX, PIER_WIDTH_PX = 300, 55, 3
SIDELOBE_PX = 40


@dataclass(frozen=True)
class Port:
    vv: np.ndarray
    vh: np.ndarray
    land: np.ndarray  # the true land and pier
    alone: list[sea.Ship]  # ships in open water
    moored: list[sea.Ship]  # ships side by side at the pier

    @property
    def ships(self) -> list[sea.Ship]:
        return self.alone + self.moored

    def bands(self) -> dict[str, np.ndarray]:
        return {"vv": self.vv, "vh": self.vh}


def coast(shape: tuple[int, int] = SHAPE) -> tuple[np.ndarray, np.ndarray]:
    """(land, pier): land west of a wavy coastline, a pier 3 px wide and 45 px long at ``PIER_ROW``."""
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    edge = COAST_COL + 12 * np.sin(rows / 37.0) + 3 * np.sin(rows / 23.0 + 1.0)
    land = cols < edge
    pier = np.zeros(shape, bool)
    root = int(COAST_COL + 12 * math.sin(PIER_ROW / 37.0) + 3 * math.sin(PIER_ROW / 23.0 + 1.0)) - 5
    pier[PIER_ROW:PIER_ROW + PIER_WIDTH_PX, root:COAST_COL + PIER_LENGTH_PX] = True
    return land & ~pier, pier


def ships_alone() -> list[sea.Ship]:
    """30, 100, 200, 300 and 400 m ships in open water (beam ~ length / 6.5), at assorted headings."""
    return [sea.Ship(80, 450, 30.0, 8.0, 40.0), sea.Ship(150, 620, 100.0, 16.0, 120.0),
            sea.Ship(470, 450, 200.0, 32.0, 75.0), sea.Ship(300, 600, 300.0, 45.0, 10.0),
            sea.Ship(480, 680, 400.0, 60.0, 150.0)]


def ships_moored() -> list[sea.Ship]:
    """Three ships abreast on the pier's north side, two on its south side, parallel to it (heading 90)."""
    north, south = PIER_ROW, PIER_ROW + PIER_WIDTH_PX
    col = COAST_COL + 38
    return [sea.Ship(north - 1.25, col, 150.0, 25.0, 90.0), sea.Ship(north - 3.75, col + 1, 170.0, 25.0, 90.0),
            sea.Ship(north - 6.25, col - 1, 140.0, 25.0, 90.0),
            sea.Ship(south + 1.4, col, 160.0, 28.0, 90.0), sea.Ship(south + 4.2, col + 2, 130.0, 28.0, 90.0)]


def _side_lobes(image: np.ndarray) -> np.ndarray:
    """The image's azimuth (column) and range (row) side lobes: sinc^2, -13 dB at the first lobe."""
    k = np.arange(-SIDELOBE_PX, SIDELOBE_PX + 1)
    lobe = np.where(k == 0, 0.0, 0.045 / np.maximum(k.astype(float) ** 2, 1.0) * (np.abs(k) > 0))
    return np.asarray(ndi.convolve1d(image, lobe, axis=0) + ndi.convolve1d(image, lobe, axis=1))


def port_scene(seed: int = 0, contrast_db: float = 15.0) -> Port:
    """One VV/VH date of the port: linear intensity, sea at ``SEA_VV`` (VH a fifth), ships ``contrast_db``
    above the sea in VV (half that in VH), land x20 with texture, the pier x60."""
    rng = np.random.default_rng(seed)
    land, pier = coast()
    alone, moored = ships_alone(), ships_moored()
    trend = 0.7 + 0.6 * np.linspace(0, 1, SHAPE[1])[None, :] * np.ones(SHAPE)
    dark = np.zeros(SHAPE, bool)
    for r, c in ((60, 90), (200, 40), (420, 120), (540, 60)):
        dark[r:r + 12, c:c + 14] = True  # ~1.7 ha patches of tarmac / smooth fields at sea level
    out = {}
    for name, mean, gain in (("vv", SEA_VV, 1.0), ("vh", SEA_VV / 5, 0.5)):
        scatter = mean * trend  # mean intensity before speckle
        contrast = 10 ** (gain * contrast_db / 10)
        hulls = np.zeros(SHAPE)
        for ship in alone + moored:
            hulls = np.maximum(hulls, ship.coverage(SHAPE))
        scatter = scatter * (1 - hulls) + mean * contrast * hulls
        textured = mean * 20 * rng.gamma(2.0, 0.5, size=SHAPE)
        scatter = np.where(land & ~dark, textured, scatter)
        scatter = np.where(land & dark, mean, scatter)
        scatter = np.where(pier, mean * 60, scatter)
        bright = np.where(hulls > 0, scatter, 0.0) + np.where(pier, scatter, 0.0)
        scatter = scatter + _side_lobes(bright)
        out[name] = (scatter * rng.gamma(ENL, 1.0 / ENL, size=SHAPE)).astype(np.float32)
    return Port(out["vv"], out["vh"], land | pier, alone, moored)


def match(detections: Sequence[VesselDetection], ships: Sequence[sea.Ship]) -> tuple[list[bool], int]:
    """(per ship: found, false alarms). Greedy one-to-one: per ship, the nearest unused detection within half
    its length + 15 m."""
    grid = sea.scene_grid(SHAPE)
    used: set[int] = set()
    hits = []
    for ship in ships:
        x, y = grid.transform @ (ship.col, ship.row)
        options = [(math.hypot(d.x - x, d.y - y), i) for i, d in enumerate(detections) if i not in used]
        best = min(options, default=(math.inf, -1))
        hits.append(best[0] <= ship.length_m / 2 + 15)
        if hits[-1]:
            used.add(best[1])
    return hits, len(detections) - len(used)
