"""``geo recheck --export-stac DIR``: the results store as a static STAC Collection, one Item per processed
pair (AOI, before scene, after scene, algorithm version), each item the same shape as a run folder's
``item.json`` (``geo.outputs.stac_item``): the AOI's geometry, the pair's acquisition times, its change
polygons (``changes.geojson``, ``changes.kml``) and manifest as assets, ``derived_from`` its source scenes.

pystac writes it self-contained (relative links), through ``file:`` URIs (``geo.scenes.file_io``: DIR may hold
``#`` or ``?``), into a staging folder swapped into place whole (``geo.atomic.staged_dir``): DIR always holds
one whole export. It is rebuilt from the store each time. Each item's folder is named by its id as a file name
holds it (``geo.scenes.ids.id_as_file_name``).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.atomic import check_output_dir, staged_dir, write_json
from geo.output_kinds import EXPORT
from geo.scenes.ids import id_as_file_name
from geo.store import Store
from geo.store.times import parse_utc

if TYPE_CHECKING:
    import pystac

log = logging.getLogger(__name__)

COLLECTION = "collection.json"
_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class StoredPair:
    aoi_id: str
    before: str
    before_datetime: datetime
    after: str
    after_datetime: datetime
    algorithm_version: str
    n_changes: int
    clear_fraction: float | None
    manifest: dict[str, Any]
    run_id: int


def _pairs(store: Store) -> list[StoredPair]:
    """Every processed pair of the store, oldest after-scene first (read from its documented ``pairs`` table)."""
    rows = store.conn.execute(
        "SELECT aoi_id, before_scene, before_datetime, after_scene, after_datetime, algorithm_version, n_changes, "
        "clear_fraction, manifest, run_id FROM pairs WHERE status = 'done' ORDER BY after_datetime, fid")
    return [StoredPair(r[0], r[1], parse_utc(r[2]), r[3], parse_utc(r[4]), r[5], r[6] or 0, r[7],
                       json.loads(r[8] or "{}"), r[9]) for r in rows]


def _scene_origin(store: Store, aoi_id: str, scene_id: str) -> tuple[str, str]:
    """(collection, source) the store recorded for a scene of an AOI."""
    row = store.conn.execute("SELECT collection, source FROM scenes WHERE aoi_id = ? AND scene_id = ?",
                             (aoi_id, scene_id)).fetchone()
    return (row[0] or "", row[1] or "") if row else ("", "")


def item_id(pair: StoredPair, versions_of_aoi: int) -> str:
    """``<aoi>_<before>_<after>`` as a run folder's item; the algorithm version appended when the AOI has
    chains of several (ids are unique in a collection)."""
    base = f"{pair.aoi_id}_{pair.before}_{pair.after}"
    return base if versions_of_aoi == 1 else f"{base}_{_SLUG.sub('-', pair.algorithm_version)}"


def _pair_item(store: Store, pair: StoredPair, folder: Path, identifier: str) -> pystac.Item:
    from geo.outputs.layers import CHANGE_LAYERS, LayerFacts, write_change_layers
    from geo.outputs.stac_item import SceneLink, asset_key, asset_of, change_item, scene_item_href
    from geo.results import run_caveats
    from geo.vector.sensor_columns import extra_columns

    features = [f for f in store.changes(aoi_id=pair.aoi_id, algorithm_version=pair.algorithm_version,
                                         after_scenes=[pair.after]) if f.before_scene == pair.before]
    folder.mkdir(parents=True)
    write_change_layers(folder, features, LayerFacts(
        f"Changes in {pair.aoi_id}: {pair.before} to {pair.after}", extra_columns(pair.manifest),
        (pair.before_datetime.date(), pair.after_datetime.date()), tuple(run_caveats(pair.manifest))))
    write_json(folder / "manifest.json", pair.manifest)
    names = [*(layer.file for layer in CHANGE_LAYERS), "manifest.json"]
    assets = {asset_key(n): a for n in names if (a := asset_of(n)) is not None}  # beside the item: relative
    links = [SceneLink(scene, when, scene_item_href(scene, *_scene_origin(store, pair.aoi_id, scene), folder))
             for scene, when in ((pair.before, pair.before_datetime), (pair.after, pair.after_datetime))]
    feature = store.aoi_feature(pair.aoi_id)
    if feature is None:
        raise ValueError(f"pair of AOI {pair.aoi_id} without the AOI in the store")
    properties = {"title": f"Changes in {feature['properties'].get('name') or pair.aoi_id}",
                  "geo:aoi_id": pair.aoi_id, "geo:n_changes": len(features), "geo:run_id": pair.run_id,
                  "geo:clear_fraction": pair.clear_fraction}
    return change_item(identifier, feature["geometry"], links[0], links[1], pair.algorithm_version, assets, properties)


def _collection(store: Store, items: list[pystac.Item]) -> pystac.Collection:
    import pystac
    from shapely.geometry import shape

    from geo.antimeridian import union_bbox

    # a row drawn by hand in QGIS has no GeoJSON of geo's: not one of the collection's areas
    aois = [f for a in store.aoi_ids() if (f := store.aoi_feature(a)) and f.get("geometry")]
    # AOIs on both sides of 180: a box across it (west over east, as STAC and RFC 7946 allow), not -180..180
    bbox = list(union_bbox([shape(f["geometry"]) for f in aois]))
    starts = [i.common_metadata.start_datetime for i in items if i.common_metadata.start_datetime]
    ends = [i.common_metadata.end_datetime for i in items if i.common_metadata.end_datetime]
    interval = [min(starts) if starts else None, max(ends) if ends else None]
    name = _SLUG.sub("-", store.path.stem).strip("-") or "store"
    collection = pystac.Collection(
        f"geo-recheck-{name}",
        f"Change polygons found by scheduled re-checks (geo recheck) of the store {store.path.name}: one item "
        "per processed scene pair. Contains modified Copernicus Sentinel data.",
        pystac.Extent(pystac.SpatialExtent([bbox]), pystac.TemporalExtent([interval])),
        title=f"geo re-checks: {store.path.stem}", license="other")
    collection.add_items(items)
    return collection


def _item_href(item: pystac.Item, parent_dir: str) -> str:
    """``<folder>/<folder>.json``, the folder named by the item's id as a file name may hold it (the ids of
    the pair's passes, each of several tiles' ids, pass the 255 bytes of one)."""
    name = id_as_file_name(item.id)  # letters, digits and -_.+ only: the same as a path and as a URL
    return f"{parent_dir.rstrip('/')}/{name}/{name}.json"


def check_export_dir(dest: Path) -> None:
    """Refuse, before the re-check, a DIR the export cannot replace: what ``check_output_dir`` refuses, another
    command's complete output folder among them (a ``geo run``'s report, project and COGs were replaced by the
    collection, its marker taken for a previous export's)."""
    check_output_dir(dest, "--export-stac", kind=EXPORT)


