"""Spatial regularisation of the decision by an exact graph cut instead of hysteresis + sieve, on the OSCD
cities, side by side with ``local-fusion``'s decision in the same run.

    python benchmarks/oscd_graphcut.py [--root ../shared/data/oscd] [--out benchmarks/results/oscd_graphcut.json]

The change mask minimises  Σ_p (t − s_p)·[change_p] + β · #(4-neighbour pairs labelled differently)  over
the statistic ``s`` (a Potts MRF: the data term is the statistic's margin over the detection level ``t``,
the smoothness term the length of the changed regions' boundary, β in the statistic's units), solved
exactly as a minimum s-t cut by scipy's maximum flow. Then, as the job's decision, a seed level (a region
must reach seed × t somewhere), the minimum area and the region step. Levels t, β, seed and area are chosen
on six cities and scored on the seventh. The statistics: ``local-fusion``'s (footprints σ 1 and 2 px: it is
already smoothed), and the same fusion at σ 1 px only and unsmoothed (σ 0), where a boundary cost has more
to add.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geo.atomic import write_json  # noqa: E402
from geo.change.detectors.base import edge_band  # noqa: E402
from geo.change.threshold import change_regions, drop_small  # noqa: E402
from geo.eval.oscd import MIN_REGION_PX, default_root, discover  # noqa: E402
from geo.eval.scoring import Confusion  # noqa: E402

from benchmarks.learn_oscd import leave_one_out  # noqa: E402
from benchmarks.oscd_directions import MIN_AREAS, SEED_FACTORS, THRESHOLDS, CityData, _scores  # noqa: E402
from benchmarks.oscd_candidates import _min_over, robust_min  # noqa: E402
from benchmarks.oscd_statistics import _cached  # noqa: E402

log = logging.getLogger("oscd_graphcut")
BETAS = (0.25, 0.5, 1.0, 2.0, 4.0)
SEEDS = (1.0, 1.5, 2.0)
EDGE_PX = edge_band(1.0)  # local-fusion's: its narrowest footprint's

SCALE = 100  # capacities are integers: hundredths of the statistic's unit


def graph_cut(score: np.ndarray, valid: np.ndarray, threshold: float, beta: float) -> np.ndarray:
    """The minimum-energy change mask (bool) of ``score`` at ``threshold`` with boundary cost ``beta``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import breadth_first_order, maximum_flow

    rows, cols = score.shape
    n = rows * cols
    source, sink = n, n + 1
    index = np.arange(n).reshape(rows, cols)
    margin = np.where(valid, np.nan_to_num(score) - threshold, -threshold)
    capacity = np.minimum(np.round(np.abs(margin) * SCALE), 2**30).astype(np.int64)
    change = margin > 0
    tails = [np.full(int(change.sum()), source), index[~change]]
    heads = [index[change], np.full(int((~change).sum()), sink)]
    weights = [capacity[change], capacity[~change]]
    pairwise = int(round(beta * SCALE))
    if pairwise > 0:
        for a, b in ((index[:, :-1], index[:, 1:]), (index[:-1, :], index[1:, :])):
            a, b = a.ravel(), b.ravel()
            tails += [a, b]
            heads += [b, a]
            weights += [np.full(a.size, pairwise), np.full(a.size, pairwise)]
    t, h, w = np.concatenate(tails), np.concatenate(heads), np.concatenate(weights)
    keep = w > 0
    graph = coo_matrix((w[keep].astype(np.int32), (t[keep], h[keep])), shape=(n + 2, n + 2)).tocsr()
    flow = maximum_flow(graph, source, sink, method="dinic").flow
    residual = (graph - flow).tocsr()
    residual.data = (residual.data > 0).astype(np.int8)
    residual.eliminate_zeros()
    reached = breadth_first_order(residual, source, directed=True, return_predecessors=False)
    mask = np.zeros(n + 2, bool)
    mask[reached] = True
    return mask[:n].reshape(rows, cols) & valid


