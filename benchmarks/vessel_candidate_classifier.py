"""A candidate classifier for ``geo vessels --berthed`` learnt on richer measures, scored leave one port out
on the six sen2ships development ports side by side with the shipped hull model (measured, not adopted).

Candidates: ``--berthed``'s detections before the hull model (``benchmarks/vessel_ship_model.py``'s
``collect``), each measured by the hull model's 14 ``FEATURES`` and by the 14 ``CONTEXT`` measures of its
contact with the land (``benchmarks/vessel_context.py``: land beside each long side and beyond each end,
land contact per length, spectrum against the land beside it and the water, brightness along the axis,
water reach across it). Every row is leave one port out (fitted on five ports, its threshold the best F1
over those five keeping >= 0.5 of their ships at berth, applied to the sixth; the six pooled), all in one
run:

- the shipped hull model (logistic regression on mndwi, swir_over_nir, log_elongation): the reference;
- the same plus each context measure, plus all 14, and on all 28 measures; and plus the one context
  measure (or none) that scores best leave one port out on the five training ports (nested: picking the
  best of the rows above on all six is not a held-out figure);
- gradient-boosted trees (scikit-learn, the ``bench`` extra) on all 28, threshold chosen on the five
  ports' in-sample probabilities or on out-of-fold ones (each of the five scored by trees fitted on the
  other four: in-sample tree probabilities are over-confident);
- a cascade: the shipped model, then candidates with land on both long sides or at both ends (share >= a
  cut chosen on the five with the threshold) rejected as quay pieces.

Each logistic row also gives the held-out ranking (pooled ROC AUC and average precision of the held-out
probabilities), and ``oracle``: the best single threshold on the pooled held-out probabilities (not a
figure one could get; it tells the ranking from the threshold's transfer).

    python benchmarks/vessel_candidate_classifier.py [--out benchmarks/results/vessel_candidate_classifier.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.vessel_context import CONTEXT, context_features  # noqa: E402
from benchmarks.vessel_ports import match, pooled  # noqa: E402
from benchmarks.vessel_ship_model import (  # noqa: E402
    MIN_BERTH_RECALL, SHIPPED_FEATURES, THRESHOLDS, PortCandidates, collect, fit_logistic, leave_one_port_out)
from geo.grid import Grid  # noqa: E402
from geo.vessels.candidates import FEATURES, candidate_features  # noqa: E402
from geo.vessels.model import VesselDetection  # noqa: E402
from tests.vessels import sen2ships  # noqa: E402

MEASURES = FEATURES + CONTEXT
ENCLOSED_CUTS = (0.6, 0.7, 0.8, 0.9, 0.99, 2.0)  # 2.0: reject none
TREES = {"max_depth": 2, "max_iter": 50, "learning_rate": 0.1}
Predictor = Callable[[np.ndarray], np.ndarray]
Fitter = Callable[[np.ndarray, np.ndarray], Predictor]


def all_measures(detections: Sequence[VesselDetection], bands: Mapping[str, np.ndarray], land: np.ndarray,
                 grid: Grid) -> np.ndarray:
    return np.hstack([candidate_features(detections, bands, land, grid), context_features(detections, bands, land, grid)])


def logistic(x: np.ndarray, hit: np.ndarray) -> Predictor:
    mean, scale, weights, intercept = fit_logistic(x, hit)
    return lambda rows: 1.0 / (1.0 + np.exp(-(((rows - mean) / scale) @ weights + intercept)))


def trees(x: np.ndarray, hit: np.ndarray) -> Predictor:
    from sklearn.ensemble import HistGradientBoostingClassifier  # type: ignore[import-untyped]

    model = HistGradientBoostingClassifier(random_state=0, **TREES).fit(x, hit)
    return lambda rows: np.asarray(model.predict_proba(rows)[:, 1])


def scored(parts: Sequence[PortCandidates], keep: Sequence[np.ndarray]) -> dict[str, object]:
    """Pooled figures of each port's kept candidates, matched again as the pipeline would."""
    return pooled([(*match([p for p, k in zip(part.points, kept) if k], part.truth), part.truth)
                   for part, kept in zip(parts, keep)])


