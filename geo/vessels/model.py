"""Value types of the vessel stage: one detection, one scene's detections, the settings of a run, and a land
mask with what it is made for."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # the version is read without shapely (geo.recheck.quick)
    from shapely.geometry.base import BaseGeometry

if TYPE_CHECKING:
    import numpy as np

VESSELS_VERSION = "vessels/0.1"


@dataclass(frozen=True)
class VesselDetection:
    """One detected vessel. ``geometry`` is its pixel footprint in the grid's CRS."""

    geometry: BaseGeometry
    x: float  # centroid, grid CRS
    y: float
    length_m: float
    width_m: float
    heading_deg: float  # orientation of the long axis, degrees clockwise from grid north, in [0, 180)
    area_m2: float
    pixels: int
    score: float  # -log10 of the clutter model's tail probability at the brightest pixel (higher = surer)
    peak: float  # brightest pixel's value in units of the local background (SAR: ratio, S2: robust z)
    at_berth: bool = False  # alongside the land mask's quays, or moored beside a ship that is (else at anchor)


@dataclass(frozen=True)
class SceneDetections:
    """What a detector found in one scene over one grid, and how much of the sea it could see."""

    scene_id: str
    datetime: datetime
    sensor: str
    detections: tuple[VesselDetection, ...]
    sea_px: int  # sea pixels of the reference sea mask inside the AOI
    observed_px: int  # of those, pixels the detector could examine (valid, not cloud)
    pixel_area_m2: float
    diagnostics: dict[str, Any] = field(default_factory=dict)
    instrument_mode: str = ""  # SAR: IW (10 m pixels), EW (40 m: misses small ships); "" optical or unsaid

    @property
    def observed_fraction(self) -> float:
        return self.observed_px / self.sea_px if self.sea_px else 0.0

    @property
    def observed_km2(self) -> float:
        return self.observed_px * self.pixel_area_m2 / 1e6


def detection_id(aoi_id: str, scene_id: str, sensor: str, x: float, y: float) -> str:
    """Stable across reruns: same AOI, scene, sensor, algorithm and position (to 10 m)."""
    key = f"{aoi_id}|{scene_id}|{sensor}|{VESSELS_VERSION}|{round(x / 10):d},{round(y / 10):d}"
    return hashlib.sha1(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DetectorOutput:
    """A detector's answer on one grid: detections, the sea pixels it could examine, and diagnostics."""

    detections: tuple[VesselDetection, ...]
    observed: np.ndarray  # bool array on the grid: sea pixels that were valid, cloud-free and tested
    diagnostics: dict[str, Any]
    sea_ice: np.ndarray | None = None  # SAR: the sea pixels under an ice field (geo.vessels.ice), not seen


@dataclass(frozen=True)
class LandMask:
    mask: np.ndarray  # bool, True = land, on the AOI's vessel grid
    method: str


class MaskKey(NamedTuple):
    """What a land mask is made for: a sensor and its instrument mode ('' optical, or an item that does not say).
    A mode's pixels (EW: 40 m, its own noise and smear) show its own sea, as its counts make a series of their
    own: quays smeared by 40 m pixels reach past a mask made of IW scenes, and pass for berthed ships."""

    sensor: str
    mode: str = ""
