"""``geo run --sensor s1``: the SAR change job end to end against the loopback archive posing as the
Planetary Computer (STAC API with ``sentinel-1-rtc`` items, COGs on "blob storage" that refuses unsigned
requests). The simulated series (tests/change/sar_scenes.py) has gamma speckle of known looks, textured
land and water, and planted changes of known area and date; one scene on another orbit geometry sits
nearer the claim window and must not be used."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import rasterio
from shapely.geometry import shape
from shapely.ops import unary_union

from geo.aoi import resolve_aoi
from geo.geometry import WGS84, reproject
from geo.outputs.cog import is_cog
from tests.archive_server import ArchiveServer
from tests.change import sar_scenes as sim
from tests.conftest import run_geo
from tests.scenes.conftest import FAST_NETWORK

UTM = sim.synthetic.CRS_UTM.to_string()
ALPHA = 1e-3  # the job's default significance per pixel (SarParams.alpha)


@pytest.fixture(scope="module")
def sar_project(tmp_path_factory):
    root = tmp_path_factory.mktemp("sar")
    aoi_dir, seeds_dir = sim.project(root / "project")
    return root, aoi_dir, seeds_dir


@pytest.fixture(scope="module")
def pc_sar_archive(tmp_path_factory):
    server = ArchiveServer(page_size=3).start()
    sim.serve(server, tmp_path_factory.mktemp("pc-sar"))
    yield server
    server.stop()


def _env(server, cache):
    return {**FAST_NETWORK, "GEO_SCENE_CACHE": str(cache), "PC_SDK_SAS_URL": f"{server.url}/api/sas/v1/token",
            "GDAL_HTTP_PROXY": server.url.removeprefix("http://")}


@pytest.fixture(scope="module")
def sar_run(sar_project, pc_sar_archive, tmp_path_factory):
    root, aoi_dir, seeds_dir = sar_project
    out = tmp_path_factory.mktemp("sar-run") / "out"
    result = run_geo("run", "--aoi", "sar-site", "--sensor", "s1", "--source", pc_sar_archive.url,
                     "--aoi-dir", str(aoi_dir), "--seeds-dir", str(seeds_dir), "--out", str(out),
                     env=_env(pc_sar_archive, root / "cache"))
    assert result.returncode == 0, result.stderr
    return out, result


def _features(out):
    collection = json.loads((out / "changes.geojson").read_text())
    return [(reproject(shape(f["geometry"]), WGS84, UTM), f["properties"]) for f in collection["features"]]


def test_planted_changes_found_typed_and_dated(sar_run):
    out, _ = sar_run
    features = _features(out)
    for plant in sim.PLANTS:
        truth = plant.box_utm()
        hits = [(g, p) for g, p in features if g.intersects(truth)]
        assert len(hits) == 1, (plant.name, [p["change_type"] for _, p in hits])
        geometry, props = hits[0]
        iou = geometry.intersection(truth).area / geometry.union(truth).area
        assert iou >= 0.7, (plant.name, iou)
        assert props["area_m2"] == pytest.approx(plant.area_m2, rel=0.2)
        assert props["change_type"] == plant.change_type
        # the omnibus test over the five same-orbit dates dates it: first seen on the plant's date
        assert props["change_first_seen"] == sim.DATES[plant.first_date].date().isoformat(), plant.name
        assert props["change_last_unchanged"] == sim.DATES[plant.first_date - 1].date().isoformat()
        assert props["algorithm_version"] == "sar-logratio/0.1" and props["sensor"] == "s1"
        assert props["before_scene"] == sim.scene_ids()[0] and props["after_scene"] == sim.scene_ids()[-1]
        gain_db = 10 * math.log10(plant.gains[1] / plant.gains[0])
        if plant.name != "ship":  # the ship's +19 dB saturates the speckle filter's window average
            assert props["db_change_vv"] == pytest.approx(gain_db, abs=1.5)
    assert len(features) == len(sim.PLANTS)


def _unchanged_ground(grid_shape, transform, aoi):
    """Pixels of the run's grid inside the AOI and more than 5 px from every plant (the filter's reach)."""
    from scipy import ndimage as ndi

    from rasterio import features as rio_features

    plants = unary_union([p.box_utm() for p in sim.PLANTS])
    near = rio_features.geometry_mask([plants], grid_shape, transform, invert=True)
    near = ndi.binary_dilation(near, iterations=5)
    inside = rio_features.geometry_mask([aoi.projected(UTM)], grid_shape, transform, invert=True)
    return inside & ~near


def test_geopackage_holds_the_omnibus_dates_as_dates(sar_run):
    """``change_first_seen`` / ``change_last_unchanged`` in ``changes.gpkg`` are DATE fields (they were TEXT:
    QGIS could neither filter them as dates nor put them on the time slider), with the GeoJSON's days."""
    import pyogrio

    out, _ = sar_run
    gpkg = out / "changes.gpkg"
    info = pyogrio.read_info(gpkg, layer="changes")
    types = dict(zip(info["fields"], info["ogr_types"]))
    assert types["change_first_seen"] == types["change_last_unchanged"] == "OFTDate"
    assert types["before_date"] == types["after_date"] == "OFTDateTime" and types["change_first_scene"] == "OFTString"
    frame = pyogrio.read_dataframe(gpkg, layer="changes").set_index("change_id")
    written = {p["change_id"]: p for _, p in _features(out)}
    dated = [cid for cid, p in written.items() if p.get("change_first_seen")]
    assert len(dated) >= len(sim.PLANTS)
    for cid, p in written.items():
        for column in ("change_first_seen", "change_last_unchanged"):
            value = frame.loc[cid, column]
            if cid in dated:
                assert value.date().isoformat() == p[column], (cid, column)
            else:  # a polygon the series does not date: no date, not text
                assert value is None or value != value, (cid, column)


