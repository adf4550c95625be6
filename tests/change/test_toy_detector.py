"""A detector added in one module (``toy_detector.py``) and one registry line runs through the real change
job on the synthetic project: it finds the planted roofs, and its name and version are in every feature,
the manifest and the files of the run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rasterio import features as rio_features

from geo.aoi import load_aoi
from geo.change.detectors import DETECTORS
from geo.claim_files import load_claims
from geo.errors import ChangeError
from geo.geometry import WGS84, reproject
from geo.jobs.kit import ChangeJob
from geo.jobs.optical_kit import OpticalKit, Params
from geo.jobs.spine import run_job
from geo.outputs.writers import write_run
from geo.scenes.source import LocalCatalog
from tests.change.toy_detector import Brighter
from tests.jobs.test_optical_job import _scene_grid


@pytest.fixture
def toy_registered(monkeypatch):
    monkeypatch.setitem(DETECTORS, Brighter.name, Brighter)


def test_toy_detector_runs_through_the_job(toy_registered, synthetic_project, tmp_path):
    aoi = load_aoi(synthetic_project.aoi_dir / "test-site.geojson")
    claims = tuple(load_claims(synthetic_project.seeds_dir).values())
    source = LocalCatalog(synthetic_project.catalog)
    job = ChangeJob(aoi, claims, source.get("S2A_TEST_20200301"), source.get("S2A_TEST_20200801"))
    result = run_job(job, OpticalKit(Params(method="toy-brighter")))
    version = Brighter(Brighter.default_params()).algorithm_version
    assert version.startswith("toy-brighter/1.0+")

    # the three planted roofs (red 0.09 -> 0.30), one polygon each, and nothing else
    grid = _scene_grid(synthetic_project.shape)
    shapes = [reproject(geometry, WGS84, grid.crs.to_string()) for geometry in (f.geometry for f in result.features)]
    found = rio_features.geometry_mask(shapes, grid.shape, grid.transform, invert=True)
    assert len(result.features) == len(synthetic_project.rects) == 3
    for rect in synthetic_project.rects:
        truth = rect.mask(grid.shape)
        assert (found & truth).sum() >= 0.95 * truth.sum(), rect
    assert found.sum() <= 1.05 * np.any([r.mask(grid.shape) for r in synthetic_project.rects], axis=0).sum()

    assert {f.algorithm_version for f in result.features} == {version}
    assert result.manifest.to_dict()["algorithm_version"] == version
    statistic = result.manifest.to_dict()["statistic"]
    assert statistic["method"] == "toy-brighter" and statistic["label"] == "gain of the red band"
    assert statistic["parameters"] == {"band": "red", "step": 0.08}
    assert statistic["threshold_grow"] == pytest.approx(0.08) and statistic["threshold_strong"] == pytest.approx(0.16)

    write_run(result, tmp_path / "out")
    written = json.loads((tmp_path / "out" / "changes.geojson").read_text())["features"]
    assert len(written) == len(result.features) and {f["properties"]["algorithm_version"] for f in written} == {version}
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["algorithm_version"] == version and manifest["statistic"]["method"] == "toy-brighter"


def test_an_unregistered_method_is_a_clear_error(synthetic_project):
    aoi = load_aoi(synthetic_project.aoi_dir / "test-site.geojson")
    source = LocalCatalog(synthetic_project.catalog)
    job = ChangeJob(aoi, (), source.get("S2A_TEST_20200301"), source.get("S2A_TEST_20200801"))
    with pytest.raises(ChangeError, match="unknown change method 'toy-brighter'"):
        run_job(job, OpticalKit(Params(method="toy-brighter")))
