"""Is anything new? A re-check's "nothing new" decided from plain numbers, over a local catalog.

A scheduled re-check mostly finds nothing new, and then its time is its imports: checking AOI and footprint
geometry takes shapely, pyproj and numpy, a tenth of a second against milliseconds of work. This module
answers without them, from each catalog item's datetime, sensor, orbit geometry and footprint bounding box,
and from the store: each AOI's GeoJSON (as stored, so validated; an AOI file counts when its geometry is the stored
one), chain heads (Sentinel-2, and Sentinel-1 where ``geo.recheck.sar_chain`` started one: it pairs only its
head's orbit geometry), scenes seen, scenes paired with the heads, and vessel scenes counted (a tile its pass left out: seen, and a tile of its pass
counted; a publication under another id: seen, and a scene of its sensor counted at its time), and the claims' window verdicts (a claim added or edited since may be judged without a new
scene: ``window_verdicts.unjudged``). A bounding-box test
keeps every item the exact footprint test of the planner keeps (and perhaps a few more), so when none of
those is new for any AOI, the planner (``plan.py``, and ``vessels.py`` for AOIs with ship claims) would find
nothing either.

Whenever something could be new, or is not as this module expects (an AOI new to the store, changed on
disk, given as a drawn file or without a chain; an item without a datetime or footprint, or with an unsafe
id; a claim naming an unknown AOI), it answers None and the re-check takes the full path, which decides,
and reports any error. An item the box test keeps and the exact test rejects thus costs a run its imports,
not its result.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from geo.aoi_files import AoiFeature, names_a_file
from geo.change.detectors import SAR_VERSION
from geo.claims import VESSEL_SIGNATURE, Claim
from geo.claim_files import check_references
from geo.recheck.claim_edits import judged_differently
from geo.errors import ClaimError, SceneError
from geo.recheck.passes import counted_together, stored_ids
from geo.recheck.plan import search_start
from geo.scenes.ids import PassKey, pass_key, sensed_together, unsafe_id_reason
from geo.scenes.local_catalog import catalog_items
from geo.scenes.model import (OrbitGeometry, Sensor, item_datetime, item_platform, item_sensor, orbit_geometry_of,
                              relative_orbit_of)
from geo.scenes.source import day_range
from geo.store import Chain, Store
from geo.store.vessels import vessel_scenes
from geo.vessels.model import VESSELS_VERSION
from geo.vessels.period import default_period, default_sensors

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]  # west, south, east, north (lon/lat)


@dataclass(frozen=True)
class ItemBrief:
    """What deciding "nothing new" asks of a catalog item."""

    id: str
    datetime: datetime
    sensor: Sensor  # as geo.scenes.model.Scene.sensor says
    box: Box  # of its footprint
    orbit: OrbitGeometry | None = None  # as geo.scenes.model.Scene.orbit_geometry says
    pass_key: PassKey | None = None  # geo.scenes.ids.pass_key, as geo.scenes.mosaic groups tiles


@dataclass(frozen=True)
class CatalogBrief:
    name: str  # the catalog file, as the full source names itself
    items: tuple[ItemBrief, ...]


@dataclass(frozen=True)
class QuietAoi:
    aoi_id: str
    head_scene: str | None  # the chain head when the search finds it, as the planner reports it


def _positions(node: object) -> Iterator[tuple[float, float]]:
    """The (x, y) of every position of GeoJSON ``coordinates``; ValueError when they are not positions."""
    if not isinstance(node, list):
        raise ValueError("not a coordinate array")
    if node and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in node):
        if len(node) < 2:
            raise ValueError("a position needs x and y")
        yield float(node[0]), float(node[1])
        return
    for child in node:
        yield from _positions(child)


def geojson_box(geometry: object) -> Box | None:
    """The bounding box of a GeoJSON geometry (not a collection), or None when it has no readable position."""
    if not isinstance(geometry, Mapping):
        return None
    try:
        points = list(_positions(geometry.get("coordinates")))
    except ValueError:
        return None
    if not points:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def overlaps(a: Box, b: Box) -> bool:
    """Whether two boxes share a point (touching counts, as it does for shapely's ``intersects``)."""
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def read_catalog(path: Path) -> CatalogBrief | None:
    """The items of the local catalog file ``path`` in brief; None when one of them is not as the full
    source (``geo.scenes.source.LocalCatalog``) takes it without a word, or the catalog cannot be read."""
    try:
        items = catalog_items(path)
    except SceneError:
        return None
    briefs = []
    for item in items:
        box = geojson_box(item.geometry)
        if box is None or unsafe_id_reason(item.id) is not None:
            return None
        try:
            when = item_datetime(item)
        except (SceneError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        key = pass_key(when.date(), item_platform(item), relative_orbit_of(item.properties), item.collection_id or "")
        briefs.append(ItemBrief(item.id, when, item_sensor(item), box, orbit_geometry_of(item.properties), key))
    return CatalogBrief(str(path), tuple(briefs))


def _same_geometry(a: object, b: object) -> bool:
    return (isinstance(a, Mapping) and isinstance(b, Mapping) and a.get("type") == b.get("type")
            and a.get("coordinates") == b.get("coordinates"))


def _stored_box(store: Store, ref: str, files: Mapping[str, AoiFeature], stored_id: bool) -> Box | None:
    """The box of the AOI ``ref`` names (as ``inputs.select_aois`` resolves it) when it is in the store as it
    is on disk, so was validated when stored; a ``stored_id`` (no --aoi) is never a file."""
    if ref not in files and not stored_id and names_a_file(ref):
        return None  # a drawn AOI file
    stored = store.aoi_feature(ref)
    if stored is None:
        return None
    if ref in files and not _same_geometry(files[ref].feature.get("geometry"), stored.get("geometry")):
        return None
    return geojson_box(stored.get("geometry"))


def _within(items: Sequence[ItemBrief], start: date, end: date) -> list[ItemBrief]:
    """The items acquired in [start, end], as a source's search takes the days."""
    if start > end:
        return []
    lo, hi = day_range(start, end)
    return [i for i in items if lo <= i.datetime <= hi]


def _quiet_chain(store: Store, aoi_id: str, chain: Chain, over: Sequence[ItemBrief], since: date | None,
                 today: date, version: str, sensor: Sensor = Sensor.S2,
                 items: Mapping[str, ItemBrief] | None = None) -> QuietAoi | None:
    """``plan.plan_aoi`` on box-tested items of ``sensor``: None when one of them may be new to the chain
    (acquired after the head and not yet paired with it) or not yet seen over the AOI. ``items``: every
    catalog item by id, for a Sentinel-1 chain, which pairs only scenes of its head's orbit geometry."""
    found = _within([i for i in over if i.sensor is sensor], search_start(chain.head.datetime, since), today)
    # the items are tiles; the store records passes (A+B) and, written before, tiles (geo.recheck.passes)
    seen = stored_ids(store.seen_scene_ids(aoi_id))
    chained = store.chained_scenes(aoi_id, version)
    paired, times = stored_ids(chained), [t for t in [*chained.values(), chain.head.datetime] if t]
    head_tiles = stored_ids([chain.head.id])
    head_key = (chain.head.datetime, chain.head.id)
    key: OrbitGeometry | None = None
    if items is not None:
        head = next((items[t] for t in sorted(head_tiles) if t in items), None)
        if head is None:
            return None
        key = head.orbit

    def pairable(item: ItemBrief) -> bool:
        return items is None or (key is not None and item.orbit == key)

    # a tile seen is its pass: one of its pass's tiles is the head or paired, or it is (a tile the pass left out)
    passes: dict[object, set[str]] = {}
    for i in found:
        passes.setdefault(i.pass_key or i.id, set()).add(i.id)

    def done(item: ItemBrief) -> bool:  # or sensed with a scene of the chain: the same observation (plan.py)
        return bool(passes[item.pass_key or item.id] & (head_tiles | paired)) or sensed_together(item.datetime, times)

    if any(i.id not in seen or ((i.datetime, i.id) > head_key and not done(i) and pairable(i)) for i in found):
        return None
    return QuietAoi(aoi_id, chain.head.id if any(i.id in head_tiles for i in found) else None)


def _unjudged_claim(store: Store, aoi_id: str, claims: Mapping[str, Claim], chain: Chain, version: str) -> str | None:
    """A claim naming the AOI whose window starts before the chain's head (a day's margin for the window's
    local days) and that has no window verdict of the chain yet, or one judged and edited since, wherever its
    window now lies (``window_verdicts.unjudged`` judges it again, or withdraws its verdict). A chain whose
    head is its baseline has no pair to judge on."""
    if chain.head.id == chain.baseline.id:
        return None
    mine = sorted((c for c in claims.values() if aoi_id in c.aoi_ids), key=lambda c: c.id)
    if not mine:
        return None
    judged = {key[0] for key in store.verdict_keys("window", aoi_id, version)}
    reach = chain.head.datetime.date() + timedelta(days=1)
    stored = store.claim_summaries() if judged else {}
    return next((c.id for c in mine if (c.id not in judged and c.window.start <= reach)
                 or (c.id in judged and judged_differently(c, stored))), None)


def _sentinel1_reason(store: Store, aoi_id: str, catalog: CatalogBrief, over: Sequence[ItemBrief], since: date | None,
                      today: date, sensor_mode: str, claims: Mapping[str, Claim]) -> str | None:
    """Why the AOI's Sentinel-1 chain may have news (``geo.recheck.sar_chain``), or None when it has none or
    the AOI has no such chain and none starts whatever Sentinel-2 finds."""
    chain = store.chain(aoi_id, SAR_VERSION)
    if chain is None:
        if sensor_mode == "both" and any(i.sensor is Sensor.S1 for i in over):
            return f"AOI {aoi_id!r} may start a Sentinel-1 chain"
        return None
    items = {i.id: i for i in catalog.items}
    if _quiet_chain(store, aoi_id, chain, over, since, today, SAR_VERSION, Sensor.S1, items) is None:
        return f"AOI {aoi_id!r} has a Sentinel-1 scene that may be new"
    if claim := _unjudged_claim(store, aoi_id, claims, chain, SAR_VERSION):
        return f"claim {claim!r} on AOI {aoi_id!r} may be judged on its Sentinel-1 chain for the first time"
    return None


def _vessel_scenes_counted(store: Store, aoi_id: str, claims: Sequence[Claim], over: Sequence[ItemBrief],
                           source: str, today: date) -> bool:
    """``vessels.plan_vessels`` on box-tested items: whether every one of them is counted already, by itself
    or, recorded as seen, by a tile of its pass (a tile its pass left out) or by a scene sensed with it (a
    publication of it under another id)."""
    sensors = default_sensors(source)
    found = _within([i for i in over if i.sensor in sensors], default_period(claims)[0], today)
    counted_at = vessel_scenes(store, aoi_id, VESSELS_VERSION)
    counted = stored_ids(counted_at)
    seen = store.seen_scene_ids(aoi_id)
    passes_counted = {i.pass_key for i in found if i.pass_key is not None and i.id in counted}
    return all(i.id in counted or (i.id in seen and (i.pass_key in passes_counted
                                                    or counted_together(i.sensor, i.datetime, counted_at)))
               for i in found)


def nothing_new(store: Store, catalog: CatalogBrief, files: Mapping[str, AoiFeature], claims: Mapping[str, Claim],
                refs: Sequence[str], since: date | None, source: str, today: date,
                version: str, sensor_mode: str = "auto") -> list[QuietAoi] | None:
    """The AOIs re-checked (``refs``, else the store's), each with nothing new, in id order; None when that
    is not certain. ``files``: the AOI files by id; ``source``: the source as the user named it;
    ``version``: the change detector's algorithm version, which keys the chains; ``sensor_mode``: the
    Sentinel-1 chain policy (``geo.recheck.sar_chain``)."""
    answer = _answer(store, catalog, files, claims, refs, since, source, today, version, sensor_mode)
    if isinstance(answer, str):
        log.info("not certain that nothing is new (%s): the full re-check decides", answer)
        return None
    return answer


def _answer(store: Store, catalog: CatalogBrief, files: Mapping[str, AoiFeature], claims: Mapping[str, Claim],
            refs: Sequence[str], since: date | None, source: str, today: date, version: str,
            sensor_mode: str) -> list[QuietAoi] | str:
    """``nothing_new``'s answer, or why it has none."""
    boxes: dict[str, Box] = {}
    for ref in sorted(set(refs)) if refs else store.aoi_ids(retired=False):  # retire.pending: none to take up
        box = _stored_box(store, ref, files, stored_id=not refs)
        if box is None:
            return f"AOI {ref!r} is not in the store as it is on disk"
        boxes[ref] = box
    if not boxes:
        return "no AOI"
    try:
        check_references(claims, set(boxes) | set(files))
    except ClaimError:
        return "a claim names an unknown AOI"
    quiet = []
    for aoi_id, box in boxes.items():
        chain = store.chain(aoi_id, version)
        if chain is None:
            return f"AOI {aoi_id!r} has no chain yet"
        over = [i for i in catalog.items if overlaps(i.box, box)]
        if sensor_mode != "s2" and (reason := _sentinel1_reason(store, aoi_id, catalog, over, since, today,
                                                                 sensor_mode, claims)):
            return reason
        entry = _quiet_chain(store, aoi_id, chain, over, since, today, version)
        if entry is None:
            return f"AOI {aoi_id!r} has a scene that may be new"
        if claim := _unjudged_claim(store, aoi_id, claims, chain, version):
            return f"claim {claim!r} on AOI {aoi_id!r} may be judged for the first time, or anew"
        ships = [c for c in claims.values() if aoi_id in c.aoi_ids and VESSEL_SIGNATURE in c.signatures]
        if ships and not _vessel_scenes_counted(store, aoi_id, ships, over, source, today):
            return f"AOI {aoi_id!r} has a scene that may be new to its vessel counts"
        log.info("%s: head %s, nothing new", aoi_id, chain.head.id)
        quiet.append(entry)
    return quiet
