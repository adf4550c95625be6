"""``geo vessels`` end to end on a synthetic local STAC catalog with S1- and S2-like scenes."""

from __future__ import annotations

import csv
import json

import pytest
from shapely.geometry import shape

from geo.geometry import WGS84, reproject
from tests.vessels import sea
from tests.vessels.port import BASELINE_DATES, CLOUDY_S2, S2_DATES, SHAPE, WINDOW_DATES


def _inside_aoi(ship: sea.Ship) -> bool:
    return 10 <= ship.row < SHAPE[0] - 10 and 10 <= ship.col < SHAPE[1] - 10


def test_outputs_and_schema(s1_run):
    out, _ = s1_run
    names = {p.name for p in out.iterdir()}
    assert {"vessels.geojson", "timeseries.csv", "timeseries.json", "timeseries.svg", "timeseries.png",
            "evidence.json", "vessels-manifest.json"} <= names
    per_scene = sorted(out.glob("detections-*.geojson"))
    assert len(per_scene) == len(BASELINE_DATES) + len(WINDOW_DATES)
    collection = json.loads(per_scene[0].read_text())
    assert collection["type"] == "FeatureCollection" and "crs" not in collection
    for feature in collection["features"]:
        props = feature["properties"]
        assert {"detection_id", "aoi_id", "scene", "datetime", "sensor", "length_m", "score"} <= set(props)
        assert props["sensor"] == "s1" and props["aoi_id"] == "test-port"
        lon, lat = feature["geometry"]["coordinates"][0][0]
        assert 2.9 < lon < 3.1 and 45.0 < lat < 45.2  # lon/lat order (synthetic scenes sit at 3 E, 45.1 N)
    assert (out / "timeseries.svg").read_text().lstrip().startswith("<?xml")
    assert (out / "timeseries.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # handed on alone, each detections file credits the data as changes.geojson does (GDAL: the layer's DESCRIPTION)
    years = sorted({d.year for d in (*BASELINE_DATES, *WINDOW_DATES)})
    credit = f"Contains modified Copernicus Sentinel data {years[0]}" + (f"–{years[-1]}" if years[-1] != years[0] else "")
    assert json.loads((out / "vessels.geojson").read_text())["description"] == credit
    assert collection["description"].startswith("Contains modified Copernicus Sentinel data 20")
    import pyogrio

    assert pyogrio.read_info(out / "vessels.geojson")["layer_metadata"]["DESCRIPTION"] == credit


def test_the_run_folder_is_a_stac_item(s1_run, port_project):
    """``item.json`` lists every file of the folder, spans the scenes' dates and links each scene's item."""
    import pystac

    out, _ = s1_run
    item = pystac.Item.from_file(str(out / "item.json"))
    files = {p.name for p in out.iterdir() if p.is_file() and p.name != "item.json" and not p.name.startswith(".")}
    assert {a.href for a in item.assets.values()} == files
    assert item.assets["vessels-geojson"].media_type == "application/geo+json"
    dates = sorted([*BASELINE_DATES, *WINDOW_DATES])
    assert item.properties["start_datetime"][:10] == f"{dates[0]:%Y-%m-%d}"
    assert item.properties["end_datetime"][:10] == f"{dates[-1]:%Y-%m-%d}"
    assert item.properties["geo:n_scenes"] == len(dates) and item.properties["geo:aoi_id"] == "test-port"
    rows = list(csv.DictReader((out / "timeseries.csv").open()))
    assert item.properties["geo:n_detections"] == sum(int(r["n_vessels"]) for r in rows)
    sources = [link for link in item.links if link.rel == "derived_from"]
    assert len(sources) == len(dates)
    assert all((out / link.href).resolve().is_file() for link in sources)  # the catalog's item files
    lon, lat = shape(item.geometry).centroid.coords[0]
    assert 2.9 < lon < 3.1 and 45.0 < lat < 45.2


def test_counts_match_planted_ships(s1_run, port_project):
    """Each date's count equals the ships planted inside the AOI (within one), piers never count."""
    out, _ = s1_run
    rows = list(csv.DictReader((out / "timeseries.csv").open()))
    assert [r["sensor"] for r in rows] == ["s1"] * 12
    features = json.loads((out / "vessels.geojson").read_text())["features"]
    grid = sea.scene_grid(SHAPE)
    structure = port_project.structures | port_project.land
    for row in rows:
        planted = [s for s in port_project.ships[row["scene"]] if _inside_aoi(s)]
        assert abs(int(row["n_vessels"]) - len(planted)) <= 1, (row, len(planted))
        assert float(row["observed_fraction"]) > 0.95
    berthed = set()
    for feature in features:
        x, y = reproject(shape(feature["geometry"]).centroid, WGS84, grid.crs.to_string()).coords[0]
        col, row = ~grid.transform @ (x, y)
        assert not structure[int(row), int(col)], f"detection on land/pier at row {row:.0f} col {col:.0f}"
        if 150 < row < 163 and 100 <= col <= 140:
            berthed.add(feature["properties"]["scene"])
            assert abs(feature["properties"]["length_m"] - 120) < 30
    # the ship berthed alongside the pier (on 4 of the 12 dates) is found next to it on those dates
    assert berthed == {s for s, ships in port_project.ships.items() if s.startswith("S1") and any(
        sh.length_m == 120.0 and sh.col == 120.0 for sh in ships)}


def test_land_mask_is_the_time_series_median(s1_run):
    out, _ = s1_run
    manifest = json.loads((out / "vessels-manifest.json").read_text())
    assert manifest["land_mask"]["s1"].startswith("sar-temporal-median/")


def test_evidence_rise_in_window_is_significant(s1_run, port_project):
    out, result = s1_run
    evidence = {e["claim_id"]: e for e in json.loads((out / "evidence.json").read_text())}
    ships = evidence["test-ships"]
    assert ships["verdict"] == "consistent with the claim", ships
    assert ships["p_value"] < 0.01
    assert "negative-binomial" in ships["rationale"] and "p = " in ships["rationale"]
    # the ships >= 100 m planted in the window's scenes (within one per date, as the lengths are measured)
    planted = [sum(s.length_m >= 100 and _inside_aoi(s) for s in port_project.ships[f"S1A_TEST_{d:%Y%m%d}"])
               for d in WINDOW_DATES]
    test = ships["tests"]["s1"]
    assert test["count"] == "n_100m" and all(abs(a - b) <= 1 for a, b in zip(test["window"], planted))
    low, high = test["predicted_window_sum_interval"]
    assert high < test["observed_window_sum"] and test["window_observed_fraction"] > 0.95
    # 7 May is an ordinary date: tested, no rise. 9-11 May holds no scene: not tested, and said so.
    assert evidence["test-quiet"]["verdict"] == "no evidence found"
    assert evidence["test-quiet"]["p_value"] > 0.2
    assert evidence["test-gap"]["verdict"] == "not tested"
    assert "no scene inside the window" in evidence["test-gap"]["rationale"]
    assert evidence["test-denial"]["verdict"] == "inconsistent with the denial"
    assert "test-ships: consistent with the claim" in result.stdout.replace("[bold]", "")


@pytest.mark.parametrize("flags", [(), ("--berthed",)])
def test_s2_series_with_cloud(port_project, tmp_path, geo_cli, flags):
    """With >= 3 scenes the time-series land model decides, ``--berthed`` or not (its single-scene land model
    and hull model do not apply)."""
    out = tmp_path / "s2"
    result = geo_cli("vessels", "--aoi", "test-port", "--from", "2021-04-25", "--to", "2021-06-30", "--sensor", "s2",
                     "--source", str(port_project.catalog), "--aoi-dir", str(port_project.aoi_dir),
                     "--seeds-dir", str(port_project.seeds_dir), "--out", str(out), *flags)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader((out / "timeseries.csv").open()))
    assert len(rows) == len(S2_DATES)
    for index, row in enumerate(rows):
        planted = [s for s in port_project.ships[row["scene"]] if _inside_aoi(s)]
        if index == CLOUDY_S2:
            # the cloud hides part of the water: fewer seen, none invented, and the date says so
            assert float(row["observed_fraction"]) < 0.9
            assert int(row["n_vessels"]) <= len(planted)
        else:
            assert abs(int(row["n_vessels"]) - len(planted)) <= 1, (row, len(planted))
    manifest = json.loads((out / "vessels-manifest.json").read_text())
    assert manifest["land_mask"]["s2"].startswith("water-index-temporal-median/")
    assert not any("not_hull" in scene["clusters_rejected"] for scene in manifest["per_scene"].values())


