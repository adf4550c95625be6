"""Vessel detection benchmark, two tables.

0. SAR single-date port (``benchmarks/vessel_sar_port.py``, synthetic): recall by ship length for the
   single-scene land model by shape, side by side with the size rule it replaced.
1. Real data (``benchmarks/vessel_ports.py``): ``geo vessels``' Sentinel-2 path on the six shared sen2ships
   ports (real L2A scenes, expert ship masks), default and ``--berthed`` side by side with ``--berthed``
   before its hull model, in the same run: recall, precision, F1, false alarms per km², at berth / open
   water, by ship length; and the hull model in-sample and leave one port out
   (``benchmarks/vessel_ship_model.py``); and the ship pixel model's candidates, with and without a hull
   model, leave one port out (``benchmarks/vessel_pixel_model.py``). Skipped, with a
   note in the JSON, when ../shared/data/sen2ships is absent. strait-observatory is a Sentinel-1 package:
   it does not apply to these optical scenes.
2. Synthetic scenes with known ships: detection rate, false alarms per km² and seconds per scene, for the
   workbench's detectors side by side with reference detectors run on the same scenes in the same run.

SAR references: the CFARs of the ``strait-observatory`` package (PyPI; trimmed and classic, its
"balanced" preset) when it is installed (``pip install -e '.[bench]'``), and always a plain global
threshold (scene mean + 5 standard deviations of VV intensity, clusters of >= 2 pixels).
Optical reference: a global NIR threshold (water median + 0.05 reflectance).

    python benchmarks/vessels.py [--scenes 2] [--real-only] [--out benchmarks/results/vessels.json]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.vessel_ports import geo_vessels, leave_one_port_out, real_table  # noqa: E402
from benchmarks.vessel_pixel_model import end_to_end, pixel_table  # noqa: E402
from benchmarks.vessel_pixel_model import shipped as pixel_shipped  # noqa: E402
from benchmarks.vessel_sar_port import print_table, sar_port_table  # noqa: E402
from benchmarks.vessel_ship_model import CANDIDATES, CANDIDATES_BEFORE, collect, model_table, print_rows, shipped  # noqa: E402
from geo.vessels.berths import BerthParams  # noqa: E402
from geo.vessels.cfar import CfarParams, detect_sar  # noqa: E402
from geo.vessels.job import VesselParams  # noqa: E402
from geo.vessels.landmask import LandParams  # noqa: E402
from geo.vessels.optical import OpticalParams, detect_optical  # noqa: E402
from geo.vessels.ship_model import shipped_model  # noqa: E402
from geo.vessels.ship_pixels import shipped_pixel_model  # noqa: E402
from tests.vessels import sea, sen2ships  # noqa: E402

SHAPE = (1000, 1000)
LOOKS = 4.4  # equivalent number of looks of Sentinel-1 IW GRDH
CLUTTERS = {"gamma L=4.4": None, "K L=4.4 nu=4": 4.0, "K L=4.4 nu=1.5 (spiky)": 1.5}
N_SHIPS = 60

Point = tuple[float, float]  # (row, col) of a detection centre


def ships_for(rng: np.random.Generator) -> list[sea.Ship]:
    """Lengths 20..250 m and VV contrast 5..40 (7..16 dB over the sea): some ships are hard on purpose."""
    ships = sea.random_ships(SHAPE, N_SHIPS, rng, lengths=(20.0, 250.0))
    return [sea.Ship(s.row, s.col, s.length_m, s.width_m, s.heading_deg, float(rng.uniform(5.0, 40.0))) for s in ships]


def score(points: list[Point], ships: list[sea.Ship], sea_km2: float) -> dict[str, object]:
    """Greedy one-to-one matching: a detection within half the ship's length (+15 m) of its centre."""
    used: set[int] = set()
    hits = np.zeros(len(ships), bool)
    for k, ship in enumerate(ships):
        best = None
        for i, (row, col) in enumerate(points):
            if i in used:
                continue
            d = math.hypot(row - ship.row, col - ship.col) * sea.PIXEL
            if d <= ship.length_m / 2 + 15 and (best is None or d < best[0]):
                best = (d, i)
        if best:
            used.add(best[1])
            hits[k] = True
    lengths = np.array([s.length_m for s in ships])
    contrast = np.array([10 * math.log10(s.contrast) for s in ships])
    by = {}
    for name, sel in {"length<50m": lengths < 50, "length 50-100m": (lengths >= 50) & (lengths < 100),
                      "length>=100m": lengths >= 100, "contrast<10dB": contrast < 10,
                      "contrast>=10dB": contrast >= 10}.items():
        by[name] = round(float(hits[sel].mean()), 4) if sel.any() else None
    false = len(points) - len(used)
    return {"ships": len(ships), "detected": int(hits.sum()), "detection_rate": round(float(hits.mean()), 4),
            "false_alarms": false, "false_alarms_per_km2": round(false / sea_km2, 4), "by": by}


