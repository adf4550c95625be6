"""The ship pixel model of ``geo vessels --berthed`` (``geo/vessels/ship_pixels.py``): its training on the
six sen2ships development ports' ship masks and its figures, leave-one-port-out, end to end.

Pixels: the non-water pixels within ``NEAR_WATER_PX`` of the scene's own water (the land model's steady
water), labelled ship where a labelled ship mask covers them; every ship pixel and ``NEGATIVES_PER_PORT``
others drawn at random (fixed seed) per port. Model: gradient-boosted trees (scikit-learn's
``HistGradientBoostingClassifier``, ``TREES`` trees of depth ``DEPTH``, no early stopping), exported as
node arrays to JSON and evaluated with numpy at run time (scikit-learn is a benchmark-only dependency).
Pieces of probability >= ``PIXEL_THRESHOLD`` and >= ``MIN_PIXELS`` pixels become objects on the water.

Leave one port out, end to end: for each port, the pixel model is trained on the other five; with it, the
land model and detector give candidates on all six ports; the hull model (``benchmarks/vessel_ship_model.py``,
same features) is trained on the other five's candidates and applied to the held-out port's. The six
held-out results are pooled: the honest figure.

    python benchmarks/vessel_pixel_model.py [--write]

``--write`` (re)writes geo/vessels/params/ship_pixels.json from the six ports (what ships is exactly that).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.vessel_ports import scene_bands  # noqa: E402
from benchmarks.vessel_ship_model import SHIPPED_FEATURES, collect, print_rows, scored, train  # noqa: E402
from geo.change.classify import water_index, water_level  # noqa: E402
from geo.vessels import landmask  # noqa: E402
from geo.vessels.job import VesselParams  # noqa: E402
from geo.vessels.landmask import LandParams, steady_water  # noqa: E402
from geo.vessels.ship_pixels import PIXEL_FEATURES, SHIPPED_PIXELS, PixelModel, near_water, pixel_features  # noqa: E402
from tests.vessels import sen2ships  # noqa: E402

NEGATIVES_PER_PORT = 40_000
TREES, DEPTH, RATE = 100, 3, 0.1
PIXEL_THRESHOLD = 0.5
MIN_PIXELS = 4
SEED = 0
PIXELS = VesselParams(land=LandParams(keep_objects_on_water=True, ship_pixels=True))  # --berthed, no hull model
MODEL_PATH = ROOT / "geo" / "vessels" / "params" / SHIPPED_PIXELS

Table = tuple[np.ndarray, np.ndarray]  # (pixels x PIXEL_FEATURES, ship per pixel)


def port_water(port: sen2ships.Port, p: LandParams = LandParams()) -> np.ndarray:
    """The land model's steady water of one port scene (what the pixel model sees at run time)."""
    bands = scene_bands(port)
    b = bands.bands
    index = np.where(bands.valid, water_index(b["green"], b["nir"], b["swir16"]), np.nan)
    return steady_water(np.nan_to_num(index, nan=-1.0), water_level(index, max_level=p.max_water_threshold), None,
                        port.grid, p)


def pixel_table(port: sen2ships.Port) -> Table:
    water = port_water(port)
    zone = near_water(water)
    features = pixel_features(port.bands, water)
    return features[:, zone].T, port.ships[zone] > 0


def sample(tables: Sequence[Table], seed: int = SEED) -> Table:
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for x, y in tables:
        negatives = np.flatnonzero(~y)
        pick = np.sort(np.concatenate([np.flatnonzero(y), rng.choice(negatives, min(NEGATIVES_PER_PORT, negatives.size),
                                                                     replace=False)]))
        xs.append(x[pick])
        ys.append(y[pick])
    return np.vstack(xs), np.concatenate(ys)


def fit(tables: Sequence[Table], trained_on: str = "", threshold: float = PIXEL_THRESHOLD) -> PixelModel:
    from sklearn.ensemble import HistGradientBoostingClassifier

    x, y = sample(tables)
    clf = HistGradientBoostingClassifier(max_iter=TREES, max_depth=DEPTH, learning_rate=RATE, early_stopping=False,
                                         random_state=SEED).fit(x, y)
    trees = []
    for (predictor,) in clf._predictors:
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        trees.append((tuple(np.where(leaf, -1, nodes["feature_idx"]).astype(int).tolist()),
                      tuple(np.where(leaf, 0.0, nodes["num_threshold"]).tolist()),
                      tuple(nodes["left"].astype(int).tolist()), tuple(nodes["right"].astype(int).tolist()),
                      tuple(np.round(np.where(leaf, nodes["value"], 0.0), 6).tolist())))
    base = float(np.ravel(clf._baseline_prediction)[0])
    model = PixelModel(PIXEL_FEATURES, round(base, 6), 1.0, tuple(trees), threshold, MIN_PIXELS, trained_on)
    check = x[:: max(len(x) // 2000, 1)]
    assert np.allclose(model.probability(check), clf.predict_proba(check)[:, 1], atol=1e-4), "export differs"
    return model


def cached_objects_on_water() -> Callable[..., np.ndarray]:
    """The berth shape test gives the same pieces whatever the pixel model: computed once per input."""
    original = landmask.objects_on_water
    memo: dict[str, np.ndarray] = {}

    def run(non_water: np.ndarray, *args: Any) -> np.ndarray:
        key = hashlib.sha1(non_water.tobytes() + repr(args[:2]).encode()).hexdigest()
        if key not in memo:
            memo[key] = original(non_water, *args)
        return memo[key].copy()

    return run


def end_to_end(ports: Sequence[sen2ships.Port], tables: Sequence[Table]) -> dict[str, object]:
    """Leave one port out, pixel model and hull model both fitted on the other five (see the docstring)."""
    original = landmask.objects_on_water
    landmask.objects_on_water = cached_objects_on_water()  # type: ignore[assignment]
    held_parts, hull_parts = [], []
    try:
        for k, port in enumerate(ports):
            pixel = fit([t for i, t in enumerate(tables) if i != k])
            parts = collect(ports, PIXELS, pixel)
            held_parts.append(parts[k])
            hull_parts.append(train([p for i, p in enumerate(parts) if i != k], SHIPPED_FEATURES))
    finally:
        landmask.objects_on_water = original  # type: ignore[assignment]
    return {
        "candidates (pixel model + berths), leave one port out": scored(held_parts, [None] * len(held_parts)),
        "candidates + hull model, leave one port out": {**scored(held_parts, hull_parts),
                                                        "thresholds": {p.name: m.threshold for p, m in zip(ports, hull_parts)}},
    }


def shipped(tables: Sequence[Table]) -> PixelModel:
    return fit(tables, "sen2ships: " + ", ".join(sen2ships.PORTS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help=f"write the fitted model to {MODEL_PATH}")
    args = parser.parse_args()
    ports = sen2ships.ports_or_exit()
    tables = [pixel_table(port) for port in ports]
    if args.write:
        MODEL_PATH.write_text(json.dumps(shipped(tables).to_dict()) + "\n")
        print(f"wrote {MODEL_PATH}")
    print_rows(end_to_end(ports, tables))


if __name__ == "__main__":
    from benchmarks.needs import run

    run(main, packages=["sklearn"])