def test_bad_inputs(port_project, tmp_path, geo_cli):
    common = ("--source", str(port_project.catalog), "--aoi-dir", str(port_project.aoi_dir),
              "--seeds-dir", str(port_project.seeds_dir))
    out = tmp_path / "bad"
    result = geo_cli("vessels", "--aoi", "test-port", "--from", "2021-06-30", "--to", "2021-04-01", *common, "--out", str(out))
    assert result.returncode == 1 and "--to 2021-04-01 is before --from 2021-06-30" in result.stderr
    result = geo_cli("vessels", "--aoi", "test-port", "--from", "2019-01-01", "--to", "2019-02-01", *common, "--out", str(out))
    assert result.returncode == 1 and "no s1/s2 scene over AOI 'test-port'" in result.stderr
    result = geo_cli("vessels", "--aoi", "test-port", "--from", "2021-13-01", "--to", "2021-06-01", *common, "--out", str(out))
    assert result.returncode == 1 and "2021-13-01" in result.stderr
    land = tmp_path / "land.geojson"
    land.write_text('{"type": "FeatureCollection", "features": [')
    result = geo_cli("vessels", "--aoi", "test-port", "--from", "2021-04-01", "--to", "2021-06-30", *common,
                     "--land", str(land), "--out", str(out))
    assert result.returncode == 1 and "land.geojson" in result.stderr
    for r in (result,):
        assert "Traceback" not in r.stderr
    assert not out.exists()


