"""Reading a scene through a displacement model: one resampling that undoes a known shift."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

from geo.align.coreg import estimate_shift
from geo.align.resample import translation
from geo.grid import Grid
from geo.scenes.read import read_stack
from geo.scenes.source import LocalCatalog
from tests.synthetic import BANDS, CRS_UTM, ORIGIN


def _inner_grid(shape, margin=20):
    transform = Affine(10.0, 0, ORIGIN[0] + 10 * margin, 0, -10.0, ORIGIN[1] - 10 * margin)
    return Grid(CRS_UTM, transform, (shape[0] - 2 * margin, shape[1] - 2 * margin))


def test_read_through_displacement_undoes_the_shift(synthetic_project):
    source = LocalCatalog(synthetic_project.catalog)
    before, after = source.get("S2A_TEST_20200301"), source.get("S2A_TEST_20200801")
    grid = _inner_grid(synthetic_project.shape)
    dx, dy = synthetic_project.shift
    ref = read_stack(before, BANDS, grid)
    raw = read_stack(after, BANDS, grid)
    aligned = read_stack(after, BANDS, grid, displacement=translation(dx, dy))
    nir = BANDS.index("nir")
    assert aligned.valid.mean() > 0.95
    left = estimate_shift(ref.data[nir], aligned.data[nir], ref.valid, aligned.valid)
    assert abs(left.dx_px) < 0.02 and abs(left.dy_px) < 0.02
    untouched = estimate_shift(ref.data[nir], raw.data[nir], ref.valid, raw.valid)
    assert (untouched.dx_px, untouched.dy_px) == pytest.approx((dx, dy), abs=0.05)


def test_displacement_read_matches_gdal_translation(synthetic_project):
    """The same translation through the model sampler and through GDAL's warper (grid moved) agree."""
    source = LocalCatalog(synthetic_project.catalog)
    after = source.get("S2A_TEST_20200801")
    grid = _inner_grid(synthetic_project.shape)
    model = read_stack(after, ("nir",), grid, displacement=translation(0.37, -0.62))
    gdal = read_stack(after, ("nir",), grid.shifted(0.37, -0.62))
    both = model.valid & gdal.valid
    difference = np.abs(model.data[0][both] - gdal.data[0][both])
    assert np.median(difference) < 0.002 * np.median(np.abs(gdal.data[0][both]))
