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
  clouds masked (``benchmarks/oscd_clouds.py``).
  The graph-cut decision is screened by ``benchmarks/oscd_graphcut.py``.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geo.atomic import write_json  # noqa: E402
from geo.change.local import PRECISION, masked_gaussian, robust_z  # noqa: E402
from geo.change.local_blocks import local_regression_residual  # noqa: E402
from geo.eval.oscd import default_root, discover  # noqa: E402

from benchmarks.learn_oscd import leave_one_out  # noqa: E402
from benchmarks.oscd_fusion_variants import (  # noqa: E402
    directions_max_fused, fusion_geometric_mean, fusion_mean, texture_ratio, texture_with_fusion,
)
from benchmarks.oscd_multivariate import ALL_BANDS, TEN_M, chi_square, red_on  # noqa: E402
from benchmarks.oscd_clouds import CANDIDATES as CLOUDS, with_cloud_probability  # noqa: E402
from benchmarks.oscd_red_edge import CANDIDATES as AT_20M, with_red_edge  # noqa: E402
from benchmarks.oscd_directions import (  # noqa: E402
    MIN_AREAS, SEED_FACTORS, SIGMA_PX, THRESHOLDS, CityData, _read, _scores,
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


# ---- building blocks --------------------------------------------------------------------------------

def _z(x: np.ndarray, y: np.ndarray, valid: np.ndarray, window: int = 96) -> np.ndarray:
    """Signed robust z of y's local-regression residual on x (0 where invalid)."""
    return np.nan_to_num(robust_z(local_regression_residual(x, y, valid, window), valid, PRECISION))


def _band(city: CityData, name: str, date: int) -> np.ndarray:
    stack = city.before if date == 0 else city.after
    return stack[city.bands.index(name)].astype(np.float64)


def _pair_z(city: CityData, x: np.ndarray, y: np.ndarray, window: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """(after from before, before from after) signed z of two images."""
    return _z(x, y, city.valid, window), _z(y, x, city.valid, window)


def _smooth_abs(city: CityData, zs: tuple[np.ndarray, np.ndarray], sigma: float = SIGMA_PX) -> np.ndarray:
    out: np.ndarray = 0.5 * (masked_gaussian(np.abs(zs[0]), city.valid, sigma)
                             + masked_gaussian(np.abs(zs[1]), city.valid, sigma))
    return np.nan_to_num(out)


_MEMO: dict[tuple[int, str], object] = {}


def _memo(city: CityData, key: str, make: Callable[[], object]) -> object:
    k = (id(city), key)
    if k not in _MEMO:
        _MEMO[k] = make()
    return _MEMO[k]


def red_z(city: CityData, window: int = 96) -> tuple[np.ndarray, np.ndarray]:
    return _memo(city, f"red{window}", lambda: _pair_z(city, _band(city, "red", 0), _band(city, "red", 1), window))  # type: ignore[return-value]


def default(city: CityData) -> np.ndarray:
    return _smooth_abs(city, red_z(city))


def _gradient_magnitude(image: np.ndarray, valid: np.ndarray, sigma: float) -> np.ndarray:
    from scipy import ndimage as ndi
    filled = np.where(valid, image, np.median(image[valid]))
    return np.asarray(ndi.gaussian_gradient_magnitude(filled, sigma))


def grad_z(city: CityData, sigma: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    def make() -> tuple[np.ndarray, np.ndarray]:
        b = _gradient_magnitude(_band(city, "red", 0), city.valid, sigma)
        a = _gradient_magnitude(_band(city, "red", 1), city.valid, sigma)
        return _pair_z(city, b, a)
    return _memo(city, f"grad{sigma}", make)  # type: ignore[return-value]


def structure(city: CityData) -> np.ndarray:
    return _smooth_abs(city, grad_z(city))


def structure_mean(city: CityData) -> np.ndarray:
    return np.asarray(0.5 * (default(city) + structure(city)))


def structure_geo(city: CityData) -> np.ndarray:
    return np.sqrt(default(city) * structure(city))


def structure_max(city: CityData) -> np.ndarray:
    return np.maximum(default(city), structure(city))


def local_ncc(city: CityData, sigma: float = 2.0) -> np.ndarray:
    """Normalised cross-correlation of the two dates' red over a Gaussian window of ``sigma``."""
    from scipy import ndimage as ndi
    b, a = _band(city, "red", 0), _band(city, "red", 1)
    v = city.valid
    b, a = np.where(v, b, 0.0), np.where(v, a, 0.0)

    def g(x: np.ndarray) -> np.ndarray:
        return np.asarray(ndi.gaussian_filter(x, sigma))
    mb, ma = g(b), g(a)
    cov = g(a * b) - ma * mb
    vb, va = g(b * b) - mb * mb, g(a * a) - ma * ma
    eps = (3 * PRECISION) ** 2 * 25  # a flat window has no correlation to measure: it reads as ~0 change
    return np.asarray(cov / np.sqrt((vb + eps) * (va + eps)))


def ncc_weighted(city: CityData) -> np.ndarray:
    """The red statistic × (1 + (1 − NCC)) / 1.5 ~ unchanged scale for typical NCC ~0.5."""
    ncc = np.clip(local_ncc(city), -1, 1)
    return np.asarray(default(city) * (2.0 - ncc) / 1.5)


def ncc_alone(city: CityData) -> np.ndarray:
    return np.asarray(2.0 * (1.0 - np.clip(local_ncc(city), -1, 1)))


def _segment_mean(city: CityData, values: np.ndarray, segments: np.ndarray) -> np.ndarray:
    seg = np.where(city.valid, segments, 0).ravel()
    count = int(segments.max()) + 1
    w = city.valid.ravel().astype(np.float64)
    sums = np.bincount(seg, weights=values.ravel() * w, minlength=count)
    sizes = np.maximum(np.bincount(seg, weights=w, minlength=count), 1)
    return np.asarray((sums / sizes)[segments])


def _after_stack(city: CityData) -> np.ndarray:
    stack = np.nan_to_num(city.after[[city.bands.index(b) for b in ("blue", "green", "red", "nir")]])
    stack = (stack - stack.mean(axis=(1, 2), keepdims=True)) / (stack.std(axis=(1, 2), keepdims=True) + 1e-9)
    return np.moveaxis(stack, 0, -1)


def felz_segments(city: CityData) -> np.ndarray:
    from skimage.segmentation import felzenszwalb
    return _memo(city, "felz", lambda: felzenszwalb(_after_stack(city), scale=10, sigma=0.5, min_size=6,  # type: ignore[return-value]
                                                    channel_axis=-1))


def slic_segments(city: CityData) -> np.ndarray:
    from skimage.segmentation import slic
    n = int(city.valid.size / 25)  # ~5 × 5 px superpixels: small buildings
    return _memo(city, "slic", lambda: slic(_after_stack(city), n_segments=n, compactness=0.1,  # type: ignore[return-value]
                                            channel_axis=-1, start_label=0, convert2lab=False))


def _unsmoothed(city: CityData) -> np.ndarray:
    zs = red_z(city)
    return np.asarray(0.5 * (np.abs(zs[0]) + np.abs(zs[1])))


def segments_felz(city: CityData) -> np.ndarray:
    return _segment_mean(city, _unsmoothed(city), felz_segments(city))


def segments_slic(city: CityData) -> np.ndarray:
    return _segment_mean(city, _unsmoothed(city), slic_segments(city))


def segments_felz_blend(city: CityData) -> np.ndarray:
    return np.asarray(0.5 * (default(city) + segments_felz(city)))


def robust_min(city: CityData) -> np.ndarray:
    stats = [_smooth_abs(city, red_z(city, w), s) for w in (48, 96) for s in (1.0, 2.0)]
    return np.asarray(np.min(stats, axis=0))


def _min_over(windows: tuple[int, ...], sigmas: tuple[float, ...]) -> Callable[[CityData], np.ndarray]:
    """The per-pixel minimum of the red statistic over every window × footprint."""
    def statistic(city: CityData) -> np.ndarray:
        return np.asarray(np.min([_smooth_abs(city, red_z(city, w), s) for w in windows for s in sigmas], axis=0))
    return statistic


def _directions_min(city: CityData, window: int, sigma: float) -> np.ndarray:
    """The smaller of the two directions' |z| (instead of their mean), × 1.4 onto the mean's scale."""
    forward, backward = red_z(city, window)
    return 1.4 * np.nan_to_num(masked_gaussian(np.minimum(np.abs(forward), np.abs(backward)), city.valid, sigma))


def directions_min(city: CityData) -> np.ndarray:
    return _directions_min(city, 96, SIGMA_PX)


def directions_min_fused(city: CityData) -> np.ndarray:
    return np.asarray(np.min([_directions_min(city, w, s) for w in (48, 96) for s in (1.0, 2.0)], axis=0))


def _self_trained_p(city: CityData) -> np.ndarray:
    """P(change) of ``self-trained``'s per-pair regression (its shipped tails 4 / 1.5 and C 0.1) learnt on
    the fused statistic."""
    from geo.change.self_training import reweighted
    fused = robust_min(city).astype(np.float32)
    values, _ = reweighted(city.before, city.after, city.valid, city.bands, fused, 4.0, 1.5, 0.1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(np.where(fused > 0, values / (2 * fused), 0.0))


def fused_self_trained(city: CityData) -> np.ndarray:
    return np.asarray(2 * _self_trained_p(city) * robust_min(city))


def fused_self_trained_sqrt(city: CityData) -> np.ndarray:
    return np.asarray(np.sqrt(2 * _self_trained_p(city)) * robust_min(city))


def robust_min_96(city: CityData) -> np.ndarray:
    """Minimum over the two windows at the default footprint only."""
    return np.minimum(default(city), _smooth_abs(city, red_z(city, 48)))


def _ndbi(city: CityData, date: int) -> np.ndarray:
    s, n = _band(city, "swir16", date), _band(city, "nir", date)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s + n > 0, (s - n) / (s + n), 0.0)


def ndbi_signed(city: CityData) -> np.ndarray:
    """Built-up direction: the after NDBI above what its neighbourhood predicts from the before (and the
    before below what the after predicts), positive part only, over the footprint."""
    def make() -> tuple[np.ndarray, np.ndarray]:
        return _pair_z(city, _ndbi(city, 0), _ndbi(city, 1))
    forward, backward = _memo(city, "ndbi", make)  # type: ignore[misc]
    up = 0.5 * (np.maximum(forward, 0) + np.maximum(-backward, 0))
    return np.nan_to_num(masked_gaussian(up, city.valid, SIGMA_PX))


def ndbi_added(city: CityData) -> np.ndarray:
    return np.asarray(default(city) + 0.5 * ndbi_signed(city))


def ndbi_geo(city: CityData) -> np.ndarray:
    return np.sqrt(default(city) * (1.0 + ndbi_signed(city)))


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
}


def average_precision(statistic: np.ndarray, city: CityData) -> float:
    from sklearn.metrics import average_precision_score
    return float(average_precision_score(city.truth[city.valid], statistic[city.valid]))


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
    names = [n for n in CANDIDATES if n.startswith("default") or not args.only
             or any(n.startswith(p) for p in args.only)]
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
        _MEMO.clear()
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
    main()
