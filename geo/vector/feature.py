"""A change polygon as every stage passes it on: its geometry and its attributes (README "Outputs of a run":
``change_id``, ``aoi_id``, ``claim_ids``, ...). Defined once here, the lowest stage that makes features.

shapely is imported for type checking only: the store and the re-check's quick path name this type without
loading the geometry stack (``tests/recheck/test_noop_imports.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

Feature: TypeAlias = tuple["BaseGeometry", dict[str, Any]]
