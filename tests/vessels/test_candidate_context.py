"""The land-contact measures of the candidate-classifier benchmark (``benchmarks/vessel_context.py``) on
drawn objects of known geometry and spectrum: a hull alongside a quay has land beside one long side only
and water beyond both ends; a jetty has water beside both long sides and its root on land at one end; a
piece in a slot between two quays has land on both sides. And on crops of REAL ports (sen2ships, cut at
test time) through ``--berthed``'s own land model and detector: a ship at berth in Genoa and a jetty in
Durban measure so too."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import box

from benchmarks.vessel_context import CONTEXT, REACH_PX, context_features
from benchmarks.vessel_ports import centres, scene_result
from benchmarks.vessel_ship_model import CANDIDATES
from geo.grid import Grid
from geo.vessels.model import VesselDetection
from tests.vessels import sea, sen2ships

SHAPE = (120, 120)
WATER = {"blue": 0.06, "green": 0.05, "red": 0.03, "nir": 0.02, "swir16": 0.01}
QUAY = {"blue": 0.12, "green": 0.13, "red": 0.14, "nir": 0.15, "swir16": 0.2}  # concrete: rises to SWIR
HULL = {"blue": 0.16, "green": 0.14, "red": 0.18, "nir": 0.3, "swir16": 0.16}  # dry: MNDWI -0.07
# (row0, row1, col0, col1) in pixels, heading (degrees clockwise from north)
BERTHED = ((20, 40, 30, 33), 0.0)  # 200 x 30 m, north-south, its west side on the quay (cols < 30)
JETTY = ((60, 63, 30, 50), 90.0)  # 200 x 30 m, east-west, its root on the quay
SLOT = ((85, 105, 63, 66), 0.0)  # between the quay blocks at cols 56-62 and 67-73


def _scene() -> tuple[dict[str, np.ndarray], np.ndarray, Grid]:
    land = np.zeros(SHAPE, bool)
    land[:, :30] = True
    land[80:110, 56:63] = land[80:110, 67:74] = True
    bands = {name: np.where(land, QUAY[name], WATER[name]).astype(np.float32) for name in WATER}
    for (r0, r1, c0, c1), _ in (BERTHED, JETTY, SLOT):
        for name in bands:
            bands[name][r0:r1, c0:c1] = HULL[name]
    return bands, land, sea.scene_grid(SHAPE)


def _detection(rect: tuple[int, int, int, int], heading: float, grid: Grid) -> VesselDetection:
    r0, r1, c0, c1 = rect
    (x0, y0), (x1, y1) = grid.transform @ (c0, r1), grid.transform @ (c1, r0)
    pixel = math.sqrt(grid.pixel_area)
    along, across = (r1 - r0, c1 - c0) if heading == 0.0 else (c1 - c0, r1 - r0)
    return VesselDetection(box(x0, y0, x1, y1), (x0 + x1) / 2, (y0 + y1) / 2, along * pixel, across * pixel, heading,
                           (x1 - x0) * (y1 - y0), (r1 - r0) * (c1 - c0), 10.0, 10.0)


def test_contact_measures_tell_a_berthed_hull_from_a_jetty_and_a_piece_in_a_slot():
    bands, land, grid = _scene()
    table = context_features([_detection(*obj, grid) for obj in (BERTHED, JETTY, SLOT)], bands, land, grid)
    berthed, jetty, slot = ({name: row[i] for i, name in enumerate(CONTEXT)} for row in table)
    # the hull: land the whole length of one side, water beside the other and beyond both ends
    assert (berthed["side_land_max"], berthed["side_land_min"]) == (1.0, 0.0)
    assert (berthed["end_land_max"], berthed["end_land_min"]) == (0.0, 0.0)
    assert berthed["water_reach_min"] == 0.0 and berthed["water_reach_max"] == pytest.approx(math.log1p(REACH_PX))
    # the jetty: water beside both sides, land beyond its root only
    assert (jetty["side_land_max"], jetty["side_land_min"]) == (0.0, 0.0)
    assert (jetty["end_land_max"], jetty["end_land_min"]) == (1.0, 0.0)
    assert jetty["water_reach_min"] == pytest.approx(math.log1p(REACH_PX))
    # the slot piece: land on both sides
    assert (slot["side_land_max"], slot["side_land_min"]) == (1.0, 1.0)
    # against the quay beside it: (0.3 - 0.15) / 0.45 brighter in NIR, (0.16 - 0.2) / 0.36 darker in SWIR
    assert berthed["nir_vs_land"] == pytest.approx(1 / 3, abs=1e-6)
    assert berthed["swir_vs_land"] == pytest.approx(-1 / 9, abs=1e-6)
    # land in the 2-px ring (4-connected dilation) per pixel of length: 2 quay columns along the hull's 20
    # rows and a diagonal pixel at each end; at the jetty's root only: 3 rows of column 28, 5 of column 29
    assert berthed["land_contact"] == pytest.approx(42 / 20)
    assert jetty["land_contact"] == pytest.approx(8 / 20)
    assert berthed["wet_share"] == 0.0  # the hull is dry (MNDWI < 0)


# (port, rows, cols, the candidate's centre in the crop): a 160 m ship along a quay in Genoa's eastern
# basin (labelled, at berth); a jetty off Durban's shore (no ship), both --berthed candidates
GENOA_BERTHED = ("genoa", slice(400, 540), slice(1480, 1600), (71.0, 63.0))
DURBAN_JETTY = ("durban", slice(500, 600), slice(730, 840), (45.0, 53.0))


def _real_candidate(port_name: str, rows: slice, cols: slice, centre: tuple[float, float]) -> dict[str, float]:
    port = sen2ships.load_port(port_name).crop(rows, cols)
    result, land = scene_result(port, CANDIDATES)
    points = centres(result.detections, port)
    nearest = min(range(len(points)), key=lambda k: math.dist(points[k], centre))
    assert math.dist(points[nearest], centre) <= 3.0
    row = context_features([result.detections[nearest]], port.bands, land, port.grid)[0]
    return dict(zip(CONTEXT, map(float, row)))


@pytest.mark.skipif(not sen2ships.available(), reason="no sen2ships ports in ../shared/data")
def test_on_real_crops_a_berthed_ship_touches_the_quay_along_its_side_and_a_jetty_at_its_root():
    ship, jetty = _real_candidate(*GENOA_BERTHED), _real_candidate(*DURBAN_JETTY)
    # measured: side 1.0 / 0.0, ends 0.14 / 0.0, contact 2.17, reach 0 on the quay side
    assert ship["side_land_max"] >= 0.9 and ship["side_land_min"] <= 0.1 and ship["end_land_max"] <= 0.3
    assert ship["land_contact"] >= 1.5 and ship["water_reach_min"] == 0.0 and ship["wet_share"] <= 0.1
    # measured: side 0.0 / 0.0, ends 1.0 / 0.0, contact 0.84, water 6 px away on its narrower side
    assert jetty["side_land_max"] <= 0.2 and jetty["end_land_max"] >= 0.9 and jetty["end_land_min"] <= 0.1
    assert jetty["land_contact"] <= 1.0 and jetty["water_reach_min"] > 0.0
