"""A local scene source as other STAC tools save one: a static Collection (``collection.json``, what
``pystac.Collection.normalize_and_save`` writes), or the FeatureCollection of items a search saves
(``stac-client search --save``, pystac's ``ItemCollection``). Each is searched and run on like a catalog; they
were refused as "not a readable STAC catalog (... does not represent a Catalog instance)", and a folder holding a
collection.json was said to lack a catalog.json. One item file is refused naming the catalog that links it."""

from __future__ import annotations

import json
from pathlib import Path

import pystac

from tests.flows.conftest import DEMO_CATALOG

DEMO_IDS = ["S2A_30TXT_20150821_L1C_nantes", "S2_30TXT_20171014_L1C_nantes"]
ITEM = DEMO_CATALOG.parent / DEMO_IDS[0] / f"{DEMO_IDS[0]}.json"


def demo_items() -> list[pystac.Item]:
    """The demo scenes' items, their assets' hrefs made absolute (they stay where geo ships them)."""
    items = []
    for item in pystac.Catalog.from_file(str(DEMO_CATALOG)).get_items(recursive=True):
        copy = item.clone()
        for key, asset in copy.assets.items():
            asset.href = item.assets[key].get_absolute_href() or asset.href
        items.append(copy)
    return items


def save_collection(folder: Path) -> Path:
    items = demo_items()
    extent = pystac.Extent(pystac.SpatialExtent([[-1.7, 47.1, -1.4, 47.3]]),
                           pystac.TemporalExtent([[items[0].datetime, items[-1].datetime]]))
    collection = pystac.Collection("my-nantes", "Nantes scenes", extent)
    for item in items:
        collection.add_item(item)
    collection.normalize_and_save(str(folder), pystac.CatalogType.SELF_CONTAINED)
    return folder / "collection.json"


def searched_ids(user, source: str) -> list[str]:
    result = user("scenes", "search", "--aoi", "demo-nantes-port", "--source", source, "--from", "2015-01-01",
                  "--to", "2018-01-01", "--json")
    assert result.returncode == 0, result.output
    return sorted(scene["id"] for scene in json.loads(result.stdout)["scenes"])


def test_a_static_collection_is_searched_by_its_folder_and_by_its_file(user):
    save_collection(user.home / "my scenes")
    assert searched_ids(user, "my scenes") == DEMO_IDS
    assert searched_ids(user, "my scenes/collection.json") == DEMO_IDS


def test_a_run_on_a_static_collection_finds_what_it_finds_on_the_catalog(user):
    save_collection(user.home / "mine")
    dates = ("--before", "2015-08-21", "--after", "2017-10-14")
    ours = user("run", "--aoi", "demo-nantes-port", "--source", "mine", *dates, "--out", "ours")
    assert ours.returncode == 0, ours.output
    demo = user("run", "--aoi", "demo-nantes-port", "--source", str(DEMO_CATALOG), *dates, "--out", "demo")
    assert demo.returncode == 0, demo.output
    features = [json.loads((user.home / out / "changes.geojson").read_text())["features"] for out in ("ours", "demo")]
    assert len(features[0]) == len(features[1]) > 10
    manifest = json.loads((user.home / "ours" / "manifest.json").read_text())
    assert manifest["scenes"]["selection"]["source"] == "mine/collection.json"
    assert [manifest["scenes"][side]["id"] for side in ("before", "after")] == DEMO_IDS


def test_the_items_a_search_saved_as_a_feature_collection_are_a_source(user):
    pystac.ItemCollection(demo_items()).save_object(str(user.home / "found.json"))
    assert searched_ids(user, "found.json") == DEMO_IDS
    result = user("run", "--aoi", "demo-nantes-port", "--source", "found.json", "--before", DEMO_IDS[0],
                  "--after", DEMO_IDS[1], "--out", "out")
    assert result.returncode == 0, result.output
    assert len(json.loads((user.home / "out" / "changes.geojson").read_text())["features"]) > 10


def test_one_item_file_is_refused_naming_the_catalog_that_links_it(user):
    result = user("scenes", "search", "--aoi", "demo-nantes-port", "--source", str(ITEM), "--from", "2015-01-01",
                  "--to", "2018-01-01")
    assert result.returncode == 1, result.output
    line, = result.stderr.strip().splitlines()
    assert line == (f"Error: {ITEM}: a STAC Item ({DEMO_IDS[0]}), not a catalog: give the catalog or collection "
                    f"that links it ({DEMO_CATALOG})")


def test_a_folder_of_no_catalog_names_the_files_it_looked_for(user):
    (user.home / "empty").mkdir()
    result = user("scenes", "search", "--aoi", "demo-nantes-port", "--source", "empty", "--from", "2015-01-01",
                  "--to", "2018-01-01")
    assert result.returncode == 1, result.output
    assert result.stderr.strip() == "Error: empty: a folder holding no catalog.json or collection.json"


def test_a_collection_asked_of_a_local_source_is_searched_or_said_to_be_absent(user):
    """--collection was ignored by a local source: every scene of the catalog was listed, of any collection."""
    save_collection(user.home / "mine")
    search = ("scenes", "search", "--aoi", "demo-nantes-port", "--source", "mine", "--from", "2015-01-01", "--to",
              "2018-01-01")
    kept = user(*search, "--collection", "my-nantes", "--json")
    assert kept.returncode == 0, kept.output
    assert sorted(s["id"] for s in json.loads(kept.stdout)["scenes"]) == DEMO_IDS
    other = user(*search, "--collection", "sentinel-2-l2a")
    assert other.returncode == 1, other.output
    assert other.stderr.strip() == ("Error: --collection sentinel-2-l2a: mine/collection.json holds no scene of it "
                                    "(its scenes' collections: my-nantes (2))")
    demo = user(*search[:5], "demo", *search[6:], "--collection", "sentinel-2-l2a")
    assert demo.returncode == 1, demo.output
    assert demo.stderr.strip().endswith("holds no scene of it (its scenes' collections: none named (2))")
