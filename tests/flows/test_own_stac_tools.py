"""An analyst's own scenes catalogued with the usual STAC tools: ``rio stac`` (rio-stac's CLI) on each band file,
its items merged per date with pystac. rio-stac writes assets with no roles (``"roles": []``), ``raster:bands``
with GDAL's default ``scale 1.0, offset 0.0`` and ``eo:bands`` named ``b1``, no ``platform``, a date without a
time. Such a catalog was refused as ``no asset 'blue' (has )``; with roles given, its DN were taken as reflectance
(scale 1.0: 0..10000), which ``geo vessels`` saw as all cloud (0 vessels, no warning). A GeoTIFF of several bands
under one asset was read as its first band, whatever band the asset named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pystac
import pytest
import rasterio

from tests.flows.conftest import DEMO_CATALOG

DEMO_IDS = ["S2A_30TXT_20150821_L1C_nantes", "S2_30TXT_20171014_L1C_nantes"]
BANDS = {"blue": "B02", "green": "B03", "red": "B04", "nir": "B08", "swir16": "B11", "swir22": "B12"}
DATES = ("--before", "2015-08-21", "--after", "2017-10-14")


def rio_stac_asset(href: str, roles: list[str]) -> pystac.Asset:
    """An asset as ``rio stac FILE -n B04`` writes it (statistics left out)."""
    return pystac.Asset(href, media_type="image/tiff; application=geotiff", roles=roles, extra_fields={
        "raster:bands": [{"data_type": "uint16", "scale": 1.0, "offset": 0.0, "sampling": "area"}],
        "eo:bands": [{"name": "b1", "description": "gray"}]})


def own_catalog(folder: Path, roles: list[str], assets=None) -> Path:
    """The demo scenes catalogued as a user does with rio-stac and pystac: one item per date, the band files where
    they are (absolute hrefs), each keyed by its Sentinel-2 band name; ``assets(item_id, files)`` may key them
    otherwise."""
    catalog = pystac.Catalog("mine", "my scenes")
    for demo in pystac.Catalog.from_file(str(DEMO_CATALOG)).get_items(recursive=True):
        files = {name: demo.assets[name].get_absolute_href() for name in BANDS}
        item = pystac.Item(demo.id, demo.geometry, demo.bbox, demo.datetime.replace(hour=0, tzinfo=None),
                           {"proj:epsg": 4326})
        chosen = assets(demo.id, files) if assets else {BANDS[n]: rio_stac_asset(f, roles) for n, f in files.items()}
        for key, asset in chosen.items():
            item.add_asset(key, asset)
        catalog.add_item(item)
    catalog.normalize_and_save(str(folder), pystac.CatalogType.SELF_CONTAINED)
    return folder / "catalog.json"


def changes(user, out: str) -> list[dict]:
    return json.loads((user.home / out / "changes.geojson").read_text())["features"]


@pytest.mark.parametrize("roles", [[], ["data"]], ids=["rio-stac-cli", "roles-given"])
def test_a_catalog_rio_stac_wrote_runs_as_the_demo_does(user, roles):
    own_catalog(user.home / "mine", roles)
    ours = user("run", "--aoi", "demo-nantes-port", "--source", "mine", *DATES, "--out", "ours")
    assert ours.returncode == 0, ours.output
    demo = user("run", "--aoi", "demo-nantes-port", "--source", "demo", *DATES, "--out", "demo")
    assert demo.returncode == 0, demo.output
    assert [f["properties"]["area_m2"] for f in changes(user, "ours")] == [
        f["properties"]["area_m2"] for f in changes(user, "demo")]
    for out in ("ours", "demo"):  # reflectance, not DN taken at scale 1.0
        with rasterio.open(user.home / out / "before_rgb.tif") as src:
            assert 0.02 < float(np.nanmedian(src.read(1))) < 0.5


def stacked(folder: Path, files: dict[str, str]) -> Path:
    """The band files of one date stacked into one GeoTIFF, in ``BANDS`` order."""
    with rasterio.open(files["blue"]) as src:
        profile, shape = src.profile, src.shape
    arrays = []
    for name in BANDS:
        with rasterio.open(files[name]) as src:
            arrays.append(src.read(1, out_shape=shape))
    path = folder / f"stack-{Path(files['blue']).parent.name}.tif"
    profile.update(count=len(arrays), driver="GTiff")
    profile.pop("blockxsize", None), profile.pop("blockysize", None), profile.pop("tiled", None)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.stack(arrays))
    return path


def test_a_multiband_asset_is_refused_not_read_as_its_first_band(user):
    """One asset of six bands, each named by ``eo:bands`` (as rio stac writes a stacked file, common names added)."""
    def one_asset(item_id, files):
        path = stacked(user.home, files)
        return {"image": pystac.Asset(str(path), roles=["data"], extra_fields={
            "eo:bands": [{"name": BANDS[n], "common_name": n} for n in BANDS],
            "raster:bands": [{"data_type": "uint16", "scale": 0.0001} for _ in BANDS]})}

    own_catalog(user.home / "mine", [], one_asset)
    result = user("run", "--aoi", "demo-nantes-port", "--source", "mine", *DATES, "--out", "ours")
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output
    line, = result.stderr.strip().splitlines()
    assert "asset 'image'" in line and "6 bands" in line and "one band per asset" in line, line
    assert not (user.home / "ours").exists()


def test_a_multiband_file_under_a_band_asset_is_refused(user):
    """An asset keyed ``B04`` whose file holds six bands: its first band is blue."""
    def band_keys(item_id, files):
        path = stacked(user.home, files)
        return {BANDS[n]: pystac.Asset(str(path), roles=["data"]) for n in BANDS}

    own_catalog(user.home / "mine", [], band_keys)
    result = user("run", "--aoi", "demo-nantes-port", "--source", "mine", *DATES, "--out", "ours")
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output
    line, = result.stderr.strip().splitlines()
    assert "stack-" in line and "6 bands" in line, line
    assert not (user.home / "ours").exists()
