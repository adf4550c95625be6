"""SAR table of ``benchmarks/vessels.py``: recall by ship length on the synthetic single-date Sentinel-1
port of ``tests/vessels/sar_port.py`` (ENL 4.4 speckle, a coast with a pier, side lobes; ships of 30-400 m
alone in open water and five moored abreast along the pier), for the single-scene land model by shape
(``objects on water``) side by side with the size rule it replaced, in the same run on the same scenes.
No labelled real SAR scene is available offline: this is the measurement the issue's SAR goal ("no ship
missed because of its size") is held to."""

from __future__ import annotations

if __name__ == "__main__":  # imported by the benchmarks, nothing of its own to run (it stopped in an import error)
    raise SystemExit("error: benchmarks/vessel_sar_port.py is a part of other benchmarks, not one to run: run python benchmarks/vessels.py")

from dataclasses import replace

import numpy as np

from geo.vessels.cfar import detect_sar
from geo.vessels.landmask import LandParams, sar_land_mask
from tests.vessels import sar_port, sea

MODELS = {"shape (objects on water; default)": LandParams(),
          "size rule (regions > 400 m / 2.8 ha are land; before)": LandParams(sar_objects_on_water=False, sar_smooth_px=5)}


def sar_port_table(seeds: int = 4, contrasts_db: tuple[float, ...] = (15.0, 10.0)) -> dict[str, object]:
    grid = sea.scene_grid(sar_port.SHAPE)
    coast, pier = sar_port.coast()
    table: dict[str, object] = {}
    for name, params in MODELS.items():
        for contrast in contrasts_db:
            found: dict[str, list[bool]] = {}
            false, coast_land, pier_land = 0, [], []
            for seed in range(1, seeds + 1):
                port = sar_port.port_scene(seed, contrast)
                land, _ = sar_land_mask([port.vv], grid, replace(params))
                out = detect_sar(port.bands(), ~land, grid)
                hits, extra = sar_port.match(out.detections, port.ships)
                false += extra
                for ship, hit in zip(port.ships, hits):
                    key = f"{ship.length_m:.0f} m alone" if ship in port.alone else "moored abreast at the pier"
                    found.setdefault(key, []).append(hit)
                coast_land.append(float(land[coast].mean()))
                pier_land.append(float(land[pier].mean()))
            table[f"{name}, ships {contrast:.0f} dB"] = {
                "recall": {k: round(float(np.mean(v)), 3) for k, v in found.items()},
                "found": {k: f"{int(np.sum(v))}/{len(v)}" for k, v in found.items()},
                "false_alarms_per_scene": round(false / seeds, 2),
                "coast_kept_as_land": round(float(np.mean(coast_land)), 4),
                "pier_kept_as_land": round(float(np.mean(pier_land)), 4)}
    return {"scenes": seeds, "scene_km2": sar_port.SHAPE[0] * sar_port.SHAPE[1] * sea.PIXEL**2 / 1e6,
            "enl": sar_port.ENL, "table": table}


def print_table(report: dict[str, object]) -> None:
    print("SAR single-date port (synthetic, recall by ship length):")
    for name, row in report["table"].items():  # type: ignore[attr-defined]
        print(f"  {name:75s} {row['found']}  false/scene {row['false_alarms_per_scene']}"
              f"  coast land {row['coast_kept_as_land']}  pier land {row['pier_kept_as_land']}")
