"""Two changes to ``geo vessels --berthed``'s hull model (``benchmarks/vessel_ship_model.py``), measured on the
six sen2ships development ports leave one port out, side by side with ``--berthed`` as shipped, in one run.

1. **Open water by the detector alone.** The hull model drops open-water ships that the default land model
   finds. Candidates in open water (not at berth by the land model's own rule,
   ``geo.vessels.berths.mark_at_berth``) are kept as the detector gives them and the hull model judges only
   those at berth; or open-water candidates get a threshold of their own, chosen on the training ports
   after the at-berth one. Also: the model fitted on the at-berth candidates only, and the default land
   model's open-water detections added to the candidates (those more than ``DEDUPE_PX`` from every
   ``--berthed`` candidate), kept.
2. **Per-scene self-normalisation.** The hull model's measures differ from port to port. Each measure is
   standardised within its own scene over that scene's candidates (no labels needed): centred on the
   median; robust z (median, 1.4826 x MAD); ranks ((rank - 0.5) / n); on all three shipped measures or on
   the two spectral ones (MNDWI, SWIR over NIR), elongation being geometric. Then fitted and applied as
   shipped. And the measures as measured *with* their ranks among the scene's candidates beside them
   (``RANKED``, ``geo.vessels.ship_model.SCENE_RANK``), also with the at-berth floor chosen on the five
   (nested); and, nested, the option among these (shipped, each normalisation, measures + ranks) with the
   best leave-one-port-out F1 on the five training ports, so the choice is not made on the port scored.

Every row: for each port, the model and its threshold(s) fitted on the other five (the threshold rule of the
hull model: the best pooled F1 keeping >= 0.5 of their ships at berth), scored on it, the six pooled.

    python benchmarks/vessel_hull_variants.py [--out benchmarks/results/vessel_hull_variants.json]
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.vessel_ports import assign, match, pooled  # noqa: E402
from benchmarks.vessel_ship_model import (  # noqa: E402
    MIN_BERTH_RECALL, SHIPPED_FEATURES, THRESHOLDS, PortCandidates, collect, fit_hull_model, leave_one_port_out,
    nested_floor, scored, table_main, train)
from geo.vessels.candidates import FEATURES  # noqa: E402
from geo.vessels.job import VesselParams  # noqa: E402
from geo.vessels.ship_model import SCENE_RANK, scene_ranks  # noqa: E402
from tests.vessels import sen2ships  # noqa: E402

DEDUPE_PX = 3.0
SPECTRAL = ("mndwi", "swir_over_nir")
RANKED = (*SHIPPED_FEATURES, *(SCENE_RANK + name for name in SHIPPED_FEATURES))  # measures + their scene ranks
OPEN_RULES = ("same", "kept", "own threshold")  # open-water candidates: the at-berth threshold, all, their own
Normaliser = Callable[[np.ndarray], np.ndarray]


def median_centred(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = x - np.median(x, axis=0)
    return out


def robust_z(x: np.ndarray) -> np.ndarray:
    """(x - median) / (1.4826 MAD) per column (a normal's sd for a normal sample)."""
    centred = median_centred(x)
    spread = 1.4826 * np.median(np.abs(centred), axis=0)
    out: np.ndarray = centred / np.maximum(spread, 1e-6)
    return out


def ranks(x: np.ndarray) -> np.ndarray:
    """``scene_ranks`` per column."""
    return np.column_stack([scene_ranks(column) for column in x.T])


NORMALISERS: dict[str, Normaliser] = {"median-centred": median_centred, "robust z": robust_z, "ranks": ranks}


def scene_normalised(parts: Sequence[PortCandidates], normaliser: Normaliser,
                     columns: Sequence[str]) -> list[PortCandidates]:
    """Each port's ``columns`` of its candidate table normalised over that port's own candidates."""
    index = [FEATURES.index(name) for name in columns]
    out = []
    for part in parts:
        table = part.table.copy()
        if len(table):
            table[:, index] = normaliser(table[:, index])
        out.append(replace(part, table=table))
    return out


def kept_by_place(part: PortCandidates, probability: np.ndarray, threshold: float,
                  open_threshold: float) -> np.ndarray:
    """Per candidate: kept by ``threshold`` at berth (the land model's rule), by ``open_threshold`` in open water."""
    keep: np.ndarray = np.where(part.at_berth, probability >= threshold, probability >= open_threshold)
    return keep


def _scored(parts: Sequence[PortCandidates], keeps: Sequence[np.ndarray]) -> dict[str, object]:
    return pooled([(*match([p for p, k in zip(part.points, keep) if k], part.truth), part.truth)
                   for part, keep in zip(parts, keeps)])


def _thresholds(parts: Sequence[PortCandidates], probs: Sequence[np.ndarray], open_rule: str) -> tuple[float, float]:
    """(at-berth threshold, open-water threshold) by the hull model's rule on ``parts``: the best pooled F1
    keeping >= ``MIN_BERTH_RECALL`` of the ships at berth; "own threshold": the at-berth one with open water
    kept, then the open-water one given it."""

    def quality(threshold: float, open_threshold: float) -> tuple[bool, float, float]:
        r = _scored(parts, [kept_by_place(p, q, threshold, open_threshold) for p, q in zip(parts, probs)])
        return float(r["at_berth"]["recall"] or 0.0) >= MIN_BERTH_RECALL, float(r["f1"]), -threshold  # type: ignore[index,arg-type]

    if open_rule == "same":
        t = float(max(THRESHOLDS, key=lambda t: quality(float(t), float(t))))
        return t, t
    t = float(max(THRESHOLDS, key=lambda t: quality(float(t), 0.0)))
    if open_rule == "kept":
        return t, 0.0
    return t, float(max(np.r_[0.0, THRESHOLDS], key=lambda o: quality(t, float(o))[:2] + (-float(o),)))


def held_out_by_place(parts: Sequence[PortCandidates], open_rule: str, fit_at_berth_only: bool = False,
                      features: Sequence[str] = SHIPPED_FEATURES) -> dict[str, object]:
    """Leave one port out with open-water candidates under ``open_rule`` (``OPEN_RULES``); the model fitted
    on every training candidate or (``fit_at_berth_only``) on those at berth."""
    keeps, chosen = [], {}
    for held in parts:
        rest = [p for p in parts if p is not held]
        model = fit_hull_model(rest, features, [p.at_berth for p in rest] if fit_at_berth_only else None)
        threshold, open_threshold = _thresholds(rest, [model.probability(p.table) for p in rest], open_rule)
        chosen[held.name] = {"at_berth": threshold, "open_water": open_threshold}
        keeps.append(kept_by_place(held, model.probability(held.table), threshold, open_threshold))
    return {**_scored(parts, keeps), "thresholds": chosen}


def with_default_open_water(parts: Sequence[PortCandidates],
                            default: Sequence[PortCandidates]) -> list[PortCandidates]:
    """``parts`` plus the ``default`` land model's open-water detections lying more than ``DEDUPE_PX`` from
    every candidate of ``parts`` (at berth = False, so an open-water rule applies to them), hits re-assigned."""
    out = []
    for part, other in zip(parts, default):
        extra = [i for i, (point, berthed) in enumerate(zip(other.points, other.at_berth))
                 if not berthed and all(math.dist(point, q) > DEDUPE_PX for q in part.points)]
        points = part.points + [other.points[i] for i in extra]
        out.append(replace(part, points=points, table=np.vstack([part.table, other.table[extra]]),
                           hit=np.array(assign(points, part.truth)) >= 0,
                           at_berth=np.r_[part.at_berth, np.zeros(len(extra), bool)]))
    return out


def variants_table(ports: Sequence[sen2ships.Port]) -> dict[str, object]:
    parts = collect(ports)
    table: dict[str, object] = {"--berthed (hull model on every candidate), leave one port out":
                                leave_one_port_out(parts, SHIPPED_FEATURES)}
    for fit_at_berth_only in (False, True):
        fitted = "at-berth candidates" if fit_at_berth_only else "every candidate"
        for rule in OPEN_RULES:
            table[f"1. open water: {rule}; fitted on {fitted}"] = held_out_by_place(parts, rule, fit_at_berth_only)
    union = with_default_open_water(parts, collect(ports, VesselParams()))
    for rule in ("kept", "own threshold"):
        table[f"1. + the default land model's open-water detections; open water: {rule}"] = held_out_by_place(
            union, rule)
    options: dict[str, tuple[list[PortCandidates], Sequence[str]]] = {"shipped": (parts, SHIPPED_FEATURES)}
    for name, normaliser in NORMALISERS.items():
        for columns in (SHIPPED_FEATURES, SPECTRAL):
            normalised = scene_normalised(parts, normaliser, columns)
            table[f"2. {name} per scene on {'+'.join(columns)}"] = leave_one_port_out(normalised, SHIPPED_FEATURES)
            if columns == SHIPPED_FEATURES:
                options[name] = (normalised, SHIPPED_FEATURES)
    options["measures + scene ranks"] = (parts, RANKED)
    table["2. measures + their scene ranks"] = leave_one_port_out(parts, RANKED)
    table["2. measures + their scene ranks, at-berth floor chosen on the five (nested)"] = nested_floor(parts, RANKED)
    table["--berthed, at-berth floor chosen on the five (nested)"] = nested_floor(parts, SHIPPED_FEATURES)
    table["2. the option chosen on the five (nested)"] = nested_option(options)
    return table


def nested_option(options: dict[str, tuple[list[PortCandidates], Sequence[str]]]) -> dict[str, object]:
    """Leave one port out with the option (candidate tables, features) chosen per held-out port: the best
    leave-one-port-out F1 over the other five."""
    names = [p.name for p in next(iter(options.values()))[0]]
    held_out, models, chosen = [], [], {}
    for i, name in enumerate(names):
        def quality(option: str) -> float:
            parts, features = options[option]
            return float(leave_one_port_out([p for j, p in enumerate(parts) if j != i], features)["f1"])  # type: ignore[arg-type]

        best = max(options, key=quality)
        parts, features = options[best]
        chosen[name] = best
        models.append(train([p for j, p in enumerate(parts) if j != i], features))
        held_out.append(parts[i])
    return {**scored(held_out, models), "chosen": chosen}


def main() -> None:
    table_main(__doc__, "vessel_hull_variants.json",
               "Hull model variants on the six sen2ships ports, leave one port out:", variants_table)


if __name__ == "__main__":
    main()
