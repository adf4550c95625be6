"""What kind of change a SAR change region is, from backscatter before and after and a water mask.

Radar sees through cloud, but it sees roughness and metal, not colour, so its types are coarser than the
optical ones (``geo.change.classify``) and use the same vocabulary, so that claims' signatures
(``geo.claims.SIGNATURES``) match them the same way:

=====================  ==================================================================================
``vessel``             brighter, on water, at most ``VESSEL_MAX_AREA_M2``: a ship at berth or at anchor
``water_to_land``      brighter on water over a larger area: pontoons, reclamation, a raft of ships
``new_bright_surface`` brighter on land: new structures, vehicles and equipment, metal (corner reflectors)
``land_to_water``      darker, water-dark after but not before, larger than a ship: flooding, a new basin
``water_change``       darker, water-dark after but not before, ship-sized: a ship or pontoon gone
``darkening``          darker, not to water: structures or vehicles gone, ground smoothed or wetted
=====================  ==================================================================================

Water is where the backscatter is low on *every* date (calm water is a mirror; VV below ~-15 dB), taken
from the speckle-filtered series: the minimum over dates keeps a ship that came and went out of the mask.
The type confidence grows with the size of the backscatter change: 0.5 at 3 dB (changes of this size
also come from soil moisture and crops), 0.9 at 9 dB (metal, a new wall), and for vessels times the share
of the region on water.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from geo.change.classify import VESSEL_MAX_AREA_M2
from geo.change.labels import EIGHT, label_regions

WATER_DB = -15.0  # VV below this on every date (speckle-filtered) is water
MIN_WATER_SHARE = 0.5


def to_db(intensity: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        db: np.ndarray = 10.0 * np.log10(intensity)
        return db


def water_mask(filtered_vv: Sequence[np.ndarray], valid: np.ndarray, water_db: float = WATER_DB,
               min_pixels: int = 8) -> np.ndarray:
    """Water: speckle-filtered VV below ``water_db`` on every date (NaN dates ignored per pixel), cleaned
    of specks by an opening and of blobs under ``min_pixels``."""
    low = np.fmin.reduce([np.where(np.isfinite(v), v, np.nan) for v in filtered_vv])
    water = valid & (to_db(np.nan_to_num(low, nan=np.inf)) < water_db)
    water = ndi.binary_opening(water, structure=EIGHT)
    labels, _ = label_regions(water, min_pixels)
    return labels > 0


@dataclass(frozen=True)
class SarRegion:
    """What typing needs of one region: its area, median dB change per polarisation, water shares."""

    area_m2: float
    db_change: float  # median change of the region's most significant polarisation, dB (> 0 brighter)
    water_share: float  # share of the region on the series' water mask
    dark_before_share: float  # share whose filtered VV before is water-dark
    dark_after_share: float  # share whose filtered VV after is water-dark


def magnitude_confidence(db: float) -> float:
    return float(np.clip(0.5 + (abs(db) - 3.0) * (0.4 / 6.0), 0.2, 0.95))


def sar_change_type(region: SarRegion) -> tuple[str, float]:
    """(change type, type confidence) of one region: see the module doc."""
    confidence = magnitude_confidence(region.db_change)
    if region.db_change > 0:
        if region.water_share >= MIN_WATER_SHARE:
            kind = "vessel" if region.area_m2 <= VESSEL_MAX_AREA_M2 else "water_to_land"
            return kind, confidence * region.water_share
        return "new_bright_surface", confidence * (1.0 - region.water_share)
    if region.dark_after_share >= MIN_WATER_SHARE and region.dark_before_share < MIN_WATER_SHARE:
        kind = "water_change" if region.area_m2 <= VESSEL_MAX_AREA_M2 else "land_to_water"
        return kind, confidence * region.dark_after_share
    return "darkening", confidence
