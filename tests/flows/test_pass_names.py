"""A pass read from several tiles is named by their ids joined (``A+B``, ``geo.scenes.mosaic``), and that id
names files: ``detections-<scene>.geojson`` of ``geo vessels``, the folder of each item of ``geo recheck
--export-stac``. Archive ids are long (the Planetary Computer's Sentinel-2 ids are 60 characters, its
Sentinel-1 ones 66): the ids of a few tiles joined pass the 255 bytes a file name may have, and the job
crashed writing its outputs."""

from __future__ import annotations

import json
import os

import pystac

from tests.flows.test_odd_names import assert_hrefs_resolve
from tests.flows.test_pass_slices import PERIOD, sliced_catalog

# Each slice's id about as long as two Planetary Computer ids: a pass of two slices stands for one of four tiles.
LONG_TAIL = "_IW_GRDH_1SDV_20210401T173418_20210401T173443_037269_046422_rtc" * 2


def test_vessel_detections_of_passes_with_long_ids_are_written_under_names_that_fit(user, port_project, tmp_path):
    source = sliced_catalog(port_project.catalog, tmp_path / "sliced", id_tail=LONG_TAIL)
    result = user("vessels", "--aoi", "test-port", *PERIOD, "--source", str(source), "--aoi-dir",
                  str(port_project.aoi_dir), "--seeds-dir", str(port_project.seeds_dir), "--out", "ves")
    assert result.returncode == 0, result.output
    out = user.home / "ves"
    rows = json.loads((out / "timeseries.json").read_text())["rows"]
    passes = {row["scene"] for row in rows}
    assert len(passes) == 12 and all(len(p.split("+")) == 2 for p in passes)
    files = [p.name for p in out.iterdir() if p.name.startswith("detections-")]
    assert len(files) == 2 * len(passes)  # a GeoJSON and its style per pass
    assert all(len(os.fsencode(name)) <= 250 for name in files)  # room for the temporary name written first
    assets = assert_hrefs_resolve(out / "item.json")
    assert {p.name for p in assets if p.parent == out} >= set(files)


def test_a_stores_stac_export_of_passes_with_long_ids_fits_its_item_folders(user, port_project, tmp_path):
    port = json.loads((port_project.aoi_dir / "test-port.geojson").read_text())
    (user.home / "port.geojson").write_text(json.dumps({"type": "Feature", "properties": {},
                                                        "geometry": port["geometry"]}))
    source = sliced_catalog(port_project.catalog, tmp_path / "sliced", id_tail=LONG_TAIL)
    result = user("recheck", "--store", "store.gpkg", "--aoi", "port.geojson", "--source", str(source), "--sensor",
                  "both", "--since", "2021-06-10", "--export-stac", "stac")
    assert result.returncode == 0, result.output
    collection = user.home / "stac" / "collection.json"
    items = [f for f in assert_hrefs_resolve(collection) if f != collection.resolve()]
    assert items, result.output
    for item in items:
        data = json.loads(item.read_text())
        assert len(os.fsencode(item.parent.name)) <= 200 and item.name == f"{item.parent.name}.json"
        assert data["id"].count("+") == 2  # the item's id is the pair's whole: before and after pass
        assets = assert_hrefs_resolve(item)
        assert {a.name for a in assets if a.parent == item.parent} == {"changes.geojson", "changes.kml",
                                                                       "changes.qml", "changes.qlr", "manifest.json"}
    read = list(pystac.Collection.from_file(str(collection)).get_items())  # pystac reads the folders' paths too
    assert sorted(i.id for i in read) == sorted(json.loads(i.read_text())["id"] for i in items)
