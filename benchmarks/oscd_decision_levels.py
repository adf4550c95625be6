"""Per-pair decision levels and object-level decisions on ``local-fusion``'s statistic, on the OSCD cities,
side by side with ``local-fusion``'s fixed levels in the same run (issue 17).

    python benchmarks/oscd_decision_levels.py [--root ../shared/data/oscd] [--only NAME ...]
                                              [--out benchmarks/results/oscd_decision_levels.json]

``local-fusion`` decides every pair at the same level (2.2 robust |z|, seed 1.5 ×, 8 px). Its per-city oracle
(0.435) is above its held-out figure (0.407) because the best level differs by pair (Paris 3.6, Pisa 1.6).
Candidates, each with one knob chosen on six cities with the seed level and minimum area of the shared grid
(``benchmarks/oscd_directions.py``), scored on the seventh:

- *per-pair level*: the threshold read off the pair's own statistic — a multiple of its median, its median
  plus a multiple of its MAD, its upper quantile (a fixed share of pixels), a multiple of its
  Kittler-Illingworth minimum-error level (two Gaussians on the statistic's histogram), the level where the
  count of objects against the threshold bends (where raising it by 0.1 stops removing a share of them);
- *object-level decision*: objects above a low level kept by their excess mass (Σ (s − t) / √area, the
  excess's mean × √area) against a fixed cut, or against a per-pair null of object scores — the same
  objects of an amplitude-adjusted phase-randomised surrogate of the pair's statistic (same histogram and
  nearly the same autocorrelation, no coherent objects), a region-level false-alarm rate α.

Reads the cities through ``benchmarks/oscd_statistics.py``'s cache (/tmp); the job's region step on every mask.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geo.atomic import write_json  # noqa: E402
from geo.change.detectors.base import edge_band  # noqa: E402
from geo.change.detectors.local_regression import local_decision  # noqa: E402
from geo.change.threshold import change_regions, drop_small  # noqa: E402
from geo.eval.oscd import MIN_REGION_PX, default_root, discover  # noqa: E402
from geo.eval.scoring import Confusion  # noqa: E402

from benchmarks.learn_oscd import leave_one_out  # noqa: E402
from benchmarks.oscd_candidates import forget_memos, robust_min  # noqa: E402
from benchmarks.oscd_directions import MIN_AREAS, SEED_FACTORS, SIGMA_PX, THRESHOLDS, CityData  # noqa: E402
from benchmarks.oscd_red_edge import red_20m  # noqa: E402
from benchmarks.oscd_statistics import _cached, selected  # noqa: E402

log = logging.getLogger("oscd_decision_levels")
FOUR = ndi.generate_binary_structure(2, 1)
LEVEL_GRID = np.round(np.arange(1.2, 6.01, 0.1), 2)  # where the object-count curve is read


@dataclass(frozen=True)
class Pair:
    """One city's statistic, its valid pixels' values and what the per-pair levels need of it."""

    statistic: np.ndarray
    valid: np.ndarray
    values: np.ndarray  # the statistic over valid pixels
    null: np.ndarray  # a surrogate of the statistic with no coherent objects (``surrogate``)
    coarse: np.ndarray | None  # the same fusion on the 2 × 2 (20 m) grid, back on this one (two-scale candidates)


Level = Callable[[Pair, float], float]  # (pair, knob) -> the pair's threshold
Mask = Callable[[Pair, tuple[float, ...]], np.ndarray]  # (pair, knobs) -> change mask before the region step


def kittler_illingworth(values: np.ndarray, bins: int = 256) -> float:
    """The minimum-error level of two Gaussians on the histogram of ``values`` (up to its 99.9th percentile)."""
    counts, edges = np.histogram(values, bins=bins, range=(0.0, float(np.quantile(values, 0.999))))
    centres = 0.5 * (edges[:-1] + edges[1:])
    p = counts / counts.sum()
    best, level = np.inf, float(centres[bins // 2])
    for k in range(2, bins - 2):
        w0, w1 = p[:k].sum(), p[k:].sum()
        if w0 < 1e-6 or w1 < 1e-6:
            continue
        m0, m1 = (p[:k] * centres[:k]).sum() / w0, (p[k:] * centres[k:]).sum() / w1
        v0 = (p[:k] * (centres[:k] - m0) ** 2).sum() / w0
        v1 = (p[k:] * (centres[k:] - m1) ** 2).sum() / w1
        if v0 <= 0 or v1 <= 0:
            continue
        cost = w0 * np.log(v0) + w1 * np.log(v1) - 2 * (w0 * np.log(w0) + w1 * np.log(w1))
        if cost < best:
            best, level = cost, float(edges[k])
    return level


def object_counts(statistic: np.ndarray, valid: np.ndarray, min_px: int = 8) -> np.ndarray:
    """Number of 4-connected objects of ≥ ``min_px`` pixels above each level of ``LEVEL_GRID``."""
    out = np.zeros(len(LEVEL_GRID))
    for i, t in enumerate(LEVEL_GRID):
        labels, n = ndi.label(valid & (statistic > t), FOUR)
        out[i] = np.count_nonzero(np.bincount(labels.ravel(), minlength=n + 1)[1:] >= min_px)
    return out


def knee(counts: np.ndarray, ratio: float) -> float:
    """The lowest level at which raising it by one step keeps at least ``ratio`` of the objects: past it the
    count stops falling fast (noise excursions gone, objects that persist left)."""
    for i in range(len(counts) - 1):
        if counts[i] > 0 and counts[i + 1] / counts[i] >= ratio:
            return float(LEVEL_GRID[i])
    return float(LEVEL_GRID[-1])


def surrogate(statistic: np.ndarray, valid: np.ndarray, seed: int = 0) -> np.ndarray:
    """An amplitude-adjusted phase-randomised surrogate: the statistic's ranks given to a Gaussian field
    with its (rank-Gaussianised) power spectrum, so the histogram and roughly the autocorrelation stay and
    the coherent objects go (Theiler et al. 1992's AAFT in 2-D)."""
    from scipy.special import ndtri
    from scipy.stats import rankdata

    filled = np.where(valid, statistic, np.median(statistic[valid]))
    gauss = ndtri((rankdata(filled).reshape(filled.shape) - 0.5) / filled.size)
    spectrum = np.abs(np.fft.rfft2(gauss))
    phases = np.exp(2j * np.pi * np.random.default_rng(seed).random(spectrum.shape))
    field = np.fft.irfft2(spectrum * phases, s=filled.shape)
    out = np.empty(filled.size)
    out[np.argsort(field, axis=None)] = np.sort(filled, axis=None)
    return out.reshape(filled.shape)


def excess_scores(statistic: np.ndarray, valid: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """(labels, score per label) of the 4-connected objects above ``level``: Σ (s − level) / √area."""
    labels, n = ndi.label(valid & (statistic > level), FOUR)
    flat = labels.ravel()
    area = np.maximum(np.bincount(flat, minlength=n + 1), 1)
    mass = np.bincount(flat, weights=np.where(labels > 0, statistic - level, 0.0).ravel(), minlength=n + 1)
    score = mass / np.sqrt(area)
    score[0] = -np.inf
    return labels, score


def hysteresis(level: Level) -> Mask:
    def mask(pair: Pair, knobs: tuple[float, ...]) -> np.ndarray:
        knob, seed = knobs
        return np.asarray(local_decision(pair.statistic, pair.valid, level(pair, knob), seed))
    return mask


def objects_fixed(pair: Pair, knobs: tuple[float, ...]) -> np.ndarray:
    level, cut = knobs
    labels, score = excess_scores(pair.statistic, pair.valid, level)
    return np.asarray(score[labels] >= cut)


def objects_null(pair: Pair, knobs: tuple[float, ...]) -> np.ndarray:
    level, alpha = knobs
    labels, score = excess_scores(pair.statistic, pair.valid, level)
    _, null = excess_scores(pair.null, pair.valid, level)
    null = null[1:]
    cut = float(np.quantile(null, 1.0 - alpha)) if null.size else 0.0
    return np.asarray(score[labels] > cut)


def hysteresis_null(pair: Pair, knobs: tuple[float, ...]) -> np.ndarray:
    """``local-fusion``'s decision, then its objects kept only where their excess mass passes the surrogate
    null's (1 − α) quantile at the same level (α 1: the decision unchanged)."""
    level, seed, alpha = knobs
    mask = np.asarray(local_decision(pair.statistic, pair.valid, level, seed))
    if alpha >= 1.0:
        return mask
    labels, score = excess_scores(np.where(mask, pair.statistic, 0.0), pair.valid, level)
    _, null = excess_scores(pair.null, pair.valid, level)
    cut = float(np.quantile(null[1:], 1.0 - alpha)) if null.size > 1 else 0.0
    return np.asarray(score[labels] > cut)


def two_scales(union: bool) -> Mask:
    """Hysteresis across scales: seeds where the 10 m statistic passes seed × t, grown through the pixels
    where the 20 m one passes g × t (``union``: or the 10 m one passes t)."""
    def mask(pair: Pair, knobs: tuple[float, ...]) -> np.ndarray:
        level, seed, grow = knobs
        assert pair.coarse is not None
        low = pair.valid & (pair.coarse > grow * level)
        if union:
            low |= pair.valid & (pair.statistic > level)
        labels, n = ndi.label(low, FOUR)
        seeded = np.zeros(n + 1, bool)
        seeded[labels[low & (pair.statistic > seed * level)]] = True
        seeded[0] = False
        return np.asarray(seeded[labels])
    return mask


def _counts_memo() -> Callable[[Pair], np.ndarray]:
    memo: dict[int, np.ndarray] = {}

    def counts(pair: Pair) -> np.ndarray:
        if id(pair) not in memo:
            memo.clear()
            memo[id(pair)] = object_counts(pair.statistic, pair.valid)
        return memo[id(pair)]
    return counts


_COUNTS = _counts_memo()
_KI: dict[int, float] = {}


def _ki(pair: Pair) -> float:
    if id(pair) not in _KI:
        _KI.clear()
        _KI[id(pair)] = kittler_illingworth(pair.values)
    return _KI[id(pair)]


def _mad(values: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


# name: (mask, the knobs' grids; the last grid's knob is the seed level where the mask is hysteresis)
CANDIDATES: dict[str, tuple[Mask, Sequence[Sequence[float]]]] = {
    "local-fusion: fixed level (the default)": (hysteresis(lambda p, t: t), (THRESHOLDS, SEED_FACTORS)),
    "level: k x the pair's median": (hysteresis(lambda p, k: k * float(np.median(p.values))),
                                     (tuple(np.round(np.arange(2.4, 5.01, 0.2), 2)), SEED_FACTORS)),
    "level: median + k x MAD": (hysteresis(lambda p, k: float(np.median(p.values)) + k * _mad(p.values)),
                                (tuple(np.round(np.arange(3.0, 13.1, 1.0), 1)), SEED_FACTORS)),
    "level: the pair's upper quantile (share of pixels)": (
        hysteresis(lambda p, q: float(np.quantile(p.values, 1.0 - q))),
        ((0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.06), SEED_FACTORS)),
    "level: k x Kittler-Illingworth": (hysteresis(lambda p, k: k * _ki(p)),
                                       (tuple(np.round(np.arange(0.5, 2.51, 0.1), 2)), SEED_FACTORS)),
    "level: object-count knee": (hysteresis(lambda p, r: knee(_COUNTS(p), r)),
                                 ((0.7, 0.75, 0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98), SEED_FACTORS)),
    "objects: excess mass / sqrt(area) >= cut": (objects_fixed, ((1.4, 1.6, 1.8, 2.0, 2.2),
                                                                 (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0))),
    "objects: against the pair's surrogate null, false-alarm rate alpha": (
        objects_null, ((1.4, 1.6, 1.8, 2.0, 2.2), (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2))),
    "objects: local-fusion's decision, then against the surrogate null (alpha 1: unchanged)": (
        hysteresis_null, ((1.8, 2.0, 2.2, 2.4, 2.6), (1.0, 1.5, 2.0), (0.02, 0.05, 0.1, 0.2, 0.5, 1.0))),
    "two scales: seeds at 10 m, grown through the 20 m statistic > g x t": (
        two_scales(False), (THRESHOLDS, SEED_FACTORS, (0.8, 1.0, 1.2))),
    "two scales: seeds at 10 m, grown through 10 m > t or 20 m > g x t": (
        two_scales(True), (THRESHOLDS, SEED_FACTORS, (0.8, 1.0, 1.2))),
}
TWO_SCALES = "two scales"


def scores(pair: Pair, city: CityData, mask: Mask, grids: Sequence[Sequence[float]]) -> list[float]:
    """F1 of every knob combination × minimum area, after the job's region step."""
    difference = city.after - city.before
    out = []
    for knobs in itertools.product(*grids):
        base = mask(pair, tuple(float(k) for k in knobs))
        for area in MIN_AREAS:
            predicted = change_regions(drop_small(base, area), difference, max(MIN_REGION_PX, area),
                                       edge_band(SIGMA_PX)) > 0
            out.append(Confusion.of(predicted, city.truth).f1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=default_root())
    parser.add_argument("--only", nargs="*", help="candidate names (prefix match); local-fusion always runs")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "oscd_decision_levels.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    names = selected(CANDIDATES, args.only, "local-fusion")
    cities = discover(args.root)
    f1: dict[str, list[list[float]]] = {n: [] for n in names}
    for city_name in cities:
        start = time.perf_counter()
        city = _cached(args.root, city_name)
        statistic = np.nan_to_num(robust_min(city)).astype(np.float64)
        forget_memos()
        coarse = red_20m(city) if any(n.startswith(TWO_SCALES) for n in names) else None
        pair = Pair(statistic, city.valid, statistic[city.valid], surrogate(statistic, city.valid), coarse)
        for n in names:
            f1[n].append(scores(pair, city, *CANDIDATES[n]))
        log.info("%s: %d candidates in %.0f s (median %.3f, MAD %.3f, Kittler-Illingworth %.2f)", city_name,
                 len(names), time.perf_counter() - start, np.median(pair.values), _mad(pair.values), _ki(pair))
    out = {}
    for n in names:
        grid = [*itertools.product(*CANDIDATES[n][1], MIN_AREAS)]
        table = np.array(f1[n]).T  # grid × cities
        best = int(np.argmax(table.mean(axis=1)))
        held = leave_one_out(table)
        chosen = [grid[int(np.argmax(np.delete(table, j, axis=1).mean(axis=1)))] for j in range(len(cities))]
        out[n] = {"best_knobs_and_min_area": [float(v) for v in grid[best]],
                  "held_out_choices": {c: [float(v) for v in k] for c, k in zip(cities, chosen)},
                  "f1_mean": round(float(table[best].mean()), 4),
                  "leave_one_city_out_f1": {c: round(float(v), 4) for c, v in zip(cities, held)},
                  "leave_one_city_out_f1_mean": round(float(held.mean()), 4),
                  "oracle_per_city_f1_mean": round(float(table.max(axis=0).mean()), 4)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, {"cities": cities, "min_area_px": MIN_AREAS, "candidates": out})
    print(f"{'candidate':<62}" + "".join(f"{c[:6]:>7}" for c in cities) + f"{'LOO':>8}{'dev':>8}{'orc':>8}")
    for n, row in out.items():
        held_out: dict[str, float] = row["leave_one_city_out_f1"]  # type: ignore[assignment]
        per = "".join(f"{v:>7.3f}" for v in held_out.values())
        print(f"{n:<62}{per}{row['leave_one_city_out_f1_mean']:>8.4f}{row['f1_mean']:>8.4f}"
              f"{row['oracle_per_city_f1_mean']:>8.4f}")


if __name__ == "__main__":
    from benchmarks.needs import run

    run(main, data=["oscd"], option="--root")
