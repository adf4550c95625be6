"""A change job's results as a STAC Item, so the STAC tools of the field (pystac, STAC Browser, stac-fastapi
loaders) can index and read them: ``item.json`` in each run folder, and the items of ``geo recheck
--export-stac`` (``geo.recheck.stac_export``).

The item's geometry is the AOI (lon/lat), ``start_datetime``/``end_datetime`` the pair's acquisition times,
its assets the run's files with roles and media types, ``derived_from`` links to the source scenes' items,
and the processing extension names the software and the detector's algorithm version. pystac builds and
writes it; hrefs are relative to the item (the folder moves as a whole).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from geo import __version__, paths
from geo.atomic import write_json
from geo.outputs.run_data import MANIFEST
from geo.paths import visible_files

if TYPE_CHECKING:
    import pystac

    from geo.results import JobResult
    from geo.scenes.model import Scene

log = logging.getLogger(__name__)

STAC_ITEM = "item.json"
PROCESSING_EXTENSION = "https://stac-extensions.github.io/processing/v1.1.0/schema.json"
PROJECTION_EXTENSION = "https://stac-extensions.github.io/projection/v2.0.0/schema.json"
SOFTWARE = "geo-change-workbench"
COG = "image/tiff; application=geotiff; profile=cloud-optimized"

# Media type and roles per file suffix; a name listed in _ROLES overrides the roles.
_BY_SUFFIX: Mapping[str, tuple[str, tuple[str, ...]]] = {
    ".geojson": ("application/geo+json", ("data",)),
    ".kml": ("application/vnd.google-earth.kml+xml", ("data",)),
    ".gpkg": ("application/geopackage+sqlite3", ("data",)),
    ".tif": (COG, ("data",)),
    ".qml": ("application/xml", ("style",)),
    ".qgz": ("application/zip", ("visual",)),
    ".qlr": ("application/xml", ("visual",)),
    ".html": ("text/html", ("overview",)),
    ".json": ("application/json", ("metadata",)),
    ".csv": ("text/csv", ("data",)),
    ".svg": ("image/svg+xml", ("overview",)),
    ".png": ("image/png", ("overview",)),
}
_ROLES: Mapping[str, tuple[str, ...]] = {
    "before_rgb.tif": ("visual",),
    "after_rgb.tif": ("visual",),
    "aoi.geojson": ("metadata",),
    "report.html": ("overview", "report"),
    "project.qgz": ("visual", "qgis-project"),
}


@dataclass(frozen=True)
class SceneLink:
    """A source scene as the item records it: id, acquisition time and, when known, its STAC item's href."""

    id: str
    datetime: datetime
    href: str | None
    tiles: tuple[SceneLink, ...] = ()  # a pass read from several items (geo.scenes.mosaic): one link each


def asset_of(name: str, href: str | None = None, title: str | None = None) -> pystac.Asset | None:
    """The asset of the file ``name`` (its href ``href``, default the name itself: ``relative_uri``), or None
    for a file type the item does not list."""
    import pystac

    suffix = Path(name).suffix.lower()
    if suffix not in _BY_SUFFIX:
        return None
    media_type, roles = _BY_SUFFIX[suffix]
    return pystac.Asset(href or relative_uri(name), title=title or name, media_type=media_type,
                        roles=list(_ROLES.get(name, roles)))


def asset_key(name: str) -> str:
    """``changes.geojson`` → ``changes-geojson``: unique per file and readable."""
    return name.replace(".", "-")


def software(algorithm_version: str) -> dict[str, str]:
    """``processing:software``: the workbench and the detector (``name/version+digest`` split at the slash)."""
    name, _, version = algorithm_version.partition("/")
    return {SOFTWARE: __version__, name: version or algorithm_version}


def change_item(item_id: str, geometry: dict[str, Any], before: SceneLink, after: SceneLink,
                algorithm_version: str, assets: Mapping[str, pystac.Asset],
                properties: Mapping[str, Any] | None = None) -> pystac.Item:
    """The STAC Item of one change job: ``geometry`` is the AOI (GeoJSON, lon/lat)."""
    lineage = (f"Change detection ({algorithm_version}) between Sentinel scenes {before.id} "
               f"({before.datetime.date()}) and {after.id} ({after.datetime.date()})")
    return derived_item(item_id, geometry, (before, after), algorithm_version, lineage, assets, properties)


