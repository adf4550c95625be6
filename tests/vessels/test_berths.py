"""The single-scene land model and the optical detector on small crops of a REAL port (Durban, sen2ships,
Sentinel-2 L2A with expert ship masks), cut at test time from ../shared/data/sen2ships: ships moored along
a finger pier stay sea (the pier stays land), and the surf on the beach is no ship."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from geo.change.classify import water_index
from geo.vessels.landmask import LandParams, optical_land_mask
from geo.vessels.optical import detect_optical
from tests.vessels import sen2ships

pytestmark = pytest.mark.skipif(not sen2ships.available(), reason="no sen2ships ports in ../shared/data")

BERTHS = (slice(380, 520), slice(680, 860))  # a finger pier with 8 labelled ships alongside, 1 in open water
SURF = (slice(600, 800), slice(950, 1150))  # beach, surf line and open sea; no ship


@pytest.fixture(scope="module")
def durban() -> sen2ships.Port:
    return sen2ships.load_port("durban")


def _land(crop: sen2ships.Port, keep: bool) -> np.ndarray:
    b = crop.bands
    mask, _ = optical_land_mask([water_index(b["green"], b["nir"], b["swir16"])], crop.grid,
                                LandParams(keep_objects_on_water=keep))
    return mask


def test_berthed_ships_stay_sea_and_the_pier_stays_land(durban):
    crop = durban.crop(*BERTHS)
    ships = crop.ships > 0
    assert len(np.unique(crop.ships[ships])) == 9
    land = _land(crop, keep=True)
    assert (~land[ships]).mean() > 0.5  # most hull pixels are sea (edges mix with the quay)
    kept = [k for k in np.unique(crop.ships[ships]) if (~land[crop.ships == k]).mean() > 0.3]
    assert len(kept) >= 7  # of 8 berthed (and 1 in open water); measured: 7
    # the single-scene model before it painted them land
    assert (~_land(crop, keep=False)[ships]).mean() < 0.1
    # the pier and quays: non-water pixels 3+ pixels away from any ship stay land
    b = crop.bands
    dry = np.nan_to_num(water_index(b["green"], b["nir"], b["swir16"]), nan=-1.0) < -0.1
    pier = dry & ~ndi.binary_dilation(ships, iterations=3)
    assert pier.sum() > 2000 and land[pier].mean() > 0.99


def test_surf_line_is_no_ship(durban):
    crop = durban.crop(*SURF)
    land = _land(crop, keep=True)
    valid = np.ones(crop.grid.shape, bool)
    out = detect_optical(crop.bands, valid, ~land, crop.grid)
    assert out.detections == ()
    assert out.diagnostics["clusters_rejected"]["foam"] >= 3  # the surf was seen, and rejected as foam