def export_collection(store_path: Path, dest: Path) -> tuple[Path, int]:
    """Write the store's STAC Collection into ``dest`` (its ``collection.json`` and a folder per item).
    Returns the collection file and the number of items."""
    import pystac
    from pystac.layout import CustomLayoutStrategy

    from geo.scenes.file_io import FileUriStacIO

    with Store.open(Path(store_path), create=False) as store, staged_dir(Path(dest), kind=EXPORT) as stage:
        pairs = _pairs(store)
        versions = {a: len({p.algorithm_version for p in pairs if p.aoi_id == a}) for a in {p.aoi_id for p in pairs}}
        ids = [item_id(p, versions[p.aoi_id]) for p in pairs]
        items = [_pair_item(store, p, stage / id_as_file_name(i), i) for p, i in zip(pairs, ids)]
        collection = _collection(store, items)
        # pystac works on URLs: a folder's file: URI (a path with '#' or '?' would lose its tail), ending in a
        # slash (its staging name has a suffix pystac takes for a file's)
        collection.normalize_hrefs(stage.absolute().as_uri() + "/", CustomLayoutStrategy(item_func=_item_href))
        collection.save(pystac.CatalogType.SELF_CONTAINED, stac_io=FileUriStacIO())
    log.info("exported %d item(s) of %s as a STAC Collection in %s", len(items), store_path, dest)
    return Path(dest) / COLLECTION, len(items)
