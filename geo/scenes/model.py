"""Value types for scenes: a STAC item reduced to what the pipeline needs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from datetime import date, datetime, timezone
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pystac

from geo.errors import SceneError, UnusableSceneError
from geo.scenes.file_io import local_path

if TYPE_CHECKING:  # shapely only where footprints are built: a re-check with nothing new needs none
    from shapely.geometry.base import BaseGeometry

# Sentinel-2 L2A (Earth Search) masks these SCL classes: no data, saturated, cloud shadow, clouds, cirrus.
SCL_MASKED = (0, 1, 3, 8, 9, 10)
SCL_NODATA = 0
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
    # GDAL settings reaching the file where the item says it is stored (``storage_options``): an S3 endpoint
    gdal_options: tuple[tuple[str, str], ...] = ()


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
            raise UnusableSceneError(self.id, f"no asset {key!r} (has {', '.join(sorted(self.assets))})")
        if asset.problem is not None:
            raise UnusableSceneError(self.id, f"asset {key!r}: {asset.problem}")
        return asset

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


# Sentinel-2 MSI band names and their common names (Earth Search's asset keys): for archives keying assets by
# band (B04, as the Planetary Computer does) whose assets do not say their eo:bands.
S2_COMMON_NAMES: Mapping[str, str] = MappingProxyType({
    "B01": "coastal", "B02": "blue", "B03": "green", "B04": "red", "B05": "rededge1", "B06": "rededge2",
    "B07": "rededge3", "B08": "nir", "B8A": "nir08", "B09": "nir09", "B11": "swir16", "B12": "swir22"})


# An asset key naming its band and resolution, as the Copernicus Data Space's items have it (B04_10m, SCL_20m)
_RESOLUTION_SUFFIX = re.compile(r"_(\d+)m$", re.IGNORECASE)


def _band_key(key: str) -> tuple[str, int | None]:
    """(the key without a resolution suffix, that resolution in metres or None): ``B04_10m`` -> (``B04``, 10)."""
    match = _RESOLUTION_SUFFIX.search(key)
    return (key[:match.start()], int(match.group(1))) if match else (key, None)


def _common_name(key: str, asset_fields: Mapping[str, object]) -> str | None:
    """The common name of a single-band optical asset (``blue``, ``nir``, ``swir16`` ...): its ``eo:bands``' (STAC
    1.0) or its ``bands``' ``eo:common_name`` (STAC 1.1), else that of the Sentinel-2 band its key names (``B04``,
    ``b8a``, ``B04_10m``)."""
    for field_name, name_key in (("eo:bands", "common_name"), ("bands", "eo:common_name")):
        name = _band_entry(asset_fields, field_name).get(name_key)
        if name:
            return str(name)
    return S2_COMMON_NAMES.get(_band_key(key)[0].upper())


def _band_entry(asset_fields: Mapping[str, object], field_name: str, only: bool = True) -> Mapping[str, Any]:
    """The entry of the asset's band list ``field_name`` (``eo:bands``, ``bands``, ``raster:bands``) describing its
    band: the one entry (``only``), or the first; {} when there is none."""
    entries = asset_fields.get(field_name)
    if isinstance(entries, list) and entries and (len(entries) == 1 or not only) and isinstance(entries[0], Mapping):
        return entries[0]
    return {}


_RASTER_FIELDS = ("scale", "offset", "nodata", "data_type", "unit")


def _raster_fields(asset_fields: Mapping[str, object]) -> dict[str, Any]:
    """A single-band asset's scale, offset, nodata, data type and unit, wherever its STAC version puts them: STAC
    1.1's fields on the asset (``raster:scale``, ``raster:offset``, ``nodata``, ``data_type``, ``unit``) or on its
    one entry of ``bands`` (the band's own: it wins), and STAC 1.0's ``raster:bands`` (wins where both are)."""
    found: dict[str, Any] = {}
    band_fields = _band_entry(asset_fields, "bands")
    legacy_fields = _band_entry(asset_fields, "raster:bands", only=False)
    for where, prefixed in ((asset_fields, True), (band_fields, True), (legacy_fields, False)):
        for name in _RASTER_FIELDS:
            value = where.get(f"raster:{name}" if prefixed and name in ("scale", "offset") else name)
            if value is not None:
                found[name] = value
    return found


def _resolution(key: str, asset_fields: Mapping[str, object]) -> float:
    """An asset's pixel size in metres (its ``gsd``, else its key's suffix), to pick the finest of one band's
    copies; unknown sorts last."""
    gsd = asset_fields.get("gsd")
    if isinstance(gsd, (int, float)) and gsd > 0:
        return float(gsd)
    suffix = _band_key(key)[1]
    return float(suffix) if suffix else float("inf")


def reflectance_scaling(
    asset_fields: Mapping[str, object], properties: Mapping[str, object], is_reflectance: bool
) -> tuple[float, float]:
    """(scale, offset) turning DN into reflectance.

    The item's ``raster:bands`` first, else the processing-baseline rule (DN offset -1000 from 04.00),
    with two corrections for known archive metadata faults: an item flagged
    ``earthsearch:boa_offset_applied`` has the offset already taken out of its pixels, and no product
    older than baseline 04.00 carries an offset, whatever its raster:bands say.
    """
    band = _raster_fields(asset_fields)
    baseline = processing_baseline(properties)
    scale, offset = band.get("scale"), band.get("offset")
    if scale is None and offset is None:
        if not is_reflectance:
            return 1.0, 0.0
        scale = 1.0 / S2_QUANTIFICATION
        offset = -1000.0 / S2_QUANTIFICATION if baseline is not None and baseline >= BASELINE_OFFSET_FROM else 0.0
    scale = float(scale if scale is not None else 1.0)
    offset = float(offset if offset is not None else 0.0)
    if is_reflectance and offset and (properties.get(BOA_OFFSET_APPLIED) is True
                                      or (baseline is not None and baseline < BASELINE_OFFSET_FROM)):
        offset = 0.0
    return scale, offset


_FETCHED = ("http://", "https://", "s3://", "gs://", "az://", "/vsi")  # what an archive's asset may point at


def _unreachable(href: str, source: str) -> str | None:
    """Why an asset of an item from the archive ``source`` cannot be fetched, or None. An archive's item
    points at files it serves: a relative href with no self link to resolve it against would be read from
    the working folder, and a local path from this machine's disk."""
    if not source.startswith(("http://", "https://")) or href.startswith(_FETCHED):
        return None
    if href.startswith(("/", "file:")):
        return f"href {href!r} is a local path, not a file of the archive {source}"
    return f"href {href!r} is relative and the item has no self link to resolve it against"