def _choose(parts: Sequence[PortCandidates], probs: Sequence[np.ndarray],
            vetoes: Sequence[Sequence[np.ndarray]] = ((),)) -> tuple[float, int]:
    """(threshold, veto index): the best pooled F1 keeping >= ``MIN_BERTH_RECALL`` of the ships at berth."""

    def quality(threshold: float, veto: int) -> tuple[bool, float, float]:
        keep = [p >= threshold for p in probs]
        if len(vetoes[veto]):
            keep = [k & ~v for k, v in zip(keep, vetoes[veto])]
        r = scored(parts, keep)
        return _at_berth(r) >= MIN_BERTH_RECALL, float(r["f1"]), -threshold  # type: ignore[arg-type]

    threshold, veto = max(itertools.product(THRESHOLDS, range(len(vetoes))), key=lambda tv: quality(float(tv[0]), tv[1]))
    return float(threshold), veto


def _columns(names: Sequence[str]) -> list[int]:
    return [MEASURES.index(name) for name in names]


def _fitted(parts: Sequence[PortCandidates], columns: Sequence[int], fitter: Fitter) -> Predictor:
    model = fitter(np.vstack([p.table[:, columns] for p in parts]), np.concatenate([p.hit for p in parts]))
    return lambda table: model(table[:, columns])


def _held_out(parts: Sequence[PortCandidates], names: Sequence[str], fitter: Fitter = logistic,
              out_of_fold: bool = False) -> tuple[list[np.ndarray], dict[str, float]]:
    """Per port, the probabilities of the model fitted on the other ports, and its threshold chosen on their
    (in-sample or out-of-fold) probabilities."""
    columns = _columns(names)
    probs, thresholds = [], {}
    for held in parts:
        rest = [p for p in parts if p is not held]
        model = _fitted(rest, columns, fitter)
        if out_of_fold:
            train_probs = [_fitted([q for q in rest if q is not p], columns, fitter)(p.table) for p in rest]
        else:
            train_probs = [model(p.table) for p in rest]
        thresholds[held.name], _ = _choose(rest, train_probs)
        probs.append(model(held.table))
    return probs, thresholds


def held_out(parts: Sequence[PortCandidates], names: Sequence[str], fitter: Fitter = logistic,
             out_of_fold: bool = False) -> dict[str, object]:
    """Leave one port out, with the held-out ranking and the oracle threshold."""
    probs, thresholds = _held_out(parts, names, fitter, out_of_fold)
    oracle, _ = _choose(parts, probs)
    return {**scored(parts, [p >= thresholds[part.name] for p, part in zip(probs, parts)]), "thresholds": thresholds,
            **ranking(parts, probs),
            "oracle": {"threshold": oracle, **_brief(scored(parts, [p >= oracle for p in probs]))}}


def nested_added_measure(parts: Sequence[PortCandidates]) -> dict[str, object]:
    """The shipped measures plus the context measure (or none) with the best leave-one-port-out F1 over the
    five training ports (keeping >= 0.5 of their berthed ships), fitted on the five, applied to the sixth:
    the honest figure for picking the best row above."""
    options: list[tuple[str, ...]] = [(), *((name,) for name in CONTEXT)]
    keep, chosen = [], {}

    def quality(rest: Sequence[PortCandidates], option: tuple[str, ...]) -> tuple[bool, float]:
        probs, thresholds = _held_out(rest, (*SHIPPED_FEATURES, *option))
        r = scored(rest, [p >= thresholds[part.name] for p, part in zip(probs, rest)])
        return _at_berth(r) >= MIN_BERTH_RECALL, float(r["f1"])  # type: ignore[arg-type]

    for held in parts:
        rest = [p for p in parts if p is not held]
        option = max(options, key=lambda o: quality(rest, o))
        chosen[held.name] = "+".join(option) or "none"
        model = _fitted(rest, _columns((*SHIPPED_FEATURES, *option)), logistic)
        threshold, _ = _choose(rest, [model(p.table) for p in rest])
        keep.append(model(held.table) >= threshold)
    return {**scored(parts, keep), "chosen": chosen}