def test_false_alarms_on_unchanged_ground_bounded_by_alpha(sar_run, sar_project):
    out, _ = sar_run
    _, aoi_dir, _ = sar_project
    aoi = resolve_aoi("sar-site", aoi_dir)
    with rasterio.open(out / "change_statistic.tif") as src:
        statistic, transform = src.read(1), src.transform
    unchanged = _unchanged_ground(statistic.shape, transform, aoi)
    n = int(unchanged.sum())
    assert n > 30_000
    # Per pixel, the combined test (Bonferroni over VV and VH) flags unchanged ground at a rate of at most
    # alpha, calibrated to a factor of two (tests/change/test_sar.py): -log10 p > -log10 alpha.
    rate = float((statistic[unchanged] > -math.log10(ALPHA)).mean())
    assert ALPHA / 4 < rate < 2 * ALPHA, rate
    # Polygonising only removes pixels (sieve, edge trim): false-alarm area <= 2 alpha N pixels.
    bound_m2 = 2 * ALPHA * n * 100.0
    planted = unary_union([p.box_utm().buffer(50) for p in sim.PLANTS])
    false_area = sum(g.difference(planted).area for g, _ in _features(out))
    assert false_area <= bound_m2, (false_area, bound_m2)


def test_claims_and_manifest(sar_run, pc_sar_archive):
    out, result = sar_run
    claims = {c["claim_id"]: c for c in json.loads((out / "claims.json").read_text())}
    assert claims["sar-build"]["verdict"] == "consistent with the claim"
    assert claims["sar-build"]["clear_fraction"] == 1.0  # radar sees through cloud
    assert claims["sar-build"]["n_matching"] == 1 and claims["sar-build"]["matching_area_m2"] > 0.8 * sim.PLANTS[0].area_m2
    assert claims["sar-denial"]["verdict"] == "inconsistent with the denial"
    manifest = json.loads((out / "manifest.json").read_text())
    selection = manifest["scenes"]["selection"]
    assert selection["geometry"] == {"relative_orbit": sim.ORBIT, "orbit_state": sim.STATE, "instrument_mode": "IW"}
    assert "relative orbit 45 descending IW" in selection["other_geometries_seen"]
    assert selection["polarisations"] == manifest["polarisations"] == ["vv", "vh"]
    assert "different orbits" in selection["geometry_note"]
    assert selection["series"] == sim.scene_ids()  # the other-orbit scene is in no test
    omnibus = manifest["omnibus"]
    assert omnibus["run"] and [s["id"] for s in omnibus["scenes"]] == sim.scene_ids()
    assert manifest["statistic"]["alpha"] == ALPHA
    for pol in ("vv", "vh"):  # the looks of the simulated speckle, estimated from the data
        assert manifest["statistic"]["per_polarisation"][pol]["looks"] == pytest.approx(sim.LOOKS, rel=0.1)
    # Every COG was read signed from "blob storage"; the other orbit's scene never.
    blob = [r for r in pc_sar_archive.records("/rtc/") if r.host.endswith(".blob.core.windows.net")]
    assert blob and all(r.status in (200, 206) for r in blob)
    assert {r.path.split("/")[2] for r in blob} == set(sim.scene_ids())
    assert "sar-build" in result.stdout and "consistent with the claim" in result.stdout
    # the optical run's other outputs, radar shown as VV in dB
    for name in ("changes.gpkg", "report.html", "aoi.geojson", "changes.qml"):
        assert (out / name).exists(), name
    with rasterio.open(out / "before_rgb.tif") as src:
        vv_db = src.read(1)
        assert src.tags()["units"] == "VV backscatter, dB"
    assert is_cog(out / "before_rgb.tif")
    assert np.nanmedian(vv_db[:, 20:120]) == pytest.approx(10 * math.log10(0.08), abs=1.5)  # land
    assert np.nanmedian(vv_db[:, 160:230]) == pytest.approx(10 * math.log10(0.005), abs=1.5)  # water