def storage_options(href: str, asset_fields: Mapping[str, object],
                    properties: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    """GDAL's settings for an ``s3://`` asset stored where the item's ``storage:schemes`` (STAC storage extension
    v2, named by the asset's ``storage:refs``) say: an S3-compatible platform other than AWS (the Copernicus Data
    Space's ``eodata`` bucket at https://eodata.dataspace.copernicus.eu) is an endpoint, path-style; a bucket whose
    reader pays says so. The first scheme named wins; none, or not an s3:// href: no setting."""
    refs, schemes = asset_fields.get("storage:refs"), properties.get("storage:schemes")
    if not href.startswith("s3://") or not isinstance(refs, list) or not isinstance(schemes, Mapping):
        return ()
    scheme = next((schemes[ref] for ref in refs if isinstance(schemes.get(ref), Mapping)), None)
    if scheme is None:
        return ()
    options: dict[str, str] = {}
    platform = urlsplit(str(scheme.get("platform") or ""))
    if scheme.get("type") == "custom-s3" and platform.netloc and "{" not in platform.netloc:
        options.update({"AWS_S3_ENDPOINT": platform.netloc, "AWS_VIRTUAL_HOSTING": "FALSE",
                        "AWS_HTTPS": "NO" if platform.scheme == "http" else "YES"})
    if scheme.get("region"):
        options["AWS_REGION"] = str(scheme["region"])
    if scheme.get("requester_pays") is True:
        options["AWS_REQUEST_PAYER"] = "requester"
    return tuple(sorted(options.items()))


def scene_from_item(item: pystac.Item, source: str = "") -> Scene:
    """The scene of a STAC item; ``source`` names the archive or catalog that gave it (the scene cache keeps
    items per source)."""
    from shapely.geometry import shape

    when = item_datetime(item)
    assets: dict[str, Asset] = {}
    aliases: dict[str, tuple[float, Asset]] = {}  # alias -> (resolution, asset): the finest copy of a band answers
    for key, asset in item.assets.items():
        roles = asset.roles or []
        is_class_map = _band_key(key)[0].lower() == SCL_ASSET
        if "data" not in roles and not is_class_map:
            continue
        fields = asset.extra_fields
        common = _common_name(key, fields)
        if is_class_map:  # a class map (Earth Search tags it "reflectance" too): never scaled
            scale, offset = 1.0, 0.0
        else:
            # Planetary Computer's B02...B12 carry no "reflectance" role, only eo:bands
            scale, offset = reflectance_scaling(fields, item.properties, "reflectance" in roles or bool(common))
        band = _raster_fields(fields)
        nodata, data_type, unit = band.get("nodata"), band.get("data_type"), band.get("unit")
        href = asset.get_absolute_href() or asset.href
        assets[key] = Asset(key, local_path(href), scale, offset, None if nodata is None else float(nodata),
                            _unreachable(href, source), str(data_type) if data_type else None,
                            str(unit) if unit else None, storage_options(href, fields, item.properties))
        # Earth Search names (blue, nir, swir16, scl ...) for archives that key assets by band (B02, SCL, B04_10m)
        alias = SCL_ASSET if is_class_map else key.lower() if key.lower() in SAR_ASSETS else common
        resolution = _resolution(key, fields)
        if alias and alias != key and (alias not in aliases or resolution < aliases[alias][0]):
            aliases[alias] = (resolution, assets[key])
    for alias, (_, aliased) in aliases.items():
        assets.setdefault(alias, aliased)
    if item.geometry is None:
        raise SceneError(f"STAC item {item.id}: no geometry")
    return Scene(
        id=item.id,
        datetime=when,
        geometry=shape(item.geometry),
        assets=MappingProxyType(assets),
        collection=item.collection_id or "",
        platform=item_platform(item),
        properties=MappingProxyType(dict(item.properties)),
        stac=MappingProxyType(item.to_dict(include_self_link=False, transform_hrefs=False)),
        source=source,
    )
