"""Which Sentinel-2 ship candidates are hulls: a logistic model over a few candidate measures
(``geo.vessels.candidates``), fitted on the six sen2ships development ports by
``benchmarks/vessel_ship_model.py`` and shipped as JSON (``geo/vessels/params/ship_model.json``); applied
here with numpy only.

The shipped model uses three measures a hull has and quay-side clutter mostly lacks: it is dry (the
footprint's mean MNDWI is low), it is not brighter in SWIR than in NIR over the water (concrete, sand,
bare soil and roofs rise from NIR to SWIR; painted steel and cargo do not), and it is elongated. Its
threshold is the one with the best F1 on the development ports among those that keep at least half of the
ships at berth.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from geo.grid import Grid
from geo.vessels.candidates import FEATURES, candidate_features
from geo.vessels.model import VesselDetection

log = logging.getLogger(__name__)

SHIPPED = "ship_model.json"


@dataclass(frozen=True)
class ShipModel:
    features: tuple[str, ...]  # names in ``geo.vessels.candidates.FEATURES``
    mean: tuple[float, ...]  # standardisation of each feature (training candidates)
    scale: tuple[float, ...]
    weights: tuple[float, ...]  # logistic weights on the standardised features
    intercept: float
    threshold: float  # candidates with probability >= this are kept
    trained_on: str = ""

    def probability(self, table: np.ndarray) -> np.ndarray:
        """P(hull) per row of a ``FEATURES`` table."""
        columns = [FEATURES.index(name) for name in self.features]
        z = (table[:, columns] - np.asarray(self.mean)) / np.asarray(self.scale)
        out: np.ndarray = 1.0 / (1.0 + np.exp(-(z @ np.asarray(self.weights) + self.intercept)))
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ShipModel:
        unknown = [name for name in data["features"] if name not in FEATURES]
        if unknown:
            raise ValueError(f"ship model names unknown candidate features: {', '.join(unknown)}")
        return cls(tuple(data["features"]), tuple(map(float, data["mean"])), tuple(map(float, data["scale"])),
                   tuple(map(float, data["weights"])), float(data["intercept"]), float(data["threshold"]),
                   str(data.get("trained_on", "")))


@lru_cache(maxsize=1)
def shipped_model() -> ShipModel:
    text = resources.files("geo.vessels").joinpath("params", SHIPPED).read_text()
    return ShipModel.from_dict(json.loads(text))


def keep_hulls(detections: Sequence[VesselDetection], bands: Mapping[str, np.ndarray], land: np.ndarray, grid: Grid,
               model: ShipModel) -> tuple[VesselDetection, ...]:
    """The ``detections`` the model takes for hulls (``land``: the land model the detector ran with)."""
    if not detections:
        return ()
    keep = model.probability(candidate_features(detections, bands, land, grid)) >= model.threshold
    return tuple(d for d, k in zip(detections, keep) if k)
