"""The single-scene SAR land model must not eat ships because of their size: a synthetic Sentinel-1 port
(``sar_port``: ENL 4.4 speckle, wind trend, a wavy textured coast with dark patches, a pier, side lobes)
with ships of 30-400 m alone in open water and five moored side by side along the pier."""

from __future__ import annotations

import pytest

from geo.vessels.cfar import detect_sar
from geo.vessels.landmask import sar_land_mask
from tests.vessels import sar_port, sea

GRID = sea.scene_grid(sar_port.SHAPE)


@pytest.fixture(scope="module", params=[1, 2])
def port_result(request):
    port = sar_port.port_scene(request.param)
    land, method = sar_land_mask([port.vv], GRID)
    return port, land, method, detect_sar(port.bands(), ~land, GRID)


def test_big_ships_alone_in_open_water_are_sea_and_found(port_result):
    """Today's size rule painted the 300 m and 400 m hulls (with their smear) as land."""
    port, land, method, out = port_result
    assert method == "sar-single-scene+objects-on-water"
    for ship in port.alone:
        assert not land[ship.coverage(sar_port.SHAPE) > 0.5].any(), ship.length_m
    hits, _ = sar_port.match(out.detections, port.alone)
    assert hits == [True] * 5
    lengths = sorted(d.length_m for d in out.detections if d.length_m > 250)
    assert lengths and 350 <= lengths[-1] <= 460  # the 400 m hull is measured as one ship of its length


def test_ships_moored_abreast_at_the_pier_are_found(port_result):
    port, land, _, out = port_result
    # the pier's own pixels stay land; under half of each hull alongside it is taken for the pier
    assert all(land[s.coverage(sar_port.SHAPE) > 0.5].mean() < 0.5 for s in port.moored)
    assert land[sar_port.coast()[1]].mean() > 0.99
    hits, _ = sar_port.match(out.detections, port.moored)
    assert hits == [True] * 5  # three abreast on one side, two on the other: each hull its own detection


def test_land_stays_land_and_false_alarms_stay_bounded(port_result):
    port, land, _, out = port_result
    coast, _ = sar_port.coast()
    assert land[coast].mean() > 0.995
    _, false = sar_port.match(out.detections, port.ships)
    assert false <= 1
    assert land[:, 320:].mean() < 0.001  # open water stays sea
