"""Each bad input: exit 1, one message naming the input and what is wrong, no traceback, no output."""

from __future__ import annotations

import json
import shutil

import pytest
import rasterio

from tests import synthetic
from tests.conftest import CLAIMS_TOML


@pytest.fixture
def project(tmp_path, synthetic_project):
    """A private copy of the synthetic project, safe to break."""
    root = tmp_path / "p"
    shutil.copytree(synthetic_project.root, root)
    items = json.loads((root / "scenes" / "catalog.json").read_text())
    # the catalog was saved with absolute hrefs: rewrite them to this copy
    for path in (root / "scenes").rglob("*.json"):
        path.write_text(path.read_text().replace(str(synthetic_project.root), str(root)))
    assert items
    return root


CLAIMS = ("--claim", "test-construction", "--claim", "test-denial")


def run(geo_cli, project, *extra, aoi="test-site"):
    out = project / "out"
    result = geo_cli(
        "run", "--aoi", aoi, "--source", str(project / "scenes" / "catalog.json"), "--out", str(out),
        "--aoi-dir", str(project / "aoi"), "--seeds-dir", str(project / "seeds"), *(extra or CLAIMS),
    )
    return result, out


def assert_user_error(result, out, *needles):
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr
    assert not out.exists(), "partial output left behind"
    assert not list(out.parent.glob(".out.*")), "staging folder left behind"


def test_good_run_works(geo_cli, project):
    result, out = run(geo_cli, project)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        ".geo-complete.json", "after_rgb.qml", "after_rgb.tif", "aoi.geojson", "before_rgb.qml", "before_rgb.tif",
        "change_statistic.qml", "change_statistic.tif", "changes.geojson", "changes.gpkg", "changes.kml",
        "changes.qlr", "changes.qml", "claims.json", "item.json", "manifest.json", "not_compared.geojson",
        "not_compared.qlr", "not_compared.qml", "project.qgz", "report.html",
    ]


def test_corrupt_geotiff(geo_cli, project):
    path = project / "scenes" / "after" / "red.tif"
    path.write_bytes(path.read_bytes()[:2000])  # a truncated download
    result, out = run(geo_cli, project)
    assert_user_error(result, out, "red.tif")


def test_raster_without_crs(geo_cli, project):
    path = project / "scenes" / "before" / "nir.tif"
    with rasterio.open(path) as src:
        data, profile = src.read(), src.profile
    profile.pop("crs")
    path.unlink()
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    result, out = run(geo_cli, project)
    assert_user_error(result, out, "nir.tif", "no CRS")


def test_aoi_not_overlapping_scenes(geo_cli, project, tmp_path):
    far = synthetic.write_aoi(tmp_path / "far.geojson", "far-site", (20.0, 60.0, 20.05, 60.03))
    result, out = run(geo_cli, project, "--before", "2020-03-01", "--after", "2020-08-01", aoi=str(far))
    assert_user_error(result, out, "no scene over AOI 'far-site'")


def test_aoi_drawn_elsewhere_under_the_id_of_a_registry_aoi(geo_cli, project, tmp_path):
    """Its claims (naming test-site) would be judged on this other area."""
    far = synthetic.write_aoi(tmp_path / "far.geojson", "test-site", (20.0, 60.0, 20.05, 60.03))
    result, out = run(geo_cli, project, aoi=str(far))
    assert_user_error(result, out, f"{far}: its id 'test-site' is that of the AOI {project / 'aoi'}", "km away")


def test_claim_naming_unknown_aoi(geo_cli, project):
    seeds = project / "seeds" / "test.toml"
    seeds.write_text(seeds.read_text().replace('id = "test-later"', 'id = "test-later"\n# x', 1)
                     .replace('aoi_ids = ["test-site"]\nwindow = { start = 2020-09-01', 'aoi_ids = ["mordor"]\nwindow = { start = 2020-09-01'))
    result, out = run(geo_cli, project, "--claim", "test-later")  # a job not using it warns: tests/flows/test_own_claims.py
    assert_user_error(result, out, "test.toml", "'test-later'", "unknown AOI 'mordor'")


def test_malformed_geojson_aoi(geo_cli, project):
    (project / "aoi" / "test-site.geojson").write_text('{"type": "Feature", "geometry": {"type": "Polygon", ')
    result, out = run(geo_cli, project)
    assert_user_error(result, out, "test-site.geojson", "malformed GeoJSON")


def test_claim_window_end_before_start(geo_cli, project):
    (project / "seeds" / "test.toml").write_text(CLAIMS_TOML.format(start="2020-06-30", end="2020-04-01"))
    result, out = run(geo_cli, project)
    assert_user_error(result, out, "test.toml", "window end 2020-04-01 is before its start 2020-06-30")


def test_cli_window_end_before_start(geo_cli, project):
    result, out = run(geo_cli, project, *CLAIMS, "--before", "2020-08-01", "--after", "2020-03-01")
    assert_user_error(result, out, "--after 2020-03-01 is before --before 2020-08-01")


def test_unknown_claim_and_bad_date(geo_cli, project):
    result, out = run(geo_cli, project, "--claim", "nope")
    assert_user_error(result, out, "unknown claim id(s) nope")
    result, out = run(geo_cli, project, *CLAIMS, "--before", "2020-02-30")
    assert_user_error(result, out, "2020-02-30")


def test_output_path_is_a_file(geo_cli, project):
    (project / "out").write_text("not a folder")
    result, _ = run(geo_cli, project)
    assert result.returncode == 1 and "not a folder" in result.stderr


def test_unreachable_scheduler(geo_cli, project):
    """A wrong --scheduler address fails before any work, even for an AOI of one block."""
    result, out = run(geo_cli, project, *CLAIMS, "--scheduler", "tcp://127.0.0.1:9")
    assert_user_error(result, out, "--scheduler tcp://127.0.0.1:9: cannot connect to the Dask scheduler")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("workers", ["0", "two", "-1"])
def test_workers_neither_auto_nor_a_count(geo_cli, project, workers):
    result, out = run(geo_cli, project, *CLAIMS, "--workers", workers)
    assert_user_error(result, out, "--workers", f"'{workers}' is neither 'auto' nor a whole number of at least 1")