def ranking(parts: Sequence[PortCandidates], probs: Sequence[np.ndarray]) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, roc_auc_score  # type: ignore[import-untyped]

    hit, score = np.concatenate([p.hit for p in parts]), np.concatenate(probs)
    return {"held_out_auc": round(float(roc_auc_score(hit, score)), 3),
            "held_out_average_precision": round(float(average_precision_score(hit, score)), 3)}


def enclosed_cascade(parts: Sequence[PortCandidates]) -> dict[str, object]:
    """The shipped model, then candidates with land on both long sides or at both ends (share >= a cut
    chosen with the threshold on the five training ports) rejected."""
    columns = _columns(SHIPPED_FEATURES)
    enclosed = [np.maximum(p.table[:, MEASURES.index("side_land_min")], p.table[:, MEASURES.index("end_land_min")])
                for p in parts]
    keep, chosen = [], {}
    for k, held in enumerate(parts):
        rest = [j for j in range(len(parts)) if j != k]
        model = _fitted([parts[j] for j in rest], columns, logistic)
        vetoes = [[enclosed[j] >= cut for j in rest] for cut in ENCLOSED_CUTS]
        threshold, veto = _choose([parts[j] for j in rest], [model(parts[j].table) for j in rest], vetoes)
        chosen[held.name] = {"threshold": threshold, "enclosed_cut": ENCLOSED_CUTS[veto]}
        keep.append((model(held.table) >= threshold) & (enclosed[k] < ENCLOSED_CUTS[veto]))
    return {**scored(parts, keep), "chosen": chosen}


def _at_berth(r: Mapping[str, object]) -> float:
    """The share of the ships at berth found, in ``vessel_ports.figures``' result ``r``."""
    berth = r["at_berth"]
    assert isinstance(berth, dict)
    return float(berth["recall"] or 0.0)


def _brief(r: Mapping[str, object]) -> dict[str, object]:
    return {key: r[key] for key in ("f1", "recall", "precision", "false_alarms")} | {"at_berth": _at_berth(r)}


def table(parts: Sequence[PortCandidates]) -> dict[str, object]:
    rows: dict[str, object] = {
        "--berthed: shipped hull model (" + "+".join(SHIPPED_FEATURES) + ")": leave_one_port_out(parts, SHIPPED_FEATURES),
        "the same, refitted here (logistic on the same 3)": held_out(parts, SHIPPED_FEATURES),
    }
    for name in CONTEXT:
        rows[f"shipped 3 + {name}"] = held_out(parts, (*SHIPPED_FEATURES, name))
    rows[f"shipped 3 + all {len(CONTEXT)} context measures"] = held_out(parts, (*SHIPPED_FEATURES, *CONTEXT))
    rows["shipped 3 + the best context measure, chosen on the five (nested)"] = nested_added_measure(parts)
    rows[f"logistic on all {len(MEASURES)} measures"] = held_out(parts, MEASURES)
    rows[f"trees on all {len(MEASURES)}, threshold in-sample"] = held_out(parts, MEASURES, trees)
    rows[f"trees on all {len(MEASURES)}, threshold out-of-fold"] = held_out(parts, MEASURES, trees, out_of_fold=True)
    rows["shipped model, then enclosed pieces rejected (cascade)"] = enclosed_cascade(parts)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "vessel_candidate_classifier.json")
    args = parser.parse_args()
    parts = collect(sen2ships.ports_or_exit(), measures=all_measures)
    rows = table(parts)
    print("Candidate classifiers, leave one port out on the six sen2ships ports:")
    for name, row in rows.items():
        r = row if isinstance(row, dict) else {}
        extra = (f"  AP {r['held_out_average_precision']:.3f}  oracle F1 {r['oracle']['f1']:.3f}"
                 if "oracle" in r else "")
        print(f"  {name:62s} F1 {r['f1']:.3f}  recall {r['recall']:.3f}  precision {r['precision']:.3f}"
              f"  at berth {r['at_berth']['recall']}  false {r['false_alarms']} ({r['false_alarms_per_km2']}/km2){extra}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    from benchmarks.needs import run

    run(main, packages=["sklearn"])
