"""Which Sentinel-2 ship candidates are hulls: a logistic model over a few candidate measures
(``geo.vessels.candidates``), fitted on the six sen2ships development ports by
``benchmarks/vessel_ship_model.py`` and shipped as JSON (``geo/vessels/params/ship_model.json``); applied
here with numpy (and scipy's rankdata for scene ranks).

The shipped model uses three measures a hull has and quay-side clutter mostly lacks: it is dry (the
footprint's mean MNDWI is low), it is not brighter in SWIR than in NIR over the water (concrete, sand,
bare soil and roofs rise from NIR to SWIR; painted steel and cargo do not), and it is elongated. Its
threshold is the one with the best F1 on the development ports among those that keep at least half of the
ships at berth. A model may also read a measure's rank among the scene's own candidates
(``scene_rank:<measure>``, no labels needed; measured in ``benchmarks/vessel_hull_variants.py``, not in the
shipped model: on the six ports it scores better, on the hazy Nantes pair it lets more clutter through).
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
SCENE_RANK = "scene_rank:"  # a feature name's prefix: the measure's rank among the scene's candidates


def _measure(name: str) -> str:
    return name.removeprefix(SCENE_RANK)


def scene_ranks(values: np.ndarray) -> np.ndarray:
    """(rank - 0.5) / n of each value among ``values`` (ties averaged): in (0, 1), whatever the scene's scale."""
    from scipy.stats import rankdata

    out: np.ndarray = (rankdata(values) - 0.5) / max(len(values), 1)
    return out


def model_inputs(table: np.ndarray, features: Sequence[str]) -> np.ndarray:
    """The ``features`` columns of one scene's ``FEATURES`` table (all its candidates, so that a
    ``scene_rank:`` feature ranks among them)."""
    columns = [table[:, FEATURES.index(_measure(name))] for name in features]
    return np.column_stack([scene_ranks(c) if name.startswith(SCENE_RANK) else c for name, c in zip(features, columns)])


@dataclass(frozen=True)
class ShipModel:
    features: tuple[str, ...]  # names in ``geo.vessels.candidates.FEATURES``, or ``SCENE_RANK`` + one
    mean: tuple[float, ...]  # standardisation of each feature (training candidates)
    scale: tuple[float, ...]
    weights: tuple[float, ...]  # logistic weights on the standardised features
    intercept: float
    threshold: float  # candidates with probability >= this are kept
    trained_on: str = ""

    def probability(self, table: np.ndarray) -> np.ndarray:
        """P(hull) per row of one scene's ``FEATURES`` table (all its candidates: see ``model_inputs``)."""
        z = (model_inputs(table, self.features) - np.asarray(self.mean)) / np.asarray(self.scale)
        out: np.ndarray = 1.0 / (1.0 + np.exp(-(z @ np.asarray(self.weights) + self.intercept)))
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ShipModel:
        unknown = [name for name in data["features"] if _measure(name) not in FEATURES]
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
