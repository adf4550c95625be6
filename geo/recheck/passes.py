"""Scene ids as a re-check's store records them: a pass (the tiles or slices of one pass over the AOI read as
one scene, ``geo.scenes.mosaic``) under its id ``A+B``, and, in a store written when chains went tile by tile,
single tiles. A pass whose tiles are all recorded is recorded. Plain strings: no geometry is imported, so a
re-check with nothing new (``geo.recheck.quick``) stays light."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from geo.scenes.ids import MOSAIC_JOIN

if TYPE_CHECKING:
    from geo.scenes.model import Scene


def stored_ids(ids: Iterable[str]) -> set[str]:
    """Scene ids as the store records them, with the tiles of each pass recorded (``A+B``: ``A`` and ``B``)."""
    return {part for scene_id in ids for part in (scene_id, *scene_id.split(MOSAIC_JOIN))}


def is_recorded(scene: Scene, ids: Collection[str]) -> bool:
    """Whether ``scene`` is among ``ids`` (``stored_ids``): by its id, or a pass by all of its tiles (a store
    written tile by tile)."""
    return scene.id in ids or bool(scene.parts) and all(part.id in ids for part in scene.parts)


def is_head(scene: Scene, head_id: str) -> bool:
    """Whether ``scene`` is the chain's head ``head_id``: itself, or its pass (a head recorded as one tile of
    it, or as a pass of other tiles of it)."""
    return bool({scene.id, *(part.id for part in scene.parts)} & stored_ids([head_id]))
