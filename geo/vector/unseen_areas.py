"""The ground of an AOI a pair did not compare, as one polygon per reason (in the grid's CRS): where no change
could be found because nobody saw it, which a map of changes alone shows as ground without change.

A pixel of the AOI is not compared when a date does not show it or when both do but the job left it out:

- ``NO_DATA``: outside a scene's footprint, or not valid in a scene whose cloud was not masked (no scene
  classification, or radar): a gap in it. Said first: it holds on every date of that scene's orbit;
- ``CLOUD``: inside both footprints, not valid on a date whose cloud was masked (cloud, cirrus or cloud shadow by
  its SCL, and the 40 m round them, ``geo.scenes.read``);
- ``LEFT_OUT``: valid on both dates, no change statistic there (snow or ice on one date only, a date without
  texture: the manifest's ``not_compared``).

Memory-bounded as the change polygons are (``geo.vector.polygonize``): the masks are read a strip of rows at a
time (a large grid's are on disk), regions under ``SIEVE_PX`` pixels merged into their neighbours (a hole of a few
pixels seen in a cloud, a speck), polygonised per strip and merged along the seams, simplified to the pixel size
and cut to the AOI's outline. A 6,000 x 6,000 pixel grid a third under ragged cloud: 4 s, 838 polygons of 91,000
vertices, nothing held but a strip's masks beside the grid's own.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import shapely
from rasterio import features
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geo.aoi import AOI
from geo.geometry import WGS84, polygonal, reproject
from geo.scenes.read import Stack

NO_DATA, CLOUD, LEFT_OUT = 1, 2, 3
STRIP_ROWS = 1024
SIEVE_PX = 9  # a 3 x 3 pixel block: smaller holes and specks join what is round them
HALO_ROWS = 16  # >= SIEVE_PX: a region cut by a strip's edge has at least this many pixels in the strip, kept


def _codes(before: Stack, after: Stack, statistic: np.ndarray, rows: slice, touched: np.ndarray,
           footprints: tuple[BaseGeometry, BaseGeometry]) -> np.ndarray:
    """The reason each pixel of ``rows`` was not compared (0: compared, or outside ``touched``, the AOI)."""
    window = before.grid.window(rows.start, 0, rows.stop - rows.start, before.grid.width)
    valid = (before.valid[rows], after.valid[rows])
    no_data = np.zeros(window.shape, bool)
    for stack, seen, footprint in zip((before, after), valid, footprints):
        outside = features.geometry_mask([footprint], window.shape, window.transform) if not footprint.is_empty \
            else np.ones(window.shape, bool)
        no_data |= ~seen & (outside | (not stack.cloud_masked))
    both = valid[0] & valid[1]
    codes = np.where(both, np.where(np.isfinite(statistic[rows]), 0, LEFT_OUT), np.where(no_data, NO_DATA, CLOUD))
    codes[~touched] = 0
    return codes.astype(np.uint8)


def not_compared_regions(before: Stack, after: Stack, statistic: np.ndarray, aoi: AOI,
                         strip_rows: int = STRIP_ROWS) -> dict[int, BaseGeometry]:
    """The ground of ``aoi`` not compared, by reason (``NO_DATA``, ``CLOUD``, ``LEFT_OUT``: those with any), in
    the grid's CRS: ``statistic`` is NaN where the pair was not compared (``before``/``after``: aligned)."""
    grid = before.grid
    crs = grid.crs.to_string()
    area = aoi.projected(crs)
    footprints = (reproject(before.scene.geometry, WGS84, crs), reproject(after.scene.geometry, WGS84, crs))
    parts: dict[int, list[BaseGeometry]] = defaultdict(list)
    for start in range(0, grid.height, strip_rows):
        stop = min(start + strip_rows, grid.height)
        lo, hi = max(0, start - HALO_ROWS), min(grid.height, stop + HALO_ROWS)
        window = grid.window(lo, 0, hi - lo, grid.width)
        # every pixel the outline touches: the polygons are cut to the outline itself below
        touched = features.geometry_mask([area], window.shape, window.transform, all_touched=True, invert=True)
        if not touched.any():
            continue
        codes = _codes(before, after, statistic, slice(lo, hi), touched, footprints)
        if not codes.any():
            continue
        codes = features.sieve(codes, SIEVE_PX, connectivity=4)
        codes[~touched] = 0  # (a sieved sliver outside the outline took its neighbour's reason)
        core = codes[start - lo:stop - lo]
        transform = grid.window(start, 0, stop - start, grid.width).transform
        for geojson, value in features.shapes(core, mask=core > 0, transform=transform, connectivity=4):
            parts[int(value)].append(shape(geojson))
    step = min(abs(grid.res[0]), abs(grid.res[1]))
    shapely.prepare(area)
    out: dict[int, BaseGeometry] = {}
    taken: list[BaseGeometry] = []  # the reasons' polygons so far
    for code in sorted(parts):
        merged = shapely.coverage_union_all(parts[code])  # edge to edge along the seams: merged exactly
        simple = shapely.simplify(merged, step, preserve_topology=True)
        pieces = _cut(_valid_parts(simple), area, inside=True)
        # each reason's ground apart from the ones before it: simplified apart, neighbours would overlap by a pixel
        for other in taken:
            pieces = _cut(pieces, other, inside=False)
        if pieces:
            geometry: BaseGeometry = pieces[0] if len(pieces) == 1 else shapely.MultiPolygon(pieces)
            if not geometry.is_valid:  # pieces edge to edge, simplified apart: joined (seconds on a tile, made valid)
                geometry = polygonal(shapely.union_all(pieces))
            out[code] = geometry
            shapely.prepare(geometry)
            taken.append(geometry)
    return out


def _valid_parts(geometry: BaseGeometry) -> list[shapely.Polygon]:
    """The polygons of ``geometry``, each made valid alone (a ring touching itself at a pixel's corner): the whole
    multipolygon of a large grid's clouds made valid at once took seconds."""
    parts = shapely.get_parts(geometry)
    bad = ~shapely.is_valid(parts)
    fixed = [part for geometry in shapely.make_valid(parts[bad]) for part in _polygons(geometry)] if bad.any() else []
    return [*(part for part in parts[~bad] if not part.is_empty and part.area > 0), *fixed]


def _polygons(geometry: BaseGeometry) -> list[shapely.Polygon]:
    return [part for part in shapely.get_parts(polygonal(geometry)) if not part.is_empty and part.area > 0]


def _cut(pieces: list[shapely.Polygon], by: BaseGeometry, inside: bool) -> list[shapely.Polygon]:
    """``pieces`` (disjoint polygons) cut to ``by`` (``inside``) or out of it: only the pieces crossing its outline
    are cut (a large grid's clouds are thousands of pieces, most wholly inside the area)."""
    if not pieces:
        return []
    array = np.asarray(pieces, dtype=object)
    touching = shapely.intersects(by, array)
    whole = shapely.contains(by, array) if inside else ~touching
    crossing = array[touching & ~whole] if inside else array[touching]
    cut = shapely.intersection(crossing, by) if inside else shapely.difference(crossing, by)
    return [*array[whole], *(part for geometry in cut for part in _polygons(shapely.make_valid(geometry)))]
