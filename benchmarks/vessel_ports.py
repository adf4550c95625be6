"""The real-data half of the vessel benchmark: ``geo vessels``' Sentinel-2 path scored on the six shared
sen2ships ports (real L2A scenes, expert ship masks), one scene per port, so the single-scene land model.

Matching: a detection hits a ship when its centre lies in the ship's box grown by 2 pixels (one detection
per ship, nearest box centre first); a detection that hits no ship is a false alarm. A detection covering
two hulls moored side by side hits one and the other is missed.

Splits, the same for every method: a ship is **at berth** when its mask lies within 3 pixels (30 m) of the
*reference land* (MNDWI <= 0 outside the labelled ships, specks under 30 pixels dropped), or within 2
pixels of a ship at berth (moored side by side); else **open water**. Lengths are ground metres (mask
moments, x cos(latitude) of the Mercator grid). False alarms per km² of reference water.
"""

from __future__ import annotations

if __name__ == "__main__":  # imported by the benchmarks, nothing of its own to run (it stopped in an import error)
    raise SystemExit("error: benchmarks/vessel_ports.py is a part of other benchmarks, not one to run: run python benchmarks/vessels.py")

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
from scipy import ndimage as ndi
from shapely.geometry import box

from geo.change.classify import water_index
from geo.change.labels import EIGHT
from geo.change.threshold import drop_small
from geo.scenes.model import Scene
from geo.scenes.sar_read import SceneBands
from geo.scenes.model import Sensor
from geo.vessels.cluster import shape_of
from geo.vessels.job import VesselParams, detect_scene, single_scene_land
from geo.vessels.model import SceneDetections, VesselDetection
from geo.vessels.ship_pixels import PixelModel
from tests.vessels.sen2ships import Port

BERTH_PX = 3
MATCH_GROW_PX = 2
SIZE_CLASSES = {"<50 m": (0.0, 50.0), "50-100 m": (50.0, 100.0), ">=100 m": (100.0, 1e9)}

Detector = Callable[[Port], list[tuple[float, float]]]  # port -> detection centres (row, col)


@dataclass(frozen=True)
class Truth:
    boxes: list[tuple[int, int, int, int]]  # row0, col0, row1, col1 (exclusive), per ship
    at_berth: np.ndarray  # bool per ship
    length_m: np.ndarray  # ground metres per ship
    water_km2: float


def reference_land(port: Port) -> np.ndarray:
    ships = ndi.binary_dilation(port.ships > 0, iterations=2)
    wi = np.nan_to_num(water_index(port.bands["green"], port.bands["nir"], port.bands["swir16"]), nan=-1.0)
    return drop_small((wi <= 0) & ~ships, 30)


def truth_of(port: Port) -> Truth:
    land = reference_land(port)
    near_land = ndi.distance_transform_edt(~land) <= BERTH_PX
    boxes, lengths, berth = [], [], []
    for k, region in enumerate(ndi.find_objects(port.ships), start=1):
        assert region is not None, f"{port.name}: ship {k} has no pixels"
        boxes.append((region[0].start, region[1].start, region[0].stop, region[1].stop))
        rows, cols = np.nonzero(port.ships == k)
        lengths.append(shape_of(rows, cols, port.grid)[2] * port.ground_m)
        berth.append(bool(near_land[rows, cols].any()))
    at_berth = np.array(berth)
    for _ in range(3):  # moored side by side: next to a ship at berth
        grown = ndi.binary_dilation(np.isin(port.ships, np.flatnonzero(at_berth) + 1), EIGHT, iterations=2)
        at_berth |= np.array([bool(grown[port.ships == k].any()) for k in range(1, len(boxes) + 1)])
    water = float((~land).sum()) * port.grid.pixel_area * port.ground_m**2 / 1e6
    return Truth(boxes, at_berth, np.array(lengths), water)


def assign(points: Sequence[tuple[float, float]], truth: Truth) -> list[int]:
    """Per detection, the index of the ship it hits (-1: a false alarm)."""
    hits = np.zeros(len(truth.boxes), bool)
    out = []
    for row, col in points:
        best: tuple[float, int] | None = None
        for k, (r0, c0, r1, c1) in enumerate(truth.boxes):
            g = MATCH_GROW_PX
            if not hits[k] and r0 - g <= row < r1 + g and c0 - g <= col < c1 + g:
                d = math.hypot(row - (r0 + r1) / 2, col - (c0 + c1) / 2)
                best = (d, k) if best is None or d < best[0] else best
        out.append(-1 if best is None else best[1])
        if best is not None:
            hits[best[1]] = True
    return out


def match(points: Sequence[tuple[float, float]], truth: Truth) -> tuple[np.ndarray, int]:
    """(hit per ship, false alarms)."""
    ships = assign(points, truth)
    hits = np.zeros(len(truth.boxes), bool)
    hits[[k for k in ships if k >= 0]] = True
    return hits, ships.count(-1)


