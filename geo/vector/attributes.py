"""Per-polygon attributes (the DESIGN contract) from the rasters a job produced."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from shapely.geometry.base import BaseGeometry

from geo.change.classify import SceneLevels, classify, indices
from geo.change.labels import label_means, labelled_pixels
from geo.geometry import WGS84, polygonal, reproject
from geo.grid import Grid
from geo.vector.polygonize import Region
from geo.vector.feature import Feature


@dataclass(frozen=True)
class PairIdentity:
    aoi_id: str
    before_scene: str
    after_scene: str
    before_date: str
    after_date: str
    algorithm_version: str


def change_id(identity: PairIdentity, geometry: BaseGeometry) -> str:
    """Stable across reruns of the same job (same AOI, scenes, algorithm and place)."""
    point = geometry.representative_point()
    key = f"{identity.aoi_id}|{identity.before_scene}|{identity.after_scene}|{identity.algorithm_version}|{point.x:.0f},{point.y:.0f}"
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def contract_properties(identity: PairIdentity, clipped: BaseGeometry, score: float, confidence: float,
                        change_type: str, type_confidence: float, pixels: int) -> dict[str, Any]:
    """The DESIGN contract's attributes of one change polygon (``clipped``: in the grid's CRS, clipped to
    the AOI); ``claim_ids`` are filled in by ``geo.link``."""
    return {
        "change_id": change_id(identity, clipped),
        "aoi_id": identity.aoi_id,
        "claim_ids": [],
        "before_scene": identity.before_scene,
        "after_scene": identity.after_scene,
        "before_date": identity.before_date,
        "after_date": identity.after_date,
        "area_m2": round(float(clipped.area), 1),
        "score": round(score, 3),
        "confidence": round(confidence, 3),
        "change_type": change_type,
        "type_confidence": round(type_confidence, 3),
        "pixels": pixels,
        "algorithm_version": identity.algorithm_version,
    }


def clipped_regions(regions: Sequence[Region], aoi_projected: BaseGeometry) -> Iterator[tuple[Region, BaseGeometry]]:
    """Each region with its polygon clipped to the AOI (in the grid's CRS); regions outside it left out."""
    for region in regions:
        clipped = polygonal(region.geometry.intersection(aoi_projected))
        if not clipped.is_empty:
            yield region, clipped


def region_features(
    regions: Sequence[Region],
    labels: np.ndarray,
    statistic: np.ndarray,
    strong_threshold: float,
    before: np.ndarray,
    after: np.ndarray,
    bands: Sequence[str],
    grid: Grid,
    aoi_projected: BaseGeometry,
    identity: PairIdentity,
    levels: SceneLevels = SceneLevels(),
) -> list[Feature]:
    """GeoJSON-ready (lon/lat geometry, properties) per region, clipped to the AOI. ``levels``: what is
    water in this scene (``geo.change.classify.scene_levels``)."""
    if not regions:
        return []
    count = int(labels.max())
    where, selected = labelled_pixels(labels)  # one selection of the changed pixels, not a pass per mean
    values = np.nan_to_num(statistic.ravel()[where])
    score, strong = label_means(selected, [values, (values > strong_threshold).astype(np.float64)], count)
    means_before = label_means(selected, [np.nan_to_num(b.ravel()[where]) for b in before[:len(bands)]], count)
    means_after = label_means(selected, [np.nan_to_num(a.ravel()[where]) for a in after[:len(bands)]], count)
    crs = grid.crs.to_string()
    features = []
    for region, clipped in clipped_regions(regions, aoi_projected):
        i = region.label - 1
        area = float(clipped.area)
        change_type, type_confidence = classify(
            indices({b: float(means_before[k][i]) for k, b in enumerate(bands)}),
            indices({b: float(means_after[k][i]) for k, b in enumerate(bands)}),
            area,
            levels,
        )
        props = contract_properties(identity, clipped, float(score[i]), float(strong[i]), change_type,
                                    type_confidence, region.pixels)
        features.append((reproject(clipped, crs, WGS84), props))
    return features