def _local(tmp_path, scenes):
    aoi_dir, seeds_dir = sim.project(tmp_path / "project")
    return sim.local_catalog(tmp_path / "catalog", scenes), aoi_dir, seeds_dir


def _run_local(catalog, aoi_dir, seeds_dir, out, *extra):
    return run_geo("run", "--aoi", "sar-site", "--sensor", "s1", "--source", str(catalog), "--aoi-dir", str(aoi_dir),
                   "--seeds-dir", str(seeds_dir), "--out", str(out), *extra)


def test_no_same_orbit_pair_is_an_error(tmp_path):
    scenes = sim.all_scenes()
    before = [s for s in scenes if s[0] == sim.scene_ids()[0]]
    after_other_orbit = [(f"S1B_OTHER_{sim.DATES[4]:%Y%m%d}", sim.DATES[4], scenes[4][2], 45, "descending")]
    catalog, aoi_dir, seeds_dir = _local(tmp_path, before + after_other_orbit)
    out = tmp_path / "out"
    result = _run_local(catalog, aoi_dir, seeds_dir, out)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "same relative orbit and orbit direction" in result.stderr
    assert "relative orbit 118 ascending" in result.stderr and "relative orbit 45 descending" in result.stderr
    assert not out.exists()
    # named by id, the same mismatch is refused the same way
    result = _run_local(catalog, aoi_dir, seeds_dir, out, "--before", before[0][0], "--after", after_other_orbit[0][0])
    assert result.returncode == 1 and "same relative orbit" in result.stderr and not out.exists()


def test_no_scene_after_the_window_is_an_error(tmp_path):
    scenes = [s for s in sim.all_scenes() if s[0] in sim.scene_ids()[:2]]
    catalog, aoi_dir, seeds_dir = _local(tmp_path, scenes)
    out = tmp_path / "out"
    result = _run_local(catalog, aoi_dir, seeds_dir, out)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "no Sentinel-1 scene" in result.stderr and "on or after" in result.stderr
    assert not out.exists()


def test_earth_search_has_no_sentinel1_for_run(tmp_path):
    aoi_dir, seeds_dir = sim.project(tmp_path / "project")
    out = tmp_path / "out"
    result = run_geo("run", "--aoi", "sar-site", "--sensor", "s1", "--source", "earth-search", "--aoi-dir",
                     str(aoi_dir), "--seeds-dir", str(seeds_dir), "--out", str(out))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "earth-search" in result.stderr and "planetary-computer" in result.stderr
    assert not out.exists()
