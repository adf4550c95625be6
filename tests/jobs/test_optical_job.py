"""The whole job on a synthetic pair with known truth: planted roofs and a known sub-pixel shift."""

from __future__ import annotations

import numpy as np
import pytest
from rasterio import features

from geo.aoi import load_aoi
from geo.claim_files import load_claims
from geo.geometry import WGS84, reproject
from geo.grid import Grid
from geo.jobs.kit import ChangeJob
from geo.jobs.optical_kit import OpticalKit
from geo.jobs.spine import run_job
from geo.scenes.source import LocalCatalog
from tests.synthetic import CRS_UTM, ORIGIN
from affine import Affine


@pytest.fixture(scope="module")
def result(synthetic_project):
    aoi = load_aoi(synthetic_project.aoi_dir / "test-site.geojson")
    claims = tuple(load_claims(synthetic_project.seeds_dir).values())
    source = LocalCatalog(synthetic_project.catalog)
    before, after = source.get("S2A_TEST_20200301"), source.get("S2A_TEST_20200801")
    return run_job(ChangeJob(aoi, claims, before, after), OpticalKit())


def _scene_grid(shape):
    return Grid(CRS_UTM, Affine(10.0, 0, ORIGIN[0], 0, -10.0, ORIGIN[1]), shape)


def _rasterize(features_, grid):
    shapes = [reproject(geom, WGS84, grid.crs.to_string()) for geom in (f.geometry for f in features_)]
    if not shapes:
        return np.zeros(grid.shape, bool)
    return features.geometry_mask(shapes, grid.shape, grid.transform, invert=True)


def test_shift_recovered_within_005_px(result, synthetic_project):
    dx, dy = synthetic_project.shift
    shift = result.manifest.to_dict()["coregistration"]
    assert abs(shift["dx_px"] - dx) < 0.05
    assert abs(shift["dy_px"] - dy) < 0.05


def test_every_planted_change_found_with_iou_and_area(result, synthetic_project):
    grid = _scene_grid(synthetic_project.shape)
    found = _rasterize(result.features, grid)
    for rect in synthetic_project.rects:
        truth = rect.mask(grid.shape)
        # the polygons overlapping this rectangle
        hits = [f for f in result.features if _rasterize([f], grid)[truth].any()]
        assert hits, f"planted change {rect} not found"
        mine = _rasterize(hits, grid)
        iou = (mine & truth).sum() / (mine | truth).sum()
        assert iou >= 0.8, f"{rect}: IoU {iou:.2f}"
        area = sum(f.area_m2 for f in hits)
        assert abs(area - truth.sum() * 100.0) <= 0.10 * truth.sum() * 100.0, f"{rect}: area {area} m2"
        assert all(f.change_type == "new_bright_surface" for f in hits)
    # nothing large elsewhere
    truth_all = np.any([r.mask(grid.shape) for r in synthetic_project.rects], axis=0)
    outside = found & ~ndilate(truth_all, 2)
    assert outside.sum() <= 20, f"{outside.sum()} changed pixels away from the planted changes"


def ndilate(mask, n):
    from scipy import ndimage as ndi

    return ndi.binary_dilation(mask, iterations=n)


def test_claims_linked_when_pair_brackets_window(result):
    assert result.features
    for f in result.features:
        # test-later's window (Sep 2020) is after the after scene (Aug 2020): not linked
        assert sorted(f.claim_ids) == ["test-construction", "test-denial"]
    verdicts = {c.claim_id: c.verdict for c in result.claims}
    assert verdicts == {
        "test-construction": "consistent with the claim",
        "test-denial": "inconsistent with the denial",
        "test-later": "not tested",
    }


def test_manifest_records_inputs_and_timings(result):
    m = result.manifest.to_dict()
    assert m["scenes"]["before"]["id"] == "S2A_TEST_20200301"
    assert m["scenes"]["after"]["id"] == "S2A_TEST_20200801"
    assert m["n_changes"] == len(result.features) == 3
    assert set(m["timings_s"]) >= {"read before scene", "co-register", "change statistic", "polygonise"}
    assert m["versions"]["rasterio"] and m["versions"]["gdal"]


def test_manifest_records_local_coregistration(result, synthetic_project):
    """A pure translation: tie points agree with the global shift, so the translation is what gets applied."""
    local = result.manifest.to_dict()["coregistration_local"]
    assert local["n_inliers"] >= 8
    assert local["mean_dx_px"] == pytest.approx(synthetic_project.shift[0], abs=0.05)
    assert local["mean_dy_px"] == pytest.approx(synthetic_project.shift[1], abs=0.05)
    assert result.manifest.to_dict()["coregistration_applied"] == "translation"


def test_manifest_names_the_sensor_and_the_grid_around_the_aoi(result, synthetic_project):
    aoi = load_aoi(synthetic_project.aoi_dir / "test-site.geojson")
    assert result.manifest.to_dict()["sensor"] == "s2"
    assert result.manifest.to_dict()["grid"] == Grid.from_aoi(aoi, 10.0, 300.0).to_dict()
    assert result.manifest.to_dict()["grid"] != Grid.from_aoi(aoi, 10.0, 0.0).to_dict()


def test_a_blocked_job_on_dask_gives_what_it_gives_in_this_process(synthetic_project, monkeypatch):
    """Blocks of 96 px make the synthetic grid several blocks: the statistic's global quantities come from
    sample windows and each block is computed with its halo, here or on a two-worker Dask cluster."""
    from geo.change import tiling
    from geo.jobs.dask_cluster import block_runner

    monkeypatch.setattr(tiling, "CORE_PX", 96)
    aoi = load_aoi(synthetic_project.aoi_dir / "test-site.geojson")
    source = LocalCatalog(synthetic_project.catalog)
    job = ChangeJob(aoi, (), source.get("S2A_TEST_20200301"), source.get("S2A_TEST_20200801"))
    assert len(tiling.layout(Grid.from_aoi(aoi, 10.0, 300.0).shape, 0, 96)) > 4
    serial = run_job(job, OpticalKit())
    with block_runner(workers=2) as runner:
        on_dask = run_job(job, OpticalKit(runner=runner))
    assert np.array_equal(on_dask.statistic, serial.statistic, equal_nan=True)
    assert [(f.geometry.wkt, f.properties()) for f in on_dask.features] == [
        (f.geometry.wkt, f.properties()) for f in serial.features]
    grid = _scene_grid(synthetic_project.shape)
    found = _rasterize(serial.features, grid)
    for rect in synthetic_project.rects:  # every planted roof is still found
        assert found[rect.mask(synthetic_project.shape)].mean() > 0.7
