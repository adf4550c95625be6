"""Value types for scenes: a STAC item reduced to what the pipeline needs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

import pystac

from geo.errors import SceneError, UnusableSceneError

if TYPE_CHECKING:  # shapely only where footprints are built: a re-check with nothing new needs none
    from shapely.geometry.base import BaseGeometry

# Sentinel-2 L2A (Earth Search) masks these SCL classes: no data, saturated, cloud shadow, clouds, cirrus.
SCL_MASKED = (0, 1, 3, 8, 9, 10)
# Of those, the soft-edged ones (cloud shadow, clouds, cirrus): masked with a buffer around them (geo.scenes.read).
SCL_CLOUDY = (3, 8, 9, 10)
SCL_NODATA = 0
SCL_SNOW = 11  # snow or ice: not masked (snow on both dates is compared); pair selection prefers like with like
SCL_ASSET = "scl"
SAR_ASSETS = ("vv", "vh", "hh", "hv")  # Sentinel-1 polarisations, keyed in lower case (some catalogs write VV)
BASELINE_OFFSET_FROM = (4, 0)  # processing baseline 04.00 (25 Jan 2022) added DN offset -1000
BASELINE_OFFSET_SINCE = date(2022, 1, 25)  # every product acquired since is of baseline 04.00 or later
S2_QUANTIFICATION = 10000.0
# Earth Search's sentinel-2-l2a already subtracted the offset from the pixels of items flagged so, while
# their raster:bands still declare offset -0.1 (Element84/earth-search#66, cirrus-earth-search#21).
BOA_OFFSET_APPLIED = "earthsearch:boa_offset_applied"


class Sensor(StrEnum):
    """The mission a scene comes from; its value is what the CLI takes and the JSON outputs hold."""

    S2 = "s2"  # Sentinel-2 MSI: optical
    S1 = "s1"  # Sentinel-1 C-band SAR: sees through cloud

    @property
    def mission(self) -> str:
        """The mission's name as users say it."""
        return "Sentinel-2" if self is Sensor.S2 else "Sentinel-1"

    @property
    def first_day(self) -> date:
        """The launch of the mission's first satellite (Sentinel-2A, Sentinel-1A): no archive holds a scene before it."""
        return date(2015, 6, 23) if self is Sensor.S2 else date(2014, 4, 3)

    @classmethod
    def named(cls, value: object) -> Sensor | None:
        """The sensor a manifest's or row's ``sensor`` names; None for a missing or unknown value (an older
        run folder)."""
        return next((s for s in cls if s.value == value), None)

    @property
    def sees_cloud(self) -> bool:
        """Whether cloud hides the ground from it (optical): a share of the area it saw is 'clear' of cloud, a
        radar's only 'seen' (what it misses is no data or outside the scenes)."""
        return self is Sensor.S2

    @property
    def clear_word(self) -> str:
        """How a share of the area it saw on both dates is said: 'clear' (of cloud), or 'seen'."""
        return "clear" if self.sees_cloud else "seen"


_PRODUCT_ORBIT = re.compile(r"_R(\d{3})_")
_PRODUCT_BASELINE = re.compile(r"_N(\d{2})(\d{2})_")


@dataclass(frozen=True)
class Asset:
    key: str
    href: str
    scale: float = 1.0
    offset: float = 0.0
    nodata: float | None = None
    problem: str | None = None  # why the href cannot be read (``Scene.asset`` refuses it), e.g. relative
    data_type: str | None = None  # as the item's raster:bands say (uint16, float32 ...), else None
    unit: str | None = None  # as the item's raster:bands say (e.g. dB), else None
    # GDAL settings reaching the file where the item says it is stored (``geo.scenes.item_assets.storage_options``): an S3 endpoint
    gdal_options: tuple[tuple[str, str], ...] = ()
    # scale and offset from Sentinel-2's DN rule, the item saying neither them nor the data type: a local file of
    # floats is read as the reflectance it holds (``geo.scenes.read.read_asset``)
    scale_assumed: bool = False
    bands: int = 1  # as its item lists them: one asset of several is not read (its ``problem`` says so)