def ours_sar(bands: dict[str, np.ndarray], pfa: float = 1e-6) -> list[Point]:
    out = detect_sar(bands, np.ones(SHAPE, bool), sea.scene_grid(SHAPE), CfarParams(pfa=pfa))
    inverse = ~sea.scene_grid(SHAPE).transform
    return [tuple(reversed(inverse @ (d.x, d.y))) for d in out.detections]  # type: ignore[misc]


def global_threshold_sar(bands: dict[str, np.ndarray]) -> list[Point]:
    vv = bands["vv"].astype(np.float64)
    mask = vv > vv.mean() + 5 * vv.std()
    labels, n = ndi.label(mask, structure=np.ones((3, 3)))
    sizes = np.bincount(labels.ravel())
    keep = [i for i in range(1, n + 1) if sizes[i] >= 2]
    return [tuple(c) for c in ndi.center_of_mass(mask, labels, keep)] if keep else []  # type: ignore[misc]


def strait_detector(method: str) -> Callable[[dict[str, np.ndarray]], list[Point]] | None:
    try:
        import strait
    except ImportError:
        return None
    preset = strait.PRESETS["balanced"]

    def run(bands: dict[str, np.ndarray]) -> list[Point]:
        h, w = SHAPE
        frame = strait.detect_vessels([bands["vv"]], ["20210101"], np.zeros(SHAPE, bool), method=method,
                                      bounds=(0.0, 0.0, float(w), float(h)), shape=SHAPE, k=preset["k"],
                                      window=preset["window"], min_pixels=preset["min_pixels"])
        # its bounds (0, 0, w, h) make lon = col + 0.5 and lat = h - (row + 0.5)
        return [(h - lat - 0.5, lon - 0.5) for lon, lat in zip(frame["lon"], frame["lat"])]

    return run


def optical_ours(bands: dict[str, np.ndarray], land: np.ndarray) -> list[Point]:
    grid = sea.scene_grid(SHAPE)
    out = detect_optical(bands, np.ones(SHAPE, bool), ~land, grid)
    inverse = ~grid.transform
    return [tuple(reversed(inverse @ (d.x, d.y))) for d in out.detections]  # type: ignore[misc]


def optical_global(bands: dict[str, np.ndarray], land: np.ndarray) -> list[Point]:
    nir = bands["nir"]
    mask = ~land & (nir > np.median(nir[~land]) + 0.05)
    labels, n = ndi.label(mask, structure=np.ones((3, 3)))
    sizes = np.bincount(labels.ravel())
    keep = [i for i in range(1, n + 1) if 2 <= sizes[i] <= 280]
    return [tuple(c) for c in ndi.center_of_mass(mask, labels, keep)] if keep else []  # type: ignore[misc]


def timed(fn: Callable[..., list[Point]], *args: object) -> tuple[list[Point], float]:
    start = time.perf_counter()
    points = fn(*args)
    return points, time.perf_counter() - start


