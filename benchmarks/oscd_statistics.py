"""Other change statistics screened against ``local-regression`` ("default" here: the default before this
screen made ``local-fusion`` one) on the OSCD cities.

    python benchmarks/oscd_statistics.py [--root ../shared/data/oscd] [--only NAME ...] [--ap-only] [--fresh]
                                         [--write [FILE]] [--out benchmarks/results/oscd_statistics.json]

Each candidate is first scored by per-pixel average precision per city (label-free: nothing is chosen),
then by leave-one-city-out F1 through the decision grid of ``benchmarks/oscd_directions.py`` (threshold,
seed level, minimum area chosen on six cities, scored on the seventh), with the default in the same run.
Every candidate is in the default's units (mean robust |z|), so one threshold grid serves all.

Candidates (each a statistic the README's tables had not measured):
- structure: the local-regression residual of each date's red gradient magnitude (construction changes
  texture; illumination and season mostly change intensity), alone and combined with the red residual;
- local correlation: 1 − the normalised cross-correlation of the two dates' red over a small Gaussian
  window, as a multiplier of the red residual;
- segments: the red residual averaged over Felzenszwalb / SLIC segments of the after image;
- robust fusion: the per-pixel minimum of the red statistic over windows 48 / 96 px and footprints σ 1 / 2;
- built-up direction: the signed local-regression residual of NDBI (construction brightens SWIR relative
  to NIR), added to the red residual where positive;
- after the fusion won: the smaller of the two directions' |z| instead of their mean, and the fused
  statistic re-weighted by ``self-trained``'s per-pair regression;
- issue 17: the geometric / arithmetic mean of the four fused statistics instead of their minimum, the
  larger of the two directions' |z|, NIR texture contrast (``benchmarks/oscd_fusion_variants.py``);
  multivariate local regression (``benchmarks/oscd_multivariate.py``); the statistic on a 20 m grid, of
  red and of the red-edge bands, fused with the 10 m one (``benchmarks/oscd_red_edge.py``); s2cloudless's
  clouds masked (``benchmarks/oscd_clouds.py``); a per-pair noise model of the residual (its spread by
  brightness and gradient), the SAR-style log ratio, priors on the direction and on vegetation, and the
  structure tensor's change (``benchmarks/oscd_noise_model.py``); agreement across bands, the minimum of red's
  fusion and another band's (``benchmarks/oscd_band_agreement.py``).
  The graph-cut decision is screened by ``benchmarks/oscd_graphcut.py``.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geo.atomic import write_json  # noqa: E402
from geo.eval.oscd import default_root, discover  # noqa: E402

from benchmarks.learn_oscd import leave_one_out  # noqa: E402
from benchmarks.oscd_candidates import (  # noqa: E402
    _min_over, default, directions_min, directions_min_fused, forget_memos, fused_self_trained,
    fused_self_trained_sqrt, ncc_alone, ncc_weighted, ndbi_added, ndbi_geo, ndbi_signed, robust_min, robust_min_96,
    segments_felz, segments_felz_blend, segments_slic, structure, structure_geo, structure_max, structure_mean,
)
from benchmarks.oscd_fusion_variants import (  # noqa: E402
    directions_max_fused, fusion_geometric_mean, fusion_mean, texture_ratio, texture_with_fusion,
)
from benchmarks.oscd_multivariate import ALL_BANDS, TEN_M, chi_square, red_on  # noqa: E402
from benchmarks.oscd_clouds import CANDIDATES as CLOUDS, with_cloud_probability  # noqa: E402
from benchmarks.oscd_red_edge import CANDIDATES as AT_20M, with_red_edge  # noqa: E402
from benchmarks.oscd_noise_model import CANDIDATES as NOISE_MODEL  # noqa: E402
from benchmarks.oscd_band_agreement import CANDIDATES as BANDS_AGREE  # noqa: E402
from benchmarks.oscd_directions import (  # noqa: E402
    MIN_AREAS, SEED_FACTORS, THRESHOLDS, CityData, _read, _scores,
)

log = logging.getLogger("oscd_statistics")
CACHE = Path("/tmp/oscd_statistics_cache")


def _cached(root: Path, name: str, fresh: bool = False) -> CityData:
    """One city read through the harness, kept in /tmp between runs (reading and co-registration are most
    of a run's time); ``fresh`` reads it again (after a change to the reader or the co-registration)."""
    path = CACHE / f"{name}.npz"
    if path.exists() and not fresh:
        d = np.load(path)
        return CityData(d["before"], d["after"], d["valid"], d["truth"], tuple(str(b) for b in d["bands"]))
    city = _read(root, name)
    CACHE.mkdir(exist_ok=True)
    np.savez(path, before=city.before, after=city.after, valid=city.valid, truth=city.truth, bands=np.array(city.bands))
    return city


CANDIDATES: dict[str, Callable[[CityData], np.ndarray]] = {
    "default (red, 96 px, sigma 1.5)": default,
    "structure: red gradient-magnitude residual": structure,
    "structure: mean with red": structure_mean,
    "structure: geometric mean with red": structure_geo,
    "structure: max with red": structure_max,
    "ncc: 1 - local NCC alone (x2)": ncc_alone,
    "ncc: red x (2 - NCC) / 1.5": ncc_weighted,
    "segments: Felzenszwalb mean of red |z|": segments_felz,
    "segments: SLIC mean of red |z|": segments_slic,
    "segments: mean of Felzenszwalb and red": segments_felz_blend,
    "fusion: min over 48/96 px x sigma 1/2": robust_min,
    "fusion: min over 48/96 px at sigma 1.5": robust_min_96,
    "fusion: min over sigma 1/2 at 96 px": _min_over((96,), (1.0, 2.0)),
    "fusion: min over 48/96 px x sigma 1/1.5/2.5": _min_over((48, 96), (1.0, 1.5, 2.5)),
    "fusion: min over 32/64/128 px x sigma 1/2": _min_over((32, 64, 128), (1.0, 2.0)),
    "directions: min of the two |z|, 96 px, sigma 1.5": directions_min,
    "directions: min of the two |z|, fused 48/96 x sigma 1/2": directions_min_fused,
    "fusion x 2 P(change) self-trained on it": fused_self_trained,
    "fusion x sqrt(2 P(change)) self-trained on it": fused_self_trained_sqrt,
    "ndbi: signed built-up residual alone": ndbi_signed,
    "ndbi: red + 0.5 x signed built-up": ndbi_added,
    "ndbi: sqrt(red x (1 + built-up))": ndbi_geo,
    "fusion: geometric mean of the four": fusion_geometric_mean,
    "fusion: mean of the four": fusion_mean,
    "directions: max of the two |z| (x 0.8), fused": directions_max_fused,
    "texture: NIR local variance ratio": texture_ratio,
    "texture: mean with the fusion": texture_with_fusion,
    "multivariate: chi2 of all six bands on all six": chi_square(ALL_BANDS),
    "multivariate: chi2 of the 10 m bands on them": chi_square(TEN_M),
    "multivariate: red on all six, clip on all six": red_on(ALL_BANDS, True),
    "multivariate: red on all six, clip on red": red_on(ALL_BANDS, False),
    "multivariate: red on the 10 m bands": red_on(TEN_M, False),
    **AT_20M,
    **CLOUDS,
    **NOISE_MODEL,
    **BANDS_AGREE,
}


def average_precision(statistic: np.ndarray, city: CityData) -> float:
    from sklearn.metrics import average_precision_score
    return float(average_precision_score(city.truth[city.valid], statistic[city.valid]))


def selected(candidates: Iterable[str], only: list[str] | None, always: str) -> list[str]:
    """The candidates named by ``--only`` (prefix match; all without it), with the one starting ``always``."""
    return [n for n in candidates if n.startswith(always) or not only or any(n.startswith(p) for p in only)]


FUSION = "fusion: min over 48/96 px x sigma 1/2"  # the ``local-fusion`` detector's statistic


def fusion_parameters(scored: dict[str, dict[str, object]], cities: list[str]) -> dict[str, object]:
    """The ``local-fusion`` parameter file: fixed windows and footprints, the levels chosen on every city,
    and the provenance (per-city and leave-one-city-out F1, the default's in the same run)."""
    row, reference = scored[FUSION], scored[next(iter(scored))]
    keys = ("f1_per_city", "f1_mean", "leave_one_city_out_f1", "leave_one_city_out_f1_mean", "oracle_per_city_f1_mean",
            "average_precision", "average_precision_mean")
    fixed = {"band": "red", "windows_px": [48, 96], "sigmas_px": [1.0, 2.0]}
    return {
        "parameters": {**fixed, **row["best_parameters"]},  # type: ignore[dict-item]
        "provenance": {
            "script": "benchmarks/oscd_statistics.py --write",
            "dataset": "OSCD (Onera Satellite Change Detection), labels read offline only",
            "cities": cities,
            "objective": "mean over cities of F1 of the change class, after the job's region step",
            "fixed": fixed,
            "learnt_over": {"threshold": THRESHOLDS, "seed_factor": SEED_FACTORS, "min_area_px": MIN_AREAS},
            **{k: row[k] for k in keys},
            "default_in_the_same_run": {k: reference[k] for k in keys},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=default_root())
    parser.add_argument("--only", nargs="*", help="candidate names (prefix match); the default always runs")
    parser.add_argument("--fresh", action="store_true", help=f"read every city again, not from {CACHE}")
    parser.add_argument("--ap-only", action="store_true", help="average precision only, no decision grid")
    parser.add_argument("--write", type=Path, nargs="?", const=REPO / "geo" / "change" / "params" / "local_fusion.json",
                        help="also write the learnt levels of the shipped local-fusion detector (its candidate)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "oscd_statistics.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    names = selected(CANDIDATES, args.only, "default")
    cities = discover(args.root)
    n_grid = len(THRESHOLDS) * len(SEED_FACTORS) * len(MIN_AREAS)
    ap = {n: np.zeros(len(cities)) for n in names}
    f1 = {n: np.zeros((n_grid, len(cities))) for n in names}
    seconds = {n: 0.0 for n in names}  # of computing the statistic (memos shared: marginal where they are)
    for j, city_name in enumerate(cities):
        start = time.perf_counter()
        city = _cached(args.root, city_name, args.fresh)
        if any(n in AT_20M for n in names):
            city = with_red_edge(args.root, city_name, city)
        if any(n in CLOUDS for n in names):  # needs s2cloudless installed
            city = with_cloud_probability(args.root, city_name, city)
        for n in names:
            t0 = time.perf_counter()
            statistic = CANDIDATES[n](city).astype(np.float32)
            seconds[n] += time.perf_counter() - t0
            ap[n][j] = average_precision(statistic, city)
            if not args.ap_only:
                f1[n][:, j] = _scores(city, statistic, None)
        forget_memos()
        log.info("%s: %d candidates in %.0f s", city_name, len(names), time.perf_counter() - start)
    grid = list(itertools.product(THRESHOLDS, SEED_FACTORS, MIN_AREAS))
    out = {}
    for n in names:
        row: dict[str, object] = {"average_precision": {c: round(float(v), 4) for c, v in zip(cities, ap[n])},
                                  "average_precision_mean": round(float(ap[n].mean()), 4),
                                  "statistic_seconds_all_cities": round(seconds[n], 1)}
        if not args.ap_only:
            best = int(np.argmax(f1[n].mean(axis=1)))
            held = leave_one_out(f1[n])
            row.update({
                "best_parameters": dict(zip(("threshold", "seed_factor", "min_area_px"), grid[best])),
                "f1_per_city": {c: round(float(v), 4) for c, v in zip(cities, f1[n][best])},
                "f1_mean": round(float(f1[n][best].mean()), 4),
                "leave_one_city_out_f1": {c: round(float(v), 4) for c, v in zip(cities, held)},
                "leave_one_city_out_f1_mean": round(float(held.mean()), 4),
                "oracle_per_city_f1_mean": round(float(f1[n].max(axis=0).mean()), 4),
            })
        out[n] = row
    if args.write:
        write_json(args.write, fusion_parameters(out, cities))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, {"cities": cities, "grid": {"threshold": THRESHOLDS, "seed_factor": SEED_FACTORS,
                                                      "min_area_px": MIN_AREAS}, "candidates": out})
    print(f"{'candidate':<48}{'AP':>7}" + "".join(f"{c[:6]:>8}" for c in cities) + f"{'dev':>8}{'LOO':>8}{'orc':>8}{'s':>7}")
    for n, row in out.items():
        aps = "".join(f"{v:>8.3f}" for v in ap[n])
        tail = "" if args.ap_only else (f"{row['f1_mean']:>8.4f}{row['leave_one_city_out_f1_mean']:>8.4f}"
                                        f"{row['oracle_per_city_f1_mean']:>8.4f}")
        tail += f"{seconds[n]:>7.1f}"
        print(f"{n:<48}{row['average_precision_mean']:>7.4f}{aps}{tail}")


if __name__ == "__main__":
    from benchmarks.needs import run

    run(main, data=["oscd"], option="--root", packages=["sklearn"])
