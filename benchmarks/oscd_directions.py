"""Directions for the change statistic and decision, scored side by side with the default ``local-regression``
on the OSCD cities (``python benchmarks/learn_oscd.py --directions``).

Every direction keeps the job's region step and has its threshold, seed level and minimum area chosen
on the same grid as the default's; the figure that decides is leave-one-city-out F1 (parameters chosen on
six cities, scored on the seventh). Each city is read and co-registered once.
"""

from __future__ import annotations

if __name__ == "__main__":  # imported by the benchmarks, nothing of its own to run (it stopped in an import error)
    raise SystemExit("error: benchmarks/oscd_directions.py is a part of other benchmarks, not one to run: run python benchmarks/learn_oscd.py")

import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from geo.change.detectors.base import edge_band
from geo.change.detectors.local_regression import local_decision
from geo.change.local import PRECISION, local_linear_fit, masked_gaussian, robust_z
from geo.change.local_blocks import CLIP, ITERATIONS, local_regression_residual
from geo.change.normalise import normalise
from geo.change.threshold import change_regions, drop_small
from geo.eval.oscd import MIN_REGION_PX, load_city, read_city, read_labels
from geo.eval.scoring import Confusion

log = logging.getLogger("oscd_directions")

THRESHOLDS = tuple(round(float(t), 2) for t in np.arange(1.8, 3.65, 0.2))
SEED_FACTORS = (1.0, 1.5, 2.0, 2.5)
MIN_AREAS = (8, 16)
SIGMA_PX = 1.5


@dataclass(frozen=True)
class CityData:
    before: np.ndarray
    after: np.ndarray  # normalised onto before
    valid: np.ndarray
    truth: np.ndarray
    bands: tuple[str, ...]


