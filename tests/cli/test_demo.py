"""``geo demo`` end to end on the shipped real Sentinel-2 pair: RFC 7946 output, contract attributes,
claim links, and a GeoJSON that geopandas reads with the right CRS."""

from __future__ import annotations

import json

import geopandas
import pytest
import shapely
from shapely.geometry import shape

from geo.aoi import load_aoi
from tests.conftest import REPO

CONTRACT = {
    "change_id", "aoi_id", "claim_ids", "before_scene", "after_scene", "before_date", "after_date",
    "area_m2", "score", "confidence", "change_type", "algorithm_version",
}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    from tests.conftest import run_geo

    out = tmp_path_factory.mktemp("demo") / "out"
    result = run_geo("demo", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out, result


def _rings(geometry):
    polygons = [geometry] if geometry.geom_type == "Polygon" else list(geometry.geoms)
    for polygon in polygons:
        yield polygon.exterior, True
        for hole in polygon.interiors:
            yield hole, False


def test_summary_printed(demo_run):
    out, result = demo_run
    assert "change polygons" in result.stdout
    assert "demo-nantes-construction" in result.stdout
    assert str(out / "changes.geojson") in result.stdout


def test_geojson_is_rfc7946(demo_run):
    out, _ = demo_run
    data = json.loads((out / "changes.geojson").read_text())
    assert data["type"] == "FeatureCollection" and "crs" not in data
    assert len(data["features"]) > 0
    aoi = load_aoi(REPO / "aoi" / "demo-nantes-port.geojson")
    for feature in data["features"]:
        coords = feature["geometry"]["coordinates"]
        geometry = shape(feature["geometry"])
        assert geometry.geom_type in ("Polygon", "MultiPolygon")
        assert geometry.is_valid, shapely.is_valid_reason(geometry)
        for ring, exterior in _rings(geometry):
            assert ring.coords[0] == ring.coords[-1]
            assert ring.is_ccw == exterior  # right-hand rule: exteriors CCW, holes CW
        minx, miny, maxx, maxy = geometry.bounds
        assert -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
        # lon/lat order: Nantes is at lon -1.5, lat 47.2
        assert aoi.geometry.buffer(1e-6).contains(geometry)
        assert coords


def test_every_feature_has_contract_attributes_and_claim_links(demo_run):
    out, _ = demo_run
    data = json.loads((out / "changes.geojson").read_text())
    ids = set()
    for feature in data["features"]:
        props = feature["properties"]
        assert CONTRACT <= set(props)
        assert props["aoi_id"] == "demo-nantes-port"
        assert props["claim_ids"] == ["demo-nantes-construction"]
        assert props["before_date"] == "2015-08-21" and props["after_date"] == "2017-10-14"
        assert props["area_m2"] >= 8 * 100 * 0.5
        assert 0 <= props["confidence"] <= 1
        ids.add(props["change_id"])
    assert len(ids) == len(data["features"])


def test_claims_and_manifest(demo_run):
    out, _ = demo_run
    claims = json.loads((out / "claims.json").read_text())
    assert [c["claim_id"] for c in claims] == ["demo-nantes-construction"]
    assert claims[0]["pair_brackets_window"] is True
    assert claims[0]["verdict"] in ("consistent with the claim", "no evidence found")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenes"]["before"]["id"] == "S2A_30TXT_20150821_L1C_nantes"
    assert manifest["coregistration"]["quality"] > 0.5
    assert abs(manifest["coregistration"]["dx_px"]) < 2 and abs(manifest["coregistration"]["dy_px"]) < 2
    assert manifest["n_changes"] == len(json.loads((out / "changes.geojson").read_text())["features"])


def test_geopandas_reads_it_in_epsg4326(demo_run):
    out, _ = demo_run
    frame = geopandas.read_file(out / "changes.geojson")
    assert frame.crs.to_epsg() == 4326
    assert frame.geometry.is_valid.all()
    assert -1.58 < frame.total_bounds[0] < frame.total_bounds[2] < -1.51
