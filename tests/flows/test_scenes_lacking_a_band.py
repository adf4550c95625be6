"""``geo run`` on scenes without a band the change step reads: the sen2ships port exports (real Sentinel-2 L2A, five
bands B02 B03 B04 B08 B11, no B12) catalogued with pystac as an analyst does. The run stopped with ``scene
algiers-20230817: no asset 'swir22' (has B02, B03, ...)``; then with words saying what B12 is read for (the shadow
test of change typing) and still nothing found. B12 is read by no mask nor by the change statistic: the run now goes
on with the five bands and says once, in the terminal, manifest.json and the report, what that changes. A band the
masks need (B11: the snow mask, the water index) is still refused, naming it and what it is read for."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from shapely.geometry import box, shape
from shapely.ops import unary_union

from geo.geometry import WGS84, reproject

from tests.flows.conftest import drawn_aoi, registry_aoi
from tests.flows.test_vessels_real_port import WHOLE_PORT, port_catalog
from tests.vessels import sen2ships

pytestmark = pytest.mark.skipif(not sen2ships.available(), reason="no sen2ships ports in ../shared/data")

DATES = ("--before", "2023-08-17", "--after", "2023-08-22")
SHIP_CLAIM = """
[document]
title = "Port watch"
url = ""

[[claim]]
id = "algiers-embark"
claimant = "A ministry"
statement = "Transport ships gathered at the port of Algiers."
date_stated = 2023-08-25
stance = "assert"
aoi_ids = ["algiers-port"]
window = { start = 2023-08-18, end = 2023-08-22 }
signatures = ["large_vessels_at_berth"]
"""
# A new roof on land by the port of Algiers in the after date (rows, cols of the port's rasters: ~250 m x 250 m),
# brighter by these reflectances (a roof: the visible most)
ROOF = (slice(880, 905), slice(180, 205))
BRIGHTER = {"B02": 0.2, "B03": 0.2, "B04": 0.2, "B08": 0.1, "B11": 0.15}
NANTES_PORT = [[-1.57, 47.185], [-1.52, 47.185], [-1.52, 47.225], [-1.57, 47.225], [-1.57, 47.185]]  # demo-nantes-port
WARNING = "have no Sentinel-2 B12, SWIR 2.2 µm (asset 'swir22'), read without it: the change statistic (red band)"


def roof_catalog(folder: Path) -> tuple[Path, object]:
    """The Algiers port as two dates, the after one with a new roof (its band files rewritten with it); returns the
    catalog and the roof's footprint in lon/lat."""
    catalog = port_catalog(folder)
    after = folder / "algiers-20230822" / "algiers-20230822.json"
    item = json.loads(after.read_text())
    for code, asset in item["assets"].items():
        with rasterio.open(asset["href"]) as src:
            profile, data = src.profile, src.read(1)
            roof = reproject(box(*src.window_bounds(((ROOF[0].start, ROOF[0].stop), (ROOF[1].start, ROOF[1].stop)))),
                             src.crs, WGS84)
        data[ROOF] = np.clip(data[ROOF] + BRIGHTER[code] * 65535, 0, 65535).astype(np.uint16)
        path = after.parent / f"{code}.tif"
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(data, 1)
        asset["href"] = path.name
    after.write_text(json.dumps(item))
    return catalog, roof


def refused(user, *args: str) -> str:
    result = user("run", *args, "--source", "ports", *DATES, "--out", "run")
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output
    assert not (user.home / "run").exists()
    line, = result.stderr.strip().splitlines()
    return line


def test_scenes_without_b12_are_compared_on_five_bands_saying_once_what_that_changes(user):
    _, roof = roof_catalog(user.home / "ports")
    aoi = drawn_aoi(user.home / "algiers.geojson", [WHOLE_PORT])
    result = user("run", "--aoi", str(aoi), "--source", "ports", *DATES, "--out", "run")
    assert result.returncode == 0, result.output
    said = " ".join(result.output.split())
    assert said.count(WARNING) == 1, result.output
    assert "algiers-20230817 and algiers-20230822" in said and "B11" in said and "shadow" in said, said

    changes = json.loads((user.home / "run" / "changes.geojson").read_text())["features"]
    on_roof = [f for f in changes if shape(f["geometry"]).intersects(roof)]
    assert len(on_roof) == 1, [f["properties"]["change_type"] for f in changes]
    found = shape(on_roof[0]["geometry"])
    assert found.intersection(roof).area / found.union(roof).area > 0.7
    assert on_roof[0]["properties"]["change_type"] == "new_bright_surface"

    manifest = json.loads((user.home / "run" / "manifest.json").read_text())
    missing, = manifest["bands_missing"]
    assert missing["band"] == "swir22" and missing["sentinel2"] == "B12"
    assert missing["scenes"] == ["algiers-20230817", "algiers-20230822"]
    assert missing["what_changes"].startswith("the change statistic (red band) is the same; change typing tells a "
                                              "shadow"), missing
    assert list(manifest["normalisation"]) == ["blue", "green", "red", "nir", "swir16"]
    assert [w for w in manifest["warnings"] if WARNING in w] == [w for w in manifest["warnings"] if "B12" in w]
    assert sum(WARNING in w for w in manifest["warnings"]) == 1
    report = " ".join((user.home / "run" / "report.html").read_text().split())
    assert "have no Sentinel-2 B12, SWIR 2.2 µm (asset &#39;swir22&#39;), read without it" in report


