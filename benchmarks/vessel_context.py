"""How a Sentinel-2 ship candidate touches the land around it: measures of its contact with the quay and of
its spectrum against the land beside it, for the candidate classifier measured (and not adopted) in
``benchmarks/vessel_candidate_classifier.py``.

A hull at berth lies along a quay: land beside one long side, water beside the other and, mostly, beyond
bow and stern. A breakwater arm or a jetty has water on both long sides and its root on land at one end;
a quay piece has land all round; a pontoon in a marina faces narrow water. Each measure is taken in the
candidate's own frame (its long axis from the detection's heading), on the land model the detector ran
with: strips 1-3.5 px beside each long side (the middle 80 % of its length) and beyond each end, the land
in a 2-px ring per pixel of length, the water reach across each side (up to 30 px), and the candidate's
spectrum against the land and the water within 8 px.
"""

from __future__ import annotations

if __name__ == "__main__":  # imported by the benchmarks, nothing of its own to run (it stopped in an import error)
    raise SystemExit("error: benchmarks/vessel_context.py is a part of other benchmarks, not one to run: run python benchmarks/vessel_candidate_classifier.py")

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import ndimage as ndi

from geo.grid import Grid
from geo.vessels.candidates import footprints
from geo.vessels.model import VesselDetection

CONTEXT = (
    "side_land_max", "side_land_min", "end_land_max", "end_land_min", "land_contact", "nir_vs_land",
    "swir_vs_land", "angle_vs_land", "axis_variation", "water_share_20", "swir_vs_water", "water_reach_max",
    "water_reach_min", "wet_share",
)
STRIP_PX = 3.5  # the side and end strips reach this far beyond the candidate
RING_PX = 8  # land and water references
REACH_PX = 30
SHARE_PX = 20
BANDS = ("blue", "green", "red", "nir", "swir16")
NO_LAND = (0.5, 0.5, 0.5)  # nir_vs_land, swir_vs_land, angle_vs_land with no land within 20 px
EPS = 1e-4


def _share(land: np.ndarray, where: np.ndarray) -> float:
    return float(land[where].mean()) if where.any() else 0.0


def _against_land(candidate: np.ndarray, spectra: np.ndarray, land_ref: np.ndarray) -> tuple[float, float, float]:
    """(NIR and SWIR normalised differences, spectral angle) of the candidate's mean spectrum against the
    median of the land pixels ``land_ref``."""
    if land_ref.sum() < 3:
        return NO_LAND
    land = np.median(spectra[:, land_ref], axis=1)
    cosine = float(candidate @ land / max(float(np.linalg.norm(candidate) * np.linalg.norm(land)), EPS))
    return ((candidate[3] - land[3]) / max(candidate[3] + land[3], EPS),
            (candidate[4] - land[4]) / max(candidate[4] + land[4], EPS), math.acos(min(max(cosine, -1.0), 1.0)))


def _reach(land: np.ndarray, row: float, col: float, across: tuple[float, float], start: float) -> list[int]:
    """Water pixels in a row from the candidate's side outwards, across its axis, each way."""
    rows, cols = land.shape
    out = []
    for sign in (1.0, -1.0):
        n = 0
        for step in range(1, REACH_PX + 1):
            r, c = int(row + sign * (start + step) * across[0]), int(col + sign * (start + step) * across[1])
            if not (0 <= r < rows and 0 <= c < cols) or land[r, c]:
                break
            n += 1
        out.append(n)
    return out


def context_features(detections: Sequence[VesselDetection], bands: Mapping[str, np.ndarray], land: np.ndarray,
                     grid: Grid) -> np.ndarray:
    """One row of ``CONTEXT`` per detection, in the frame of its own axis (``bands`` and ``land`` as for
    ``geo.vessels.candidates.candidate_features``)."""
    out = np.zeros((len(detections), len(CONTEXT)))
    if not detections:
        return out
    labels = footprints(detections, grid)
    spectra_all = np.stack([np.nan_to_num(np.asarray(bands[name], dtype=np.float64)) for name in BANDS])
    pixel = math.sqrt(grid.pixel_area)
    for k, d in enumerate(detections, start=1):
        col, row = ~grid.transform @ (d.x, d.y)
        length, half_width = d.length_m / pixel, max(d.width_m / pixel / 2, 0.5)
        reach = int(math.ceil(length / 2)) + SHARE_PX + 5
        window = (slice(max(int(row) - reach, 0), min(int(row) + reach + 1, land.shape[0])),
                  slice(max(int(col) - reach, 0), min(int(col) + reach + 1, land.shape[1])))
        rr, cc = np.mgrid[window]
        dy, dx = rr + 0.5 - row, cc + 0.5 - col
        heading = math.radians(d.heading_deg)
        axis = (math.sin(heading), -math.cos(heading))  # (col, row) of grid north turned clockwise
        t = dx * axis[0] + dy * axis[1]  # along the axis
        s = -dx * axis[1] + dy * axis[0]  # across it
        inside = labels[window] == k
        if not inside.any():
            inside = (np.abs(t) <= length / 2) & (np.abs(s) <= half_width)
        free = labels[window] == 0
        lw = land[window]
        middle, across_body = np.abs(t) <= 0.4 * length, np.abs(s) <= half_width
        beside = free & middle & (np.abs(s) > half_width + 0.5) & (np.abs(s) <= half_width + STRIP_PX)
        beyond = free & across_body & (np.abs(t) > length / 2 + 0.5) & (np.abs(t) <= length / 2 + STRIP_PX)
        sides = sorted((_share(lw, beside & (s > 0)), _share(lw, beside & (s < 0))))
        ends = sorted((_share(lw, beyond & (t > 0)), _share(lw, beyond & (t < 0))))
        ring = ndi.binary_dilation(inside, iterations=2) & free
        spectra = spectra_all[:, window[0], window[1]]
        candidate = spectra[:, inside].mean(axis=1)
        near = ndi.binary_dilation(inside, iterations=RING_PX) & free
        land_ref = near & lw if (near & lw).sum() >= 3 else free & lw & (np.hypot(dx, dy) <= SHARE_PX)
        water_ref = near & ~lw
        water = np.median(spectra[:, water_ref], axis=1) if water_ref.any() else np.zeros(len(BANDS))
        along = np.round(t[inside]).astype(int)
        nir = spectra[3][inside]
        profile = np.array([nir[along == v].mean() for v in np.unique(along)])
        green, swir = spectra[1][inside], spectra[4][inside]
        reaches = _reach(land, row, col, (axis[0], -axis[1]), half_width + 0.5)
        out[k - 1] = [
            sides[1], sides[0], ends[1], ends[0], float(lw[ring].sum()) / max(length, 1.0),
            *_against_land(candidate, spectra, land_ref),
            float(profile.std() / max(profile.mean(), EPS)) if profile.size > 1 else 0.0,
            1.0 - _share(lw, free & (np.hypot(dx, dy) <= length / 2 + SHARE_PX)),
            candidate[4] - water[4], math.log1p(max(reaches)), math.log1p(min(reaches)),
            float(((green - swir) / np.maximum(green + swir, EPS) > 0).mean()),
        ]
    return np.nan_to_num(out)