def merge(results: list[dict[str, object]], seconds: list[float], sea_km2: float) -> dict[str, object]:
    ships = sum(int(r["ships"]) for r in results)
    detected = sum(int(r["detected"]) for r in results)
    false = sum(int(r["false_alarms"]) for r in results)
    km2 = len(results) * sea_km2
    by_keys = results[0]["by"].keys()  # type: ignore[union-attr]
    by: dict[str, float | None] = {}
    for key in by_keys:
        rates = [r["by"][key] for r in results if r["by"][key] is not None]  # type: ignore[index]
        by[key] = round(float(np.mean(rates)), 4) if rates else None
    return {"detection_rate": round(detected / ships, 4), "false_alarms_per_km2": round(false / km2, 4),
            "seconds_per_scene": round(float(np.mean(seconds)), 3), "ships": ships, "false_alarms": false, "by": by}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=2, help="scenes per clutter type")
    parser.add_argument("--real-only", action="store_true", help="only the real-data table")
    parser.add_argument("--sar-port-only", action="store_true", help="only the synthetic SAR port table")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "vessels.json")
    args = parser.parse_args()
    sar_port = sar_port_table()
    print_table(sar_port)
    if args.sar_port_only:
        write(args.out.with_name("vessels-sar-port.json"), {"sar_port_single_scene": sar_port})
        return
    real = real_ports()
    if args.real_only:
        write(args.out, {"real_sentinel2_ports": real, "sar_port_single_scene": sar_port,
                         "python": platform.python_version()})
        return

    sar: dict[str, Callable[[dict[str, np.ndarray]], list[Point]]] = {
        "workbench CFAR (gamma/K, trimmed, VV+VH, pfa 1e-6)": ours_sar,
        # the same at a looser level: detection at a false-alarm density nearer the global threshold's
        "workbench CFAR (gamma/K, trimmed, VV+VH, pfa 1e-4)": lambda bands: ours_sar(bands, 1e-4),
        "global threshold (VV mean + 5 sd)": global_threshold_sar,
    }
    strait_status = "not installed (pip install strait-observatory): compared against the global threshold only"
    for method in ("trimmed_cfar", "cfar"):
        detector = strait_detector(method)
        if detector is not None:
            sar[f"strait-observatory {method} (balanced preset)"] = detector
            strait_status = f"strait-observatory {metadata.version('strait-observatory')}"
    report: dict[str, object] = {
        "real_sentinel2_ports": real,
        "sar_port_single_scene": sar_port,
        "scene": {"shape": list(SHAPE), "pixel_m": sea.PIXEL, "km2": SHAPE[0] * SHAPE[1] * sea.PIXEL**2 / 1e6,
                  "ships_per_scene": N_SHIPS, "ship_length_m": [20, 250], "contrast_db": [7, 16],
                  "looks": LOOKS, "scenes_per_clutter": args.scenes},
        "strait_observatory": strait_status,
        "sar": {},
        "optical": {},
        "python": platform.python_version(),
    }
    for clutter_name, texture in CLUTTERS.items():
        per: dict[str, tuple[list[dict[str, object]], list[float]]] = {name: ([], []) for name in sar}
        for i in range(args.scenes):
            rng = np.random.default_rng(1000 + i)
            ships = ships_for(rng)
            bands = sea.sar_scene(SHAPE, ships, looks=LOOKS, texture=texture, seed=2000 + i)
            for name, detector in sar.items():
                points, seconds = timed(detector, bands)
                per[name][0].append(score(points, ships, 100.0))
                per[name][1].append(seconds)
        report["sar"][clutter_name] = {name: merge(*per[name], 100.0) for name in sar}  # type: ignore[index]
        print(f"SAR, {clutter_name}:")
        for name, row in report["sar"][clutter_name].items():  # type: ignore[index]
            print(f"  {name:55s} detection {row['detection_rate']:.3f}  false/km2 {row['false_alarms_per_km2']:.3f}"
                  f"  {row['seconds_per_scene']:.2f} s/scene")
    optical = {"workbench optical (NIR local z, pfa 1e-6)": optical_ours, "global NIR threshold (+0.05)": optical_global}
    per_opt: dict[str, tuple[list[dict[str, object]], list[float]]] = {name: ([], []) for name in optical}
    land = np.zeros(SHAPE, bool)
    land[:, :150] = True
    for i in range(args.scenes):
        rng = np.random.default_rng(3000 + i)
        ships = sea.random_ships(SHAPE, N_SHIPS, rng, col_min=170, lengths=(20.0, 250.0))
        bands = sea.optical_scene(SHAPE, ships, seed=4000 + i, land=land, glint=True)
        for name, detector in optical.items():
            points, seconds = timed(detector, bands, land)
            per_opt[name][0].append(score(points, ships, float((~land).sum()) * sea.PIXEL**2 / 1e6))
            per_opt[name][1].append(seconds)
    report["optical"] = {name: merge(*per_opt[name], float((~land).sum()) * sea.PIXEL**2 / 1e6) for name in optical}
    print("Optical (water with a glint band):")
    for name, row in report["optical"].items():  # type: ignore[union-attr]
        print(f"  {name:55s} detection {row['detection_rate']:.3f}  false/km2 {row['false_alarms_per_km2']:.3f}"
              f"  {row['seconds_per_scene']:.2f} s/scene")
    write(args.out, report)


