"""Learned decisions on the OSCD dev cities, leave-one-city-out, side by side with the default
``local-regression`` in the same run (issue 17: "a learned decision, trained on the 7 cities").

    python benchmarks/oscd_learned.py [--root ../shared/data/oscd] [--out benchmarks/results/oscd_learned.json]

Needs scikit-learn (the ``bench`` extra); nothing here ships in the package unless it beats the default.
Each city is read and co-registered once through the harness (``geo.eval.oscd``), the after date
normalised as every detector does. Every learner is trained on six cities and scored on the seventh,
with its decision levels (probability level, seed level, minimum area) chosen on the six it was trained
on; the job's region step (``change_regions``) is applied to every mask, as in ``benchmarks/oscd.py``.

* ``default``: the shipped statistic and decision grid (``benchmarks/learn_oscd.py``), leave-one-city-out.
* ``pixel logistic, N features``: per pixel, features that travel between cities (``pixel_features``:
  the local-regression statistic at two footprints, each band's normalised difference in robust SDs,
  NDVI/NDWI/NDBI and brightness differences, change of local texture, each at two footprints), a
  logistic regression with every city and class weighted alike.
* ``region logistic``: the default's regions as candidates, kept or dropped by a logistic regression on
  region features (area, peak and mean statistic, mean band and index changes, both dates' NDVI/NDBI and
  brightness, the statistic around the region).
* ``self-training per pair``: the ``self-trained`` detector's statistic (``geo.change.self_training``): no
  labels; per pair a logistic regression on the band and index changes learns the statistic's confident
  tails (> 4: change, < 1.5: not) and rescales the statistic by 2·its probability; ``--write`` writes its
  decision levels (best mean F1 on the 7 cities) to ``geo/change/params/self_trained.json``;
  also with other tails and regularisation (``SELF_TRAINING``), to show how much the figure depends on them,
  and with them chosen on the six cities among those (the honest figure of the method).
* ``statistic: red predicted from all six bands``: not a learner; the default statistic with a local
  multivariate regression (each date's red from the other's six bands) instead of red from red.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage as ndi

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geo.atomic import write_json  # noqa: E402
from geo.change.detectors.base import edge_band  # noqa: E402
from geo.change.detectors.local_regression import LocalParams  # noqa: E402
from geo.change.labels import EIGHT  # noqa: E402
from geo.change.local import (  # noqa: E402
    BLOCK_PX, PRECISION, _block_sums, _to_pixels, masked_gaussian, robust_scale, robust_z,
)
from geo.change.self_training import reweighted  # noqa: E402
from geo.change.stats import INDICES, local_change, normalised_difference  # noqa: E402
from geo.change.threshold import change_regions, drop_small  # noqa: E402
from geo.eval.oscd import MIN_REGION_PX, default_root, discover  # noqa: E402
from geo.eval.scoring import Confusion  # noqa: E402

from benchmarks.learn_oscd import MIN_AREAS, SEED_FACTORS, THRESHOLDS, leave_one_out  # noqa: E402
from benchmarks.oscd_directions import CityData, _read  # noqa: E402

log = logging.getLogger("oscd_learned")
PARAMS_OUT = REPO / "geo" / "change" / "params" / "self_trained.json"

SHIPPED = LocalParams.shipped()
SIGMAS = (SHIPPED.sigma_px, 4.0)  # the decision's footprint and a context one
NEGATIVES_PER_CITY = 20_000  # no-change pixels sampled per training city (all its change pixels are used)
# (change above, no change below, C) of self-training: the first chosen before any was scored, the others
# say how much its figure depends on that choice
SELF_TRAINING = ((4.0, 1.5, 0.1), (3.0, 1.0, 0.1), (5.0, 2.0, 0.1), (4.0, 1.5, 1.0), (4.0, 1.5, 0.01))
Level = tuple[float, float, int]  # (low, seed, minimum area): a region needs a pixel above seed
Features = dict[str, np.ndarray]


def pixel_features(city: CityData) -> Features:
    """Per-pixel features, each in units that travel between cities (robust SDs of the city's own pair)."""
    before, after, valid = city.before.astype(np.float64), city.after.astype(np.float64), city.valid
    out: Features = {}
    for sigma in SIGMAS:
        statistic = local_change(before, after, valid, city.bands, SHIPPED.band, SHIPPED.window_px, sigma)
        out[f"local {SHIPPED.band} σ{sigma:g}"] = np.nan_to_num(statistic.values)
    changes = {f"|d {band}|": np.abs(_robust(after[i] - before[i], valid)) for i, band in enumerate(city.bands)}
    for index in INDICES:
        changes[f"d{index}"] = _robust(normalised_difference(after, city.bands, index)
                                       - normalised_difference(before, city.bands, index), valid)
    changes["d brightness"] = _robust(after.mean(axis=0) - before.mean(axis=0), valid)
    red = city.bands.index("red")
    changes["d texture"] = _robust(np.log(_local_sd(after[red]) / _local_sd(before[red])), valid)
    for name, values in changes.items():
        for sigma in SIGMAS:
            out[f"{name} σ{sigma:g}"] = np.nan_to_num(masked_gaussian(values, valid, sigma))
    return out


def _robust(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    median, scale = robust_scale(values[valid], 1e-4)
    scaled: np.ndarray = (values - median) / scale
    return scaled


def _local_sd(values: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    mean, square = ndi.gaussian_filter(values, sigma), ndi.gaussian_filter(values * values, sigma)
    sd: np.ndarray = np.sqrt(np.maximum(square - mean * mean, 0.0) + 1e-8)
    return sd


def region_scores(city: CityData, values: np.ndarray, levels: Sequence[Level]) -> np.ndarray:
    """F1 after the job's region step of the mask each level gives on ``values``."""
    difference = city.after - city.before
    out = np.empty(len(levels))
    for k, (low, seed, area) in enumerate(levels):
        mask = city.valid & hysteresis(np.where(city.valid, values, -np.inf), low, seed)
        mask = drop_small(mask, area)
        predicted = change_regions(mask, difference, max(MIN_REGION_PX, area), edge_band(SHIPPED.sigma_px)) > 0
        out[k] = Confusion.of(predicted, city.truth).f1
    return out


def hysteresis(values: np.ndarray, low: float, seed: float) -> np.ndarray:
    """Pixels above ``low`` in regions with a pixel above ``seed`` (the default's decision, ``local_decision``)."""
    from skimage.filters import apply_hysteresis_threshold

    if seed <= low:
        above: np.ndarray = values > low
        return above
    kept: np.ndarray = apply_hysteresis_threshold(values, low, seed)
    return kept


def default_levels() -> list[Level]:
    return [(t, t * f, a) for t, f, a in itertools.product(THRESHOLDS, SEED_FACTORS, MIN_AREAS)]


# The re-weighted statistic reaches up to twice the default's: its levels go further up.
SELF_THRESHOLDS = tuple(round(float(t), 2) for t in np.arange(2.4, 5.05, 0.2))
SELF_SEED_FACTORS = (1.0, 1.25, 1.5, 2.0, 2.5)
SELF_MIN_AREAS = (8, 16)


def self_training_levels() -> list[Level]:
    return [(t, t * f, a) for t, f, a in itertools.product(SELF_THRESHOLDS, SELF_SEED_FACTORS, SELF_MIN_AREAS)]


def logit_levels() -> list[Level]:
    return [(low, low + seed, area) for low, seed, area in itertools.product((0.0, 1.0, 2.0, 3.0, 4.0, 5.0),
                                                                              (0.0, 1.0, 2.0), (8, 16))]


def _design(features: Features, names: Sequence[str]) -> np.ndarray:
    return np.stack([features[n].ravel() for n in names], axis=1)


def _balanced(xs: list[np.ndarray], ys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of every city, weighted so each city's change and no-change classes count alike."""
    weights = [np.where(y, 0.5 / max(y.sum(), 1), 0.5 / max((~y).sum(), 1)) for y in ys]
    w = np.concatenate(weights)
    return np.concatenate(xs), np.concatenate(ys), w / w.mean()


def _logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None,
              c: float = 1.0) -> Callable[[np.ndarray], np.ndarray]:
    """A standardised logistic regression; returns its decision function (the logit)."""
    from sklearn.linear_model import LogisticRegression

    mean, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    model = LogisticRegression(C=c, max_iter=3000).fit((x - mean) / sd, y, sample_weight=w)
    return lambda rows: np.asarray(model.decision_function((rows - mean) / sd))


def _train_rows(city: CityData, x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    truth, valid = city.truth.ravel(), city.valid.ravel()
    positive = np.flatnonzero(truth & valid)
    negative = np.flatnonzero(~truth & valid)
    negative = rng.choice(negative, min(NEGATIVES_PER_CITY, negative.size), replace=False)
    rows = np.concatenate([positive, negative])
    return x[rows], truth[rows]


Learner = Callable[[list[int], int], tuple[np.ndarray, np.ndarray]]


def leave_one_out_learnt(cities: Sequence[CityData], scores_of: Learner) -> tuple[np.ndarray, list[int]]:
    """Held-out F1 per city: ``scores_of(train, held)`` fits on ``train`` and returns (F1 levels × train
    cities, F1 per level on ``held``); the level with the best mean on ``train`` is scored."""
    held, chosen = np.empty(len(cities)), []
    for j in range(len(cities)):
        train = [i for i in range(len(cities)) if i != j]
        inside, outside = scores_of(train, j)
        best = int(np.argmax(inside.mean(axis=1)))
        held[j] = outside[best]
        chosen.append(best)
    return held, chosen


def pixel_learner(cities: Sequence[CityData], features: Sequence[Features],
                  names: Sequence[str]) -> tuple[Learner, list[Level]]:
    designs = [_design(f, names) for f in features]
    levels = logit_levels()

    def scores_of(train: list[int], held: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(0)
        rows = [_train_rows(cities[i], designs[i], rng) for i in train]
        model = _logistic(*_balanced([r[0] for r in rows], [r[1] for r in rows]))
        def score(i: int) -> np.ndarray:
            return region_scores(cities[i], model(designs[i]).reshape(cities[i].truth.shape), levels)

        return np.stack([score(i) for i in train], axis=1), score(held)

    return scores_of, levels


def region_candidates(city: CityData, features: Features) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels, features per region, labelled share per region) of the default's mask."""
    statistic = features[f"local {SHIPPED.band} σ{SHIPPED.sigma_px:g}"]
    candidates = city.valid & hysteresis(statistic, SHIPPED.threshold, SHIPPED.threshold * SHIPPED.seed_factor)
    labels, count = ndi.label(drop_small(candidates, SHIPPED.min_area_px), structure=EIGHT)
    index = np.arange(1, count + 1)
    area = ndi.sum(np.ones_like(statistic), labels, index)
    columns = [np.log(area), np.log(ndi.maximum(statistic, labels, index)), np.log(ndi.mean(statistic, labels, index))]
    small = f"σ{SHIPPED.sigma_px:g}"
    columns += [ndi.mean(values, labels, index) for name, values in features.items() if name.endswith(small)]
    for stack in (city.before, city.after):
        columns += [ndi.mean(normalised_difference(stack, city.bands, i), labels, index) for i in ("ndvi", "ndbi")]
        columns.append(ndi.mean(stack.mean(axis=0), labels, index))
    ring = ndi.grey_dilation(labels, footprint=np.ones((7, 7), bool)) * (labels == 0)
    columns.append(np.log(ndi.mean(statistic, ring, index) + 0.1))
    return labels, np.nan_to_num(np.stack(columns, axis=1)), ndi.mean(city.truth, labels, index)


def region_learner(cities: Sequence[CityData], features: Sequence[Features]) -> tuple[Learner, list[Level]]:
    regions = [region_candidates(c, f) for c, f in zip(cities, features)]
    levels = [(p, p, a) for p, a in itertools.product((-2.0, -1.0, 0.0, 1.0, 2.0), (8, 16))]

    def scores_of(train: list[int], held: int) -> tuple[np.ndarray, np.ndarray]:
        # a region is change when a third of it is labelled; each city's regions weigh by area, classes alike
        xs, ys = [regions[i][1] for i in train], [regions[i][2] > 1 / 3 for i in train]
        x, y, w = _balanced(xs, ys)
        model = _logistic(x, y, w, c=0.05)

        def score(i: int) -> np.ndarray:
            labels, x_i, _ = regions[i]
            per_region = np.concatenate([[-np.inf], model(x_i)]) if len(x_i) else np.array([-np.inf])
            return region_scores(cities[i], per_region[labels], levels)

        return np.stack([score(i) for i in train], axis=1), score(held)

    return scores_of, levels


def self_trained(city: CityData, features: Features, high: float, low: float, c: float) -> np.ndarray:
    """The ``self-trained`` detector's statistic (``geo.change.self_training``): the default statistic ×
    2·P(change), P learnt on this pair alone from the statistic's tails (above ``high``: change, below
    ``low``: not; ``c`` the inverse regularisation)."""
    statistic = features[f"local {SHIPPED.band} σ{SHIPPED.sigma_px:g}"]
    values, _ = reweighted(city.before, city.after, city.valid, city.bands, statistic, high, low, c)
    return np.nan_to_num(values)


def _row(cities: list[str], held: np.ndarray, extra: dict[str, Any]) -> dict[str, Any]:
    return {"leave_one_city_out_f1": {c: round(float(v), 4) for c, v in zip(cities, held)},
            "leave_one_city_out_f1_mean": round(float(held.mean()), 4), **extra}


def _statistic_row(cities: list[str], f1: np.ndarray) -> dict[str, Any]:
    """A statistic's row from its F1 (levels × cities): held out, best on all, best per city."""
    return _row(cities, leave_one_out(f1), {"f1_mean_dev": round(float(f1.mean(axis=1).max()), 4),
                                            "oracle_per_city_f1_mean": round(float(f1.max(axis=0).mean()), 4)})


def multivariate_statistic(city: CityData) -> np.ndarray:
    """The default statistic with each date's red band predicted from all six bands of the other date (a
    local multivariate linear regression, ridge at the data's precision) instead of its red band alone."""
    red = city.bands.index(SHIPPED.band)
    before = np.where(city.valid, np.nan_to_num(city.before.astype(np.float64)), 0.0)
    after = np.where(city.valid, np.nan_to_num(city.after.astype(np.float64)), 0.0)
    halves = [masked_gaussian(_multivariate_z(x, y[red], city.valid), city.valid, SHIPPED.sigma_px)
              for x, y in ((before, after), (after, before))]
    return np.nan_to_num(0.5 * (halves[0] + halves[1]))


def _multivariate_z(predictors: np.ndarray, target: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """|robust z| of the residual after two fits, the second without residuals beyond 3 robust SDs."""
    weights = valid.astype(np.float64)
    for _ in range(2):
        residual = np.where(valid, target - _local_prediction(predictors, target, weights), np.nan)
        z = np.nan_to_num(robust_z(residual, valid, PRECISION))
        weights = (valid & (np.abs(z) < 3.0)).astype(np.float64)
    return np.abs(z)


def _local_prediction(predictors: np.ndarray, target: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The weighted least-squares prediction of ``target`` from ``predictors`` (+ an offset) over each
    ~``window_px`` neighbourhood: moments summed per 8 px block, box-filtered, solved per block, the
    coefficients interpolated back to pixels (as ``geo.change.local.local_linear_fit`` for one predictor)."""
    terms = np.concatenate([predictors, np.ones((1, *target.shape))])
    k = terms.shape[0]
    size = max(1, round(SHIPPED.window_px / BLOCK_PX))

    def moment(values: np.ndarray) -> np.ndarray:
        filtered: np.ndarray = ndi.uniform_filter(_block_sums(values, BLOCK_PX), size=size, mode="constant")
        return filtered

    gram = np.stack([np.stack([moment(weights * terms[i] * terms[j]) for j in range(k)], -1) for i in range(k)], -2)
    right = np.stack([moment(weights * terms[i] * target) for i in range(k)], -1)
    total = moment(weights)
    ridge = np.eye(k) * PRECISION**2 * total[..., None, None]
    ridge[..., k - 1, k - 1] = 0.0  # the offset is not shrunk
    enough = total > 0.1 * BLOCK_PX**2
    gram = np.where(enough[..., None, None], gram + ridge, np.eye(k))
    coefficients = np.linalg.solve(gram, np.where(enough[..., None], right, 0.0)[..., None])[..., 0]
    prediction: np.ndarray = sum(_to_pixels(coefficients[..., i], BLOCK_PX, target.shape) * terms[i] for i in range(k))
    return prediction


def compare(root: Path, names: list[str]) -> dict[str, Any]:
    cities, features = [], []
    for name in names:
        start = time.perf_counter()
        cities.append(_read(root, name))
        features.append(pixel_features(cities[-1]))
        log.info("%s read, %d features in %.0f s", name, len(features[-1]), time.perf_counter() - start)
    out: dict[str, Any] = {}
    statistic = f"local {SHIPPED.band} σ{SHIPPED.sigma_px:g}"
    default = np.stack([region_scores(c, f[statistic], default_levels()) for c, f in zip(cities, features)], axis=1)
    out["default (local-regression, shipped grid)"] = _statistic_row(names, default)
    every = list(features[0])
    for label, chosen in ((f"pixel logistic, {len(every)} features", every),
                          ("pixel logistic, the statistic at two footprints", every[:2])):
        scores_of, levels = pixel_learner(cities, features, chosen)
        held, picks = leave_one_out_learnt(cities, scores_of)
        out[label] = _row(names, held, {"features": chosen, "levels_chosen": [levels[i] for i in picks]})
        log.info("%s: %.4f", label, held.mean())
    scores_of, levels = region_learner(cities, features)
    held, picks = leave_one_out_learnt(cities, scores_of)
    out["region logistic over the default's regions"] = _row(names, held, {"levels_chosen": [levels[i] for i in picks]})
    every_variant = []
    for high, low, c in SELF_TRAINING:
        trained = np.stack([region_scores(city, self_trained(city, f, high, low, c), self_training_levels())
                            for city, f in zip(cities, features)], axis=1)
        every_variant.append(trained)
        out[f"self-training per pair, tails > {high:g} / < {low:g}, C {c:g}"] = _statistic_row(names, trained)
    # the honest figure of self-training as a method: its tails and C chosen on six cities with the levels
    out["self-training, tails and C chosen on the six"] = _row(names, leave_one_out(np.concatenate(every_variant)), {})
    shipped = every_variant[0]  # the tails and C fixed before any was scored: the detector's
    best = int(np.argmax(shipped.mean(axis=1)))
    threshold, seed, area = self_training_levels()[best]
    parameters = {"band": SHIPPED.band, "window_px": SHIPPED.window_px, "sigma_px": SHIPPED.sigma_px,
                  "high": SELF_TRAINING[0][0], "low": SELF_TRAINING[0][1], "c": SELF_TRAINING[0][2],
                  "threshold": float(threshold), "seed_factor": round(float(seed / threshold), 4),
                  "min_area_px": int(area)}
    multivariate = np.stack([region_scores(city, multivariate_statistic(city), default_levels()) for city in cities],
                            axis=1)
    out["statistic: red predicted from all six bands"] = _statistic_row(names, multivariate)
    self_trained_params = {"parameters": parameters, "provenance": {
        "script": "benchmarks/oscd_learned.py --write",
        "dataset": "OSCD (Onera Satellite Change Detection), labels read offline only",
        "cities": names,
        "objective": "mean over cities of F1 of the change class, after the job's region step",
        "fixed": {k: parameters[k] for k in ("band", "window_px", "sigma_px", "high", "low", "c")},
        "learnt_over": {"threshold": SELF_THRESHOLDS, "seed_factor": SELF_SEED_FACTORS, "min_area_px": SELF_MIN_AREAS},
        "f1_per_city": {c: round(float(v), 4) for c, v in zip(names, shipped[best])},
        "f1_mean": round(float(shipped[best].mean()), 4),
        **{k: v for k, v in out[f"self-training per pair, tails > {SELF_TRAINING[0][0]:g} / < {SELF_TRAINING[0][1]:g}, "
                                f"C {SELF_TRAINING[0][2]:g}"].items() if k.startswith("leave_one_city_out")},
    }}
    return {"cities": names, "features": every, "directions": out, "self_trained": self_trained_params}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=default_root())
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "oscd_learned.json")
    parser.add_argument("--write", action="store_true",
                        help=f"also write the self-trained detector's parameters to {PARAMS_OUT.relative_to(REPO)}")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    start = time.perf_counter()
    result = {**compare(args.root, discover(args.root)), "total_seconds": 0.0}
    result["total_seconds"] = round(time.perf_counter() - start, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    if args.write:
        write_json(PARAMS_OUT, result["self_trained"])
    print("\n".join(table(result)) + f"\nwritten {args.out}")


def table(result: dict[str, Any]) -> list[str]:
    """Leave-one-city-out F1: a row per direction, a column per city and the mean."""
    names = result["cities"]
    lines = [f"{'direction':<58}" + "".join(f"{c[:11]:>12}" for c in names) + f"{'LOO mean':>10}"]
    for label, row in result["directions"].items():
        held = row["leave_one_city_out_f1"]
        lines.append(f"{label:<58}" + "".join(f"{held[c]:>12.3f}" for c in names)
                     + f"{row['leave_one_city_out_f1_mean']:>10.4f}")
    return lines

if __name__ == "__main__":
    from benchmarks.needs import run

    run(main, data=["oscd"], option="--root", packages=["sklearn"])
