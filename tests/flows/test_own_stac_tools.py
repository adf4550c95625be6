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


def float_reflectance(folder: Path, files: dict[str, str]) -> dict[str, str]:
    """The band files of one date as float32 reflectance 0..1 (their DN times 1e-4), nodata NaN."""
    out = {}
    for name, href in files.items():
        with rasterio.open(href) as src:
            data, profile = src.read(1), src.profile
        profile.update(dtype="float32", nodata=float("nan"), driver="GTiff")
        path = folder / f"{Path(href).parent.name}-{name}.tif"
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(np.where(data == 0, np.nan, data * 1e-4).astype(np.float32), 1)
        out[name] = str(path)
    return out


@pytest.mark.parametrize("raster_bands", [False, True], ids=["no-raster-bands", "float32-said"])
def test_float_reflectance_is_not_scaled_as_digital_numbers(user, raster_bands):
    """Reflectance 0..1 stored as float32, its item giving no scale: it was multiplied by 1e-4 (Sentinel-2's DN rule)."""
    def floats(item_id, files):
        extra = {"raster:bands": [{"data_type": "float32"}]} if raster_bands else {}
        return {BANDS[n]: pystac.Asset(f, roles=["data"], extra_fields=dict(extra))
                for n, f in float_reflectance(user.home, files).items()}

    own_catalog(user.home / "mine", [], floats)
    ours = user("run", "--aoi", "demo-nantes-port", "--source", "mine", *DATES, "--out", "ours")
    assert ours.returncode == 0, ours.output
    with rasterio.open(user.home / "ours" / "before_rgb.tif") as src:
        assert 0.02 < float(np.nanmedian(src.read(1))) < 0.5
    demo = user("run", "--aoi", "demo-nantes-port", "--source", "demo", *DATES, "--out", "demo")
    assert demo.returncode == 0, demo.output
    ours_areas = sorted(f["properties"]["area_m2"] for f in changes(user, "ours"))
    demo_areas = sorted(f["properties"]["area_m2"] for f in changes(user, "demo"))
    assert abs(sum(ours_areas) - sum(demo_areas)) < 0.05 * sum(demo_areas)


def test_a_saved_search_s_items_are_linked_where_their_archive_serves_them(user):
    """``stac-client search --save`` keeps each item's ``self`` link (its URL in the API): the run's item.json linked
    ``../https:/archive.example/...`` (the URL taken for a file path next to the run folder)."""
    from tests.flows.test_local_collections import demo_items

    items = demo_items()
    api = "https://archive.example/v1/collections/sentinel-2-l2a/items"
    for item in items:
        item.set_self_href(f"{api}/{item.id}")
    (user.home / "found.json").write_text(json.dumps(pystac.ItemCollection(items).to_dict()))
    result = user("run", "--aoi", "demo-nantes-port", "--source", "found.json", *DATES, "--out", "out")
    assert result.returncode == 0, result.output
    links = json.loads((user.home / "out" / "item.json").read_text())["links"]
    assert sorted(link["href"] for link in links if link["rel"] == "derived_from") == [f"{api}/{i}" for i in DEMO_IDS]


def test_a_folder_of_item_files_without_a_catalog_says_how_to_make_one(user):
    """``rio stac FILE -o items/x.json`` for each scene leaves a folder of items and no catalog: it was said to hold
    no catalog.json, as if empty."""
    from tests.flows.test_local_collections import demo_items

    (user.home / "items").mkdir()
    for item in demo_items():
        (user.home / "items" / f"{item.id}.json").write_text(json.dumps(item.to_dict(include_self_link=False)))
    result = user("scenes", "search", "--aoi", "demo-nantes-port", "--source", "items", "--from", "2015-01-01",
                  "--to", "2018-01-01")
    assert result.returncode == 1, result.output
    assert result.stderr.strip() == (
        f"Error: items: a folder of 2 STAC item files ({DEMO_IDS[0]}.json, {DEMO_IDS[1]}.json) and no catalog.json or "
        "collection.json: add a catalog.json linking each of them (rel \"item\"), or save them as one "
        "FeatureCollection (pystac's ItemCollection) and give that file")


def test_assets_keyed_by_file_name_are_found_by_their_eo_band_names(user):
    """Assets keyed by file name, each saying its band as ``eo:bands`` ``name`` (``B04``) without a common name:
    refused as ``no asset 'blue' (has ..._B02.tif, ...)``."""
    def by_file_name(item_id, files):
        return {Path(f).name.replace(".tif", f"-{item_id}.tif"): pystac.Asset(f, roles=["data"], extra_fields={
            "eo:bands": [{"name": BANDS[n]}], "raster:bands": [{"data_type": "uint16", "scale": 0.0001}]})
            for n, f in files.items()}

    own_catalog(user.home / "mine", [], by_file_name)
    ours = user("run", "--aoi", "demo-nantes-port", "--source", "mine", *DATES, "--out", "ours")
    assert ours.returncode == 0, ours.output
    demo = user("run", "--aoi", "demo-nantes-port", "--source", "demo", *DATES, "--out", "demo")
    assert [f["properties"]["area_m2"] for f in changes(user, "ours")] == [
        f["properties"]["area_m2"] for f in changes(user, "demo")]


def test_a_saved_search_that_found_nothing_is_an_empty_source(user, tmp_path):
    """``stac-client search --save`` of a search that found nothing writes ``{"type": "FeatureCollection", "features":
    []}``: it was 'not a readable STAC catalog (... does not represent a STACObject instance ...)'."""
    (user.home / "none.json").write_text('{"type": "FeatureCollection", "features": []}')
    found = user("scenes", "search", "--aoi", "demo-nantes-port", "--source", "none.json", "--from", "2015-01-01",
                 "--to", "2018-01-01")
    assert found.returncode == 0, found.output
    assert "holds no scene at all" in found.output and "seems not to image" not in found.output
    run = user("run", "--aoi", "demo-nantes-port", "--source", "none.json", *DATES, "--out", "out")
    assert run.returncode == 1 and "Traceback" not in run.output
    line, = run.stderr.strip().splitlines()
    assert "none.json" in line and "holds no scene at all" in line and "seems not to image" not in line, line
    assert not (user.home / "out").exists()
