"""Per-polygon attributes (the DESIGN contract) from the rasters a job produced."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from shapely.geometry.base import BaseGeometry

from geo.change.classify import SceneLevels, classify, indices
from geo.change.labels import label_means, labelled_pixels
from geo.change.normalised_stack import NormalisedStack, stack_pixels
from geo.antimeridian import cut_at_antimeridian
from geo.geometry import WGS84, polygonal, reproject
from geo.grid import Grid
from geo.scenes.scratch import take_pixels
from geo.vector.polygonize import Region
from geo.vector.feature import ChangeFeature, ExtraValue


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


def change_feature(identity: PairIdentity, clipped: BaseGeometry, crs: str, score: float, confidence: float,
                   change_type: str, type_confidence: float, pixels: int,
                   extra: Mapping[str, ExtraValue] | None = None) -> ChangeFeature:
    """One change polygon with the DESIGN contract's attributes (``clipped``: in the grid's CRS ``crs``,
    clipped to the AOI; the feature's geometry is lon/lat). ``claim_ids`` are given by ``geo.link``."""
    return ChangeFeature(
        cut_at_antimeridian(reproject(clipped, crs, WGS84)), change_id(identity, clipped), identity.aoi_id, identity.before_scene,
        identity.after_scene, identity.before_date, identity.after_date, round(float(clipped.area), 1),
        round(score, 3), round(confidence, 3), change_type, round(type_confidence, 3), pixels,
        identity.algorithm_version, extra=dict(extra or {}),
    )


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
    after: np.ndarray | NormalisedStack,
    bands: Sequence[str],
    grid: Grid,
    aoi_projected: BaseGeometry,
    identity: PairIdentity,
    levels: SceneLevels = SceneLevels(),
) -> list[ChangeFeature]:
    """A change feature per region, clipped to the AOI. ``levels``: what is
    water in this scene (``geo.change.classify.scene_levels``)."""
    if not regions:
        return []
    count = int(labels.max())
    where, selected = labelled_pixels(labels)  # one selection of the changed pixels, not a pass per mean
    values = np.nan_to_num(take_pixels(statistic[None], where)[0])  # (a scratch array: read in strips)
    score, strong = label_means(selected, [values, (values > strong_threshold).astype(np.float64)], count)
    means_before = label_means(selected, list(np.nan_to_num(take_pixels(before[:len(bands)], where))), count)
    means_after = label_means(selected, list(np.nan_to_num(stack_pixels(after, where)[:len(bands)])), count)
    crs = grid.crs.to_string()
    features: list[ChangeFeature] = []
    for region, clipped in clipped_regions(regions, aoi_projected):
        i = region.label - 1
        area = float(clipped.area)
        change_type, type_confidence = classify(
            indices({b: float(means_before[k][i]) for k, b in enumerate(bands)}),
            indices({b: float(means_after[k][i]) for k, b in enumerate(bands)}),
            area,
            levels,
        )
        features.append(change_feature(identity, clipped, crs, float(score[i]), float(strong[i]), change_type,
                                       type_confidence, region.pixels))
    return features
