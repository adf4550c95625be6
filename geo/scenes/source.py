"""Scene sources: a local STAC catalog on disk, or a STAC API (Earth Search by default).

Both answer the same two questions — which scenes cover this AOI in this period, and which scene has this
id — so the pipeline never knows where its pixels come from.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Protocol

import pystac
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geo.errors import ArchiveError, SceneError
from geo.scenes.model import Scene, scene_from_item

log = logging.getLogger(__name__)

EARTH_SEARCH = "https://earth-search.aws.element84.com/v1"
DEFAULT_COLLECTIONS = ("sentinel-2-l2a",)


class SceneSource(Protocol):
    name: str

    def search(self, geometry: BaseGeometry, start: date, end: date) -> list[Scene]:
        """Scenes whose footprint intersects ``geometry`` (lon/lat) acquired in [start, end], by date."""

    def get(self, scene_id: str) -> Scene:
        """The scene with this id, or ``SceneError``."""


def _day_range(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time.min, tzinfo=timezone.utc),
        datetime.combine(end, time.max, tzinfo=timezone.utc),
    )


class LocalCatalog:
    """A static STAC catalog on disk (pystac), e.g. ``scenes/demo/catalog.json``."""

    def __init__(self, path: Path) -> None:
        path = Path(path)
        if path.is_dir():
            path = path / "catalog.json"
        try:
            catalog = pystac.Catalog.from_file(str(path))
            self._scenes = sorted(
                (scene_from_item(item) for item in catalog.get_items(recursive=True)),
                key=lambda s: s.datetime,
            )
        except (OSError, pystac.STACError, ValueError, KeyError) as exc:
            raise SceneError(f"{path}: not a readable STAC catalog ({exc})") from None
        self.name = str(path)

    def search(self, geometry: BaseGeometry, start: date, end: date) -> list[Scene]:
        lo, hi = _day_range(start, end)
        return [s for s in self._scenes if lo <= s.datetime <= hi and s.geometry.intersects(geometry)]

    def get(self, scene_id: str) -> Scene:
        for scene in self._scenes:
            if scene.id == scene_id:
                return scene
        raise SceneError(f"{self.name}: no scene with id {scene_id!r}")

    def all(self) -> list[Scene]:
        return list(self._scenes)


class StacApi:
    """A STAC API searched with pystac-client (Earth Search by default)."""

    def __init__(self, url: str, collections: Sequence[str] = DEFAULT_COLLECTIONS) -> None:
        self.name = url
        self.collections = tuple(collections)
        self._client = None

    def _open(self):  # type: ignore[no-untyped-def]
        if self._client is None:
            from pystac_client import Client
            from pystac_client.exceptions import APIError

            try:
                self._client = Client.open(self.name)
            except (APIError, OSError, pystac.STACError) as exc:
                raise ArchiveError(f"{self.name}: cannot open STAC API ({exc})") from None
        return self._client

    def search(self, geometry: BaseGeometry, start: date, end: date) -> list[Scene]:
        from pystac_client.exceptions import APIError

        lo, hi = _day_range(start, end)
        try:
            search = self._open().search(
                collections=list(self.collections), intersects=mapping(geometry), datetime=[lo, hi]
            )
            items = list(search.items())
        except (APIError, OSError) as exc:
            raise ArchiveError(f"{self.name}: search failed ({exc})") from None
        return sorted((scene_from_item(i) for i in items), key=lambda s: s.datetime)

    def get(self, scene_id: str) -> Scene:
        from pystac_client.exceptions import APIError

        try:
            items = list(self._open().search(collections=list(self.collections), ids=[scene_id]).items())
        except (APIError, OSError) as exc:
            raise ArchiveError(f"{self.name}: lookup of {scene_id!r} failed ({exc})") from None
        if not items:
            raise SceneError(f"{self.name}: no scene with id {scene_id!r} in {', '.join(self.collections)}")
        return scene_from_item(items[0])


def open_source(source: str) -> SceneSource:
    """``earth-search``, any STAC API URL, or a local STAC catalog (file or folder)."""
    if source == "earth-search":
        return StacApi(EARTH_SEARCH)
    if source.startswith(("http://", "https://")):
        return StacApi(source)
    path = Path(source)
    if not path.exists():
        raise SceneError(f"scene source {source!r} is neither 'earth-search', a URL, nor an existing catalog path")
    return LocalCatalog(path)
