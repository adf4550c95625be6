"""Scene sources: a local STAC catalog on disk, or a STAC API (Earth Search by default).

Both answer the same two questions — which scenes cover this AOI in this period, and which scene has this
id — so the pipeline never knows where its pixels come from. Sources are per sensor: Sentinel-2 L2A
(optical, default) or Sentinel-1 (SAR; on the Planetary Computer, whose asset URLs are signed at read
time by ``geo.scenes.remote.sign_href``).

What an archive says is checked, not trusted: paging stops on a loop or beyond caps
(``geo.scenes.paging``), items whose id cannot be a file name are refused with a warning (ids name scene
cache folders), and a lookup by id must answer with that id. Archives are sent a footprint of at most
``MAX_FOOTPRINT_VERTICES`` vertices covering the AOI (``search_footprint``); what they return is then
filtered against the exact AOI.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pystac

from geo.errors import ArchiveError, MissingSceneError, SceneError
from geo.scenes.archive_answers import (absent_collections, describe_failure, not_landing_page,
                                        read_conformance_page)
from geo.scenes.ids import shown_id, unsafe_id_reason
from geo.scenes.item_assets import scene_from_item
from geo.scenes.local_catalog import UNREADABLE, catalog_file, catalog_items, in_collections, unreadable
from geo.scenes.model import Scene, Sensor, in_period
from geo.slips import closest

if TYPE_CHECKING:  # imported by the archive client only: a local catalog needs neither rasterio nor HTTP,
    from shapely.geometry.base import BaseGeometry  # and listing its items (geo.recheck.quick) no shapely

    from geo.scenes.cache import SceneCache
    from geo.scenes.paging import SearchLimits
    from geo.scenes.remote import RetryPolicy

log = logging.getLogger(__name__)

EARTH_SEARCH = "https://earth-search.aws.element84.com/v1"
PLANETARY_COMPUTER = "https://planetarycomputer.microsoft.com/api/stac/v1"
# The Copernicus Data Space Ecosystem: searching is anonymous; its files (Sentinel-2's JPEG 2000, Sentinel-1 GRD
# georeferenced by ground control points) are read from its S3 storage with the user's keys (AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY), at the endpoint its items name.
COPERNICUS_DATA_SPACE = "https://stac.dataspace.copernicus.eu/v1"
# Collections searched on any STAC API that is not one of the named archives below.
DEFAULT_COLLECTIONS: Mapping[Sensor, tuple[str, ...]] = {Sensor.S2: ("sentinel-2-l2a",), Sensor.S1: ("sentinel-1-rtc",)}
PAGE_SIZE = 100
MAX_FOOTPRINT_VERTICES = 64  # an AOI with more is sent to archives as a simpler polygon covering it


@dataclass(frozen=True)
class Archive:
    """A public archive known by name: its STAC API and the collections holding each sensor."""

    url: str
    collections: Mapping[Sensor, tuple[str, ...]]
    note: str = ""


ARCHIVES: Mapping[str, Archive] = {
    "earth-search": Archive(EARTH_SEARCH, {Sensor.S2: ("sentinel-2-l2a",)},
                            "Sentinel-1 is not anonymous on AWS: use --source planetary-computer"),
    "planetary-computer": Archive(PLANETARY_COMPUTER, {Sensor.S2: ("sentinel-2-l2a",), Sensor.S1: ("sentinel-1-rtc",)}),
    "cdse": Archive(COPERNICUS_DATA_SPACE, {Sensor.S2: ("sentinel-2-l2a",), Sensor.S1: ("sentinel-1-grd",)}),
}


def default_source(sensor: Sensor | None) -> str:
    """The archive a command searches when no --source is given: the first that serves ``sensor`` anonymously
    (Earth Search for Sentinel-2, Planetary Computer for Sentinel-1)."""
    return next(name for name, archive in ARCHIVES.items() if (sensor or Sensor.S2) in archive.collections)


class SceneSource(Protocol):
    name: str

    def search(self, geometry: BaseGeometry, start: date, end: date) -> list[Scene]:
        """Scenes whose footprint intersects ``geometry`` (lon/lat) acquired in [start, end], by date."""

    def get(self, scene_id: str) -> Scene:
        """The scene with this id, or ``SceneError``."""


def search_footprint(geometry: BaseGeometry) -> BaseGeometry:
    """What an archive is asked about: ``geometry`` itself when it has at most ``MAX_FOOTPRINT_VERTICES``
    vertices, else its convex hull, simplified and grown by the simplification's tolerance until it has
    few vertices (a Douglas-Peucker simplification stays within its tolerance of the hull, so the grown
    polygon still covers it), else its bounding box. The result always covers ``geometry``."""
    import shapely
    from shapely.geometry import box

    from geo.antimeridian import cut_at_antimeridian, unwrapped
    from geo.geometry import right_handed

    if shapely.get_num_coordinates(geometry) <= MAX_FOOTPRINT_VERTICES:
        return geometry
    # across 180 (cut there, RFC 7946) the hull is drawn round the area as one, then cut again (a few vertices more)
    whole = unwrapped(geometry)
    across = whole is not geometry
    limit, lons = (MAX_FOOTPRINT_VERTICES - 8, 540.0) if across else (MAX_FOOTPRINT_VERTICES, 180.0)
    hull = footprint = whole.convex_hull
    left, bottom, right, top = whole.bounds
    tolerance, size = 1e-4 * max(right - left, top - bottom), max(right - left, top - bottom)
    while shapely.get_num_coordinates(footprint) > limit and tolerance < size:
        footprint = hull.simplify(tolerance).buffer(tolerance, join_style="mitre", mitre_limit=10.0)
        tolerance *= 2
    footprint = footprint.intersection(box(-lons, -90.0, lons, 90.0))
    if (not isinstance(footprint, shapely.Polygon) or not footprint.covers(whole)
            or shapely.get_num_coordinates(footprint) > limit):
        footprint = box(left, bottom, right, top)
    return right_handed(cut_at_antimeridian(footprint))


def safe_scenes(scenes: Sequence[Scene], source: str, warned: set[str] | None = None) -> list[Scene]:
    """``scenes`` without those whose id cannot name a scene cache folder, refused with one warning (none
    for ids already in ``warned``, which grows)."""
    refused = [s.id for s in scenes if unsafe_id_reason(s.id) is not None]
    news = not_yet_warned(refused, warned)
    if news:
        log.warning("%s: refused %d item(s) whose id is not a plain name (cannot be a cache folder): %s",
                    source, len(news), ", ".join(shown_id(i) for i in news[:5]) + (" ..." if len(news) > 5 else ""))
    return [s for s in scenes if s.id not in refused]


def not_yet_warned(ids: Iterable[str], warned: set[str] | None) -> list[str]:
    """``ids`` not in ``warned`` (which grows by them): a refused item is warned about once per source."""
    news = [i for i in ids if warned is None or i not in warned]
    if warned is not None:
        warned.update(news)
    return news


def check_item_id(item_id: str, source: str) -> None:
    reason = unsafe_id_reason(item_id)
    if reason is not None:
        raise SceneError(f"{source}: item id {shown_id(item_id)} is not a plain name ({reason})")


def day_range(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time.min, tzinfo=timezone.utc),
        datetime.combine(end, time.max, tzinfo=timezone.utc),
    )


def local_catalog_file(source: str) -> Path | None:
    """The catalog file of ``source`` when it names a local catalog (an existing path), not an archive or URL."""
    if source in ARCHIVES or source.startswith(("http://", "https://")) or not Path(source).exists():
        return None
    return catalog_file(Path(source))


class LocalCatalog:
    """A static STAC catalog on disk (pystac), e.g. ``scenes/demo/catalog.json``."""

    def __init__(self, path: Path, sensor: Sensor | None = None, collections: Sequence[str] | None = None) -> None:
        path = catalog_file(Path(path))
        self.name = str(path)
        items = catalog_items(path)
        try:
            scenes = [scene_from_item(item, self.name) for item in items]
        except UNREADABLE as exc:
            raise unreadable(path, exc) from None
        if collections:  # --collection: of a local source too, never ignored
            scenes = in_collections(scenes, collections, self.name)
        self._scenes = sorted(safe_scenes(scenes, self.name), key=lambda s: s.datetime)
        self.sensor = sensor
        # scenes of the other sensor, left out: "no scene" in a catalog of another sensor's scenes says so
        self.other_sensors = Counter(s.sensor for s in self._scenes if sensor is not None and s.sensor != sensor)
        if sensor is not None:
            self._scenes = [s for s in self._scenes if s.sensor == sensor]

    def search(self, geometry: BaseGeometry, start: date, end: date) -> list[Scene]:
        lo, hi = day_range(start, end)
        return [s for s in self._scenes if in_period(s, lo, hi) and s.geometry.intersects(geometry)]

    def get(self, scene_id: str) -> Scene:
        for scene in self._scenes:
            if scene.id == scene_id:
                return scene
        raise MissingSceneError(f"{self.name}: no scene with id {scene_id!r}")

    def all(self) -> list[Scene]:
        return list(self._scenes)


class StacApi:
    """A STAC API searched with pystac-client: retries, timeouts, paging (``next`` links, checked), and item
    JSON kept in the scene cache (per archive) so that a scene named by id is looked up once. With
    ``default_cache`` and no ``cache``, the default scene cache is opened at the first lookup by id (the cache
    module imports the pixel readers, which a search that finds nothing new does not need)."""

    def __init__(self, url: str, collections: Sequence[str] = DEFAULT_COLLECTIONS[Sensor.S2],
                 cache: SceneCache | None = None, policy: RetryPolicy | None = None,
                 limits: SearchLimits | None = None, default_cache: bool = False,
                 collections_required: bool = True) -> None:
        self.name = url
        self.collections = tuple(collections)
        self._cache = cache
        self._default_cache = default_cache
        self.policy = policy
        self.limits = limits
        self._client: Any = None
        self._refused: set[str] = set()  # ids already warned about (not a plain name, not valid STAC)
        self._rate_limited: ArchiveError | None = None  # an HTTP 429 that outlasted the retries
        self._checked_collections = False  # whether the collections searched were looked for (once)
        # an archive without them is an error; else (a sensor searched because the archive may have it: geo
        # vessels' every sensor, a re-check's Sentinel-1 chains) it has no scene of them
        self.collections_required = collections_required

    @property
    def cache(self) -> SceneCache | None:
        if self._cache is None and self._default_cache:
            from geo.scenes.cache import SceneCache

            self._cache = SceneCache.default()
        return self._cache

    def _open(self) -> Any:
        if self._client is None:
            from pystac_client import Client, ConformanceClasses
            from pystac_client.errors import ClientTypeError
            from pystac_client.exceptions import APIError
            from pystac_client.warnings import NoConformsTo

            from geo.scenes.remote import RetryPolicy
            from geo.scenes.stac_io import RetryingStacApiIO

            stac_io = RetryingStacApiIO(self.policy or RetryPolicy.from_env())
            try:
                with warnings.catch_warnings():  # said below, in a line naming the source, when it matters
                    warnings.simplefilter("ignore", NoConformsTo)
                    # Client.open resets the I/O's timeout to its own argument: pass it again.
                    client = Client.open(self.name, stac_io=stac_io, timeout=stac_io.timeout)
            except (APIError, OSError, pystac.STACError, json.JSONDecodeError) as exc:
                raise ArchiveError(f"{self.name}: cannot open STAC API ({describe_failure(exc)})") from None
            except ClientTypeError as exc:  # a collection's or the search's URL, copied from a browser
                raise ArchiveError(not_landing_page(self.name, str(exc))) from None
            if not client.has_conforms_to():  # a landing page without `conformsTo`: its /conformance may say it
                read_conformance_page(client, stac_io)
            if not client.conforms_to(ConformanceClasses.ITEM_SEARCH):  # every search would stop, DoesNotConformTo
                raise ArchiveError(f"{self.name}: a STAC catalog without item search (a static catalog, or a server not "
                                   "declaring STAC API item-search conformance): give a STAC API URL, or the path of "
                                   "the catalog's local copy")
            self._client = client
        return self._client

    def _scenes(self, what: str, one_page: bool = False, **query: Any) -> tuple[list[Scene], dict[str, str]]:
        """The scenes a search answers: every page (checked: ``geo.scenes.paging``), or the first only; and
        the items it answered that cannot be read as scenes (id: why), left out with a warning."""
        from pystac_client.exceptions import APIError

        if self._rate_limited is not None:  # a re-check's next AOIs would each wait out the backoff again, in vain
            raise ArchiveError(f"{self._rate_limited}; not asked again in this run")
        client = self._open()
        try:
            search = client.search(collections=list(self.collections), limit=PAGE_SIZE, **query)
            pages = search.pages_as_dicts()
            from geo.scenes.paging import SearchLimits, checked_features, first_page

            limits = self.limits or SearchLimits.from_env()
            features = first_page(pages) if one_page else checked_features(pages, self.name, limits)
        except (APIError, OSError, pystac.STACError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            error = ArchiveError(f"{self.name}: {what} failed ({describe_failure(exc)})")
            if getattr(exc, "status_code", None) == 429:  # "too many requests" after every retry's wait
                self._rate_limited = error
            raise error from None
        return _readable_scenes(features, client, self.name)

    def search(self, geometry: BaseGeometry, start: date, end: date) -> list[Scene]:
        from shapely.geometry import mapping

        lo, hi = day_range(start, end)
        scenes, refused = self._scenes("search", intersects=mapping(search_footprint(geometry)), datetime=[lo, hi])
        if not scenes and not refused and not self._checked_collections:  # else "no scene over the AOI": the
            self._checked_collections = True  # archive "seems not to image" it
            if (absent := absent_collections(self._open(), self.collections, self.name)) is not None:
                if self.collections_required:
                    raise ArchiveError(absent)
                log.info("%s", absent)
        news = not_yet_warned(refused, self._refused)
        if news:  # one bad item costs its own scene, not the search
            log.warning("%s: skipped %d item(s) that are not valid STAC: %s", self.name, len(news),
                        "; ".join(f"{shown_id(i)}: {refused[i]}" for i in news[:5]))
        # the footprint may cover more than the AOI; and an archive may ignore the dates asked (then every year's)
        found = [s for s in safe_scenes(scenes, self.name, self._refused)
                 if s.geometry.intersects(geometry) and in_period(s, lo, hi)]
        if len(found) < len(scenes) and (outside := sum(not in_period(s, lo, hi) for s in scenes)):
            log.info("%s: left out %d item(s) the search answered from outside %s..%s", self.name, outside, start, end)
        log.info("%s: %d items in %s from %s to %s", self.name, len(found), ",".join(self.collections), start, end)
        return sorted(found, key=lambda s: s.datetime)

    def get(self, scene_id: str) -> Scene:
        check_item_id(scene_id, self.name)
        cached = self.cache.load_item(scene_id, self.name) if self.cache else None
        if cached is not None and cached.get("collection") in self.collections:
            try:
                return scene_from_item(pystac.Item.from_dict(cached), self.name)
            except (pystac.STACError, ValueError, KeyError, TypeError) as exc:
                log.warning("ignoring unreadable cached item %s (%s)", scene_id, exc)
        answer, refused = self._scenes(f"lookup of {scene_id!r}", one_page=True, ids=[scene_id])
        if scene_id in refused:
            raise SceneError(f"{self.name}: item {shown_id(scene_id)} is not valid STAC ({refused[scene_id]})")
        scene = next((s for s in answer if s.id == scene_id), None)
        if scene is None and answer:
            others = ", ".join(shown_id(s.id) for s in answer[:3]) + (" ..." if len(answer) > 3 else "")
            raise ArchiveError(f"{self.name}: asked for item {shown_id(scene_id)}, the archive answered with "
                               f"{'another item' if len(answer) == 1 else 'other items'}: {others}")
        if scene is None:
            raise MissingSceneError(f"{self.name}: no scene with id {scene_id!r} in {', '.join(self.collections)}")
        if self.cache and scene.stac is not None:
            self.cache.store_item(scene.stac, self.name)
        return scene


def _readable_scenes(features: Sequence[Mapping[str, Any]], client: Any, source: str
                     ) -> tuple[list[Scene], dict[str, str]]:
    """The scenes of ``features`` (a search's items), and the ids of those that are no valid STAC item with
    why (no time, no geometry...)."""
    scenes, refused = [], {}
    for feature in features:
        try:
            item = pystac.Item.from_dict(dict(feature), root=client, preserve_dict=False)
            scenes.append(scene_from_item(item, source))
        except (pystac.STACError, SceneError, KeyError, TypeError, ValueError) as exc:
            refused[str(feature.get("id", "(no id)"))] = " ".join(str(exc).split())[:200] or type(exc).__name__
    return scenes, refused


def check_sensor(sensor: str) -> Sensor:
    """``sensor`` as a ``Sensor``, or a clear error naming the known ones."""
    try:
        return Sensor(sensor)
    except ValueError:
        raise SceneError(f"unknown sensor {sensor!r} (use one of {', '.join(Sensor)})") from None


def open_source(source: str, sensor: Sensor | str | None = None, collections: Sequence[str] | None = None,
                cache: SceneCache | None = None, collections_required: bool = True) -> SceneSource:
    """``earth-search``, ``planetary-computer``, ``cdse``, any STAC API URL, or a local STAC catalog (file or
    folder), searched for ``sensor`` (``s2`` or ``s1``) in ``collections`` (default: per archive). Without
    a sensor an archive is searched for Sentinel-2 and a local catalog yields every scene it holds. An API
    without the collections searched is an error, or, not ``collections_required`` (the sensor searched in
    case the archive has it), holds no scene of them."""
    kind = check_sensor(sensor) if sensor is not None else None
    if source in ARCHIVES:
        archive = ARCHIVES[source]
        chosen = tuple(collections or archive.collections.get(kind or Sensor.S2, ()))
        if not chosen:
            raise SceneError(f"source {source!r} has no {kind} collection ({archive.note})")
        return StacApi(archive.url, chosen, cache, default_cache=True, collections_required=collections_required)
    if source.startswith(("http://", "https://")):
        return StacApi(source.rstrip("/"), tuple(collections or DEFAULT_COLLECTIONS[kind or Sensor.S2]), cache,
                       default_cache=True, collections_required=collections_required)
    path = Path(source)
    if not path.exists():
        raise SceneError(unknown_source_message(source))
    return LocalCatalog(path, kind, collections)


def unknown_source_message(source: str) -> str:
    """A ``--source`` that names nothing: the names it takes (``demo`` too, which the CLI turns into the demo
    catalog's path before this), and the one meant when it is a name typed a slip away (``earthsearch``, ``Demo``)."""
    names = (*ARCHIVES, "demo")
    message = (f"scene source {source!r} is neither {', '.join(repr(a) for a in ARCHIVES)}, 'demo' (the demo scenes "
               "that come with geo), a URL, nor an existing catalog path")
    if "/" in source or "\\" in source or "." in source:
        return message
    close = closest(source.replace("_", "-").replace(" ", "-"), names, cutoff=0.7)
    return f"{message} (did you mean {close!r}?)" if close else message
