"""Gates and hole filling on ``local-fusion``'s decision, screened on the OSCD cities (README: *Changes wider
than the window*): the statistic zeroed where both dates are vegetated (NDVI) or wet (MNDWI), smoothed over
σ 1 px; the decision's enclosed holes filled (all, or up to a size); and the statistic as the detector computes
it with and without its gross-change screen (``geo.change.gross``: changes wider than the window kept out of
the local fits). Leave-one-city-out F1
through the grid of ``benchmarks/oscd_directions.py``, ``local-fusion`` in the same run.

    python benchmarks/oscd_gates.py [--root ../shared/data/oscd] [--out benchmarks/results/oscd_gates.json]

Reads the cities through ``benchmarks/oscd_statistics.py``'s cache (/tmp).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geo.atomic import write_json  # noqa: E402
from geo.change.gross import Screen  # noqa: E402
from geo.change.local_blocks import apply_local, fit_local, local_statistic, whole  # noqa: E402
from geo.eval.oscd import default_root, discover  # noqa: E402

from benchmarks.learn_oscd import leave_one_out  # noqa: E402
from benchmarks.oscd_candidates import _band, forget_memos, robust_min  # noqa: E402
from benchmarks.oscd_directions import CityData, _scores  # noqa: E402
from benchmarks.oscd_statistics import _cached  # noqa: E402

Mask = Callable[[np.ndarray], np.ndarray]


def both_dates(city: CityData, a: str, b: str) -> np.ndarray:
    """The smaller of the two dates' normalised difference (a − b) / (a + b), each smoothed over σ 1 px."""
    def index(date: int) -> np.ndarray:
        x, y = _band(city, a, date), _band(city, b, date)
        return np.asarray(ndi.gaussian_filter(np.nan_to_num((x - y) / np.maximum(x + y, 1e-6)), 1.0))
    return np.minimum(index(0), index(1))


def gated(a: str, b: str, level: float) -> Callable[[CityData], np.ndarray]:
    def statistic(city: CityData) -> np.ndarray:
        return np.where(both_dates(city, a, b) > level, 0.0, robust_min(city))
    return statistic


def local_fusion(screen: bool) -> Callable[[CityData], np.ndarray]:
    """``local-fusion``'s statistic as the detector computes it (``geo.change.local_blocks``: windows 48/96 px,
    footprints σ 1/2 px, their minimum), with its gross-change screen (``geo.change.gross``) or without it."""
    def statistic(city: CityData) -> np.ndarray:
        x, y, valid = _band(city, "red", 0), _band(city, "red", 1), city.valid
        if screen:
            return local_statistic(x, y, valid, 96, 1.0, min_over_sigmas_px=(2.0,), min_over_windows_px=(48,))[0]
        fits = [fit_local(x, y, valid, w, 1.0, windows=whole(valid.shape), min_over_sigmas_px=(2.0,),
                          screen=Screen(None, None)) for w in (96, 48)]
        return apply_local(x, y, valid, fits, core_px=max(valid.shape))
    return statistic


def holes_filled(max_px: int | None) -> Callable[[CityData], Mask]:
    def refine(city: CityData) -> Mask:
        def fill(mask: np.ndarray) -> np.ndarray:
            holes, n = ndi.label(ndi.binary_fill_holes(mask) & ~mask)
            if n == 0:
                return mask
            keep = np.bincount(holes.ravel()) <= (max_px if max_px is not None else holes.size)
            keep[0] = False
            return np.asarray(mask | keep[holes])
        return fill
    return refine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=default_root())
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "oscd_gates.json")
    args = parser.parse_args()
    variants: dict[str, tuple[Callable[[CityData], np.ndarray], Callable[[CityData], Mask] | None]] = {
        "local-fusion": (robust_min, None),
        **{f"vegetated on both dates (NDVI > {v}) left out": (gated("nir", "red", v), None) for v in (0.3, 0.4, 0.5, 0.6)},
        **{f"wet on both dates (MNDWI > {v}) left out": (gated("green", "swir16", v), None) for v in (0.0, 0.2, 0.4)},
        **{f"holes filled{'' if px is None else f' up to {px} px'}": (robust_min, holes_filled(px)) for px in (None, 16, 64)},
        "local-fusion as the detector computes it, without the gross-change screen": (local_fusion(False), None),
        "local-fusion as the detector computes it, with the gross-change screen": (local_fusion(True), None),
    }
    cities = discover(args.root)
    f1: dict[str, list[list[float]]] = {name: [] for name in variants}
    for city_name in cities:
        city = _cached(args.root, city_name)
        for name, (statistic, refine) in variants.items():
            f1[name].append(_scores(city, statistic(city).astype(np.float32), refine))
        forget_memos()
        print(city_name, file=sys.stderr)
    out = {}
    for name, rows in f1.items():
        scores = np.array(rows).T  # grid x cities
        held = leave_one_out(scores)
        out[name] = {"dev_f1_mean": round(float(scores.mean(axis=1).max()), 4),
                     "leave_one_city_out_f1": dict(zip(cities, (round(float(v), 4) for v in held))),
                     "leave_one_city_out_f1_mean": round(float(held.mean()), 4)}
        print(f"{name}: {out[name]['leave_one_city_out_f1_mean']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, {"cities": cities, "variants": out})


if __name__ == "__main__":
    from benchmarks.needs import run

    run(main, data=["oscd"], option="--root")