def derived_item(item_id: str, geometry: dict[str, Any], scenes: Sequence[SceneLink], algorithm_version: str,
                 lineage: str, assets: Mapping[str, pystac.Asset],
                 properties: Mapping[str, Any] | None = None) -> pystac.Item:
    """The STAC Item of a product derived from ``scenes`` (at least one) over ``geometry`` (GeoJSON, lon/lat):
    its time range theirs, a ``derived_from`` link to each scene's item, the processing extension."""
    import pystac
    from shapely.geometry import shape

    from geo.antimeridian import bbox

    times = [scene.datetime for scene in scenes]  # across 180 the bbox's west is over its east (RFC 7946 5.2)
    item = pystac.Item(item_id, geometry, list(bbox(shape(geometry))), None,
                       {**(properties or {}), "geo:algorithm_version": algorithm_version},
                       start_datetime=min(times), end_datetime=max(times),
                       stac_extensions=[PROCESSING_EXTENSION])
    item.properties.update({
        "processing:level": "L4",  # derived from analysis of lower-level data
        "processing:lineage": lineage,
        "processing:software": software(algorithm_version),
    })
    for scene in (tile for link in scenes for tile in (link.tiles or (link,))):
        if scene.href:
            item.add_link(pystac.Link("derived_from", scene.href, media_type="application/geo+json",
                                      title=f"source scene {scene.id}"))
        else:
            log.warning("item %s: no STAC item href known for scene %s (no derived_from link)", item_id, scene.id)
    for key, asset in assets.items():
        item.add_asset(key, asset)
    if any("proj:shape" in asset.extra_fields for asset in assets.values()):
        item.stac_extensions.append(PROJECTION_EXTENSION)
    return item


@lru_cache(maxsize=8)
def _catalog_item_files(catalog: Path, _modified_ns: int) -> dict[str, str]:
    """Item id → item file of a local catalog (read once per catalog version and process)."""
    from geo.scenes.file_io import local_path
    from geo.scenes.local_catalog import catalog_items

    return {item.id: local_path(href) for item in catalog_items(catalog) if (href := item.get_self_href())}


def relative_uri(path: str) -> str:
    """A relative POSIX path as an href: ``#`` and ``?`` percent-encoded, since a URL reader (STAC Browser, a
    static web server) would take the rest for a fragment or a query and read another file. Nothing else is:
    pystac reads a local href as the path it spells (``%20`` would be looked for literally), so spaces, ``%``
    and non-ASCII letters stay as they are, which URL readers take too."""
    return path.replace("#", "%23").replace("?", "%3F")


def _local_href(path: Path, folder: Path) -> str:
    """``path`` relative to ``folder`` when they share a folder below the file system's root (a run beside or
    inside the project: it resolves from the item, and the two move together); otherwise, and for a catalog
    among the installed package's files (a relative path would climb into site-packages), its absolute
    ``file:`` URI. STAC tools resolve a relative href against the item's own location, so any other relative
    form (a project-relative path) would point nowhere; the URI resolves wherever the item is read."""
    folder = Path(folder).absolute()
    path = Path(path).absolute()
    common = Path(os.path.commonpath([folder, path]))
    if common != common.parent and not path.resolve().is_relative_to(paths.package_dir()):
        return relative_uri(Path(os.path.relpath(path, folder)).as_posix())
    return path.as_uri()


def scene_item_href(scene_id: str, collection: str, source: str, folder: Path) -> str | None:
    """The href of a scene's STAC item: on a STAC API ``<api>/collections/<collection>/items/<id>``; in a local
    catalog its item file (``_local_href``: relative to ``folder``, where the item referring to it lives)."""
    if source.startswith(("http://", "https://")):
        if not collection:
            return None
        return f"{source.rstrip('/')}/collections/{quote(collection)}/items/{quote(scene_id)}"
    if not source:
        return None
    try:
        from geo.scenes.local_catalog import catalog_file

        catalog = catalog_file(Path(source)).absolute()
        path = _catalog_item_files(catalog, catalog.stat().st_mtime_ns).get(scene_id)
    except Exception as exc:  # a catalog moved or gone since the run: the link is left out, not the item
        log.warning("cannot read the catalog %s for scene %s: %s", source, scene_id, exc)
        return None
    if not path:
        return None
    if path.startswith(("http://", "https://")):  # a saved search's item: where its archive serves it (self link)
        return path
    href = _local_href(Path(path), folder)
    # a path of this disk, in a folder handed on: where the item says it is published, when it says (else pystac
    # still follows the URI here)
    return (_published_href(Path(path)) or href) if href.startswith("file:") else href


