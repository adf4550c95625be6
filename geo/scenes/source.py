"""Scene sources: a local STAC catalog on disk, or a STAC API (Earth Search by default).

Both answer the same two questions — which scenes cover this AOI in this period, and which scene has this
id — so the pipeline never knows where its pixels come from. Sources are per sensor: Sentinel-2 L2A
(optical, default) or Sentinel-1 (SAR; on the Planetary Computer, whose asset URLs are signed at read
time by ``geo.scenes.remote.sign_href``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pystac
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geo.errors import ArchiveError, SceneError
from geo.scenes.model import SENSORS, Scene, scene_from_item

if TYPE_CHECKING:  # imported by the archive client only: a local catalog needs neither rasterio nor HTTP
    from geo.scenes.cache import SceneCache
    from geo.scenes.remote import RetryPolicy

log = logging.getLogger(__name__)

EARTH_SEARCH = "https://earth-search.aws.element84.com/v1"
PLANETARY_COMPUTER = "https://planetarycomputer.microsoft.com/api/stac/v1"
# Collections searched on any STAC API that is not one of the named archives below.
DEFAULT_COLLECTIONS: Mapping[str, tuple[str, ...]] = {"s2": ("sentinel-2-l2a",), "s1": ("sentinel-1-rtc",)}
PAGE_SIZE = 100


@dataclass(frozen=True)
class Archive:
    """A public archive known by name: its STAC API and the collections holding each sensor."""

    url: str
    collections: Mapping[str, tuple[str, ...]]
    note: str = ""


ARCHIVES: Mapping[str, Archive] = {
    "earth-search": Archive(EARTH_SEARCH, {"s2": ("sentinel-2-l2a",)},
                            "Sentinel-1 is not anonymous on AWS: use --source planetary-computer"),
    "planetary-computer": Archive(PLANETARY_COMPUTER, {"s2": ("sentinel-2-l2a",), "s1": ("sentinel-1-rtc",)}),
}


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

    def __init__(self, path: Path, sensor: str | None = None) -> None:
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
        if sensor is not None:
            self._scenes = [s for s in self._scenes if s.sensor == sensor]
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


def _describe(exc: Exception) -> str:
    """An archive failure in one line: HTTP status and the start of the server's message."""
    status = getattr(exc, "status_code", None)
    text = re.sub(r"\(Caused by (\w+)\(.*", r"(\1)", " ".join(str(exc).split()))[:200] or type(exc).__name__
    return f"HTTP {status}: {text}" if status else text


class StacApi:
    """A STAC API searched with pystac-client: retries, timeouts, paging (``next`` links), and item JSON
    kept in the scene cache so that a scene named by id is looked up once."""

    def __init__(self, url: str, collections: Sequence[str] = DEFAULT_COLLECTIONS["s2"],
                 cache: SceneCache | None = None, policy: RetryPolicy | None = None) -> None:
        self.name = url
        self.collections = tuple(collections)
        self.cache = cache
        self.policy = policy
        self._client: Any = None

    def _open(self) -> Any:
        if self._client is None:
            from pystac_client import Client
            from pystac_client.exceptions import APIError

            from geo.scenes.remote import RetryingStacApiIO, RetryPolicy

            stac_io = RetryingStacApiIO(self.policy or RetryPolicy.from_env())
            try:
                # Client.open resets the I/O's timeout to its own argument: pass it again.
                self._client = Client.open(self.name, stac_io=stac_io, timeout=stac_io.timeout)
            except (APIError, OSError, pystac.STACError, json.JSONDecodeError) as exc:
                raise ArchiveError(f"{self.name}: cannot open STAC API ({_describe(exc)})") from None
        return self._client

    def _items(self, what: str, **query: Any) -> list[pystac.Item]:
        from pystac_client.exceptions import APIError

        client = self._open()
        try:
            search = client.search(collections=list(self.collections), limit=PAGE_SIZE, **query)
            return list(search.items())
        except (APIError, OSError, pystac.STACError, json.JSONDecodeError, KeyError) as exc:
            raise ArchiveError(f"{self.name}: {what} failed ({_describe(exc)})") from None

    def search(self, geometry: BaseGeometry, start: date, end: date) -> list[Scene]:
        lo, hi = _day_range(start, end)
        items = self._items("search", intersects=mapping(geometry), datetime=[lo, hi])
        log.info("%s: %d items in %s from %s to %s", self.name, len(items), ",".join(self.collections), start, end)
        return sorted((scene_from_item(i) for i in items), key=lambda s: s.datetime)

    def get(self, scene_id: str) -> Scene:
        cached = self.cache.load_item(scene_id) if self.cache else None
        if cached is not None:
            try:
                return scene_from_item(pystac.Item.from_dict(cached))
            except (pystac.STACError, ValueError, KeyError, TypeError) as exc:
                log.warning("ignoring unreadable cached item %s (%s)", scene_id, exc)
        items = self._items(f"lookup of {scene_id!r}", ids=[scene_id])
        if not items:
            raise SceneError(f"{self.name}: no scene with id {scene_id!r} in {', '.join(self.collections)}")
        scene = scene_from_item(items[0])
        if self.cache and scene.stac is not None:
            self.cache.store_item(scene.stac)
        return scene


def check_sensor(sensor: str) -> str:
    if sensor not in SENSORS:
        raise SceneError(f"unknown sensor {sensor!r} (use one of {', '.join(SENSORS)})")
    return sensor


def open_source(source: str, sensor: str | None = None, collections: Sequence[str] | None = None,
                cache: SceneCache | None = None) -> SceneSource:
    """``earth-search``, ``planetary-computer``, any STAC API URL, or a local STAC catalog (file or
    folder), searched for ``sensor`` (``s2`` or ``s1``) in ``collections`` (default: per archive). Without
    a sensor an archive is searched for Sentinel-2 and a local catalog yields every scene it holds."""
    if sensor is not None:
        check_sensor(sensor)
    if cache is None and (source in ARCHIVES or source.startswith(("http://", "https://"))):
        from geo.scenes.cache import SceneCache

        cache = SceneCache.default()
    if source in ARCHIVES:
        archive = ARCHIVES[source]
        chosen = tuple(collections or archive.collections.get(sensor or "s2", ()))
        if not chosen:
            raise SceneError(f"source {source!r} has no {sensor} collection ({archive.note})")
        return StacApi(archive.url, chosen, cache)
    if source.startswith(("http://", "https://")):
        return StacApi(source.rstrip("/"), tuple(collections or DEFAULT_COLLECTIONS[sensor or "s2"]), cache)
    path = Path(source)
    if not path.exists():
        raise SceneError(
            f"scene source {source!r} is neither {', '.join(repr(a) for a in ARCHIVES)}, a URL, "
            "nor an existing catalog path"
        )
    return LocalCatalog(path, sensor)
