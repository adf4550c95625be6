"""Issue 17, screened in ``benchmarks/oscd_statistics.py``: s2cloudless (Sentinel Hub's pixel cloud detector,
a LightGBM model shipped inside the package: offline) as the cloud mask of the L1C pairs, besides the
cirrus band's. Of the seven cities only paris has clouds that show: two small cumulus on its second date,
with their shadows (the cirrus band masks their cores); bordeaux's second date is veiled over the whole
scene.

Its ten bands (B01 B02 B04 B05 B08 B8A B09 B10 B11 B12) are read onto the label grid per date (no
co-registration: a mask dilated by 110 m does not need it), the probability computed at 10 m as Earth
Engine's S2_CLOUD_PROBABILITY is, and masked at the package's threshold (0.4), averaged over a disk of
22 px and dilated by 11 px (chosen before scoring, not tuned). A pixel cloudy on either date is left out
of the statistic (fits, robust scale, decision) and predicted "no change", as the cirrus mask's pixels
are. s2cloudless finds no shadows; the OSCD folders carry no sun angles to project them from. Needs
s2cloudless installed (``pip install s2cloudless``); the other candidates do not. The probabilities are
kept in ``CACHE``.
"""

from __future__ import annotations

if __name__ == "__main__":  # imported by the benchmarks, nothing of its own to run (it stopped in an import error)
    raise SystemExit("error: benchmarks/oscd_clouds.py is a part of other benchmarks, not one to run: run python benchmarks/oscd_statistics.py")

import dataclasses
from pathlib import Path

import numpy as np

from benchmarks.oscd_directions import CityData
from benchmarks.oscd_red_edge import CityExtra, read_bands, red_10m, with_bands

S2CLOUDLESS_BANDS = {"coastal": "B01", "blue": "B02", "red": "B04", "rededge1": "B05", "nir": "B08", "nir08": "B8A",
                     "nir09": "B09", "cirrus": "B10", "swir16": "B11", "swir22": "B12"}  # the model's order
PROBABILITY = "cloud_probability"
CACHE = Path("/tmp/oscd_s2cloudless_cache")


def cloud_probability(root: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """s2cloudless's probability of cloud of each date on the label grid (0 where a band has no data)."""
    from s2cloudless import S2PixelCloudDetector

    path = CACHE / f"{name}.npz"
    if path.exists():
        d = np.load(path)
        return d["before"], d["after"]
    pair = read_bands(root, name, S2CLOUDLESS_BANDS, coregistered=False)
    detector = S2PixelCloudDetector(all_bands=False)
    stacks = np.stack([np.moveaxis(np.nan_to_num(s.data), 0, -1) for s in (pair.before, pair.after)])
    probability = detector.get_cloud_probability_maps(stacks)
    probability[0][~pair.before.valid] = 0.0
    probability[1][~pair.after.valid] = 0.0
    CACHE.mkdir(exist_ok=True)
    np.savez(path, before=probability[0], after=probability[1])
    return probability[0], probability[1]


def with_cloud_probability(root: Path, name: str, city: CityData) -> CityExtra:
    """``city`` with each date's cloud probability as an extra band."""
    before, after = cloud_probability(root, name)
    return with_bands(city, {PROBABILITY: (before, after, city.valid)})


def cloud_mask(city: CityData) -> np.ndarray:
    """Cloudy on either date, with the package's post-processing for 10 m pixels."""
    from s2cloudless import S2PixelCloudDetector

    assert isinstance(city, CityExtra)
    before, after, _ = city.extra[PROBABILITY]
    detector = S2PixelCloudDetector(threshold=0.4, average_over=22, dilation_size=11, all_bands=False)
    masks = detector.get_mask_from_prob(np.stack([before, after]))
    return np.asarray(masks.astype(bool).any(axis=0))


def fusion_clouds_masked(city: CityData) -> np.ndarray:
    """``local-fusion``'s statistic with s2cloudless's clouds left out (0 there: "no change")."""
    valid = city.valid & ~cloud_mask(city)
    return np.where(valid, red_10m(dataclasses.replace(city, valid=valid)), 0.0)


CANDIDATES = {"s2cloudless: fusion, clouds of either date masked": fusion_clouds_masked}
