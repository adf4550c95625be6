"""Small areas on Sentinel-1: the optical job found a 120 m compound inside a 1 km camp unchanged (its grid all
inside the change, tests/flows/test_small_area_wide_change.py). ``geo run --sensor s1`` does not need that
minimum grid: its test is ln(after/before) against 0 and its looks come from the log-ratio's spread about its
median, which a change filling the grid shifts but does not widen, so a 140 m area inside a 600 m or 1 km
patch 6 dB brighter or darker is found whole with the looks of unchanged ground. ``geo vessels`` on a 200 m
area around the synthetic port's quay (its 500 m margin: a 1.2 km grid) finds the berthed ship as the whole
port's run does (with no margin, the 200 m grid has no sea for the clutter fit and the run fails)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import box, shape

from geo.geometry import WGS84, reproject
from tests import synthetic
from tests.vessels import sea

N = 400  # the scenes: 4 km square of 10 m pixels
AOI_M = 140
LOOKS = 4.0


def land_series(root: Path, side_m: float, gain_db: float, days: tuple[int, ...], changed_on: int) -> Path:
    """Same-orbit June ``days`` of textured land (VV 0.05, VH 0.01, 4-look speckle on a texture all dates
    share); from June ``changed_on``, a ``side_m`` square at the centre is ``gain_db`` brighter (or darker)."""
    rng = np.random.default_rng(1)
    texture = rng.gamma(6.0, 1 / 6.0, size=(N, N))
    rows, cols = np.mgrid[:N, :N]
    patch = (np.abs(rows + 0.5 - N / 2) < side_m / 20) & (np.abs(cols + 0.5 - N / 2) < side_m / 20)
    items = []
    for day in days:
        when = synthetic.utc(2021, 6, day)
        bands = {}
        for name, mean in (("vv", 0.05), ("vh", 0.01)):
            image = mean * texture * rng.gamma(LOOKS, 1 / LOOKS, size=(N, N))
            if day >= changed_on:
                image[patch] *= 10 ** (gain_db / 10)
            bands[name] = image.astype(np.float32)
        scene_id = f"S1A_LAND_{when:%Y%m%d}"
        item = sea.write_s1_item(root / "scenes" / scene_id, scene_id, when, bands)
        item.properties.update({"sat:relative_orbit": 118, "sat:orbit_state": "ascending"})
        items.append(item)
    return synthetic.write_catalog(root / "scenes", items)


# a pair; a series of four dates, the change on the third (the omnibus test dates it)
@pytest.mark.parametrize("side, gain_db, days", [(600, 6.0, (1, 13)), (1000, -6.0, (1, 7, 13, 19))])
def test_a_small_area_inside_a_wide_backscatter_change_is_found_whole(user, tmp_path, side, gain_db, days):
    catalog = land_series(tmp_path / "archive", side, gain_db, days, 13)
    synthetic.write_aoi(user.home / "site.geojson", "site",
                        synthetic.grid_bounds_lonlat((N, N), int((N * 10 - AOI_M) / 20)))
    shell = user("run", "--sensor", "s1", "--aoi", "site.geojson", "--source", str(catalog), "--before",
                 "2021-06-01", "--after", f"2021-06-{days[-1]}", "--out", "out")
    assert shell.returncode == 0, shell.output
    out = user.home / "out"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["margin_used_m"] == [100.0, 100.0]  # the grid (~340 m) lies inside the change
    assert max(manifest["grid"]["shape"]) <= 36
    for pol, test in manifest["statistic"]["per_polarisation"].items():
        assert 0.85 * LOOKS < test["looks"] < 1.1 * LOOKS, (pol, test)  # measured 3.94, 3.57 (VV, VH); 4.28, 4.03
    features = json.loads((out / "changes.geojson").read_text())["features"]
    assert {f["properties"]["backscatter"] for f in features} == {"increase" if gain_db > 0 else "decrease"}
    area = sum(f["properties"]["area_m2"] for f in features)
    assert 17_000 < area < 20_500, area  # the whole 140 m square (19,600 m²); measured 19,300 in both
    if len(days) > 2:
        assert {f["properties"]["change_first_seen"] for f in features} == {"2021-06-13"}
        assert manifest["omnibus"]["run"] and manifest["omnibus"]["changed_fraction"] > 0.9, manifest["omnibus"]


def test_a_small_area_around_the_quay_keeps_the_berthed_ship(user, port_project):
    x, y = synthetic.ORIGIN[0] + 120 * 10, synthetic.ORIGIN[1] - 156.5 * 10  # the berthed ship (tests/vessels/port.py)
    aois, seeds = user.home / "aoi", user.home / "seeds"  # no claims: the port's name another AOI
    aois.mkdir(), seeds.mkdir()
    quay = reproject(box(x - 100, y - 100, x + 100, y + 100), synthetic.CRS_UTM.to_string(), WGS84).bounds
    synthetic.write_aoi(aois / "quay.geojson", "quay", quay)
    shell = user("vessels", "--aoi", "quay", "--from", "2021-03-25", "--to", "2021-06-30", "--sensor", "s1",
                 "--source", str(port_project.catalog), "--aoi-dir", "aoi", "--seeds-dir", "seeds",
                 "--out", "out")
    assert shell.returncode == 0 and "warning" not in shell.output, shell.output
    out = user.home / "out"
    berthed = {scene for scene, ships in port_project.ships.items()
               if scene.startswith("S1") and any(s.row == 156.5 and s.col == 120.0 for s in ships)}
    assert len(berthed) == 4
    rows = {row["scene"]: row for row in csv.DictReader((out / "timeseries.csv").open())}
    assert len(rows) == 12
    for scene, row in rows.items():
        assert (int(row["n_vessels"]), int(row["n_at_berth"])) == ((1, 1) if scene in berthed else (0, 0)), row
        for feature in json.loads((out / f"detections-{scene}.geojson").read_text())["features"]:
            hull = reproject(shape(feature["geometry"]), WGS84, synthetic.CRS_UTM.to_string()).centroid
            assert abs(hull.x - x) < 20 and abs(hull.y - y) < 20, (scene, hull)
            assert 110 < feature["properties"]["length_m"] < 130, feature["properties"]  # planted 120 m
    assert json.loads((out / "vessels-manifest.json").read_text())["grid"]["shape"] == [121, 122]