@dataclass(frozen=True)
class Scene:
    id: str
    datetime: datetime
    geometry: BaseGeometry  # lon/lat footprint
    assets: Mapping[str, Asset]
    collection: str = ""
    platform: str = ""
    properties: Mapping[str, object] = field(default_factory=dict)
    stac: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)  # the item as JSON
    source: str = field(default="", compare=False)  # the archive URL or catalog path it came from
    # the tiles of one pass read as one scene (``geo.scenes.mosaic``): their pixels in this order of priority
    parts: tuple[Scene, ...] = field(default=(), compare=False, repr=False)
    # the ids this product had before it was published again (``geo.scenes.mosaic.newest_products``)
    supersedes: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def date(self) -> date:
        return self.datetime.date()

    @property
    def sensor(self) -> Sensor:
        """``s1`` (SAR) or ``s2`` (optical), from the collection, platform or SAR properties."""
        return sensor_of(self.collection, self.platform, self.properties)

    @property
    def relative_orbit(self) -> int | None:
        """Relative orbit (same orbit = same viewing geometry): ``sat:relative_orbit``, else the R### of
        the Sentinel-2 product name."""
        return relative_orbit_of(self.properties)

    @property
    def orbit_geometry(self) -> OrbitGeometry | None:
        """(relative orbit, ascending/descending): the viewing geometry a SAR pair must share."""
        return orbit_geometry_of(self.properties)

    @property
    def instrument_mode(self) -> str:
        """The SAR instrument mode the item says (``sar:instrument_mode``: IW, EW...), upper case; "" when unsaid."""
        return str(self.properties.get("sar:instrument_mode") or "").upper()

    @property
    def epsg(self) -> int | None:
        """The EPSG code of the item's pixel grid as it says it (``proj:epsg``, ``proj:code``), else None."""
        value = self.properties.get("proj:epsg") or str(self.properties.get("proj:code") or "").removeprefix("EPSG:")
        try:
            return int(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else None
        except ValueError:
            return None

    def asset(self, key: str) -> Asset:
        asset = self.assets.get(key)
        if asset is None:
            unread = "".join(sorted({f"; {a.problem}" for a in self.assets.values() if a.bands > 1}))
            raise UnusableSceneError(self.id, f"no asset {key!r} (has {', '.join(sorted(self.assets))}{unread})")
        if asset.problem is not None:
            raise UnusableSceneError(self.id, f"asset {key!r}: {asset.problem}")
        return asset

    @property
    def cloud_classified(self) -> bool:
        """Whether the scene's clouds are masked when read: every tile of it has a scene classification (SCL)."""
        return all(SCL_ASSET in tile.assets for tile in self.parts or (self,))

    def summary(self) -> dict[str, object]:
        return {
            "id": self.id,
            "datetime": self.datetime.isoformat(),
            "collection": self.collection,
            "platform": self.platform,
            "sensor": self.sensor,
            "relative_orbit": self.relative_orbit,
            "orbit_state": self.properties.get("sat:orbit_state"),
            "eo:cloud_cover": tile_cloud_cover(self.properties),
            **({"tiles": [part.id for part in self.parts]} if self.parts else {}),
        }


OrbitGeometry = tuple[int, str]  # (relative orbit, orbit direction)


def tile_cloud_cover(properties: Mapping[str, object]) -> float | None:
    """The item's ``eo:cloud_cover`` (percent of the whole tile) when it is one: a number from 0 to 100; None
    when absent or not one (archives write null, "n/a", NaN, -1 ...)."""
    value = properties.get("eo:cloud_cover")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        percent = float(value)
    except ValueError:
        return None
    return percent if 0.0 <= percent <= 100.0 else None  # NaN fails both comparisons


def relative_orbit_of(properties: Mapping[str, object]) -> int | None:
    """``sat:relative_orbit``, else the R### of the Sentinel-2 product name (``Scene.relative_orbit``)."""
    value = properties.get("sat:relative_orbit")
    if value is not None:
        try:
            return int(value) if isinstance(value, (int, float, str)) else None
        except (TypeError, ValueError):
            return None
    match = _PRODUCT_ORBIT.search(str(properties.get("s2:product_uri", "")))
    return int(match.group(1)) if match else None


def orbit_geometry_of(properties: Mapping[str, object]) -> OrbitGeometry | None:
    """(relative orbit, ascending/descending) from item properties, or None when they do not say."""
    orbit, state = relative_orbit_of(properties), properties.get("sat:orbit_state")
    return None if orbit is None or not state else (orbit, str(state).lower())


def sensor_of(collection: str, platform: str, properties: Mapping[str, object]) -> Sensor:
    """``s1`` (SAR) or ``s2`` (optical), from an item's collection, platform or SAR properties."""
    names = (collection.lower(), platform.lower())
    if any(n.startswith("sentinel-1") for n in names) or "sar:instrument_mode" in properties:
        return Sensor.S1
    return Sensor.S2


def item_datetime(item: pystac.Item) -> datetime:
    """When a STAC item was acquired: its ``datetime``, else its ``start_datetime``; one written without a
    time zone is taken as UTC (STAC's times are UTC), so that it compares with every other."""
    when = item.datetime
    if when is None:
        start = item.properties.get("start_datetime")
        if not start:
            raise SceneError(f"STAC item {item.id}: no datetime")
        when = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def in_period(scene: Scene, lo: datetime, hi: datetime) -> bool:
    """Whether ``scene`` was acquired in [lo, hi]: its time, or the span its ``start_datetime`` and
    ``end_datetime`` give, meeting it (as a STAC API's ``datetime`` filter matches)."""
    start, end = (_utc(scene.properties.get(name)) for name in ("start_datetime", "end_datetime"))
    if start is not None and end is not None and start <= hi and end >= lo:
        return True
    return lo <= scene.datetime <= hi


def _utc(value: object) -> datetime | None:
    """A STAC time property as an aware datetime (UTC when it says no zone); None when absent or unreadable."""
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
    return when if when is None or when.tzinfo else when.replace(tzinfo=timezone.utc)


def item_platform(item: pystac.Item) -> str:
    return str(item.properties.get("platform", item.properties.get("constellation", "")))


def item_sensor(item: pystac.Item) -> Sensor:
    return sensor_of(item.collection_id or "", item_platform(item), item.properties)


def processing_baseline(properties: Mapping[str, object]) -> tuple[int, int] | None:
    """The product's processing baseline: its ``s2:processing_baseline`` (or ``processing:version``), else the
    N#### of its product name; else, acquired since baseline 04.00 became the only one, at least (4, 0)."""
    text = properties.get("s2:processing_baseline") or properties.get("processing:version")
    if text:
        try:
            major, minor = str(text).split(".")[:2]
            return int(major), int(minor)
        except ValueError:
            return None
    named = _PRODUCT_BASELINE.search(str(properties.get("s2:product_uri", "")))
    if named:
        return int(named.group(1)), int(named.group(2))
    acquired = str(properties.get("datetime") or properties.get("start_datetime") or "")[:10]
    try:
        return BASELINE_OFFSET_FROM if date.fromisoformat(acquired) >= BASELINE_OFFSET_SINCE else None
    except ValueError:
        return None
