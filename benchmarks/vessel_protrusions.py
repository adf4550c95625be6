"""Candidate generation for ships at berth: ``geo vessels --berthed``'s land model with and without its
protrusions (``geo.vessels.berths.protrusions``: narrow fingers of non-water sticking out into the water
kept as sea), on the six sen2ships development ports, all in one run.

Per radius of the opening (0 = ``--berthed`` as shipped, the reference; 2-6 px): how many ships, and how many
of the 136 ships at berth, become candidates (``--berthed`` without its hull model), and the figures after
the hull model fitted leave one port out on those candidates (``benchmarks/vessel_ship_model.py``'s
threshold rule: the best F1 on the five training ports keeping >= 0.5 of their ships at berth). *Nested*:
for each held-out port the radius is chosen too, by the leave-one-port-out F1 of the hull model on the
other five (keeping >= 0.5 at berth), so the radius is not picked on the port it is scored on.

    python benchmarks/vessel_protrusions.py [--out benchmarks/results/vessel_protrusions.json]
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.vessel_ship_model import (  # noqa: E402
    CANDIDATES, MIN_BERTH_RECALL, SHIPPED_FEATURES, PortCandidates, collect, leave_one_port_out, scored,
    table_main, train)
from geo.vessels.berths import ProtrusionParams  # noqa: E402
from tests.vessels import sen2ships  # noqa: E402

RADII = (0, 2, 3, 4, 5, 6)  # 0: --berthed as shipped (protrusions off)


def nested_radius(by_radius: dict[int, list[PortCandidates]]) -> dict[str, object]:
    """Leave one port out with the radius chosen on the other five (see the module's docstring)."""
    names = [p.name for p in by_radius[RADII[0]]]
    held_out, models, chosen = [], [], {}
    for i, name in enumerate(names):
        def quality(radius: int) -> tuple[bool, float]:
            rest = [p for j, p in enumerate(by_radius[radius]) if j != i]
            r = leave_one_port_out(rest, SHIPPED_FEATURES)
            return float(r["at_berth"]["recall"] or 0.0) >= MIN_BERTH_RECALL, float(r["f1"])  # type: ignore[index,arg-type]

        radius = max(RADII, key=quality)
        chosen[name] = radius
        models.append(train([p for j, p in enumerate(by_radius[radius]) if j != i], SHIPPED_FEATURES))
        held_out.append(by_radius[radius][i])
    return {**scored(held_out, models), "radius": chosen}


def protrusion_table(ports: list[sen2ships.Port]) -> dict[str, object]:
    by_radius = {radius: collect(ports, replace(CANDIDATES, land=replace(
        CANDIDATES.land, protrusions=ProtrusionParams(radius_px=radius)))) for radius in RADII}
    table: dict[str, object] = {}
    for radius, parts in by_radius.items():
        label = "--berthed (no protrusions)" if radius == 0 else f"protrusions, radius {radius} px"
        table[f"{label}: candidates, no hull model"] = {
            **scored(parts, [None] * len(parts)),
            "per_port": {p.name: {"hits": int(p.hit.sum()), "false": int((~p.hit).sum())} for p in parts}}
        table[f"{label}: hull model leave one port out"] = leave_one_port_out(parts, SHIPPED_FEATURES)
    table["radius and hull model leave one port out (nested)"] = nested_radius(by_radius)
    return table


def main() -> None:
    table_main(__doc__, "vessel_protrusions.json", "Protrusions in --berthed's land model, six sen2ships ports:",
               protrusion_table)


if __name__ == "__main__":
    main()