def _published_href(path: Path) -> str | None:
    """Where a local copy of a published STAC item is published: its ``via`` or ``canonical`` link over https, or,
    for an item of Earth Search (its ``earthsearch:`` fields), its URL in Earth Search's API; None otherwise."""
    import json

    from geo.scenes.source import EARTH_SEARCH

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for link in data.get("links") or []:
        if isinstance(link, dict) and link.get("rel") in ("via", "canonical") \
                and str(link.get("href", "")).startswith("https://"):
            return str(link["href"])
    properties, collection = data.get("properties") or {}, data.get("collection")
    if isinstance(collection, str) and collection and any(str(k).startswith("earthsearch:") for k in properties):
        return f"{EARTH_SEARCH}/collections/{quote(collection)}/items/{quote(str(data.get('id', '')))}"
    return None


def scene_link(scene: Scene, folder: Path) -> SceneLink:
    """``scene`` as an item in ``folder`` links to it."""
    tiles = tuple(scene_link(tile, folder) for tile in scene.parts)
    return SceneLink(scene.id, scene.datetime,
                     None if tiles else scene_item_href(scene.id, scene.collection, scene.source, folder), tiles)


def write_item(path: Path, item: pystac.Item) -> None:
    """``item`` as JSON at ``path``, its hrefs as given (relative ones stay relative)."""
    write_json(path, item.to_dict(include_self_link=False, transform_hrefs=False))


def raster_fields(path: Path) -> dict[str, Any]:
    """A raster's grid and bands as STAC asset fields, read from the file: the projection extension's
    ``proj:code`` (or ``proj:wkt2``), ``proj:shape``, ``proj:transform``, ``proj:bbox``, and STAC 1.1's
    ``bands``. Catalog loaders (odc-stac, stackstac) need them: without, odc-stac stops at "Failed to
    auto-guess CRS/resolution", and given a CRS it loads the AOI's extent instead of the file's grid and a
    three-band file as its first band only."""
    import rasterio

    with rasterio.open(path) as src:
        epsg = src.crs.to_epsg() if src.crs else None
        crs = {"proj:code": f"EPSG:{epsg}"} if epsg else {"proj:code": None, "proj:wkt2": src.crs.to_wkt()
                                                          if src.crs else None}
        nodata = src.nodata
        bands = [{"name": src.descriptions[i] or f"band{i + 1}", "data_type": src.dtypes[i],
                  **({} if nodata is None else {"nodata": "nan" if nodata != nodata else nodata})}
                 for i in range(src.count)]
        return {**crs, "proj:shape": [src.height, src.width], "proj:transform": list(src.transform)[:6],
                "proj:bbox": list(src.bounds), "bands": bands}


def run_assets(names: Sequence[str], folder: Path | None = None) -> dict[str, pystac.Asset]:
    """The assets of a run folder's files ``names``; its GeoTIFFs in ``folder`` with their grid and bands."""
    assets = {}
    for name in sorted(names):
        if name == STAC_ITEM or (asset := asset_of(name)) is None:
            continue
        if folder is not None and asset.media_type == COG and (Path(folder) / name).is_file():
            asset.extra_fields.update(raster_fields(Path(folder) / name))
        assets[asset_key(name)] = asset
    return assets


def write_stac_item(result: JobResult, out: Path) -> None:
    """``item.json`` of a run folder: every file the writers before it made there, and ``manifest.json``
    (written last, after this)."""
    from geo.outputs.geojson import rfc7946_geometry

    if result.aoi is None:
        raise ValueError("JobResult without its AOI: cannot write the STAC item")
    manifest = result.manifest
    before, after = result.before.scene, result.after.scene
    names = [path.name for path in visible_files(out)]
    properties = {"title": f"Changes in {result.aoi.name}", "geo:aoi_id": result.aoi.id,
                  "geo:sensor": manifest.sensor, "geo:n_changes": len(result.features),
                  "geo:claim_ids": sorted({c.claim_id for c in result.claims})}
    item = change_item(f"{result.aoi.id}_{before.id}_{after.id}", rfc7946_geometry(result.aoi.geometry),
                       scene_link(before, out), scene_link(after, out), manifest.algorithm_version,
                       run_assets([*names, MANIFEST], out), properties)
    write_item(Path(out) / STAC_ITEM, item)