def test_an_area_over_land_says_how_little_water_it_holds(port_project, tmp_path, geo_cli):
    """An area drawn over the port's land (the left third) holds a few stray pixels of water at most: its dates
    said "saw 100% of the water", as if the sea had been watched. Each date now gives the water seen in km²,
    and the run warns that counts over so little water say little."""
    from shapely.geometry import box, mapping

    from tests.synthetic import CRS_UTM, ORIGIN

    west, north = ORIGIN[0] + 10 * 10, ORIGIN[1] - 10 * 10
    quay = reproject(box(west, north - 280 * 10, west + 70 * 10, north), CRS_UTM.to_string(), WGS84)
    aoi_dir = tmp_path / "aoi"
    aoi_dir.mkdir()
    (aoi_dir / "yard.geojson").write_text(json.dumps({
        "type": "Feature", "properties": {"id": "yard", "name": "Yard", "kind": "other"},
        "geometry": mapping(quay)}))
    out = tmp_path / "yard"
    result = geo_cli("vessels", "--aoi", "yard", "--from", "2021-04-25", "--to", "2021-06-30", "--sensor", "s2",
                     "--source", str(port_project.catalog), "--aoi-dir", str(aoi_dir),
                     "--seeds-dir", str(port_project.seeds_dir), "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader((out / "timeseries.csv").open()))
    assert len(rows) == len(S2_DATES)
    dates = [line for line in result.stdout.splitlines() if "of the water (" in line]
    assert len(dates) == len(rows)
    for line, row in zip(dates, rows):
        assert line.endswith(f"of the water ({float(row['observed_km2']):.2f} km2)"), line
        assert float(row["observed_km2"]) < 0.005
    assert "yard: the land mask leaves 0 m2 of water in the area" in result.stderr
    # the port's own area has its sea: no such warning
    port = geo_cli("vessels", "--aoi", "test-port", "--from", "2021-04-25", "--to", "2021-06-30", "--sensor", "s2",
                   "--source", str(port_project.catalog), "--aoi-dir", str(port_project.aoi_dir),
                   "--seeds-dir", str(port_project.seeds_dir), "--out", str(tmp_path / "port"))
    assert port.returncode == 0, port.stderr
    assert "m2 of water in the area" not in port.stderr
    assert any(float(r["observed_km2"]) > 2 for r in csv.DictReader((tmp_path / "port" / "timeseries.csv").open()))
