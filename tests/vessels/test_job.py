"""The hook ``geo run`` / ``geo recheck`` call: vessel evidence for the claims of an AOI."""

from __future__ import annotations

from datetime import date

from geo.aoi import load_aoi
from geo.claim_files import load_claims
from geo.outputs.run_data import load_vessels
from geo.vessels.job import default_period, scene_sensor, vessel_job
from geo.vessels.run_files import vessel_data, write_vessel_outputs
from geo.scenes.source import LocalCatalog


def test_vessel_job_on_claims(port_project, tmp_path):
    aoi = load_aoi(port_project.aoi_dir / "test-port.geojson")
    claims = list(load_claims(port_project.seeds_dir).values())
    assert default_period(claims[:1]) == (date(2020, 12, 12), date(2021, 6, 28))
    run = vessel_job(aoi, claims, str(port_project.catalog), sensors=("s2",))
    assert run is not None
    assert [r["sensor"] for r in run.rows] == ["s2"] * 4
    by_claim = {e["claim_id"]: e for e in run.evidence}
    # four S2 dates: too short a baseline for the June claim; the gap claim has no scene
    assert by_claim["test-ships"]["verdict"] == "not tested" and "baseline" in by_claim["test-ships"]["rationale"]
    written = write_vessel_outputs(run, tmp_path / "vessels")
    assert (tmp_path / "vessels" / "timeseries.svg") in written
    # what the GeoPackage and report show of a run is made in memory, and is what its files say
    view, files = vessel_data(run), load_vessels(tmp_path / "vessels")
    assert files is not None and view.detections and len(view.detections) == len(files.detections)
    assert [p for _, p in view.detections] == [p for _, p in files.detections]
    assert all(g.equals_exact(h, 0) for (g, _), (h, _) in zip(view.detections, files.detections))
    assert (view.rows, view.evidence, view.manifest) == (files.rows, files.evidence, files.manifest)
    assert (view.large_length_m, view.min_observed_fraction) == (files.large_length_m, files.min_observed_fraction)
    assert view.plot.name == files.plot.name
    # an AOI whose claims predict no vessels: nothing to do
    other = [c for c in claims if "large_vessels_at_berth" not in c.signatures]
    assert vessel_job(aoi, other, str(port_project.catalog)) is None


def test_scene_sensor(port_project):
    sensors = {s.id: scene_sensor(s) for s in LocalCatalog(port_project.catalog).all()}
    assert {v for k, v in sensors.items() if k.startswith("S1")} == {"s1"}
    assert {v for k, v in sensors.items() if k.startswith("S2")} == {"s2"}


def test_single_clouded_scene_reports_unobserved_water(port_project):
    from geo.vessels.job import run_vessels

    aoi = load_aoi(port_project.aoi_dir / "test-port.geojson")
    catalog = LocalCatalog(port_project.catalog)
    clear = run_vessels(aoi, [catalog.get("S2A_TEST_20210501")])
    cloudy = run_vessels(aoi, [catalog.get("S2A_TEST_20210521")])
    assert clear.rows[0]["land_mask"].startswith("water-index-single-scene")
    assert clear.rows[0]["observed_fraction"] > 0.95
    # the 45 px cloud (6,360 px, + a 3 px buffer) over ~53,000 px of the AOI's water: the date says it
    # saw ~13 % less, not that there was less sea
    assert 0.82 < cloudy.rows[0]["observed_fraction"] < 0.9
    assert cloudy.results[0].sea_px >= 0.95 * clear.results[0].sea_px
