"""Where the sea is: land and fixed harbour structures must never count as ships.

The mask comes from the imagery itself, preferably from the AOI's own time series:

* **Time-series mask (default with >= 3 scenes).** Ships come and go; quays, piers, breakwaters, cranes
  and moored pontoons stay. The per-pixel temporal median (SAR: VV intensity; optical: MNDWI) shows the
  fixed scene without the transient ships, so a ship at berth next to a pier is detectable while the pier
  is masked. A vessel present on more than half the dates is treated as a structure: it is part of the
  baseline, which is what a "rise in vessel presence" is measured against anyway.
* **Single-scene mask (fewer scenes).** Bright (SAR) or non-water (optical) regions that are larger than
  any ship are land; smaller ones are left to the detector. Size alone would eat big ships (a 300 m hull
  with its smear is larger than 2.8 ha) and every ship touching a quay, so bright regions that the water
  brackets along their own length (``geo.vessels.berths``: a hull, alone or moored alongside a pier or
  side by side; not a pier, whose root is on land, nor a coast) stay sea whatever their size (SAR
  always; optical with ``keep_objects_on_water``). A detached structure smaller than a ship (a short
  breakwater, a buoy) is not masked (add a land layer).
* **A land layer** (``--land FILE``: polygons, e.g. OpenStreetMap land polygons for the port) can be added
  to either; its polygons are burnt into the mask. No layer ships with the project: a global coastline at
  harbour scale (piers 20 m wide) is not available under a licence and size fit to ship.

All masks are buffered by ``buffer_px`` pixels of land: shoreline pixels mix land and water, SAR side
lobes of bright quays spill into the water, and dates differ by a fraction of a pixel.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rasterio import features as rio_features
from scipy import ndimage as ndi
from shapely.geometry.base import BaseGeometry
from skimage.filters import threshold_otsu

from geo.geometry import WGS84, reproject
from geo.change.labels import EIGHT, object_boxes
from geo.change.threshold import drop_small
from geo.grid import Grid
from geo.vessels.berths import BerthParams, ProtrusionParams, objects_on_water, protrusions
from geo.vessels.cluster import seeded_clusters

log = logging.getLogger(__name__)

MIN_SCENES_FOR_MEDIAN = 3

ShipLike = Callable[[np.ndarray], np.ndarray]  # the scene's water -> its non-water pixels that are ship


@dataclass(frozen=True)
class LandParams:
    sar_margin_db: float = 6.0  # land/structure: temporal-median VV this far above the sea's own level
    buffer_px: int = 2
    max_vessel_length_m: float = 400.0  # single-scene mode: bright regions longer than this are land
    max_vessel_area_m2: float = 400.0 * 70.0
    max_water_threshold: float = 0.3  # optical: the water/land split of the water index lies in [0, 0.3]
    max_hull_ndvi: float = 0.25  # hulls, decks and cargo are not green: NDVI above this is a vegetated bank
    min_water_m2: float = 50_000.0  # 5 ha: a basin 250 m x 200 m; smaller "water" among land is not sea
    berths: BerthParams = BerthParams()
    # With keep_objects_on_water: also keep narrow fingers of non-water sticking out into the water
    # (geo.vessels.berths.protrusions; radius_px=0: off)
    protrusions: ProtrusionParams = ProtrusionParams()
    # SAR single scene: False = the size rule alone on a 5x5 mean (before issue 16; the benchmark's reference)
    sar_objects_on_water: bool = True
    # the bright mask is a 3x3 mean (5x5 smeared a pier over the hulls moored alongside it), so hulls come
    # out ~20 m wider and squatter (three abreast are about as wide as long); 450 m caps one hull's run
    sar_smooth_px: int = 3
    sar_berths: BerthParams = BerthParams(max_width_m=130.0, min_elongation=1.6, min_length_m=30.0,
                                          min_width_px=3.5, own_axis=True)
    # Single-scene optical: keep ship-shaped objects on the water (berthed ships) as sea. Off by default:
    # on the shipped hazy L1C Nantes pair it lets urban land in (31 detections against <= 8).
    keep_objects_on_water: bool = False
    # With keep_objects_on_water: also keep the pieces the shipped per-pixel ship model
    # (geo.vessels.ship_pixels) takes for ship: berthed hulls the water does not bracket (loaded container
    # ships beside their yard, ferries bow-on in a slip).
    ship_pixels: bool = False
    # Single-scene optical (with keep_objects_on_water): sun glint lifts water's SWIR up to its green, so
    # glinted basins come out MNDWI < 0 like land (Algiers: -0.05, its quays +0.04). Dark pixels, flat
    # from NIR to SWIR, count as water too (``dark_water``): NIR and SWIR within ``dark_water_margin`` of
    # the MNDWI water's median NIR, SWIR at most ``dark_water_rise`` above NIR (asphalt, roofs and soil
    # rise to SWIR).
    dark_water: bool = True
    dark_water_margin: float = 0.03
    dark_water_rise: float = 0.01


def _to_db(intensity: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return 10.0 * np.log10(np.where(intensity > 0, intensity, np.nan))


def _sea_level_db(db: np.ndarray) -> float:
    """The sea's typical level: the median of the darker of the two Otsu classes (sea is darkest)."""
    values = db[np.isfinite(db)]
    if values.size == 0:
        raise ValueError("no valid pixels to build a land mask from")
    if np.ptp(values) <= 0:
        return float(values[0])
    split = threshold_otsu(values)
    return float(np.median(values[values <= split]))