def write(out: Path, report: dict[str, object]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")


def real_ports() -> dict[str, object]:
    """Table 1: the six shared sen2ships ports (see ``benchmarks/vessel_ports.py``), and the hull model of
    ``--berthed`` in-sample and leave one port out (``benchmarks/vessel_ship_model.py``)."""
    if not sen2ships.available():
        print(f"Real Sentinel-2 ports: skipped, no sen2ships ports in {sen2ships.data_root()} (set $GEO_SHARED_DATA)")
        return {"skipped": f"no sen2ships ports in {sen2ships.data_root()}"}
    ports = [sen2ships.load_port(name) for name in sen2ships.PORTS]
    berthed = VesselParams(land=LandParams(keep_objects_on_water=True), optical=OpticalParams(ship_model=True))
    detectors = {
        "geo vessels S2 (default land model: ship-sized holes only)": geo_vessels(),
        "land model keeping objects on water, no hull model (--berthed before the hull model)": geo_vessels(CANDIDATES),
        "the same before the glint-water rule": geo_vessels(CANDIDATES_BEFORE),
        "geo vessels S2 --berthed (objects on water + shipped hull model; in-sample)": geo_vessels(berthed),
    }
    table = real_table(detectors, ports)
    settings = {f"min_run_fraction={run}, max_not_hull={hull}": geo_vessels(VesselParams(land=LandParams(
        keep_objects_on_water=True, berths=BerthParams(min_run_fraction=run, max_not_hull=hull))))
        for run in (0.6, 0.8) for hull in (0.05, 0.2)}
    lopo = leave_one_port_out(settings, ports)
    parts = collect(ports)
    hull_model = model_table(parts, collect(ports, CANDIDATES_BEFORE))
    reproduced = shipped(parts) == shipped_model()
    tables = [pixel_table(port) for port in ports]
    pixel_model = end_to_end(ports, tables)
    pixel_reproduced = pixel_shipped(tables) == shipped_pixel_model()
    print("Real Sentinel-2 ports (sen2ships, six development ports):")
    print_rows({name: row["pooled"] for name, row in table.items()})  # type: ignore[index]
    print_rows({"objects on water, no hull model, leave one port out (4 settings)": lopo["pooled"]})
    print_rows(hull_model)
    print_rows(pixel_model)
    print(f"  shipped hull model = the one trained on the six ports: {reproduced}")
    print(f"  shipped ship pixel model = the one trained on the six ports: {pixel_reproduced}")
    return {"leave_one_port_out_objects_on_water": lopo, "hull_model": hull_model,
            "shipped_hull_model_reproduced": reproduced, "ship_pixel_model": pixel_model,
            "shipped_ship_pixel_model_reproduced": pixel_reproduced, "ports": list(sen2ships.PORTS),
            "ships": sum(p.n_ships for p in ports),
            "strait_observatory": "not applicable (Sentinel-1 only; these scenes are Sentinel-2)",
            "table": table}


if __name__ == "__main__":
    main()
