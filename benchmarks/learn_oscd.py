"""Learn the ``local-regression`` detector's parameters on the OSCD dev cities, and say how well they travel.

    python benchmarks/learn_oscd.py [--root ../shared/data/oscd] [--out geo/change/params/local_regression.json]
                                    [--sensitivity] [--scores FILE]
    python benchmarks/learn_oscd.py --directions [--directions-out benchmarks/results/oscd_directions.json]

Three parameters are learnt: the decision threshold, the seed level (a multiple of the threshold that
some pixel of a region must reach) and the minimum region area. Three are fixed by
reasoning, not fitted: the red band (vegetation absorbs it, so seasons change it least while soil,
concrete and roofs stand out), a 96 px (~1 km) neighbourhood for the local regression (several times the
largest construction site, so a site cannot explain itself away) and a 1.5 px Gaussian footprint (the
scale of the smallest buildings a 10 m pixel shows). ``--sensitivity`` also scores bands, windows and
footprints around them, for the record, without choosing from them.

Each city is read and co-registered once through the evaluation harness (the pipeline's own stages); the
job's region step is applied to every candidate and F1 of the change class scored. The chosen parameters
maximise the mean F1 over cities (every city counts the same). Leave-one-city-out: for each city, the
parameters that maximise the mean over the *other* cities, scored on the held-out one — the figure to
expect on a city never seen. The labels are used here, offline, and nowhere at run time; the result ships
as JSON in the package.

``--directions`` writes nothing to the package: it scores other statistics and decisions side by side with
the default (``DIRECTIONS``), each with its threshold, seed level and minimum area chosen the same way, and
reports their leave-one-city-out F1 — a direction is adopted only if that beats the default's.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geo.atomic import write_json  # noqa: E402
from geo.change.detectors.base import edge_band  # noqa: E402
from geo.change.detectors.local_regression import local_decision  # noqa: E402
from geo.change.normalise import normalise  # noqa: E402
from geo.change.stats import local_change  # noqa: E402
from geo.change.threshold import change_regions, drop_small  # noqa: E402
from geo.eval.oscd import MIN_REGION_PX, default_root, discover, load_city, read_city, read_labels  # noqa: E402
from geo.eval.scoring import Confusion  # noqa: E402

from benchmarks.oscd_directions import compare_directions  # noqa: E402

FIXED = {"band": ("red",), "window_px": (96,), "sigma_px": (1.5,)}
SENSITIVITY = {"band": ("green", "red"), "window_px": (48, 96, 128), "sigma_px": (1.0, 1.5, 2.0)}
THRESHOLDS = tuple(round(t, 2) for t in np.arange(2.4, 3.85, 0.1))
SEED_FACTORS = (1.0, 1.25, 1.5, 2.0)
MIN_AREAS = (8, 16, 24, 32)

log = logging.getLogger("learn_oscd")


def score_grid(root: Path, cities: list[str], grid: dict[str, tuple]) -> tuple[list[dict[str, object]], np.ndarray]:
    """(candidates, F1 array candidates × cities) over ``grid`` × thresholds × minimum areas."""
    bands, windows, sigmas = grid["band"], grid["window_px"], grid["sigma_px"]
    candidates = [dict(band=b, window_px=w, sigma_px=s, threshold=float(t), seed_factor=f, min_area_px=a)
                  for b, w, s, t, f, a in itertools.product(bands, windows, sigmas, THRESHOLDS, SEED_FACTORS, MIN_AREAS)]
    f1 = np.zeros((len(candidates), len(cities)))
    for j, name in enumerate(cities):
        start = time.perf_counter()
        city = load_city(root, name)
        pair, valid = read_city(city)
        truth = read_labels(city)
        before = pair.before.data
        after_n, *_ = normalise(before, pair.after.data, valid)
        difference = after_n - before
        statistics = {(b, w, s): np.nan_to_num(local_change(before, after_n, valid, pair.before.bands, b, w, s).values)
                      for b, w, s in itertools.product(bands, windows, sigmas)}
        for i, c in enumerate(candidates):
            stat = statistics[(c["band"], c["window_px"], c["sigma_px"])]
            mask = drop_small(local_decision(stat, valid, c["threshold"], c["seed_factor"]), int(c["min_area_px"]))
            min_area = max(MIN_REGION_PX, int(c["min_area_px"]))  # as the job: Detection.min_area_px
            predicted = change_regions(mask, difference, min_area, edge_band(c["sigma_px"])) > 0
            f1[i, j] = Confusion.of(predicted, truth).f1
        log.info("%s scored in %.0f s", name, time.perf_counter() - start)
    return candidates, f1


def leave_one_out(f1: np.ndarray) -> np.ndarray:
    """Held-out F1 of each city with the parameters chosen on the others."""
    held = np.empty(f1.shape[1])
    for j in range(f1.shape[1]):
        others = np.delete(f1, j, axis=1).mean(axis=1)
        held[j] = f1[int(np.argmax(others)), j]
    return held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=default_root())
    parser.add_argument("--out", type=Path, default=REPO / "geo" / "change" / "params" / "local_regression.json")
    parser.add_argument("--scores", type=Path, help="also write every candidate's per-city F1 here (JSON)")
    parser.add_argument("--sensitivity", action="store_true",
                        help="also score other bands, windows and footprints (reported, not chosen from)")
    parser.add_argument("--directions", action="store_true",
                        help="only compare other statistics/decisions with the default, leave-one-city-out")
    parser.add_argument("--directions-out", type=Path, default=REPO / "benchmarks" / "results" / "oscd_directions.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.directions:
        args.directions_out.parent.mkdir(parents=True, exist_ok=True)
        result = compare_directions(args.root, discover(args.root), leave_one_out)
        write_json(args.directions_out, result)
        for name, row in result["directions"].items():
            print(f"{name:<44}{row['f1_mean']:>8.4f}{row['leave_one_city_out_f1_mean']:>8.4f}")
        return
    cities = discover(args.root)
    candidates, f1 = score_grid(args.root, cities, SENSITIVITY if args.sensitivity else FIXED)
    if args.scores:
        write_json(args.scores, {"cities": cities, "candidates": candidates, "f1": f1.round(5).tolist()})
    # Choose among the fixed band/window/footprint only; the rest of a sensitivity grid is for the record.
    fixed = np.array([all(c[k] in v for k, v in FIXED.items()) for c in candidates])
    mean = np.where(fixed, f1.mean(axis=1), -1.0)
    best = int(np.argmax(mean))
    held = leave_one_out(f1[fixed])
    # How flat the optimum is: the best mean F1 for each value of each parameter, the others free.
    all_mean = f1.mean(axis=1)
    sensitivity = {key: {str(v): round(float(max(all_mean[i] for i, c in enumerate(candidates) if c[key] == v)), 4)
                         for v in sorted({c[key] for c in candidates}, key=str)}
                   for key in candidates[0]}
    result = {
        "parameters": candidates[best],
        "provenance": {
            "script": "benchmarks/learn_oscd.py",
            "dataset": "OSCD (Onera Satellite Change Detection), labels read offline only",
            "cities": cities,
            "objective": "mean over cities of F1 of the change class, after the job's region step",
            "fixed": {k: v[0] for k, v in FIXED.items()},
            "learnt_over": {"threshold": THRESHOLDS, "seed_factor": SEED_FACTORS, "min_area_px": MIN_AREAS},
            "f1_per_city": {c: round(float(v), 4) for c, v in zip(cities, f1[best])},
            "f1_mean": round(float(mean[best]), 4),
            "leave_one_city_out_f1": {c: round(float(v), 4) for c, v in zip(cities, held)},
            "leave_one_city_out_f1_mean": round(float(held.mean()), 4),
            "best_mean_f1_by_parameter_value": sensitivity,
        },
    }
    write_json(args.out, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    from benchmarks.needs import run

    run(main, data=["oscd"], option="--root")