def _buffer(land: np.ndarray, buffer_px: int) -> np.ndarray:
    return ndi.binary_dilation(land, structure=EIGHT, iterations=buffer_px) if buffer_px > 0 and land.any() else land


def _larger_than_vessels(mask: np.ndarray, grid: Grid, p: LandParams) -> np.ndarray:
    """The connected regions of ``mask`` that no ship could be: longer or larger than the largest ship."""
    labels, count = ndi.label(mask, structure=EIGHT)
    if count == 0:
        return mask
    pixel = math.sqrt(grid.pixel_area)
    keep = np.zeros(count + 1, bool)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    for label, region in object_boxes(labels):
        extent = math.hypot(region[0].stop - region[0].start, region[1].stop - region[1].start) * pixel
        keep[label] = extent > p.max_vessel_length_m or sizes[label] * grid.pixel_area > p.max_vessel_area_m2
    return keep[labels]


def sar_land_mask(vv: Sequence[np.ndarray], grid: Grid, p: LandParams = LandParams()) -> tuple[np.ndarray, str]:
    """Land (True) from VV intensities of one or more dates on ``grid`` (NaN where invalid)."""
    stack = np.stack([np.asarray(v, dtype=np.float32) for v in vv])
    if len(stack) >= MIN_SCENES_FOR_MEDIAN:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels (outside every footprint)
            db = _to_db(np.nanmedian(stack, axis=0))
        land = np.nan_to_num(db, nan=-np.inf) > _sea_level_db(db) + p.sar_margin_db
        method = f"sar-temporal-median/{len(stack)} scenes"
    else:
        # One date: speckle forbids a pixel test; a 3x3 mean (linear; 40 looks at ENL 4.4) steadies it, then
        # regions larger than a ship are land unless the water brackets them along their length.
        single = np.nan_to_num(stack[0], nan=0.0)
        size = p.sar_smooth_px
        smooth = ndi.uniform_filter(single, size) / np.maximum(ndi.uniform_filter(np.isfinite(stack[0]) * 1.0, size), 1e-6)
        db = _to_db(np.where(np.isfinite(stack[0]), smooth, np.nan))
        bright = np.nan_to_num(db, nan=-np.inf) > _sea_level_db(db) + p.sar_margin_db
        on_water = objects_on_water(bright, math.sqrt(grid.pixel_area), p.sar_berths) if p.sar_objects_on_water \
            else np.zeros(bright.shape, bool)
        water = ~_larger_than_vessels(bright, grid, p) | on_water
        method = "sar-single-scene" + ("+objects-on-water" if p.sar_objects_on_water else "")
        return _buffer(~_drop_small_water(water, grid, p), p.buffer_px) & ~on_water, method
    return _buffer(~_drop_small_water(~land, grid, p), p.buffer_px), method


def dark_water(index: np.ndarray, nir: np.ndarray, swir16: np.ndarray, p: LandParams) -> np.ndarray:
    """One scene's water that glint makes too bright in SWIR for the water index (``index``, NaN where
    invalid): darker in NIR and SWIR than the index's own water (its median NIR) plus
    ``dark_water_margin``, not rising from NIR to SWIR by more than ``dark_water_rise``, and joined to the
    index's water (4-connected)."""
    water = np.nan_to_num(index, nan=-1.0) > _water_threshold(index, p)
    nir, swir16 = np.nan_to_num(nir, nan=1.0), np.nan_to_num(swir16, nan=1.0)
    if not water.any():
        return np.zeros(index.shape, bool)
    level = float(np.median(nir[water])) + p.dark_water_margin
    dark = (nir < level) & (swir16 < level) & (swir16 <= nir + p.dark_water_rise)
    # only as the index's water reaches on: a glinted basin opens onto the harbour; dark roofs, shade and
    # asphalt inland (hazy L1C cities) do not
    out: np.ndarray = dark & (seeded_clusters(dark, water, structure=None) > 0)
    return out


def _water_threshold(index: np.ndarray, p: LandParams) -> float:
    """The water/land split of the water index; 0 (water > 0) when the index holds no land. Otsu splits
    whatever it is given: over open water alone (an anchorage) calm from sun-glinted water, and clipped to
    the highest split, a speckle of glinted water became "land" whose edges read as ships. Its darker side
    is water too when most of it is above 0 (land's index is below; the split is never put under 0): on
    Algiers' glinted roadstead (MNDWI ~0.1) the split fell at 0.099 and half the sea was "land"."""
    values = index[np.isfinite(index)]
    if values.size < 2 or np.ptp(values) <= 0:
        return 0.0
    split = float(threshold_otsu(values))
    if float(np.median(values[values <= split])) > 0.0:  # its darker side is water too
        return 0.0
    return float(np.clip(split, 0.0, p.max_water_threshold))  # as ``geo.change.classify.water_level``


