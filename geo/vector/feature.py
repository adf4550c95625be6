"""A change polygon as every stage passes it on: ``ChangeFeature``, its lon/lat geometry and the DESIGN
contract's attributes as typed fields (README "Outputs of a run"). Defined once here, the lowest stage that
makes features; it becomes a plain attribute dict only where it is written (``geo.outputs``, ``geo.store``:
``properties()``) and is made again from one where it is read back (``from_properties``).

shapely is imported for type checking only: the store and the re-check's quick path name this type without
loading the geometry stack (``tests/recheck/test_noop_imports.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

# A sensor-specific attribute (Sentinel-1: backscatter direction, dB change per polarisation, dating).
ExtraValue: TypeAlias = str | int | float | None


@dataclass(frozen=True)
class ChangeFeature:
    """One change polygon: ``geometry`` in lon/lat (EPSG:4326), clipped to its AOI, and its attributes.

    ``confidence`` is the share of the polygon's pixels past the detector's strong level, ``score`` the mean
    statistic over it, ``type_confidence`` how sure the change type is (1 where a reader has none: stores
    written before it existed). ``extra`` holds what one sensor adds to the contract, written after it."""

    geometry: BaseGeometry
    change_id: str
    aoi_id: str
    before_scene: str
    after_scene: str
    before_date: str
    after_date: str
    area_m2: float
    score: float
    confidence: float
    change_type: str
    type_confidence: float
    pixels: int
    algorithm_version: str
    claim_ids: tuple[str, ...] = ()
    extra: Mapping[str, ExtraValue] = field(default_factory=dict)

    @property
    def strength(self) -> float:
        """How strongly the change supports its type: significant-pixel share x type confidence."""
        return self.confidence * self.type_confidence

    def linked_to(self, claim_ids: Iterable[str]) -> ChangeFeature:
        """The same change linked to ``claim_ids`` (a new value)."""
        return replace(self, claim_ids=tuple(claim_ids))

    def properties(self) -> dict[str, Any]:
        """The attributes as written (GeoJSON properties, GeoPackage columns), in the contract's order."""
        return {
            "change_id": self.change_id,
            "aoi_id": self.aoi_id,
            "claim_ids": list(self.claim_ids),
            "before_scene": self.before_scene,
            "after_scene": self.after_scene,
            "before_date": self.before_date,
            "after_date": self.after_date,
            "area_m2": self.area_m2,
            "score": self.score,
            "confidence": self.confidence,
            "change_type": self.change_type,
            "type_confidence": self.type_confidence,
            "pixels": self.pixels,
            "algorithm_version": self.algorithm_version,
            **self.extra,
        }

    @classmethod
    def from_properties(cls, geometry: BaseGeometry, properties: Mapping[str, Any]) -> ChangeFeature:
        """The feature a written attribute dict describes (a KeyError names a missing contract attribute)."""
        known = {f.name for f in fields(cls)} - {"geometry", "claim_ids", "extra"}
        type_confidence = properties.get("type_confidence")
        return cls(
            geometry,
            str(properties["change_id"]), str(properties["aoi_id"]),
            str(properties["before_scene"]), str(properties["after_scene"]),
            str(properties["before_date"]), str(properties["after_date"]),
            float(properties["area_m2"]), float(properties["score"]), float(properties["confidence"]),
            str(properties["change_type"]), 1.0 if type_confidence is None else float(type_confidence),
            int(properties.get("pixels") or 0), str(properties["algorithm_version"]),
            tuple(str(c) for c in properties.get("claim_ids") or ()),
            {k: v for k, v in properties.items() if k not in known and k != "claim_ids"},
        )

