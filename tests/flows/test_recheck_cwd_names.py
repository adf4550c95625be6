"""A scheduled re-check (no --aoi) run from a folder that holds a folder or file named like a stored AOI id (the
``geo run --out quay`` folder of the same area, a note): the store's ids are ids, never paths. It stopped the whole
run ("Error: quay: is a folder; --aoi takes an AOI id ...", exit 1), or read the file as the AOI and failed it
(exit 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.flows.conftest import DEMO_CATALOG, DRAWN_RING, drawn_aoi

BEFORE, AFTER = "S2A_30TXT_20150821_L1C_nantes", "S2_30TXT_20171014_L1C_nantes"


def first_scene_only(folder: Path) -> Path:
    """A catalog of the demo's first scene alone (its item file where it is): the second arrives later."""
    folder.mkdir()
    # the id of the demo catalog it grows into (a catalog a scene is added to is the store's source still)
    catalog = {"type": "Catalog", "id": "demo", "stac_version": "1.1.0", "description": "the demo's first scene",
               "links": [{"rel": "root", "href": "./catalog.json", "type": "application/json"},
                         {"rel": "item", "href": str(DEMO_CATALOG.parent / BEFORE / f"{BEFORE}.json"),
                          "type": "application/geo+json"}]}
    (folder / "catalog.json").write_text(json.dumps(catalog), encoding="utf-8")
    return folder / "catalog.json"


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_a_name_in_the_current_folder_is_not_a_stored_aoi(user, kind, tmp_path):
    drawn_aoi(user.home / "quay.geojson", [DRAWN_RING])
    first = user("recheck", "--store", "store.gpkg", "--aoi", "quay.geojson", "--since", "2015-08-01",
                 "--source", str(first_scene_only(tmp_path / "first")))
    assert first.returncode == 0, first.output
    assert f"  quay: baseline {BEFORE}; 0 pairs" in first.stdout
    if kind == "folder":
        (user.home / "quay").mkdir()
    else:
        (user.home / "quay").write_text("notes on the quay\n", encoding="utf-8")

    # The second scene arrives: the full path pairs it with the stored AOI's head.
    second = user("recheck", "--store", "store.gpkg", "--source", str(DEMO_CATALOG))
    assert second.returncode == 0, second.output
    assert "  quay: 1 pair" in second.stdout and f"head {AFTER}" in second.stdout, second.output

    # Nothing new: the quick answer takes the stored AOI too.
    again = user("recheck", "--store", "store.gpkg", "--source", str(DEMO_CATALOG))
    assert again.returncode == 0, again.output
    assert again.stdout.startswith("nothing new: 1 AOI checked"), again.output