def _drop_small_water(water: np.ndarray, grid: Grid, p: LandParams) -> np.ndarray:
    """Water bodies smaller than ``min_water_m2`` are not a port's water: dark pixels among land (SAR:
    tarmac, shadow; optical: wet roofs, shade) that would let bright land objects pass for ships."""
    return drop_small(water, math.ceil(p.min_water_m2 / grid.pixel_area))


def optical_land_mask(
    indices: Sequence[np.ndarray], grid: Grid, p: LandParams = LandParams(), scl_water: np.ndarray | None = None,
    vegetation: np.ndarray | None = None, ship_like: ShipLike | None = None, dark: np.ndarray | None = None,
) -> tuple[np.ndarray, str]:
    """Land (True) from a water index (``water_index``) of one or more dates (NaN where invalid or cloud),
    optionally OR-ed with the SCL water class of a single scene (``scl_water``) and with its glinted water
    (``dark``, from ``dark_water``; with ``keep_objects_on_water``). ``vegetation`` (single
    scene): pixels no hull can be (green banks), never taken for objects on the water. ``ship_like``
    (single scene, with ``keep_objects_on_water``): given the scene's water, the non-water pixels that are
    ship (e.g. ``geo.vessels.ship_pixels``), kept as objects on the water too."""
    stack = np.stack([np.asarray(v, dtype=np.float32) for v in indices])
    if len(stack) >= MIN_SCENES_FOR_MEDIAN:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            median = np.nanmedian(stack, axis=0)
        water = np.nan_to_num(median, nan=-1.0) > _water_threshold(median, p)
        method = f"water-index-temporal-median/{len(stack)} scenes"
    else:
        index = np.nan_to_num(stack[0], nan=-1.0)
        level = _water_threshold(stack[0], p)
        water = index > level
        dark = dark if p.keep_objects_on_water else None
        known = scl_water if dark is None else dark if scl_water is None else scl_water | dark
        if known is not None:
            water |= known
        # Ships are non-water on the water: detached ones smaller than a ship, and (optionally) ship-shaped
        # ones that the water brackets along their length, berthed or not, stay sea, and the land's buffer
        # does not eat them. (The time-series median has no ships, and there a small hole is a fixed
        # structure.)
        on_water = _objects_on_water(index, level, known, grid, p, vegetation, ship_like) \
            if p.keep_objects_on_water else np.zeros(water.shape, bool)
        method = "water-index-single-scene" + ("+objects-on-water" if p.keep_objects_on_water else "") \
            + ("+ship-pixels" if p.keep_objects_on_water and ship_like is not None else "") \
            + ("+protrusions" if p.keep_objects_on_water and p.protrusions.radius_px > 0 else "") \
            + ("+dark-water" if dark is not None else "") + ("+scl" if scl_water is not None else "")
        water |= ~_larger_than_vessels(~water, grid, p) | on_water
        return _buffer(~_drop_small_water(water, grid, p), p.buffer_px) & ~on_water, method
    return _buffer(~_drop_small_water(water, grid, p), p.buffer_px), method


def _objects_on_water(index: np.ndarray, level: float, scl_water: np.ndarray | None, grid: Grid, p: LandParams,
                      vegetation: np.ndarray | None, ship_like: ShipLike | None = None) -> np.ndarray:
    """Ship-shaped objects on the water (``geo.vessels.berths``). The water that brackets them is steadied
    by a 3x3 median (hazy or rippled water near the level breaks into specks, between which anything is
    "bracketed"), and only the port's water counts (small "water" among land, e.g. wet roofs, is land)."""
    steady = steady_water(index, level, scl_water, grid, p)
    kept: np.ndarray = objects_on_water(~steady, math.sqrt(grid.pixel_area), p.berths, vegetation) \
        | protrusions(~steady, steady, math.sqrt(grid.pixel_area), p.protrusions, vegetation)
    return kept if ship_like is None else kept | (ship_like(steady) & ~steady)


def steady_water(index: np.ndarray, level: float, scl_water: np.ndarray | None, grid: Grid,
                 p: LandParams) -> np.ndarray:
    """One scene's port water for objects on the water: the water index (NaN as -1) above ``level`` after a
    3x3 median, OR-ed with SCL water, without water bodies under ``min_water_m2``."""
    steady = ndi.median_filter(index, 3) > level
    if scl_water is not None:
        steady |= scl_water
    return _drop_small_water(steady, grid, p)


def rasterize_land(polygons: Sequence[BaseGeometry], grid: Grid) -> np.ndarray:
    """Burn lon/lat land polygons (a user's land layer) onto ``grid``."""
    shapes = [reproject(g, WGS84, grid.crs.to_string()) for g in polygons if not g.is_empty]
    if not shapes:
        return np.zeros(grid.shape, bool)
    land: np.ndarray = rio_features.geometry_mask(shapes, grid.shape, grid.transform, invert=True, all_touched=True)
    return land