def figures(hits: np.ndarray, false: int, truth: Truth) -> dict[str, object]:
    """Recall, precision, F1 and false alarms per km², overall, at berth / open water and by length."""

    def recall(sel: np.ndarray) -> dict[str, object]:
        return {"ships": int(sel.sum()), "found": int(hits[sel].sum()),
                "recall": round(float(hits[sel].mean()), 3) if sel.any() else None}

    tp = int(hits.sum())
    precision = tp / (tp + false) if tp + false else 0.0
    rec = tp / len(hits) if len(hits) else 0.0
    f1 = 2 * precision * rec / (precision + rec) if precision + rec else 0.0
    return {
        "ships": len(hits), "found": tp, "false_alarms": false, "recall": round(rec, 3),
        "precision": round(precision, 3), "f1": round(f1, 3),
        "false_alarms_per_km2": round(false / truth.water_km2, 3) if truth.water_km2 else None,
        "at_berth": recall(truth.at_berth), "open_water": recall(~truth.at_berth),
        "by_length": {name: recall((truth.length_m >= lo) & (truth.length_m < hi))
                      for name, (lo, hi) in SIZE_CLASSES.items()},
    }


def pooled(parts: Sequence[tuple[np.ndarray, int, Truth]]) -> dict[str, object]:
    hits = np.concatenate([h for h, _, _ in parts])
    truth = Truth([b for _, _, t in parts for b in t.boxes], np.concatenate([t.at_berth for _, _, t in parts]),
                  np.concatenate([t.length_m for _, _, t in parts]), sum(t.water_km2 for _, _, t in parts))
    return figures(hits, sum(f for _, f, _ in parts), truth)


def scene_bands(port: Port) -> SceneBands:
    when = datetime.fromisoformat(port.date).replace(tzinfo=timezone.utc)
    scene = Scene(f"sen2ships-{port.name}", when, box(0, 0, 1, 1), {}, collection="sentinel-2-l2a")
    # nodata is every band 0; one band at 0 is dark water (Valencia: 16 055 pixels of clear water at NIR 0,
    # which as "invalid" broke the water that brackets its berthed ships)
    valid = np.all([np.isfinite(b) for b in port.bands.values()], axis=0) & np.any([b > 0 for b in port.bands.values()], axis=0)
    return SceneBands(scene, Sensor.S2, dict(port.bands), valid, None)


def scene_result(port: Port, params: VesselParams,
                 pixel_model: PixelModel | None = None) -> tuple[SceneDetections, np.ndarray]:
    """``geo vessels``' own single-scene Sentinel-2 path (land model + detector) on a port: its result and
    the land model it ran with (``pixel_model``: the ship pixel model, if not the shipped one)."""
    bands = scene_bands(port)
    land, method = single_scene_land(bands, port.grid, params.land, pixel_model)
    inside = np.ones(port.grid.shape, bool)
    return detect_scene(bands, land, port.grid, inside, params, method), land


def centres(detections: Sequence[VesselDetection], port: Port) -> list[tuple[float, float]]:
    """(row, col) of each detection's centre on the port's grid."""
    inverse = ~port.grid.transform
    return [tuple(reversed(inverse @ (d.x, d.y))) for d in detections]  # type: ignore[misc]


def geo_vessels(params: VesselParams = VesselParams()) -> Detector:
    """``geo vessels``' single-scene Sentinel-2 path as a detector of centres."""

    def run(port: Port) -> list[tuple[float, float]]:
        return centres(scene_result(port, params)[0].detections, port)

    return run


def real_table(detectors: dict[str, Detector], ports: Sequence[Port]) -> dict[str, object]:
    """Every detector on every port: per-port and pooled figures."""
    truths = {port.name: truth_of(port) for port in ports}
    table: dict[str, object] = {}
    for name, detector in detectors.items():
        parts, per_port = [], {}
        for port in ports:
            hits, false = match(detector(port), truths[port.name])
            parts.append((hits, false, truths[port.name]))
            per_port[port.name] = {"found": int(hits.sum()), "ships": len(hits), "false_alarms": false}
        table[name] = {"pooled": pooled(parts), "per_port": per_port}
    return table


def leave_one_port_out(candidates: dict[str, Detector], ports: Sequence[Port]) -> dict[str, object]:
    """The honest development figure: for each port, the candidate setting with the best pooled F1 on the
    other five ports is scored on the held-out port; the held-out results are pooled."""
    truths = {port.name: truth_of(port) for port in ports}
    runs = {(name, port.name): (*match(detector(port), truths[port.name]), truths[port.name])
            for name, detector in candidates.items() for port in ports}

    def f1(name: str, names: Sequence[str]) -> float:
        return float(pooled([runs[(name, n)] for n in names])["f1"])  # type: ignore[arg-type]

    chosen = {}
    for port in ports:
        others = [p.name for p in ports if p.name != port.name]
        chosen[port.name] = max(candidates, key=lambda name: f1(name, others))
    return {"chosen": chosen, "pooled": pooled([runs[(chosen[p.name], p.name)] for p in ports]),
            "candidates": {name: f1(name, [p.name for p in ports]) for name in candidates}}
