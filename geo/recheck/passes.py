"""Scene ids as a re-check's store records them: a pass (the tiles or slices of one pass over the AOI read as
one scene, ``geo.scenes.mosaic``) under its id ``A+B``, and, in a store written when chains went tile by tile,
single tiles. A pass whose tiles are all recorded is recorded. A product the archive published again under a
new id (reprocessed) is the product recorded under its old id: the id it ``supersedes`` when the search finds
both, or, for the chain head the archive withdrew, the same tile at the same time (``republishes``); for the
vessel counts, any scene of a sensor sensed with one counted (``counted_together``: an id naming no tile). Plain
strings: no geometry is imported, so a re-check with nothing new (``geo.recheck.quick``) stays light."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from geo.scenes.ids import MOSAIC_JOIN, republishes, sensed_together

if TYPE_CHECKING:
    from geo.scenes.model import Scene


def stored_ids(ids: Iterable[str]) -> set[str]:
    """Scene ids as the store records them, with the tiles of each pass recorded (``A+B``: ``A`` and ``B``)."""
    return {part for scene_id in ids for part in (scene_id, *scene_id.split(MOSAIC_JOIN))}


def _names(scene: Scene) -> set[str]:
    """The ids ``scene`` was published under (its own, and those of its earlier publications)."""
    return {scene.id, *scene.supersedes}


def is_recorded(scene: Scene, ids: Collection[str], republished: bool = False) -> bool:
    """Whether ``scene`` is among ``ids`` (``stored_ids``): by its id, or a pass by all of its tiles (a store
    written tile by tile); ``republished``: also by an id it supersedes (the same observation)."""
    def recorded(tile: Scene) -> bool:
        return bool((_names(tile) if republished else {tile.id}) & set(ids))

    return recorded(scene) or bool(scene.parts) and all(recorded(part) for part in scene.parts)


def is_head(scene: Scene, head_id: str, head_datetime: datetime | None = None) -> bool:
    """Whether ``scene`` is the chain's head ``head_id`` (acquired at ``head_datetime``): itself, or its pass (a
    head recorded as one tile of it, or as a pass of other tiles of it), or a publication of it under a new id
    (one that supersedes it, or, given ``head_datetime``, one of the head's tile sensed at the head's time)."""
    tiles = (scene, *scene.parts)
    head_tiles = stored_ids([head_id])
    if {name for tile in tiles for name in _names(tile)} & head_tiles:
        return True
    return head_datetime is not None and any(republishes(tile.id, tile.datetime, head, head_datetime)
                                             for tile in tiles for head in head_tiles)


def counted_together(sensor: str, when: datetime, counted: Mapping[str, tuple[str, datetime]]) -> bool:
    """Whether a scene of ``sensor`` sensed at ``when`` is an observation ``counted`` (id -> sensor, time:
    ``geo.store.vessels.vessel_scenes``) already, under another id: published again, the earlier withdrawn."""
    return sensed_together(when, [at for of, at in counted.values() if of == sensor])