def seeded(mask: np.ndarray, score: np.ndarray, level: float) -> np.ndarray:
    """The 4-connected regions of ``mask`` that reach ``level`` somewhere."""
    from scipy import ndimage as ndi

    labels, count = ndi.label(mask)
    reached = np.zeros(count + 1, bool)
    reached[labels[score > level]] = True
    reached[0] = False
    kept: np.ndarray = reached[labels]
    return kept


def graph_cut_scores(city: CityData, score: np.ndarray) -> list[float]:
    """F1 of every (threshold, β, seed, area) of the grid, after the job's region step."""
    difference, out = city.after - city.before, []
    for threshold, beta in itertools.product(THRESHOLDS, BETAS):
        mask = graph_cut(score, city.valid, threshold, beta)
        for seed in SEEDS:
            regions = seeded(mask, score, seed * threshold) if seed > 1 else mask
            for area in MIN_AREAS:
                predicted = change_regions(drop_small(regions, area), difference, max(MIN_REGION_PX, area), EDGE_PX)
                out.append(Confusion.of(predicted > 0, city.truth).f1)
    return out


STATISTICS: dict[str, Callable[[CityData], np.ndarray]] = {
    "local-fusion (sigma 1/2)": robust_min,
    "fusion at sigma 1 px only": _min_over((48, 96), (1.0,)),
    "fusion unsmoothed (sigma 0)": _min_over((48, 96), (0.0,)),
}


def _row(f1: np.ndarray, cities: list[str], grid: list[tuple[float, ...]], keys: tuple[str, ...]) -> dict[str, Any]:
    best, held = int(np.argmax(f1.mean(axis=1))), leave_one_out(f1)
    return {"best_parameters": dict(zip(keys, grid[best])), "f1_mean": round(float(f1[best].mean()), 4),
            "leave_one_city_out_f1": {c: round(float(v), 4) for c, v in zip(cities, held)},
            "leave_one_city_out_f1_mean": round(float(held.mean()), 4),
            "oracle_per_city_f1_mean": round(float(f1.max(axis=0).mean()), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=default_root())
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "oscd_graphcut.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cities = discover(args.root)
    cut_grid = list(itertools.product(THRESHOLDS, BETAS, SEEDS, MIN_AREAS))
    cuts = {name: np.zeros((len(cut_grid), len(cities))) for name in STATISTICS}
    columns = []
    for j, name in enumerate(cities):
        start = time.perf_counter()
        city = _cached(args.root, name)
        for statistic_name, statistic in STATISTICS.items():
            values = statistic(city).astype(np.float32)
            if statistic is robust_min:
                columns.append(_scores(city, values, None))
            cuts[statistic_name][:, j] = graph_cut_scores(city, values)
        log.info("%s: scored in %.0f s", name, time.perf_counter() - start)
    hysteresis = np.array(columns).T
    out: dict[str, dict[str, Any]] = {"local-fusion: hysteresis + sieve (the default decision)": _row(
        hysteresis, cities, list(itertools.product(THRESHOLDS, SEED_FACTORS, MIN_AREAS)),
        ("threshold", "seed_factor", "min_area_px"))}
    keys = ("threshold", "beta", "seed_factor", "min_area_px")
    for statistic_name, f1 in cuts.items():
        out[f"graph cut on {statistic_name}"] = _row(f1, cities, cut_grid, keys)
        for beta in BETAS:
            rows = [i for i, g in enumerate(cut_grid) if g[1] == beta]
            out[f"graph cut on {statistic_name}, beta {beta:g}"] = _row(f1[rows], cities, [cut_grid[i] for i in rows], keys)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, {"cities": cities, "betas": BETAS, "seeds": SEEDS, "decisions": out})
    print(f"{'decision':<64}{'dev':>8}{'LOO':>8}{'orc':>8}")
    for name, row in out.items():
        print(f"{name:<64}{row['f1_mean']:>8.4f}{row['leave_one_city_out_f1_mean']:>8.4f}"
              f"{row['oracle_per_city_f1_mean']:>8.4f}")


if __name__ == "__main__":
    from benchmarks.needs import run

    run(main, data=["oscd"], option="--root")
