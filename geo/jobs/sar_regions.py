"""The SAR job's change regions as features: the contract's properties (``geo.vector.attributes``), the
change type (``geo.change.sar_types``), the dB change per polarisation and, with a series, the omnibus date."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import ndimage as ndi

from geo.aoi import AOI
from geo.change.labels import object_boxes
from geo.change.sar import SeriesChange
from geo.change.sar_pair import PairTest
from geo.change.sar_types import SarRegion, sar_change_type
from geo.grid import Grid
from geo.scenes.model import Sensor
from geo.scenes.read import Stack
from geo.vector.attributes import PairIdentity, change_feature, clipped_regions
from geo.vector.feature import ChangeFeature, ExtraValue
from geo.vector.polygonize import polygonize

DB_PER_NEPER = 10.0 / math.log(10.0)  # ln ratio -> dB
DatedSeries = tuple[SeriesChange, Sequence[Stack]]  # the omnibus result and the stacks it tested


def _shares(mask: np.ndarray, labels: np.ndarray, index: np.ndarray) -> np.ndarray:
    return np.asarray(ndi.mean(mask.astype(float), labels, index), dtype=float)


def sar_features(labels: np.ndarray, grid: Grid, aoi: AOI, identity: PairIdentity, test: PairTest,
                 water: np.ndarray, dark: tuple[np.ndarray, np.ndarray], series: DatedSeries | None,
                 strong_alpha: float) -> list[ChangeFeature]:
    """A change feature per region, clipped to the AOI (the DESIGN contract,
    plus the dB change per polarisation and, with a series, the omnibus date of change); a region's
    confidence is its share of pixels past ``strong_alpha``."""
    regions = polygonize(labels, grid)
    if not regions:
        return []
    index = np.arange(1, labels.max() + 1)
    score = ndi.mean(np.nan_to_num(test.significance, nan=0.0), labels, index)
    strong = _shares(np.nan_to_num(test.p_value, nan=1.0) < strong_alpha, labels, index)
    db_best = ndi.median(test.log_ratio * DB_PER_NEPER, labels, index)
    db_pol = {pol: ndi.median(np.nan_to_num(t.log_ratio) * DB_PER_NEPER, labels, index) for pol, t in test.tests.items()}
    water_share = _shares(water, labels, index)
    dark_before, dark_after = (_shares(d, labels, index) for d in dark)
    boxes = dict(object_boxes(labels))
    crs = grid.crs.to_string()
    aoi_projected = aoi.projected(crs)
    features: list[ChangeFeature] = []
    for region, clipped in clipped_regions(regions, aoi_projected):
        i = region.label - 1
        area = float(clipped.area)
        kind, type_confidence = sar_change_type(SarRegion(area, float(db_best[i]), float(water_share[i]),
                                                          float(dark_before[i]), float(dark_after[i])))
        extra: dict[str, ExtraValue] = {
            "sensor": Sensor.S1.value,
            "backscatter": "increase" if db_best[i] > 0 else "decrease",
            **{f"db_change_{pol}": round(float(v[i]), 2) for pol, v in db_pol.items()},
            "water_share": round(float(water_share[i]), 3),
        }
        if series is not None:
            box = boxes[region.label]
            extra.update(_dating(series, labels[box] == region.label, box))
        features.append(change_feature(identity, clipped, crs, float(score[i]), float(strong[i]), kind,
                                       type_confidence, region.pixels, extra))
    return features


def _dating(series: DatedSeries, inside: np.ndarray, where: tuple[slice, ...]) -> dict[str, ExtraValue]:
    """The omnibus verdict on one region: share of its pixels changed over the series, and the date of the
    first change most of those pixels agree on (between the scene before it and that scene)."""
    result, stacks = series
    changed = result.changed[where] & inside
    first = result.first_change[where][changed]
    out: dict[str, ExtraValue] = {"omnibus_share": round(float(changed.sum() / max(inside.sum(), 1)), 3)}
    first = first[first > 0]
    if first.size:
        j = int(np.bincount(first).argmax())
        out.update(change_first_seen=stacks[j].scene.date.isoformat(), change_first_scene=stacks[j].scene.id,
                   change_last_unchanged=stacks[j - 1].scene.date.isoformat(),
                   change_date_agreement=round(float((first == j).mean()), 3))
    return out
