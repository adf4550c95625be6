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


def test_pipeline_applies_a_local_model_when_the_shift_varies(tmp_path):
    """An after scene whose misregistration grows across the AOI: the pipeline's local step chooses the
    model and reading through it leaves no residual anywhere."""
    from geo.align.stack import local_model
    from geo.jobs.optical_kit import Params, local_coreg
    from tests import synthetic
    from tests.align.fields import displace

    shape = (384, 384)
    scene = synthetic.textured_background(shape, np.random.default_rng(8))

    def field(r, c):
        return 0.2 + 0.8 * c / shape[1], -0.5 + 0.6 * r / shape[0]

    moved = np.stack([displace(band, field)[0] for band in scene])
    items = [
        synthetic.write_scene(tmp_path / "b", "B", synthetic.utc(2020, 3, 1), scene),
        synthetic.write_scene(tmp_path / "a", "A", synthetic.utc(2020, 8, 1), moved),
    ]
    source = LocalCatalog(synthetic.write_catalog(tmp_path, items))
    grid = _inner_grid(shape)
    before, after = read_stack(source.get("B"), BANDS, grid), read_stack(source.get("A"), BANDS, grid)
    nir = BANDS.index("nir")
    shift = estimate_shift(before.data[nir], after.data[nir], before.valid, after.valid)
    model, use_local, warning = local_model(before, after, "nir", shift, local_coreg(Params()))
    assert warning is None and use_local and model.kind == "affine"
    aligned = read_stack(source.get("A"), BANDS, grid, displacement=model.displacement)
    from geo.align.local import measure_tie_points

    start = estimate_shift(before.data[nir], aligned.data[nir], before.valid, aligned.valid)
    points = measure_tie_points(before.data[nir], aligned.data[nir], before.valid, aligned.valid, start, 64, 64)
    assert points.inlier.sum() >= 16
    assert np.abs(points.dx[points.inlier]).max() < 0.05 and np.abs(points.dy[points.inlier]).max() < 0.05
