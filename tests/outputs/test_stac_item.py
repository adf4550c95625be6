"""Each run folder's ``item.json``: valid STAC (pystac's JSON-schema validation, offline: core schemas and
the processing extension), read back with pystac, and true to the run: the AOI's geometry, the pair's
acquisition times, an asset per file with its media type, ``derived_from`` links that resolve to the
source scenes' items."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import pystac
import pytest
import rasterio
import shapely
from pystac.errors import STACValidationError
from pystac.extensions.projection import ProjectionExtension
from shapely.geometry import shape

from geo.outputs.stac_item import COG, PROCESSING_EXTENSION, PROJECTION_EXTENSION
from tests.conftest import run_geo
from tests.stac_offline import offline_validation

REPO = Path(__file__).resolve().parents[2]
CORE_ITEM = "https://schemas.stacspec.org/v1.1.0/item-spec/json-schema/item.json"


def _item(folder: Path) -> pystac.Item:
    return pystac.Item.from_file(str(folder / "item.json"))


@pytest.mark.parametrize("run", ["demo_output", "synthetic_output"])
def test_item_validates_offline_against_core_and_processing_schemas(run, request):
    folder = request.getfixturevalue(run)
    with offline_validation() as validator:
        validated = _item(folder).validate()
    assert CORE_ITEM in validated and PROCESSING_EXTENSION in validated and PROJECTION_EXTENSION in validated
    assert validator.fetched == []


def test_item_describes_the_demo_run(demo_output):
    item = _item(demo_output)
    manifest = json.loads((demo_output / "manifest.json").read_text())
    aoi = json.loads((demo_output / "aoi.geojson").read_text())["features"][0]["geometry"]
    assert shapely.equals(shape(item.geometry), shape(aoi))
    assert item.bbox == pytest.approx(list(shape(aoi).bounds))
    assert item.datetime is None
    assert item.common_metadata.start_datetime == datetime.fromisoformat(manifest["scenes"]["before"]["datetime"])
    assert item.common_metadata.end_datetime == datetime.fromisoformat(manifest["scenes"]["after"]["datetime"])
    assert item.properties["geo:aoi_id"] == "demo-nantes-port"
    changes = json.loads((demo_output / "changes.geojson").read_text())["features"]
    assert item.properties["geo:n_changes"] == len(changes) == manifest["n_changes"]
    assert item.properties["geo:claim_ids"] == ["demo-nantes-construction"]
    # the processing extension names the detector's version as the run recorded it
    name, version = manifest["algorithm_version"].split("/")
    assert item.properties["processing:software"] == {"geo-change-workbench": manifest["workbench_version"],
                                                      name: version}
    assert item.stac_extensions == [PROCESSING_EXTENSION, PROJECTION_EXTENSION]


def test_every_file_of_the_folder_is_an_asset_with_its_media_type(demo_output):
    item = _item(demo_output)
    files = {p.name for p in demo_output.iterdir() if not p.name.startswith(".")} - {"item.json"}
    by_file = {a.href: a for a in item.assets.values()}
    assert set(by_file) == files
    assert by_file["changes.geojson"].media_type == "application/geo+json" and "data" in by_file["changes.geojson"].roles
    assert by_file["changes.gpkg"].media_type == "application/geopackage+sqlite3"
    assert by_file["change_statistic.tif"].media_type == COG and by_file["change_statistic.tif"].roles == ["data"]
    assert by_file["before_rgb.tif"].roles == ["visual"] and by_file["after_rgb.tif"].media_type == COG
    assert by_file["report.html"].media_type == "text/html" and "overview" in by_file["report.html"].roles
    assert by_file["manifest.json"].roles == ["metadata"]
    for asset in item.assets.values():  # resolved against the item's own location
        assert Path(asset.get_absolute_href()).is_file(), asset.href


def test_each_geotiff_asset_carries_its_grid_and_bands_for_catalog_loaders(demo_output):
    """A catalog loader (odc-stac, stackstac) builds its grid from the item alone: without the projection
    extension odc-stac stopped at "Failed to auto-guess CRS/resolution", and given a CRS it loaded the AOI's
    extent instead of the file's grid and a three-band file as its first band. Each COG asset names its CRS,
    shape, transform and bbox as the file has them (read back with pystac's projection extension), and its
    bands (STAC 1.1 ``bands``)."""
    item = _item(demo_output)
    rasters = {k: a for k, a in item.assets.items() if a.media_type == COG}
    assert sorted(a.href for a in rasters.values()) == ["after_rgb.tif", "before_rgb.tif", "change_statistic.tif"]
    for asset in rasters.values():
        proj = ProjectionExtension.ext(asset)
        with rasterio.open(demo_output / asset.href) as src:
            assert proj.code == f"EPSG:{src.crs.to_epsg()}" == "EPSG:32630"
            assert proj.shape == [src.height, src.width] == [513, 448]
            assert proj.transform == pytest.approx(list(src.transform)[:6])
            assert proj.bbox == pytest.approx(list(src.bounds))
            bands = asset.extra_fields["bands"]
            assert [b["name"] for b in bands] == [d for d in src.descriptions]
            assert {b["data_type"] for b in bands} == {"float32"} and {b["nodata"] for b in bands} == {"nan"}
    assert [b["name"] for b in item.assets["after_rgb-tif"].extra_fields["bands"]] == ["red", "green", "blue"]
    for asset in item.assets.values():  # the other files are not rasters on a grid
        if asset.media_type != COG:
            assert not any(k.startswith("proj:") or k == "bands" for k in asset.extra_fields), asset.href


def _linked_ids(item: pystac.Item, base: Path | None = None) -> list[str]:
    hrefs = [link.get_absolute_href() if base is None else str(base / link.href)
             for link in item.get_links("derived_from")]
    return [pystac.Item.from_file(href).id for href in hrefs]


def test_derived_from_links_resolve_to_the_source_scene_items(synthetic_output):
    """The run folder and the catalog share a folder (here the session's temporary one): a relative link that
    resolves from the item, naming nothing above that folder."""
    item = _item(synthetic_output)
    manifest = json.loads((synthetic_output / "manifest.json").read_text())
    assert _linked_ids(item) == [manifest["scenes"]["before"]["id"], manifest["scenes"]["after"]["id"]]
    hrefs = [link.href for link in item.get_links("derived_from")]
    assert all(h.startswith("../") and "/tmp/" not in h and "pytest-of" not in h for h in hrefs), hrefs


def _apart_from(path: Path) -> Path | None:
    """A writable folder sharing no folder but the root with ``path``."""
    for folder in (Path(tempfile.gettempdir()), Path("/var/tmp"), Path("/dev/shm"), Path.home()):
        if folder.resolve().parts[:2] != path.parts[:2] and os.access(folder, os.W_OK):
            return folder
    return None


@pytest.fixture
def run_apart_from_the_project(demo_output):
    """The demo's run folder, where it shares no folder but the root with the project (the demo catalog's):
    the session's under /tmp, unless the checkout is under /tmp too (a fresh install's often is; there they
    share /tmp and the link is relative, as for any run beside its catalog), then a run of its own elsewhere."""
    if Path(os.path.commonpath([REPO, demo_output.resolve()])) == Path(REPO.anchor):
        yield demo_output
        return
    apart = _apart_from(REPO)
    if apart is None:
        pytest.skip(f"no writable folder shares nothing but the root with the checkout {REPO}")
    folder = Path(tempfile.mkdtemp(prefix="geo-apart-", dir=apart))
    try:
        result = run_geo("demo", "--out", str(folder / "out"))
        assert result.returncode == 0, result.stderr
        yield folder / "out"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_catalog_sharing_no_folder_with_the_run_is_linked_by_its_file_uri(run_apart_from_the_project):
    """The demo catalog (in the project) and a run under /tmp share only the root: a relative href would be
    resolved by STAC tools against the item's own folder (a project-relative one pointed nowhere), so the link
    is the item file's absolute ``file:`` URI, which pystac follows from wherever the item is read."""
    demo_output = run_apart_from_the_project
    item = _item(demo_output)
    manifest = json.loads((demo_output / "manifest.json").read_text())
    ids = [manifest["scenes"]["before"]["id"], manifest["scenes"]["after"]["id"]]
    assert [link.href for link in item.get_links("derived_from")] == [
        (REPO / "scenes" / "demo" / i / f"{i}.json").as_uri() for i in ids]
    assert _linked_ids(item) == ids
    assert [link.resolve_stac_object().target.id for link in item.get_links("derived_from")] == ids


