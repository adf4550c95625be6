"""The snow test on known pixels: fields of snow found, a bright roof or surf foam not, one date's snow grown by
its edge, and strips of rows (a large grid's stacks on disk) giving the whole grid's mask."""

from __future__ import annotations

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from geo.grid import Grid
from geo.scenes.read import Stack
from geo.scenes.snow import snow, snow_on_pair

BANDS = ("blue", "green", "red", "nir", "swir16", "swir22")
GROUND = (0.05, 0.08, 0.07, 0.25, 0.20, 0.12)  # fields
SNOW = (0.85, 0.82, 0.79, 0.70, 0.12, 0.09)
FOAM = (0.30, 0.33, 0.29, 0.20, 0.04, 0.03)  # surf (Durban, sen2ships): SWIR-dark like snow, darker in NIR
ROOF = (0.50, 0.50, 0.48, 0.45, 0.10, 0.08)  # one bright pixel whose 20 m SWIR was its darker surroundings'


def stack(shape: tuple[int, int], patches: list[tuple[tuple[slice, slice], tuple[float, ...]]]) -> Stack:
    data = np.empty((len(BANDS), *shape), np.float32)
    data[:] = np.asarray(GROUND, np.float32)[:, None, None]
    for (rows, cols), spectrum in patches:
        data[:, rows, cols] = np.asarray(spectrum, np.float32)[:, None, None]
    grid = Grid(CRS.from_epsg(32653), Affine(10, 0, 500_000, 0, -10, 5_400_000), shape)
    return Stack(None, grid, BANDS, data, np.ones(shape, bool), True)  # type: ignore[arg-type]


def test_a_snow_field_is_found_and_a_roof_or_foam_is_not():
    found = snow(stack((40, 40), [((slice(5, 25), slice(5, 25)), SNOW), ((slice(30, 31), slice(30, 31)), ROOF),
                                  ((slice(30, 38), slice(2, 20)), FOAM)]), slice(0, 40))
    assert found[5:25, 5:25].all() and found.sum() == 400


def test_one_date_snow_is_grown_by_its_edge_and_snow_on_both_dates_is_not_left_out():
    before = stack((60, 60), [((slice(0, 60), slice(0, 20)), SNOW)])  # the west third under snow on both dates
    after = stack((60, 60), [((slice(0, 60), slice(0, 20)), SNOW), ((slice(10, 30), slice(30, 50)), SNOW)])
    left_out, _ = snow_on_pair(before, after)
    assert left_out[8:32, 30:50].all() and left_out[10:30, 28:52].all()  # 20 m (2 px) around it
    assert left_out.sum() == 24 * 24 - 4 * 3  # (its corners rounded)
    assert not left_out[:, :20].any()


def test_strips_of_rows_give_the_whole_grids_mask():
    rng = np.random.default_rng(0)
    patches = [((slice(r, r + h), slice(c, c + w)), SNOW) for r, c, h, w in rng.integers(1, 40, (25, 4))]
    before, after = stack((90, 70), patches[:10]), stack((90, 70), patches[8:])
    whole, shares = snow_on_pair(before, after, strip_rows=1000)
    assert whole.any() and not whole.all()
    for rows in (1, 7, 16, 33):
        assert np.array_equal(snow_on_pair(before, after, strip_rows=rows)[0], whole), rows
