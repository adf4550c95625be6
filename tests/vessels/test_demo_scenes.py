"""The optical detector on the shipped real Sentinel-2 pair over the river port of Nantes (L1C, no SCL):
a regression guard against the land mask letting the city in (dark roofs, shadow and haze raise urban
MNDWI above 0 on top-of-atmosphere data; every such patch then yields "ships")."""

from __future__ import annotations

import json

import numpy as np
from scipy import ndimage as ndi
from shapely.geometry import shape

from geo import paths
from geo.aoi import load_aoi
from geo.geometry import WGS84, reproject
from geo.scenes.source import LocalCatalog
from geo.scenes.sar_read import read_scene
from geo.change.classify import water_index


def test_demo_detections_lie_on_the_loire(geo_cli, tmp_path):
    out = tmp_path / "nantes"
    result = geo_cli("vessels", "--aoi", "demo-nantes-port", "--from", "2015-01-01", "--to", "2018-01-01",
                     "--source", str(paths.demo_catalog()), "--sensor", "s2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    aoi = load_aoi(paths.aoi_dir() / "demo-nantes-port.geojson")
    grid = aoi.utm_grid(10.0, 500.0)
    features = json.loads((out / "vessels.geojson").read_text())["features"]
    assert len(features) <= 8, f"{len(features)} detections in two scenes of a river port: land leaking in"
    for scene in LocalCatalog(paths.demo_catalog()).all():
        bands = read_scene(scene, grid).bands
        # unambiguous open water (MNDWI > 0.5; urban land stays below 0.2 even on hazy L1C), 3 px around
        water = ndi.binary_dilation(np.nan_to_num(water_index(bands["green"], bands["nir"], bands["swir16"])) > 0.5,
                                    iterations=3)
        assert water.mean() > 0.05  # the Loire is there
        for feature in (f for f in features if f["properties"]["scene"] == scene.id):
            point = reproject(shape(feature["geometry"]).centroid, WGS84, grid.crs.to_string())
            col, row = ~grid.transform @ (point.x, point.y)
            assert water[int(row), int(col)], f"{scene.id}: detection off the water at row {row:.0f} col {col:.0f}"