def test_a_wrong_processing_field_fails_validation(demo_output):
    """The offline schemas do check the extension: software must map names to version strings."""
    data = json.loads((demo_output / "item.json").read_text())
    data["properties"]["processing:software"] = "geo 0.1.0"
    with offline_validation(), pytest.raises(STACValidationError, match="processing"):
        pystac.Item.from_dict(data).validate()
    data["properties"]["processing:software"] = {"geo": "0.1.0"}
    data["properties"]["processing:unknown"] = 1
    with offline_validation(), pytest.raises(STACValidationError):
        pystac.Item.from_dict(data).validate()


def test_a_wrong_projection_field_fails_validation(demo_output):
    """The offline projection schema checks too: a shape is two integers (rows, columns)."""
    data = json.loads((demo_output / "item.json").read_text())
    data["assets"]["change_statistic-tif"]["proj:shape"] = "513x448"
    with offline_validation(), pytest.raises(STACValidationError):
        pystac.Item.from_dict(data).validate()


def test_a_scene_of_a_local_copy_of_earth_search_is_linked_at_earth_search(tmp_path):
    """Items fetched from Earth Search into a catalog of one's own (for offline work), the run folder elsewhere:
    its ``derived_from`` was the item file's ``file:`` URI, a path of the sender's disk in a folder handed to a
    colleague. An item that says where it is published (Earth Search's ``earthsearch:`` fields, or a ``via`` /
    ``canonical`` link over https) is linked there; one that does not keeps its ``file:`` URI."""
    from geo.outputs.stac_item import SceneLink, change_item, scene_item_href

    apart = _apart_from(tmp_path.resolve())
    if apart is None:
        pytest.skip(f"no writable folder shares nothing but the root with {tmp_path}")
    catalog = pystac.Catalog("mine", "Earth Search items kept offline")
    box = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    when = datetime(2024, 10, 5, 2, 0)
    es = pystac.Item("S2A_53UPU_20241005_0_L2A", box, [0, 0, 1, 1], when,
                     {"earthsearch:s3_path": "s3://sentinel-cogs/sentinel-s2-l2a-cogs/53/U/PU/2024/10/S2A_53UPU"},
                     collection="sentinel-2-l2a")
    via = pystac.Item("S2A_53UPU_20241012_0_L2A", box, [0, 0, 1, 1], when, {}, collection="sentinel-2-l2a")
    via.add_link(pystac.Link("via", "https://stac.example.org/collections/s2/items/S2A_53UPU_20241012_0_L2A"))
    plain = pystac.Item("my-own-scene", box, [0, 0, 1, 1], when, {})
    for item in (es, via, plain):
        catalog.add_item(item)
    catalog.normalize_hrefs(str(tmp_path / "scenes"))
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    source, run = str(tmp_path / "scenes" / "catalog.json"), Path(tempfile.mkdtemp(dir=apart))
    try:
        hrefs = [scene_item_href(i.id, i.collection_id or "", source, run) for i in (es, via, plain)]
        assert hrefs == [
            "https://earth-search.aws.element84.com/v1/collections/sentinel-2-l2a/items/S2A_53UPU_20241005_0_L2A",
            "https://stac.example.org/collections/s2/items/S2A_53UPU_20241012_0_L2A",
            (tmp_path / "scenes" / "my-own-scene" / "my-own-scene.json").resolve().as_uri()]
        item = change_item("x", box, SceneLink(es.id, when, hrefs[0]), SceneLink(via.id, when, hrefs[1]), "a/0.1", {})
        with offline_validation():
            item.validate()
    finally:
        shutil.rmtree(run, ignore_errors=True)
