"""A STAC item read into a ``Scene``: its assets keyed by band (Earth Search's names, whatever keys the archive
uses), each with its reflectance scaling, nodata, data type and where GDAL fetches it from."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import pystac

from geo.errors import SceneError
from geo.scenes.file_io import local_path
from geo.scenes.model import (BASELINE_OFFSET_FROM, BOA_OFFSET_APPLIED, S2_QUANTIFICATION, SAR_ASSETS, SCL_ASSET,
                              Asset, Scene, item_datetime, item_platform, processing_baseline)


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
    ``b8a``, ``B04_10m``), else that of the Sentinel-2 band its band list names (``"name": "B04"``: an asset keyed
    by its file name)."""
    for field_name, name_key in (("eo:bands", "common_name"), ("bands", "eo:common_name")):
        name = _band_entry(asset_fields, field_name).get(name_key)
        if name:
            return str(name)
    named = (str(_band_entry(asset_fields, f).get("name") or "").upper() for f in ("eo:bands", "bands"))
    return S2_COMMON_NAMES.get(_band_key(key)[0].upper()) or next(
        (S2_COMMON_NAMES[n] for n in named if n in S2_COMMON_NAMES), None)


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
    if is_reflectance and _gdal_default_scaling(scale, offset, band.get("data_type")):
        scale = offset = None  # rio-stac's copy of GDAL's default: integer DN, not reflectance up to 10000
    if scale is None and offset is None:
        if not is_reflectance or str(band.get("data_type") or "").startswith("float"):  # floats: reflectance itself
            return 1.0, 0.0
        scale = 1.0 / S2_QUANTIFICATION
        offset = -1000.0 / S2_QUANTIFICATION if baseline is not None and baseline >= BASELINE_OFFSET_FROM else 0.0
    scale = float(scale if scale is not None else 1.0)
    offset = float(offset if offset is not None else 0.0)
    if is_reflectance and offset and (properties.get(BOA_OFFSET_APPLIED) is True
                                      or (baseline is not None and baseline < BASELINE_OFFSET_FROM)):
        offset = 0.0
    return scale, offset


def _gdal_default_scaling(scale: object, offset: object, data_type: object) -> bool:
    """Whether an integer band's ``scale 1.0, offset 0.0`` only copies GDAL's default (``rio stac`` writes it for
    every file): said of reflectance stored as integers, it would make DN 0..10000 the reflectance."""
    integer = str(data_type or "").startswith(("uint", "int"))
    return integer and scale in (1, 1.0) and offset in (None, 0, 0.0)


def _band_names(asset_fields: Mapping[str, object]) -> list[str]:
    """The names an asset's band list gives its bands (common name, else name), one per band; [] for a single-band
    asset or one whose bands are not listed."""
    for field_name, name_key in (("eo:bands", "common_name"), ("bands", "eo:common_name"), ("raster:bands", "")):
        entries = asset_fields.get(field_name)
        if isinstance(entries, list) and len(entries) > 1:
            return [str(e.get(name_key) or e.get("name") or f"band {i}") if isinstance(e, Mapping) else f"band {i}"
                    for i, e in enumerate(entries, 1)]
    return []


def _several_bands(key: str, names: list[str]) -> str:
    """Why an asset of several bands is not read: each of geo's reads takes one band of one file."""
    return (f"asset {key!r} holds {len(names)} bands ({', '.join(names)}) in one file, and geo reads one band "
            f"per asset: give each band its own single-band file and asset (gdal_translate -b N)")


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
    unread: dict[str, Asset] = {}  # band name -> the multi-band asset holding it (not read)
    for key, asset in item.assets.items():
        roles = asset.roles or []
        is_class_map = _band_key(key)[0].lower() == SCL_ASSET
        if roles and "data" not in roles and not is_class_map:  # no roles at all (rio stac's): data too
            continue
        fields = asset.extra_fields
        if names := _band_names(fields):  # each band's name answers, and says why it is not read
            href = asset.get_absolute_href() or asset.href
            several = Asset(key, local_path(href), problem=_several_bands(key, names), bands=len(names))
            assets[key] = several
            for name in names:
                unread.setdefault(name.lower(), several)
            continue
        common = _common_name(key, fields)
        if is_class_map:  # a class map (Earth Search tags it "reflectance" too): never scaled
            scale, offset = 1.0, 0.0
        else:
            # Planetary Computer's B02...B12 carry no "reflectance" role, only eo:bands
            scale, offset = reflectance_scaling(fields, item.properties, "reflectance" in roles or bool(common))
        band = _raster_fields(fields)
        nodata, data_type, unit = band.get("nodata"), band.get("data_type"), band.get("unit")
        href = asset.get_absolute_href() or asset.href
        # Sentinel-2's DN rule taken for want of any word on the band's type or scale: a float file is reflectance
        assumed = not is_class_map and not data_type and (scale, offset) != (1.0, 0.0) and not any(
            name in band for name in ("scale", "offset"))
        assets[key] = Asset(key, local_path(href), scale, offset, None if nodata is None else float(nodata),
                            _unreachable(href, source), str(data_type) if data_type else None,
                            str(unit) if unit else None, storage_options(href, fields, item.properties),
                            scale_assumed=assumed)
        # Earth Search names (blue, nir, swir16, scl ...) for archives that key assets by band (B02, SCL, B04_10m)
        alias = SCL_ASSET if is_class_map else key.lower() if key.lower() in SAR_ASSETS else common
        resolution = _resolution(key, fields)
        if alias and alias != key and (alias not in aliases or resolution < aliases[alias][0]):
            aliases[alias] = (resolution, assets[key])
    for alias, (_, aliased) in aliases.items():
        assets.setdefault(alias, aliased)
    for alias, several in unread.items():  # a band only a multi-band asset holds: asked for, it says why not read
        assets.setdefault(alias, several)
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
