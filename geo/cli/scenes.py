"""``geo scenes search`` and ``geo scenes cache list|clear``: find scenes over an AOI, manage the cache."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich import box
from rich.table import Table

from geo.cli import console
from geo.cli.options import (FiniteFloatRange, aoi_dir_option, aoi_folder, choice, collection_option, json_option,
                              not_empty, scene_source, sensor_option)
from geo.errors import AOIError, SceneError
from geo.scenes.ids import shown_id, unsafe_id_reason
from geo.scenes.model import Scene, Sensor, tile_cloud_cover
from geo.scenes.source import ARCHIVES, default_source, open_source
from geo.words import counted

if TYPE_CHECKING:  # imported by the commands themselves (numpy, rasterio, shapely), so that --help stays light
    from geo.scenes.cache import CacheEntry, SceneCache
    from geo.scenes.cloud import AoiCover

MAX_JUDGED = 100  # scenes whose cloud inside the AOI a search judges (one SCL window read each)


@click.group("scenes")
def scenes_group() -> None:
    """Sentinel scenes: search archives over an AOI; the local scene cache."""


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


SENTINEL = re.compile(r"sentinel-(\d)([a-z]?)", re.IGNORECASE)
ORBIT_STATES = {"ascending": "asc", "descending": "desc"}


def _platform(name: str) -> str:
    """``sentinel-2a`` as ids spell it, ``S2A`` (``sentinel-2``: ``S2``): the table fits 80 columns, where the
    name was folded in two."""
    match = SENTINEL.fullmatch(name)
    return f"S{match[1]}{match[2].upper()}" if match else name


def _table_row(row: dict[str, Any], cover: AoiCover, snow: bool) -> tuple[str, ...]:
    """A scene's cells in the search table: date, id, platform, orbit (and Sentinel-1's mode), clear, cloud,
    nodata, with ``snow`` (Sentinel-2) the snow inside the AOI (part of the clear; n/a without SCL), tile cloud
    (Sentinel-1: the polarisations read, or why none can be); the JSON spells them out."""
    state = str(row.get("orbit_state") or "")
    orbit = " ".join(str(value) for value in (row.get("relative_orbit"), ORBIT_STATES.get(state, state),
                                               row.get("instrument_mode")) if value)
    tile = row["tile_cloud_cover"]
    last = "" if tile is None else f"{float(tile):.0f}%"
    if "polarisations" in row:
        last = row["unusable"] or "+".join(p.upper() for p in row["polarisations"])
    return (row["date"], row["id"], _platform(row["platform"] or ""), orbit,
            "error" if cover.error else _percent(cover.clear), _percent(cover.cloud), _percent(cover.nodata),
            *((_percent(cover.snow),) if snow else ()), last)


def _scene_blocks(table: Table, shown: Sequence[tuple[Scene, AoiCover]], columns: Sequence[str]) -> None:
    """The scenes where the table does not fit the terminal, as ``geo claims list`` prints its claims: the title,
    then each scene's date and id on a line (the id on its own when both do not fit; never cut), then its cells
    named by their column, wrapped between them."""
    import textwrap

    echo = console.stdout.print
    width = max(console.stdout.width, 40)
    echo(textwrap.fill(str(table.title), width, break_long_words=False, break_on_hyphens=False), markup=False,
         soft_wrap=True)
    cells = [[str(cell) for cell in column.cells] for column in table.columns]
    for index in range(len(shown)):
        date, scene_id, sat, orbit, *rest = (column[index] for column in cells)
        if index:
            echo()
        head = f"{date} {scene_id}"
        echo(head if len(head) <= width else f"{date}\n{scene_id}", markup=False, soft_wrap=True)
        facts = [sat, *([f"orbit {orbit}"] if orbit else []),
                 *(f"{name} {value}" for name, value in zip(columns, rest) if value)]
        lines = [""]
        for fact in facts:  # wrapped between facts, never inside one ('tile' / 'cloud 0%')
            if lines[-1] and len(f"  {lines[-1]}, {fact},") > width:
                lines[-1] += ","
                lines.append(fact)
            else:
                lines[-1] = f"{lines[-1]}, {fact}" if lines[-1] else fact
        echo("\n".join(f"  {line}" for line in lines), markup=False, soft_wrap=True)


def _sar_fields(scene: Scene) -> dict[str, Any]:
    """What tells Sentinel-1 scenes apart for a change pair: mode, the polarisations geo reads (co-pol first),
    or why it reads none."""
    from geo.scenes.sar_read import lacking_assets, sar_polarisations

    return {"instrument_mode": scene.instrument_mode or None,
            "polarisations": list(sar_polarisations(scene)), "unusable": lacking_assets(scene)}


def scene_row(scene: Scene, cover: AoiCover) -> dict[str, Any]:
    return {
        "id": scene.id,
        "datetime": scene.datetime.isoformat(),
        "date": scene.date.isoformat(),
        "platform": scene.platform,
        "collection": scene.collection,
        "sensor": scene.sensor,
        "relative_orbit": scene.relative_orbit,
        "orbit_state": scene.properties.get("sat:orbit_state"),
        "tile_cloud_cover": tile_cloud_cover(scene.properties),
        **(_sar_fields(scene) if scene.sensor is Sensor.S1 else {}),
        **cover.to_dict(),
    }


@scenes_group.command("search")
@click.option("--aoi", "aoi_ref", required=True, callback=not_empty,
              help="AOI id (from aoi/) or a polygon file: GeoJSON, GeoPackage, shapefile, KML...")
@click.option("--from", "start", required=True, help="First acquisition date, YYYY-MM-DD.")
@click.option("--to", "end", required=True, help="Last acquisition date, YYYY-MM-DD.")
@sensor_option(Sensor.S2,
              help="s2: Sentinel-2 L2A (optical); s1: Sentinel-1 (SAR, Planetary Computer).")
@click.option("--max-cloud", type=FiniteFloatRange(0, 100), default=None,
              help="Hide scenes with more than PCT percent of the AOI under cloud (judged inside the AOI).")
@click.option("--source", default=None, callback=scene_source,
              help=f"{', '.join(ARCHIVES)}, a STAC API URL, a local STAC catalog, or 'demo' (the Nantes scenes "
                   "shipped with geo) "
                   "[default: earth-search for s2, planetary-computer for s1].")
@collection_option()
@click.option("--sort", type=choice(["clear", "date"]), default="clear", show_default=True,
              help="clear: most of the AOI clear first; date: oldest first.")
@click.option("--max-judged", type=click.IntRange(min=1), default=MAX_JUDGED, show_default=True,
              help="Judge cloud inside the AOI (one SCL read each) for at most N scenes, those with the lowest "
                   "tile cloud cover; the others are counted, not shown.")
@aoi_dir_option
@json_option
def search_command(aoi_ref: str, start: str, end: str, sensor: Sensor, max_cloud: float | None, source: str | None,
                   collections: tuple[str, ...], sort: str, max_judged: int, aoi_dir: Path | None,
                   as_json: bool) -> None:
    """Scenes over an AOI between two dates, with the clear, cloud and nodata fractions *inside the AOI*
    (Sentinel-2: counted from the scene classification window over the AOI only)."""
    from geo.cli.start_up import collector_paused

    with collector_paused():
        from geo.aoi import resolve_aoi
        from geo.scenes.cloud import aoi_covers, most_promising, rank_by_clear, tile_cloud
        from geo.scenes.empty_notes import empty_period_note
        from geo.scenes.pairs import parse_period
    first, last = parse_period(start, end)
    skipped: list[AOIError] = []
    aoi = resolve_aoi(aoi_ref, aoi_folder(aoi_dir), skipped)
    console.warn_skipped(skipped, "`geo aoi list`")
    source = source or default_source(sensor)
    scene_source = open_source(source, sensor, collections or None)
    with console.stderr.status(f"searching {scene_source.name}"):
        found = scene_source.search(aoi.geometry, first, last)
    scenes, unjudged = most_promising(found, max_judged)
    with console.stderr.status(f"judging cloud over {aoi.id} for {len(scenes)} scenes"):
        covers = aoi_covers(scenes, aoi)
    ranked = rank_by_clear(scenes, covers)
    if sort == "date":
        ranked.sort(key=lambda sc: sc[0].datetime)
    shown = [(s, c) for s, c in ranked if max_cloud is None or c.cloud is None or 100 * c.cloud <= max_cloud]
    hidden = len(ranked) - len(shown)
    rows = [scene_row(s, c) for s, c in shown]
    # none found: why, in words (what a local catalog holds, the mission's start, a place not imaged)
    note = None if found else (empty_period_note(scene_source, aoi, first, last, (sensor,)) or None)
    if as_json:
        console.echo(json.dumps({"aoi": aoi.id, "source": scene_source.name, "sensor": sensor, "from": first.isoformat(),
                               "to": last.isoformat(), "max_cloud": max_cloud, "hidden_by_max_cloud": hidden,
                               "max_judged": max_judged, "note": note, "scenes": rows,
                               "not_judged": [{"id": s.id, "date": s.date.isoformat(), "tile_cloud_cover": tile_cloud(s)}
                                              for s in unjudged]}, indent=2))
        return
    # snow (SCL class 11) hides the ground: an analyst choosing --before/--after by hand in winter needs to see it
    snow = sensor is not Sensor.S1
    columns = ("clear", "cloud", "nodata", *(("snow",) if snow else ()),
               "polarisation" if sensor is Sensor.S1 else "tile cloud")
    table = Table("date", "id", "sat", "orbit", *columns, box=box.SIMPLE_HEAD,
                  padding=0, show_edge=False, title=f"{len(shown)} scenes over {aoi.id} ({scene_source.name})")
    for row, (_, cover) in zip(rows, shown):
        table.add_row(*_table_row(row, cover, snow))
    if shown:  # a terminal too narrow for the table (date and id alone take 40 columns): a block per scene
        console.print_table(table, "date", "id", narrow=lambda: _scene_blocks(table, shown, columns))
    else:  # its title alone: no header of an empty table
        console.stdout.print(str(table.title), markup=False, soft_wrap=True)
    if note:
        console.stdout.print(f"none between {first} and {last}; {note}")
    if hidden:
        console.stdout.print(f"{counted(hidden, 'more scene')} {'has' if hidden == 1 else 'have'} over {max_cloud:g}% of the AOI under cloud (--max-cloud)")
    if unjudged:
        console.stdout.print(f"{counted(len(unjudged), 'more scene')} not judged: only the {max_judged} with the lowest tile "
                             "cloud cover were (--max-judged; or narrow --from/--to)")
    for row in rows:
        if row.get("error"):
            console.stdout.print(f"[yellow]warning:[/] {console.esc(row['id'])}: cloud not judged: "
                                 f"{console.esc(row['error'])}", markup=True)


@scenes_group.group("cache")
def cache_group() -> None:
    """The scene cache (scenes/cache of the checkout, ~/.cache/geo/scenes of an installed geo, or $GEO_SCENE_CACHE):
    windows already read from remote archives."""


def _scene_cache() -> SceneCache:
    from geo.scenes.cache import SceneCache  # numpy, rasterio

    cache = SceneCache.default()
    if cache.root.is_file():  # it was listed as "0 cached windows in" the file, and "cleared"
        raise SceneError(f"{cache.root}: the scene cache is a file, not a folder (GEO_SCENE_CACHE names the cache "
                         "folder)")
    return cache


@cache_group.command("list")
@json_option
def cache_list(as_json: bool) -> None:
    """List cached windows: item, asset, grid, size."""
    cache = _scene_cache()
    entries = cache.entries()
    if as_json:
        console.echo(json.dumps({"root": str(cache.root), "entries": [e.to_dict() for e in entries],
                               "bytes": sum(e.size_bytes for e in entries)}, indent=2))
        return
    total = f"total {sum(e.size_bytes for e in entries) / 1e6:.1f} MB"
    if not entries:  # no empty table frame
        console.stdout.print(f"0 cached windows in {cache.root}; {total}", soft_wrap=True)
        return
    table = Table("item", "asset", "crs", "shape", "res m", "resampling", "KB", "created UTC",
                  title=f"{len(entries)} cached windows in {cache.root}")
    for e in entries:
        table.add_row(*_cache_cells(e))
    console.print_table(table, "item", "asset", "crs", "shape", "created UTC",
                        narrow=lambda: _cache_blocks(entries, cache.root))
    console.stdout.print(total)


def _cache_cells(entry: CacheEntry) -> tuple[str, ...]:
    """A cached window's cells (its creation time to the minute, in UTC: an ISO time with its offset folded
    into seven lines of an 80-column table)."""
    return (entry.item_id, entry.asset, entry.crs, f"{entry.shape[0]}x{entry.shape[1]}", f"{entry.resolution:g}",
            entry.resampling, f"{entry.size_bytes / 1024:.0f}", entry.created[:16].replace("T", " "))


def _cache_blocks(entries: Sequence[CacheEntry], root: Path) -> None:
    """The cached windows where the table does not fit the terminal: one line per item, then one per window."""
    echo = console.stdout.print
    echo(f"{len(entries)} cached windows in {root}", soft_wrap=True, markup=False)
    item = None
    for entry in entries:
        if entry.item_id != item:
            item = entry.item_id
            echo(item, markup=False, soft_wrap=True)
        _, asset, crs, shape, res, resampling, kb, created = _cache_cells(entry)
        echo(f"  {asset} {crs} {shape} {res} m {resampling} {kb} KB {created} UTC", markup=False, soft_wrap=True)


@cache_group.command("clear")
@click.option("--item", "item_id", default=None,
              help="Only this item's windows (an item id: a plain name, never a path).")
def cache_clear(item_id: str | None) -> None:
    """Delete cached windows (and leftovers of interrupted writes). Nothing outside the cache is touched:
    an --item that is not a plain name (., .., a path) is refused."""
    reason = None if item_id is None else unsafe_id_reason(item_id)
    if reason is not None:
        raise SceneError(f"--item {shown_id(str(item_id))}: not an item id ({reason}); nothing removed")
    cache = _scene_cache()
    if item_id is not None and not cache.item_dir(item_id).is_dir():  # a typo removed nothing and said so
        raise SceneError(f"--item {shown_id(item_id)}: no cached windows of that item in {cache.root}; "
                         f"nothing removed ({_cached_items(cache.root, item_id)})")
    files, size = cache.clear(item_id)
    console.stdout.print(f"removed {counted(files, 'file')}, {size / 1e6:.1f} MB from {cache.root}")


def _cached_items(root: Path, wanted: str) -> str:
    """What the cache holds instead of ``wanted``: a close id first, then up to 10 of the items' ids."""
    from geo.aoi_files import close_id_hint

    items = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    if not items:
        return "the cache is empty"
    shown = ", ".join(items[:10]) + (f" and {len(items) - 10} more" if len(items) > 10 else "")
    return f"{close_id_hint(wanted, items)}cached: {shown}"
