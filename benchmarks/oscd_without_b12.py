"""The change job on each OSCD city pair with Sentinel-2 B12 (``swir22``) and without it (a port's own exports
often stop at B11; ``geo.jobs.band_needs``): what the degraded run changes.

Each city's pair goes through the job's own spine (``geo.jobs.spine.run_job``, the default ``OpticalKit``) over
the city's AOI (``<city>/<city>.geojson``), once as catalogued and once with the ``swir22`` asset removed from
both scenes. Per city: the change statistic's largest difference, the polygons of each run, the area on which
they disagree (the union's symmetric difference over the union), the regions matched (each region of the full
run and the region of the other run it overlaps most, at IoU >= 0.5), and among those the ones typed
otherwise, each noted with whether ``shadow`` is one of its two types (B12 reaches typing only through the
shadow test's SWIR level; a type changed without ``shadow`` comes from the normalisation, read on five bands).

    python benchmarks/oscd_without_b12.py [--root ../shared/data/oscd] [--cities a,b] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from shapely.geometry import shape
from shapely.ops import unary_union

from geo.aoi import load_drawn_aoi
from geo.eval.oscd import default_root, discover, load_city
from geo.jobs.kit import ChangeJob
from geo.jobs.optical_kit import OpticalKit
from geo.jobs.spine import run_job
from geo.results import JobResult
from geo.scenes.model import Scene


def without(scene: Scene, band: str) -> Scene:
    return replace(scene, assets=MappingProxyType({k: v for k, v in scene.assets.items() if k != band}))


def compare(full: JobResult, degraded: JobResult) -> dict[str, Any]:
    """What the run without B12 changed of the run with it (see the module notes)."""
    a = [(shape(f.geometry), f.change_type) for f in full.features]
    b = [(shape(f.geometry), f.change_type) for f in degraded.features]
    ua, ub = unary_union([g for g, _ in a]), unary_union([g for g, _ in b])
    union = ua.union(ub).area
    matched, retyped = 0, []
    for geom, kind in a:
        best = max(b, key=lambda other: other[0].intersection(geom).area, default=None)
        if best is None:
            continue
        iou = best[0].intersection(geom).area / best[0].union(geom).area
        if iou >= 0.5:
            matched += 1
            if best[1] != kind:
                retyped.append({"with_b12": kind, "without": best[1], "shadow": "shadow" in (kind, best[1])})
    s_full, s_deg = full.statistic, degraded.statistic
    both = np.isfinite(s_full) & np.isfinite(s_deg)
    return {
        "polygons": [len(a), len(b)],
        "area_disagreeing": round(ua.symmetric_difference(ub).area / union, 4) if union else 0.0,
        "matched": matched,
        "retyped": retyped,
        "statistic_max_diff": float(np.abs(s_full[both] - s_deg[both]).max()) if both.any() else 0.0,
        "types_with_b12": sorted({k for _, k in a}),
    }


def city_row(root: Path, name: str) -> dict[str, Any]:
    city = load_city(root, name)
    aoi = load_drawn_aoi(root / name / f"{name}.geojson")
    kit = OpticalKit()
    runs = []
    for before, after in ((city.before, city.after), (without(city.before, "swir22"), without(city.after, "swir22"))):
        runs.append(run_job(ChangeJob(aoi, (), before, after), kit))
    return {"city": name, **compare(*runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--cities", default="")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    root = args.root or default_root()
    names = [c for c in args.cities.split(",") if c] or discover(root)
    rows = []
    for name in names:
        rows.append(city_row(root, name))
        print(json.dumps(rows[-1]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.needs import run

    run(main, data=["oscd"], option="--root")
