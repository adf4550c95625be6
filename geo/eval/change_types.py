"""How well change typing (``geo.change.classify``) names what changed: a small labelled set of regions
built from the OSCD cities, each typed as the job types a polygon (region means of the normalised bands,
the scene's levels), scored as a confusion matrix.

Reference classes, and the types that count as right for each:

=================  ============================================================  ===========================
class              regions                                                       right types
=================  ============================================================  ===========================
construction       OSCD's labelled change (urban change: buildings, sites)       new_bright_surface,
                                                                                 bare_soil, vegetation_loss,
                                                                                 darkening
water_surface      water bodies on both dates (MNDWI > 0.3 on each, ≥ 2 ha), the  water_change
                   tiles whose red band changed most (turbidity, glint)
vegetation_gain    NDVI < 0.3 before and > 0.6 after, not labelled change        vegetation_gain
vegetation_loss    NDVI > 0.6 before and < 0.3 after, not labelled change        vegetation_loss, bare_soil
shadow             *simulated*: unchanged land tiles put into (or out of) shadow  shadow
                   on one date: above the dark level, each band keeps the
                   skylight share of its light (``SKYLIGHT``)
=================  ============================================================  ===========================

Water and vegetation tiles are chosen by index thresholds stricter than the typing rules' own, away from
their edges (eroded), as squares of ``TILE_PX``; they test that the rules' order does not mistype clear
cases, not the rules' thresholds. Construction is the independent part: its labels come from OSCD. The
shadow class is physics, not observation: on a clear day the diffuse skylight that lights a shadow is
about a third of the light in the blue and a few per cent in the SWIR (Rayleigh scattering ~ λ⁻⁴).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from geo.change.classify import CHANGE_TYPES, SceneLevels, classify, indices, scene_levels
from geo.change.labels import EIGHT, label_regions
from geo.change.normalise import normalise
from geo.eval.oscd import discover, load_city, read_city, read_labels

PIXEL_AREA_M2 = 100.0
MIN_REGION_PX = 8
TILE_PX = 8
TILES_PER_CLASS = 12  # per city, at most
WATER_BODY_PX = 200  # a river, lake or dock, not a shaded street
# Diffuse share of clear-sky irradiance by band (blue … SWIR 2.2 µm): what still lights a shadow.
SKYLIGHT = {"blue": 0.35, "green": 0.25, "red": 0.2, "nir": 0.12, "swir16": 0.06, "swir22": 0.04}
SHADOW_PERCENTILE = 1.0  # the dark level (path radiance) the simulation keeps, as the typing assumes

RIGHT_TYPES: dict[str, frozenset[str]] = {
    "construction": frozenset({"new_bright_surface", "bare_soil", "vegetation_loss", "darkening"}),
    "water_surface": frozenset({"water_change"}),
    "vegetation_gain": frozenset({"vegetation_gain"}),
    "vegetation_loss": frozenset({"vegetation_loss", "bare_soil"}),
    "shadow": frozenset({"shadow"}),
}


@dataclass(frozen=True)
class Reference:
    """A region of the typing set: its class and the region means of each band on both dates."""

    city: str
    kind: str  # a key of RIGHT_TYPES
    before: dict[str, float]
    after: dict[str, float]
    pixels: int


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio: np.ndarray = np.nan_to_num((a - b) / (a + b))
    return ratio


def _tiles(mask: np.ndarray, order: np.ndarray, limit: int) -> Iterator[np.ndarray]:
    """Up to ``limit`` squares of ``TILE_PX`` inside ``mask`` holding at least half a tile of it, those
    with the highest mean ``order`` first; each a boolean mask."""
    rows, cols = mask.shape
    found = []
    for r in range(0, rows - TILE_PX + 1, TILE_PX):
        for c in range(0, cols - TILE_PX + 1, TILE_PX):
            inside = mask[r:r + TILE_PX, c:c + TILE_PX]
            if inside.sum() >= TILE_PX * TILE_PX // 2:
                found.append((float(order[r:r + TILE_PX, c:c + TILE_PX][inside].mean()), r, c))
    for _, r, c in sorted(found, reverse=True)[:limit]:
        tile = np.zeros_like(mask)
        tile[r:r + TILE_PX, c:c + TILE_PX] = mask[r:r + TILE_PX, c:c + TILE_PX]
        yield tile


def _means(stack: np.ndarray, bands: Sequence[str], region: np.ndarray) -> dict[str, float]:
    return {b: float(stack[i][region].mean()) for i, b in enumerate(bands)}


def reference_regions(
    city: str, before: np.ndarray, after: np.ndarray, valid: np.ndarray, truth: np.ndarray, bands: Sequence[str],
) -> list[Reference]:
    """The typing set of one city from its co-registered (band, row, col) stacks, the after one normalised."""
    names = list(bands)
    band = {b: names.index(b) for b in names}
    ndvi_b, ndvi_a = (_ratio(s[band["nir"]], s[band["red"]]) for s in (before, after))
    mndwi_b, mndwi_a = (_ratio(s[band["green"]], s[band["swir16"]]) for s in (before, after))
    away = valid & ~ndi.binary_dilation(truth, EIGHT, iterations=2)
    refs: list[Reference] = []

    def add(kind: str, region: np.ndarray, b: np.ndarray = before, a: np.ndarray = after) -> None:
        refs.append(Reference(city, kind, _means(b, names, region), _means(a, names, region), int(region.sum())))

    labels, count = label_regions(truth & valid, MIN_REGION_PX)
    for label in range(1, count + 1):
        add("construction", labels == label)
    water_bodies, _ = label_regions(away & (mndwi_b > 0.3) & (mndwi_a > 0.3), WATER_BODY_PX)
    water = ndi.binary_erosion(water_bodies > 0, EIGHT, 2)
    red_change = np.abs(after[band["red"]] - before[band["red"]])
    for tile in _tiles(water, red_change, TILES_PER_CLASS):
        add("water_surface", tile)
    land = away & (mndwi_b < 0) & (mndwi_a < 0)
    gain = ndi.binary_erosion(land & (ndvi_b < 0.3) & (ndvi_a > 0.6), EIGHT)
    loss = ndi.binary_erosion(land & (ndvi_b > 0.6) & (ndvi_a < 0.3), EIGHT)
    for kind, mask, order in (("vegetation_gain", gain, ndvi_a - ndvi_b), ("vegetation_loss", loss, ndvi_b - ndvi_a)):
        for tile in _tiles(mask, order, TILES_PER_CLASS):
            add(kind, tile)
    refs.extend(_shadow_references(city, before, after, valid, away & land, names))
    return refs


def _shadow_references(
    city: str, before: np.ndarray, after: np.ndarray, valid: np.ndarray, land: np.ndarray, bands: list[str],
) -> Iterator[Reference]:
    """Unchanged land tiles (least band change first) put into shadow on the after date, and alternately
    out of it (shadow on the before date)."""
    dark = np.array([np.percentile(before[i][valid], SHADOW_PERCENTILE) for i in range(len(bands))])
    skylight = np.array([SKYLIGHT.get(b, 0.1) for b in bands])
    stable = -np.abs(after - before).sum(axis=0)
    unchanged = ndi.binary_erosion(land, EIGHT)
    for n, tile in enumerate(_tiles(unchanged, stable, TILES_PER_CLASS)):
        lit = _means(before, bands, tile)
        shaded = {b: float(dark[i] + (lit[b] - dark[i]) * skylight[i]) for i, b in enumerate(bands)}
        first, second = (lit, shaded) if n % 2 == 0 else (shaded, lit)
        yield Reference(city, "shadow", first, second, int(tile.sum()))


def type_reference(ref: Reference, levels: SceneLevels) -> str:
    change_type, _ = classify(indices(ref.before), indices(ref.after), ref.pixels * PIXEL_AREA_M2, levels)
    return change_type


def confusion_matrix(kinds: Sequence[str], types: Sequence[str]) -> dict[str, Any]:
    """Rows: reference classes; columns: change types (every type of ``CHANGE_TYPES``); each class's
    accuracy (share typed as one of its right types), the mean over classes and over regions."""
    matrix = {k: {t: 0 for t in CHANGE_TYPES} for k in RIGHT_TYPES}
    for kind, change_type in zip(kinds, types):
        matrix[kind][change_type] += 1
    accuracy = {k: (sum(row[t] for t in RIGHT_TYPES[k]) / total if (total := sum(row.values())) else None)
                for k, row in matrix.items()}
    right = sum(t in RIGHT_TYPES[k] for k, t in zip(kinds, types))
    scored = [a for a in accuracy.values() if a is not None]
    return {
        "matrix": matrix,
        "regions": {k: sum(row.values()) for k, row in matrix.items()},
        "accuracy": {k: round(a, 4) if a is not None else None for k, a in accuracy.items()},
        "mean_class_accuracy": round(float(np.mean(scored)), 4) if scored else None,
        "overall_accuracy": round(right / len(kinds), 4) if kinds else None,
    }


def evaluate_typing(root: Path, cities: Sequence[str] | None = None,
                    progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The typing set of each city read through the evaluation harness (``geo.eval.oscd.read_city``, the
    after date normalised as every detector does), typed, and the confusion matrix over all cities."""
    names = list(cities) if cities else discover(root)
    kinds: list[str] = []
    types: list[str] = []
    per_city: dict[str, dict[str, int]] = {}
    for name in names:
        if progress:
            progress(name)
        city = load_city(root, name)
        pair, valid = read_city(city)
        before, bands = pair.before.data, pair.before.bands
        after, *_ = normalise(before, pair.after.data, valid)
        refs = reference_regions(name, before, after, valid, read_labels(city), bands)
        levels = scene_levels(before, after, valid, bands)
        typed = [type_reference(r, levels) for r in refs]
        kinds += [r.kind for r in refs]
        types += typed
        per_city[name] = {k: sum(r.kind == k for r in refs) for k in RIGHT_TYPES}
    return {"cities": names, "regions_per_city": per_city, **confusion_matrix(kinds, types),
            "right_types": {k: sorted(v) for k, v in RIGHT_TYPES.items()}}