def _abs_z(city: CityData, band: str, window: int = 96, iterations: int = 2, clip: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """|robust z| of the local-regression residual of ``band``, after from before and before from after."""
    i = city.bands.index(band)
    x, y = city.before[i].astype(np.float64), city.after[i].astype(np.float64)

    def one_way(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if (iterations, clip) == (ITERATIONS, CLIP):
            residual = local_regression_residual(a, b, city.valid, window)
        else:
            residual = _reweighted_residual(a, b, city.valid, window, iterations, clip)
        return np.abs(np.nan_to_num(robust_z(residual, city.valid, PRECISION)))

    return one_way(x, y), one_way(y, x)


def _reweighted_residual(x: np.ndarray, y: np.ndarray, valid: np.ndarray, window: int, iterations: int,
                         clip: float) -> np.ndarray:
    """The local-regression residual with its own number of passes and clip (the job's are fixed)."""
    weights = valid.astype(np.float64)
    for _ in range(iterations):
        gain, offset = local_linear_fit(x, y, weights, window)
        residual: np.ndarray = np.where(valid, y - (gain * np.nan_to_num(x) + offset), np.nan)
        weights = (valid & (np.abs(np.nan_to_num(robust_z(residual, valid))) < clip)).astype(np.float64)
    return residual


def _smoothed(city: CityData, zs: tuple[np.ndarray, np.ndarray], sigma: float = SIGMA_PX) -> np.ndarray:
    mean: np.ndarray = 0.5 * (masked_gaussian(zs[0], city.valid, sigma) + masked_gaussian(zs[1], city.valid, sigma))
    return mean


def _bands_mean(bands: tuple[str, ...]) -> Callable[[CityData], np.ndarray]:
    def statistic(city: CityData) -> np.ndarray:
        return np.mean([_smoothed(city, _abs_z(city, b)) for b in bands], axis=0)
    return statistic


def _multiscale(city: CityData) -> np.ndarray:
    zs = _abs_z(city, "red")
    return np.maximum(_smoothed(city, zs), _smoothed(city, zs, 4.0))


def _window(window: int) -> Callable[[CityData], np.ndarray]:
    return lambda city: _smoothed(city, _abs_z(city, "red", window=window))


def _two_windows(city: CityData) -> np.ndarray:
    return 0.5 * (_window(48)(city) + _window(128)(city))


def _reweighted(city: CityData) -> np.ndarray:
    return _smoothed(city, _abs_z(city, "red", iterations=4, clip=2.0))


def _objects(city: CityData) -> Callable[[np.ndarray], np.ndarray]:
    """Felzenszwalb segments of both dates' bands, a mask kept where ≥ 30 % of a segment's pixels are change."""
    from skimage.segmentation import felzenszwalb

    stack = np.nan_to_num(np.concatenate([city.before, city.after]))
    stack = (stack - stack.mean(axis=(1, 2), keepdims=True)) / (stack.std(axis=(1, 2), keepdims=True) + 1e-9)
    segments = felzenszwalb(np.moveaxis(stack, 0, -1), scale=20, sigma=0.5, min_size=4, channel_axis=-1)
    count = int(segments.max()) + 1
    sizes = np.maximum(np.bincount(segments.ravel(), minlength=count), 1)

    def refine(mask: np.ndarray) -> np.ndarray:
        share = np.bincount(segments.ravel(), weights=mask.ravel(), minlength=count) / sizes
        kept: np.ndarray = (share[segments] > 0.3) & city.valid
        return kept

    return refine


Statistic = Callable[[CityData], np.ndarray]
Refine = Callable[[CityData], Callable[[np.ndarray], np.ndarray]]  # built once per city
DEFAULT = _bands_mean(("red",))
# name: (statistic, decision refinement or None)
DIRECTIONS: dict[str, tuple[Statistic, Refine | None]] = {
    "default (red, 96 px, sigma 1.5)": (DEFAULT, None),
    "bands: mean of blue, green, red": (_bands_mean(("blue", "green", "red")), None),
    "bands: mean of red, SWIR 1.6, SWIR 2.2": (_bands_mean(("red", "swir16", "swir22")), None),
    "bands: mean of all six": (_bands_mean(("blue", "green", "red", "nir", "swir16", "swir22")), None),
    "multi-scale: max of sigma 1.5 and 4 px": (_multiscale, None),
    "window 64 px": (_window(64), None),
    "window 128 px": (_window(128), None),
    "two windows: mean of 48 and 128 px": (_two_windows, None),
    "re-weighting: 4 passes, clip 2 sd": (_reweighted, None),
    "objects: Felzenszwalb segments >= 30 %": (DEFAULT, _objects),
}


def _read(root: Path, name: str) -> CityData:
    city = load_city(root, name)
    pair, valid = read_city(city)
    after, *_ = normalise(pair.before.data, pair.after.data, valid)
    return CityData(pair.before.data, after, valid, read_labels(city), pair.before.bands)


def _scores(city: CityData, statistic: np.ndarray, refine: Refine | None) -> list[float]:
    values, difference = np.nan_to_num(statistic), city.after - city.before
    refined = refine(city) if refine is not None else None
    scores = []
    for threshold, seed, area in itertools.product(THRESHOLDS, SEED_FACTORS, MIN_AREAS):
        mask = drop_small(local_decision(values, city.valid, threshold, seed), area)
        if refined is not None:
            mask = drop_small(refined(mask), area)
        predicted = change_regions(mask, difference, max(MIN_REGION_PX, area), edge_band(SIGMA_PX)) > 0
        scores.append(Confusion.of(predicted, city.truth).f1)
    return scores


def compare_directions(root: Path, cities: list[str],
                       leave_one_out: Callable[[np.ndarray], np.ndarray]) -> dict[str, Any]:
    """{"cities", "grid", "directions": {name: dev and leave-one-city-out F1, per city and mean}}."""
    f1 = {name: np.zeros((len(THRESHOLDS) * len(SEED_FACTORS) * len(MIN_AREAS), len(cities))) for name in DIRECTIONS}
    for j, name in enumerate(cities):
        start = time.perf_counter()
        city = _read(root, name)
        for direction, (statistic, refine) in DIRECTIONS.items():
            f1[direction][:, j] = _scores(city, statistic(city), refine)
        log.info("%s: every direction scored in %.0f s", name, time.perf_counter() - start)
    candidates = list(itertools.product(THRESHOLDS, SEED_FACTORS, MIN_AREAS))
    out = {}
    for direction, scores in f1.items():
        best = int(np.argmax(scores.mean(axis=1)))
        held = leave_one_out(scores)
        out[direction] = {
            "best_parameters": dict(zip(("threshold", "seed_factor", "min_area_px"), candidates[best])),
            "f1_per_city": {c: round(float(v), 4) for c, v in zip(cities, scores[best])},
            "f1_mean": round(float(scores[best].mean()), 4),
            "leave_one_city_out_f1": {c: round(float(v), 4) for c, v in zip(cities, held)},
            "leave_one_city_out_f1_mean": round(float(held.mean()), 4),
            "oracle_per_city_f1_mean": round(float(scores.max(axis=0).mean()), 4),
        }
    return {"cities": cities, "grid": {"threshold": THRESHOLDS, "seed_factor": SEED_FACTORS, "min_area_px": MIN_AREAS},
            "directions": out}
