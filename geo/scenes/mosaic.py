"""The tiles of one pass as one scene.

Sentinel-2 products are cut into 110 km tiles, each on the UTM grid of its own zone; neighbouring tiles
overlap by about 10 km, and tiles of two zones overlap along the zone boundary (Sentinel-1 products are
slices of a pass, meeting along track). An AOI near a tile's edge is seen by two or more tiles of the same
pass (same day, platform and relative orbit): one observation, in two files and maybe two grids. Pairs are
chosen among passes, not tiles (``passes``): of a pass's tiles the fewest that show the AOI are kept, the one
showing most of it first and, of those showing as much, the one on the AOI grid's own CRS (read as it is, not
resampled); two or more that each show part of it are read as one scene (``mosaic``: ``Scene.parts``, the
first tile's pixel wherever it has one). Footprints are taken as the archives give them: the outline of the
data (Earth Search's and the Planetary Computer's are).

Archives publish a product again, under a new id, when it is reprocessed (a new processing baseline, or
re-ingested: Earth Search's ``S2B_52TGN_20241010_0_L2A`` then ``..._1_L2A``) and may keep the old item beside it:
two items of one tile in one pass. They are one observation, read once, from the newest publication
(``newest_products``); it names the ids it supersedes, so that a re-check that recorded the old one knows it.
An id naming no tile (Sentinel-1: a GRD reprocessed, an RTC item made again under a new suffix) is the same
product as another sensed with it (``geo.scenes.ids.sensed_together``) over the same ground; an item that does
not say its orbit is checked so against the others of its platform and collection sensed with it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING

from geo.errors import SceneError
from geo.geometry import WGS84, reproject
from geo.scenes.ids import MOSAIC_JOIN, PassKey, mgrs_tile, pass_key, sensed_together
from geo.scenes.model import Scene, processing_baseline

if TYPE_CHECKING:
    from geo.aoi import AOI

__all__ = ["MOSAIC_JOIN", "mosaic", "newest_products", "passes"]

MIN_GAIN = 0.005  # a further tile joins a pass's mosaic only when it shows this much more of the AOI
SAME_PRODUCT_SHARE = 0.5  # items naming one tile are one product when they share this much of the smaller's ground
SAME_GROUND = 0.98  # two footprints sharing this much of their union are one product's (its slices share far less)


def mosaic(parts: Sequence[Scene]) -> Scene:
    """One scene of the tiles ``parts`` of one pass (at least two), the first one's pixels first: its id
    their ids joined with ``+``, its footprint theirs, its assets those every tile has."""
    from shapely.ops import unary_union

    if len(parts) < 2:
        raise SceneError("a mosaic needs two tiles or more")
    first = parts[0]
    shared = {key: asset for key, asset in first.assets.items() if all(key in p.assets for p in parts[1:])}
    return Scene(MOSAIC_JOIN.join(p.id for p in parts), first.datetime, unary_union([p.geometry for p in parts]),
                 MappingProxyType(shared), first.collection, first.platform, first.properties, None, first.source, tuple(parts))


def pass_of(scene: Scene) -> PassKey | None:
    """What tiles of one pass share (None for a pass already merged, or an item that does not say its orbit)."""
    return None if scene.parts else pass_key(scene.date, scene.platform, scene.relative_orbit, scene.collection)


def passes(scenes: Sequence[Scene], aoi: AOI, left_out: list[Scene] | None = None) -> list[Scene]:
    """``scenes`` (sorted by time) with the tiles of each pass over ``aoi`` replaced by the fewest that show
    it: the tile showing most of the AOI first (of those showing as much, one on the AOI grid's CRS: its
    pixels are read as they are, not resampled); further tiles join as a
    ``mosaic`` while each shows at least ``MIN_GAIN`` more of it; of a tile published twice, the newest
    publication (``newest_products``). Items without a relative orbit are one pass when sensed together by one
    platform into one collection (pieces of a product clipped by a user, tiles of a catalog that does not say
    the orbit: a satellite sees one place once a pass), and chosen among the same way. The tiles a pass leaves
    out (another tile of it shows the AOI, or a newer publication of it) are added to ``left_out``."""
    groups: dict[PassKey, list[Scene]] = {}
    for scene in scenes:
        key = pass_of(scene)
        if key is not None:
            groups.setdefault(key, []).append(scene)
    chosen = {key: _fewest(newest_products(tiles), aoi) for key, tiles in groups.items() if len(tiles) > 1}
    without_orbit = [s for s in scenes if pass_of(s) is None and not s.parts]
    order = {id(scene): at for at, scene in enumerate(without_orbit)}
    standing = {id(min(run, key=lambda s: order[id(s)])): _fewest(newest_products(run), aoi)
                for run in _sensed_together(without_orbit)}
    out: list[Scene] = []
    for scene in scenes:
        key = pass_of(scene)
        if key is None and not scene.parts:
            if id(scene) in standing:  # the run's first item in the search's order stands for it
                out.append(standing[id(scene)])
        elif key not in chosen:
            out.append(scene)
        elif scene is groups[key][0]:  # the pass, where its first tile was
            out.append(chosen[key])
    if left_out is not None:
        kept = {part.id for scene in out for part in (scene, *scene.parts)}
        left_out.extend(t for t in scenes if t.id not in kept)
    return out


def newest_products(tiles: Sequence[Scene]) -> list[Scene]:
    """The tiles of one pass with each tile once (``geo.scenes.ids.mgrs_tile``; an id naming no tile is a tile
    of its own, but for another such sensed with it over the same ground): its newest publication, of the highest processing baseline and of those the id sorting last
    (Earth Search's ``_1_L2A`` after ``_0_L2A``), naming the ids of the others in ``supersedes``."""
    products: list[list[Scene]] = []
    for tile in tiles:
        same = next((versions for versions in products if _one_product(tile, versions[0])), None)
        if same is None:
            products.append([tile])
        else:
            same.append(tile)
    newest = []
    for versions in products:
        latest = max(versions, key=lambda t: (processing_baseline(t.properties) or (-1, -1), t.id))
        older = tuple(sorted(t.id for t in versions if t is not latest))
        newest.append(replace(latest, supersedes=(*latest.supersedes, *older)) if older else latest)
    return newest


def _one_product(tile: Scene, other: Scene) -> bool:
    """Whether two items of one pass are one product: ids naming the same tile over much the same ground (a
    user's pieces of one product, named after it, are not), or ids naming no tile ``_republished``."""
    named = mgrs_tile(tile.id)
    if named is None and mgrs_tile(other.id) is None:
        return _republished(tile, other)
    if named != mgrs_tile(other.id):
        return False
    smaller = min(tile.geometry.area, other.geometry.area)
    return not smaller or tile.geometry.intersection(other.geometry).area / smaller >= SAME_PRODUCT_SHARE


def _republished(tile: Scene, other: Scene) -> bool:
    """Whether two items whose ids name no tile are one product: sensed together, over the same ground."""
    if not sensed_together(tile.datetime, [other.datetime]):
        return False
    union = tile.geometry.union(other.geometry).area
    return not union or tile.geometry.intersection(other.geometry).area / union >= SAME_GROUND


def _sensed_together(scenes: Sequence[Scene]) -> list[list[Scene]]:
    """Items that do not say their orbit in runs of one platform and collection sensed together
    (``geo.scenes.ids.sensed_together``): one pass each."""
    together: dict[tuple[str, str], list[list[Scene]]] = {}
    for scene in sorted(scenes, key=lambda s: s.datetime):  # a search need not give them in time order
        runs = together.setdefault((scene.platform.lower(), scene.collection), [])
        if runs and sensed_together(scene.datetime, [runs[-1][0].datetime]):
            runs[-1].append(scene)
        else:
            runs.append([scene])
    return [run for runs in together.values() for run in runs]


def _fewest(tiles: Sequence[Scene], aoi: AOI) -> Scene:
    if len(tiles) == 1:
        return tiles[0]
    grid_crs = aoi.utm_grid().crs
    area = aoi.projected(grid_crs.to_string())
    if not area.area:
        return tiles[0]
    seen = {t.id: reproject(t.geometry, WGS84, grid_crs.to_string()).intersection(area) for t in tiles}
    native = grid_crs.to_epsg()
    ranked = sorted(tiles, key=lambda t: (-round(seen[t.id].area / area.area, 3), t.epsg != native, t.id))
    kept, shown = [ranked[0]], seen[ranked[0].id]
    for tile in ranked[1:]:
        more = seen[tile.id].difference(shown)
        if more.area / area.area >= MIN_GAIN:
            kept.append(tile)
            shown = shown.union(more)
    return kept[0] if len(kept) == 1 else mosaic(kept)
