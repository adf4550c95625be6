"""Reflectance scaled wrongly, read without a word: the sen2ships port exports (reflectance x 65535) catalogued as
``rio stac`` writes them, ``raster:bands`` ``scale 1.0`` (GDAL's default), are read with Sentinel-2's DN rule
(DN / 10000 - 0.1): 6.5 times too bright. ``geo vessels`` said "0 vessels" with the water barely seen and no hint.
Measured on the six ports' visible bands: read so, 0.07-5 % of a band's pixels are above 1.5 (brighter than
snow or cloud: at most ~1.2), 0.7-5 % in the brightest band of each; read right, none; the OSCD cities at most
0.006 % (saturated or specular pixels)."""

from __future__ import annotations

import json

import pytest

from tests.flows.conftest import drawn_aoi
from tests.flows.test_vessels_real_port import WHOLE_PORT, port_catalog
from tests.vessels import sen2ships

pytestmark = pytest.mark.skipif(not sen2ships.available(), reason="no sen2ships ports in ../shared/data")

WORDS = "brighter than snow or cloud"


def vessels(user):
    aoi = drawn_aoi(user.home / "algiers.geojson", [WHOLE_PORT])
    return user("vessels", "--aoi", str(aoi), "--source", "ports", "--from", "2023-08-01", "--to", "2023-08-31",
                "--out", "ships")


def test_a_port_read_6_5_times_too_bright_is_warned_of_naming_asset_values_and_scale(user):
    catalog = port_catalog(user.home / "ports")
    for item_file in catalog.parent.glob("*/*.json"):  # as rio stac writes each band: GDAL's default scaling
        item = json.loads(item_file.read_text())
        for asset in item["assets"].values():
            asset["raster:bands"] = [{"data_type": "uint16", "scale": 1.0, "offset": 0.0, "sampling": "area"}]
        item_file.write_text(json.dumps(item))
    result = vessels(user)
    assert result.returncode == 0, result.output
    warnings = [" ".join(w.split()) for w in result.stderr.split("warning: ") if WORDS in w]
    assert len(warnings) == 2, result.stderr  # one per scene, whichever job reads it
    first = warnings[0]
    assert first.startswith("scene algiers-20230817: "), first
    assert "asset 'B04' (red) above 1.5 on " in first and "% of its pixels" in first, first
    assert "99th percentile" in first, first
    assert "DN × 0.0001 − 0.1" in first and "raster:bands" in first and "1/65535" in first, first


def test_a_port_read_with_its_true_scale_is_not_warned_of(user):
    port_catalog(user.home / "ports")
    result = vessels(user)
    assert result.returncode == 0, result.output
    assert WORDS not in result.stderr, result.stderr
