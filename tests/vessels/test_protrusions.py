"""Narrow fingers of non-water sticking out into the water (``geo.vessels.berths.protrusions``; measured,
not adopted: off by default): on a drawn mask, a boat moored bow-on off a quay is kept and the quay, a
wide pier, a long breakwater and a green finger are not (only the square corners a round disk cannot
reach); on a crop of a REAL port (Busan, sen2ships, cut at test time), ``--berthed``'s land model with them
(radius 4 px) keeps a boat moored bow-on off a quay as sea (without: all of it land) while the
quays and yards stay land."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from benchmarks.vessel_ports import scene_bands
from geo.change.classify import water_index
from geo.vessels.berths import ProtrusionParams, protrusions
from geo.vessels.job import single_scene_land
from geo.vessels.landmask import LandParams
from tests.vessels import sen2ships

real = pytest.mark.skipif(not sen2ships.available(), reason="no sen2ships ports in ../shared/data")

PIXEL_M = 10.0


def _drawn() -> tuple[np.ndarray, dict[str, tuple[slice, slice]]]:
    """A quay (rows 0-19) over water, with four things sticking out of it into the water."""
    non_water = np.zeros((60, 90), bool)
    non_water[:20] = True
    parts = {
        "boat": (slice(20, 26), slice(10, 13)),  # 3 x 6 px: a 60 m boat bow-on off the quay
        "breakwater": (slice(20, 51), slice(30, 33)),  # 3 x 31 px: 310 m long, longer than a moored boat
        "green finger": (slice(20, 26), slice(50, 53)),  # a boat's shape, but vegetation
        "wide pier": (slice(20, 32), slice(65, 80)),  # 15 px wide: the disk reaches into it
    }
    for rows, cols in parts.values():
        non_water[rows, cols] = True
    return non_water, parts


def test_a_boat_sticking_out_of_the_quay_is_kept_and_the_quay_pier_and_breakwater_are_not():
    non_water, parts = _drawn()
    vegetation = np.zeros(non_water.shape, bool)
    vegetation[parts["green finger"]] = True
    kept = protrusions(non_water, ~non_water, PIXEL_M, ProtrusionParams(radius_px=4), vegetation)
    boat = np.zeros(non_water.shape, bool)
    boat[parts["boat"]] = True
    assert kept[boat].all()
    # besides the boat only the 3-px square corners a round disk cannot reach: the wide pier's two outer
    # corners and the quay's two at the image's sides; not the quay's edge, the breakwater or the green finger
    corners = {(30, 65), (31, 65), (31, 66), (30, 79), (31, 78), (31, 79),
               (18, 0), (19, 0), (19, 1), (18, 89), (19, 88), (19, 89)}
    assert set(zip(*(a.tolist() for a in np.nonzero(kept & ~boat)))) == corners
    # the radius decides what is narrow: with a disk of radius 1 (3 px across) the 3 px boat is not
    assert not protrusions(non_water, ~non_water, PIXEL_M, ProtrusionParams(radius_px=1), vegetation).any()
    # off (radius 0): nothing
    assert not protrusions(non_water, ~non_water, PIXEL_M, ProtrusionParams(radius_px=0)).any()


# Busan (sen2ships, 2022-05-14): fishing boats moored bow-on along the quays of the inner harbour
BUSAN = (slice(450, 750), slice(0, 300))
BOAT = 40  # the label of a boat moored bow-on (box rows 594-602, cols 120-125 of the port)


@real
def test_on_busan_a_boat_moored_bow_on_is_sea_and_the_quays_stay_land():
    crop = sen2ships.load_port("busan").crop(*BUSAN)
    bands = scene_bands(crop)
    boat = crop.ships == BOAT
    assert boat.sum() > 30
    land = {radius: single_scene_land(bands, crop.grid, LandParams(
        keep_objects_on_water=True, protrusions=ProtrusionParams(radius_px=radius)))[0] for radius in (0, 4)}
    assert (~land[4][boat]).mean() > 0.9  # measured 0.98 (on the whole port too)
    assert (~land[0][boat]).mean() < 0.1  # without: all of it land on this crop (0.44 sea on the whole port)
    # quays and yards: clearly dry pixels 3+ pixels away from any labelled ship stay land
    b = crop.bands
    dry = np.nan_to_num(water_index(b["green"], b["nir"], b["swir16"]), nan=-1.0) < -0.1
    quay = dry & ~ndi.binary_dilation(crop.ships > 0, iterations=3)
    assert quay.sum() > 40_000
    # measured 0.979 with, 0.980 without
    assert land[4][quay].mean() > 0.97 and land[4][quay].mean() >= land[0][quay].mean() - 0.005
