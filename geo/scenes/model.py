"""Value types for scenes: a STAC item reduced to what the pipeline needs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType

import pystac
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geo.errors import SceneError

# Sentinel-2 L2A (Earth Search) masks these SCL classes: no data, saturated, cloud shadow, clouds, cirrus.
SCL_MASKED = (0, 1, 3, 8, 9, 10)
BASELINE_OFFSET_FROM = (4, 0)  # processing baseline 04.00 (25 Jan 2022) added DN offset -1000
S2_QUANTIFICATION = 10000.0


@dataclass(frozen=True)
class Asset:
    key: str
    href: str
    scale: float = 1.0
    offset: float = 0.0
    nodata: float | None = None


@dataclass(frozen=True)
class Scene:
    id: str
    datetime: datetime
    geometry: BaseGeometry  # lon/lat footprint
    assets: Mapping[str, Asset]
    collection: str = ""
    platform: str = ""
    properties: Mapping[str, object] = field(default_factory=dict)

    @property
    def date(self) -> date:
        return self.datetime.date()

    def asset(self, key: str) -> Asset:
        try:
            return self.assets[key]
        except KeyError:
            raise SceneError(f"scene {self.id}: no asset {key!r} (has {', '.join(sorted(self.assets))})") from None

    def summary(self) -> dict[str, object]:
        return {
            "id": self.id,
            "datetime": self.datetime.isoformat(),
            "collection": self.collection,
            "platform": self.platform,
            "relative_orbit": self.properties.get("sat:relative_orbit"),
            "eo:cloud_cover": self.properties.get("eo:cloud_cover"),
        }


def processing_baseline(properties: Mapping[str, object]) -> tuple[int, int] | None:
    text = properties.get("s2:processing_baseline") or properties.get("processing:version")
    if not text:
        return None
    try:
        major, minor = str(text).split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return None


def reflectance_scaling(
    asset_fields: Mapping[str, object], properties: Mapping[str, object], is_reflectance: bool
) -> tuple[float, float]:
    """(scale, offset) turning DN into reflectance: the item's raster:bands first, else the baseline rule."""
    bands = asset_fields.get("raster:bands")
    if isinstance(bands, list) and bands and isinstance(bands[0], Mapping):
        scale, offset = bands[0].get("scale"), bands[0].get("offset")
        if scale is not None or offset is not None:
            return float(scale if scale is not None else 1.0), float(offset if offset is not None else 0.0)
    if not is_reflectance:
        return 1.0, 0.0
    baseline = processing_baseline(properties)
    if baseline is not None and baseline >= BASELINE_OFFSET_FROM:
        return 1.0 / S2_QUANTIFICATION, -1000.0 / S2_QUANTIFICATION
    return 1.0 / S2_QUANTIFICATION, 0.0


def scene_from_item(item: pystac.Item) -> Scene:
    if item.datetime is None:
        start = item.properties.get("start_datetime")
        if not start:
            raise SceneError(f"STAC item {item.id}: no datetime")
        when = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
    else:
        when = item.datetime
    assets: dict[str, Asset] = {}
    for key, asset in item.assets.items():
        roles = asset.roles or []
        if "data" not in roles and key != "scl":
            continue
        fields = asset.extra_fields
        scale, offset = reflectance_scaling(fields, item.properties, "reflectance" in roles)
        nodata = None
        bands = fields.get("raster:bands")
        if isinstance(bands, list) and bands and isinstance(bands[0], Mapping):
            nodata = bands[0].get("nodata")
        assets[key] = Asset(key, asset.get_absolute_href() or asset.href, scale, offset, nodata)
    if item.geometry is None:
        raise SceneError(f"STAC item {item.id}: no geometry")
    return Scene(
        id=item.id,
        datetime=when,
        geometry=shape(item.geometry),
        assets=MappingProxyType(assets),
        collection=item.collection_id or "",
        platform=str(item.properties.get("platform", item.properties.get("constellation", ""))),
        properties=MappingProxyType(dict(item.properties)),
    )
