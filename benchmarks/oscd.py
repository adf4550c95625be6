"""OSCD change-detection benchmark: every change method side by side on the same reads, per city and mean,
with seconds per city, and the baseline (raw change-vector magnitude + Otsu) in the same run.

    python benchmarks/oscd.py [--root ../shared/data/oscd] [--cities a,b] [--out benchmarks/results/oscd.json]

Each city goes through the evaluation harness (``geo.eval.oscd``: the pipeline's reader onto the label
grid, co-registration, cirrus cloud screen, then each method and the job's region step). Seconds per city
are reading + co-registration + that method, wall clock, on whatever else the machine is doing.
Also in the JSON: the leave-one-city-out F1 of the shipped ``local-fusion`` (the default) and
``local-regression`` parameters, copied from their provenance (``benchmarks/oscd_statistics.py``,
``benchmarks/learn_oscd.py``), the figure to expect on a city none of them were fitted on;
and ``typing``: change typing scored on a labelled set of regions from the same cities
(``geo.eval.change_types``: OSCD construction, water, vegetation, simulated shadow), its confusion matrix
printed too (``--no-typing`` skips it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.atomic import write_json  # noqa: E402
from geo.change.detectors import DETECTORS, build_detector  # noqa: E402
from geo.change.detectors.local_fusion import PARAMS_RESOURCE as FUSION_PARAMS  # noqa: E402
from geo.change.detectors.local_regression import PARAMS_RESOURCE  # noqa: E402
from geo.eval.change_types import evaluate_typing  # noqa: E402
from geo.eval.oscd import default_root, evaluate  # noqa: E402

BASELINE = "cva-otsu"
LEARNT = {"local-fusion": FUSION_PARAMS, "local-regression": PARAMS_RESOURCE}  # methods with a learnt provenance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=default_root())
    parser.add_argument("--cities", default=None, help="comma-separated [default: all under ROOT]")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "oscd.json")
    parser.add_argument("--no-typing", action="store_true", help="skip the change-typing confusion matrix")
    args = parser.parse_args()
    cities = [c for c in args.cities.split(",") if c] if args.cities else None
    start = time.perf_counter()
    detectors = [build_detector(name) for name in DETECTORS]
    result = evaluate(args.root, cities, detectors, progress=lambda name: print(f"  {name}", file=sys.stderr))
    result["shipped_parameters_leave_one_city_out"] = {}
    for method, resource in LEARNT.items():
        shipped = json.loads((ROOT / "geo" / "change" / "params" / resource).read_text())["provenance"]
        result["shipped_parameters_leave_one_city_out"][method] = {
            "f1_per_city": shipped.get("leave_one_city_out_f1"),
            "f1_mean": shipped.get("leave_one_city_out_f1_mean"),
        }
    if not args.no_typing:
        result["typing"] = evaluate_typing(args.root, cities, progress=lambda name: print(f"  typing {name}", file=sys.stderr))
    result["baseline"] = BASELINE
    result["machine"] = {"cpus": os.cpu_count(), "load_average": os.getloadavg(), "python": platform.python_version()}
    result["algorithm_versions"] = {d.name: d.algorithm_version for d in detectors}
    result["total_seconds"] = round(time.perf_counter() - start, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    names = result["cities"]
    print(f"{'method':<18}" + "".join(f"{c[:11]:>12}" for c in names) + f"{'mean F1':>10}{'mean s':>8}")
    for method, summary in result["methods"].items():
        row = "".join(f"{r['f1']:>12.3f}" for r in summary["cities"])
        print(f"{method:<18}{row}{summary['mean']['f1']:>10.3f}{summary['mean']['seconds']:>8.1f}")
    if "typing" in result:
        print_typing(result["typing"])
    print(f"written {args.out}")


def print_typing(typing: dict[str, Any]) -> None:
    """The confusion matrix: a row per reference class, a column per type that occurs."""
    matrix, accuracy = typing["matrix"], typing["accuracy"]
    used = [t for t in next(iter(matrix.values())) if any(row[t] for row in matrix.values())]
    print(f"\n{'typing: class':<17}" + "".join(f"{t:>{len(t) + 2}}" for t in used) + f"{'accuracy':>10}")
    for kind, row in matrix.items():
        acc = accuracy[kind]
        print(f"{kind:<17}" + "".join(f"{row[t]:>{len(t) + 2}}" for t in used)
              + (f"{acc:>10.2f}" if acc is not None else f"{'-':>10}"))
    print(f"mean class accuracy {typing['mean_class_accuracy']}, overall {typing['overall_accuracy']}")


if __name__ == "__main__":
    from benchmarks.needs import run

    run(main, data=["oscd"], option="--root")
