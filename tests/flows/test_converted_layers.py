"""A user takes the run's layers into other formats with GDAL's ``ogr2ogr``, as the README says: from
``changes.gpkg``, every change and claim arrives, ``claim_ids`` as text, numbers as numbers."""

from __future__ import annotations

import json
import shutil
import subprocess

import pyogrio
import pytest

pytestmark = pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="GDAL's ogr2ogr is not installed (gdal-bin)")


@pytest.mark.parametrize("driver, suffix", [("FlatGeobuf", "fgb"), ("ESRI Shapefile", "shp")])
def test_the_geopackage_converts_whole_with_ogr2ogr(user, driver, suffix):
    assert user("demo", "--out", "run").returncode == 0
    run = user.home / "run"
    features = json.loads((run / "changes.geojson").read_text())["features"]
    for layer, count in (("changes", len(features)), ("claims", 1), ("aois", 1)):
        out = user.home / f"{layer}.{suffix}"
        proc = subprocess.run(["ogr2ogr", "-f", driver, str(out), str(run / "changes.gpkg"), layer],
                              capture_output=True, text=True, cwd=user.home, timeout=120)
        assert proc.returncode == 0 and "ERROR" not in proc.stderr, proc.stderr
        assert len(pyogrio.read_dataframe(out)) == count
    changes = pyogrio.read_dataframe(user.home / f"changes.{suffix}")
    assert set(changes["claim_ids"]) == {json.dumps(f["properties"]["claim_ids"]) for f in features}  # JSON text
    assert changes["area_m2"].dtype == "float64"
    assert sorted(changes["area_m2"]) == sorted(f["properties"]["area_m2"] for f in features)
