"""``--source demo``: the README's first run on one's own area uses the demo scenes that come with geo, from any
folder (``scenes/demo`` is a path inside the checkout, which a user's folder, or an installed geo, does not
have), into an output folder whose name has spaces and accents."""

from __future__ import annotations

import json
from pathlib import Path

from tests.flows.conftest import drawn_aoi

DEMO_IDS = ["S2A_30TXT_20150821_L1C_nantes", "S2_30TXT_20171014_L1C_nantes"]


def test_a_drawn_area_runs_on_the_demo_scenes_from_the_users_folder(user):
    drawn_aoi(user.home / "harbour east.geojson")
    out = user.home / "my runs" / "Nantes été"
    result = user("run", "--aoi", "harbour east.geojson", "--source", "demo", "--before", "2015-08-21", "--after",
                  "2017-10-14", "--out", "my runs/Nantes été")
    assert result.returncode == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["aoi"]["id"] == "harbour-east"
    assert [manifest["scenes"][side]["id"] for side in ("before", "after")] == DEMO_IDS
    assert manifest["scenes"]["selection"]["source"] == "scenes/demo/catalog.json"
    changes = json.loads((out / "changes.geojson").read_text(encoding="utf-8"))["features"]
    assert changes and {c["properties"]["aoi_id"] for c in changes} == {"harbour-east"}
    assert "my runs/Nantes été/report.html" in result.stdout
    # the demo items name no collection: the report's scene table has no column of empty cells for it
    html = " ".join((out / "report.html").read_text(encoding="utf-8").split())
    scene_table = html[html.index(">Scenes</h4>"):html.index("<h4>Method</h4>")]
    assert "<th>Platform</th><th class=\"num\">Tile cloud %</th>" in scene_table and "Collection" not in scene_table
    assert scene_table.count("<td>sentinel-2a</td><td class=\"num\">") == 1


def test_scenes_search_lists_the_demo_scenes(user):
    found = user("scenes", "search", "--aoi", "demo-nantes-port", "--from", "2015-01-01", "--to", "2018-01-01",
                 "--source", "demo", "--json")
    assert found.returncode == 0, found.output
    listing = json.loads(found.stdout)
    assert sorted(scene["id"] for scene in listing["scenes"]) == DEMO_IDS
    assert listing["source"].endswith("scenes/demo/catalog.json")


def test_a_recheck_names_its_qgis_layer_file(user):
    """``geo run`` and ``geo vessels`` end by naming what opens the results in QGIS; ``geo recheck`` named only
    the run's GeoJSON and summary, not the store's layer file (its AOIs and changes on the time slider)."""
    args = ("recheck", "--aoi", "demo-nantes-port", "--source", "demo", "--since", "2015-08-01", "--store",
            "watch.gpkg", "--out", "watch out")
    first = user(*args)
    assert first.returncode == 0, first.output
    qlr = Path("watch out") / "watch.qlr"
    assert (user.home / qlr).is_file() and (user.home / "watch out/runs/000001/changes.qlr").is_file() and first.stdout.splitlines()[-1] == (
        f"QGIS: {qlr} (the store's AOIs and changes, on the time slider: drag and drop, or Layer > Add from Layer "
        f"Definition File; this run's changes alone: {qlr.parent / 'runs' / '000001' / 'changes.qlr'})"), first.stdout
    again = user(*args)
    assert again.returncode == 0 and again.stdout.startswith("nothing new: ") and "QGIS" not in again.stdout


def test_a_mistyped_source_name_lists_demo_among_the_names_and_suggests_the_one_meant(user):
    # "--source earthsearch" or "--source Demo" was told the source is "neither 'earth-search', 'planetary-computer',
    # 'cdse', a URL, nor an existing catalog path": no suggestion, and 'demo', which the README's first own-area
    # example gives, missing from the names.
    drawn_aoi(user.home / "harbour east.geojson")
    names = ("'earth-search', 'planetary-computer', 'cdse', 'demo' (the demo scenes that come with geo), a URL, "
             "nor an existing catalog path")
    # ("Demo" is the demo source now, in any case as every registered name: tests/flows/test_choice_case.py)
    for typed, meant in [("earthsearch", "earth-search"), ("dmeo", "demo"), ("planetary_computer", "planetary-computer")]:
        result = user("run", "--aoi", "harbour east.geojson", "--source", typed, "--before", "2015-08-21",
                      "--after", "2017-10-14", "--out", "harbour")
        assert result.returncode == 1, result.output
        assert result.stderr.strip() == f"Error: scene source {typed!r} is neither {names} (did you mean {meant!r}?)"
        assert not (user.home / "harbour").exists()
    result = user("scenes", "search", "--aoi", "harbour east.geojson", "--from", "2015-01-01", "--to", "2018-01-01",
                  "--source", "my-scenes/catalog.json")
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: scene source 'my-scenes/catalog.json' is neither {names}"