def test_a_ship_claim_on_such_scenes_is_judged_with_the_warning(user):
    port_catalog(user.home / "ports")
    (user.home / "aoi").mkdir()
    registry_aoi(user.home / "aoi" / "algiers-port.geojson", "algiers-port", "Port of Algiers", WHOLE_PORT)
    (user.home / "seeds").mkdir()
    (user.home / "seeds" / "algiers.toml").write_text(SHIP_CLAIM)
    result = user("run", "--aoi", "algiers-port", "--aoi-dir", "aoi", "--seeds-dir", "seeds", "--source", "ports",
                  *DATES, "--out", "run")
    assert result.returncode == 0, result.output
    assert " ".join(result.output.split()).count(WARNING) == 1, result.output
    verdict, = json.loads((user.home / "run" / "claims.json").read_text())
    assert verdict["claim_id"] == "algiers-embark", verdict


def test_scenes_lacking_a_band_the_masks_read_are_refused(user):
    """Without B11 (swir16: the snow mask and the water index) the change step cannot run."""
    catalog = port_catalog(user.home / "ports")
    for item_file in catalog.parent.glob("*/*.json"):
        item = json.loads(item_file.read_text())
        item["assets"].pop("B11")
        item_file.write_text(json.dumps(item))
    line = refused(user, "--aoi", str(drawn_aoi(user.home / "algiers.geojson", [WHOLE_PORT])))
    assert line.startswith("Error: scene algiers-20230817: no asset 'swir16' (Sentinel-2 B11, SWIR 1.6 µm; has B02, "
                           "B03, B04, B08"), line
    assert "the change step reads it for the water index (MNDWI), the snow mask" in line, line
    assert "an asset keyed B11 gives it" in line and "geo vessels" not in line, line


def _matched(full: list[dict], degraded: list[dict]) -> list[tuple[dict, dict]]:
    """Each region of ``full`` and the region of ``degraded`` it overlaps most, where their IoU is 0.5 or more."""
    pairs = []
    for a in full:
        ga = shape(a["geometry"])
        b = max(degraded, key=lambda other: shape(other["geometry"]).intersection(ga).area)
        gb = shape(b["geometry"])
        if ga.intersection(gb).area / ga.union(gb).area >= 0.5:
            pairs.append((a, b))
    return pairs


def test_an_oscd_pair_without_b12_finds_the_same_changes_but_for_edges(user):
    """The demo scenes (the OSCD Nantes pair) as shipped and with ``swir22`` taken out of both items: the change
    statistic is the same; the after scene's normalisation (IR-MAD) and the trimming of mixed edges read all the
    bands, so the polygons differ at their edges (4 % of the change area here, measured); no region is typed
    otherwise (README, *Real archives*: 7 of 443 on the seven OSCD pairs)."""
    import shutil

    from geo.paths import demo_catalog

    shutil.copytree(demo_catalog().parent, user.home / "demo")
    shutil.copytree(demo_catalog().parent, user.home / "demo5")
    for item_file in (user.home / "demo5").glob("*/*.json"):
        item = json.loads(item_file.read_text())
        item["assets"].pop("swir22")
        item_file.write_text(json.dumps(item))
    aoi = drawn_aoi(user.home / "port.geojson", [NANTES_PORT])
    for source in ("demo", "demo5"):
        result = user("run", "--aoi", str(aoi), "--source", source, "--before", "2015-08-21",
                      "--after", "2017-10-14", "--out", f"run-{source}")
        assert result.returncode == 0, result.output
        assert ("no Sentinel-2 B12" in result.output) == (source == "demo5"), result.output

    with rasterio.open(user.home / "run-demo" / "change_statistic.tif") as a, \
            rasterio.open(user.home / "run-demo5" / "change_statistic.tif") as b:
        full, degraded = a.read(1), b.read(1)
    both = np.isfinite(full) & np.isfinite(degraded)
    assert np.array_equal(np.isfinite(full), np.isfinite(degraded))
    assert np.abs(full[both] - degraded[both]).max() < 1e-4
    runs = [json.loads((user.home / f"run-{source}" / "changes.geojson").read_text())["features"]
            for source in ("demo", "demo5")]
    unions = [unary_union([shape(f["geometry"]) for f in run]) for run in runs]
    assert unions[0].symmetric_difference(unions[1]).area / unions[0].union(unions[1]).area < 0.06
    matched = _matched(*runs)
    assert len(matched) >= 0.9 * len(runs[0]) and abs(len(runs[0]) - len(runs[1])) <= 2, (len(matched), len(runs[0]))
    retyped = [(a["properties"]["change_type"], b["properties"]["change_type"]) for a, b in matched
               if a["properties"]["change_type"] != b["properties"]["change_type"]]
    assert retyped == []
    normalised = [json.loads((user.home / f"run-{source}" / "manifest.json").read_text())["normalisation"]
                  for source in ("demo", "demo5")]
    assert list(normalised[0]) == [*normalised[1], "swir22"]
