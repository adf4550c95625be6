"""Names as users give them: folders and files with spaces, ``#``, ``%``, ``&``, ``+``, ``?``, quotes and
non-ASCII letters (``Владивосток``, ``Hamhŭng``), followed through every output that names a file.

pystac treats hrefs as URLs: a local catalog in ``scenes #2/`` was read from ``scenes `` (the rest a
fragment) and refused as "not a readable STAC catalog"; ``--export-stac 'stac #5 %'`` reported a collection
it had written nowhere; and ``item.json`` linked ``../scenes #2/…``, which a URL reader cuts at the ``#``.
pystac itself reads a local href as the path it spells (``%20`` literally), so only ``#`` and ``?`` are
encoded: the links of a folder with spaces, ``%`` or non-ASCII letters still resolve in pystac.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import urljoin, urlparse
from urllib.request import url2pathname

import pystac
import pytest

from tests.conftest import REPO
from tests.flows.conftest import DRAWN_RING, drawn_aoi
from tests.outputs.test_qgis import probe, qgis_available  # noqa: F401 (the fixture)

ODD_CATALOG = "scènes #2 50% & ü"
ODD_RUN = "Hamhŭng run #2 50% & a+b ?'\""
ODD_AOI = "Владивосток #1 & co+.geojson"


def odd_catalog(home: Path, name: str = ODD_CATALOG) -> Path:
    """The shipped demo catalog (relative hrefs) copied into the folder ``name`` (by default one whose name
    pystac would cut short)."""
    folder = home / name
    shutil.copytree(REPO / "scenes" / "demo", folder, ignore=shutil.ignore_patterns("cache", "*.py"))
    return folder


def resolved(document: Path, href: str) -> Path:
    """The file ``href`` names, resolved against ``document`` as a URL reader does (STAC Browser over a web
    server): a raw ``#`` or ``?`` would end the path there."""
    url = urlparse(urljoin(document.absolute().as_uri(), href))
    assert url.scheme == "file" and not url.query and not url.fragment, f"{document.name}: href {href!r} is cut"
    return Path(url2pathname(url.path))


def stac_hrefs(document: Path) -> list[str]:
    data = json.loads(document.read_text())
    return [link["href"] for link in data.get("links", [])] + [a["href"] for a in data.get("assets", {}).values()]


def assert_hrefs_resolve(document: Path) -> list[Path]:
    files = [resolved(document, href) for href in stac_hrefs(document)]
    missing = [str(f) for f in files if not f.is_file()]
    assert not missing, f"{document}: hrefs to missing files {missing}"
    return files


def test_a_run_between_oddly_named_folders_reads_its_catalog_and_links_it(user):
    catalog = odd_catalog(user.home)
    drawn_aoi(user.home / ODD_AOI)
    result = user("run", "--aoi", ODD_AOI, "--source", ODD_CATALOG, "--before", "2015-08-21", "--after",
                  "2017-10-14", "--out", ODD_RUN)
    assert result.returncode == 0, result.output
    out = user.home / ODD_RUN
    assert "11 change polygons" in result.stdout  # the demo pair's changes in this area, as from scenes/demo
    item = out / "item.json"
    files = assert_hrefs_resolve(item)
    scenes = {f.resolve() for f in files if f.parent.parent == catalog}
    assert {f.name for f in scenes} == {"S2A_30TXT_20150821_L1C_nantes.json", "S2_30TXT_20171014_L1C_nantes.json"}
    assets = {f.name for f in files if f.parent == out}
    assert {"changes.geojson", "changes.gpkg", "project.qgz", "report.html", "manifest.json"} <= assets
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["aoi"]["name"] == "Владивосток #1 & co+"

    report = user("report", ODD_RUN)  # rebuilt from the folder read back
    assert report.returncode == 0, report.output
    assert "Владивосток #1 &amp; co+" in (out / "report.html").read_text()


def test_pystac_follows_the_links_of_a_run_whose_catalog_folder_has_spaces_and_non_ascii_letters(user):
    """pystac's own resolution (``resolve_stac_object``), as README promises, for names pystac can read."""
    odd_catalog(user.home, "my scènes 50%")
    drawn_aoi(user.home / ODD_AOI)
    result = user("run", "--aoi", ODD_AOI, "--source", "my scènes 50%", "--before", "2015-08-21", "--after",
                  "2017-10-14", "--out", "Hamhŭng run 50%")
    assert result.returncode == 0, result.output
    item = pystac.Item.from_file(str(user.home / "Hamhŭng run 50%" / "item.json"))
    scenes = [link.resolve_stac_object().target for link in item.get_links("derived_from")]
    assert sorted(scene.id for scene in scenes) == ["S2A_30TXT_20150821_L1C_nantes", "S2_30TXT_20171014_L1C_nantes"]
    assert all(Path(asset.get_absolute_href()).is_file() for asset in item.assets.values())


@pytest.mark.qgis
def test_the_project_of_an_oddly_named_run_folder_opens_with_every_layer_valid(user, qgis_available):  # noqa: F811
    """Already so before (its layers' paths are relative, ``./changes.gpkg|layername=changes``): kept so."""
    drawn_aoi(user.home / ODD_AOI)
    result = user("run", "--aoi", ODD_AOI, "--source", "demo", "--before", "2015-08-21", "--after",
                  "2017-10-14", "--out", ODD_RUN)
    assert result.returncode == 0, result.output
    changes = json.loads((user.home / ODD_RUN / "changes.geojson").read_text())["features"]
    seen = probe({"projects": [{"key": "run", "path": str(user.home / ODD_RUN / "project.qgz")}]})
    project = seen["projects"]["run"]
    assert project["read"] and project["crs"]["authid"] == "EPSG:32630"
    layers = project["layers"]
    assert {"changes", "areas of interest", "claim verdicts", "before 2015-08-21", "after 2017-10-14"} <= set(layers)
    assert all(layer["valid"] for layer in layers.values()), {k: v.get("error") for k, v in layers.items()}
    assert layers["changes"]["count"] == len(changes) == 11


def test_a_stores_stac_export_into_an_oddly_named_folder_is_written_there(user):
    drawn_aoi(user.home / ODD_AOI)
    store = user.home / "store #4 & + ?" / "Hamhŭng ст #.gpkg"
    store.parent.mkdir()
    result = user("recheck", "--store", str(store), "--aoi", ODD_AOI, "--source", "demo", "--since",
                  "2015-08-01", "--export-stac", "stac #5 %")
    assert result.returncode == 0, result.output
    dest = user.home / "stac #5 %"
    collection = dest / "collection.json"
    assert collection.is_file(), sorted(p.name for p in user.home.iterdir())
    assert sorted(p.name for p in user.home.iterdir()) == sorted([ODD_AOI, "store #4 & + ?", dest.name])
    items = [f for f in assert_hrefs_resolve(collection) if f != collection.resolve()]
    assert len(items) == 1
    item_files = assert_hrefs_resolve(items[0])
    assert {f.name for f in item_files} >= {"changes.geojson", "changes.kml", "manifest.json", "collection.json",
                                            "S2A_30TXT_20150821_L1C_nantes.json", "S2_30TXT_20171014_L1C_nantes.json"}
    features = json.loads((items[0].parent / "changes.geojson").read_text())["features"]
    assert len(features) == json.loads(items[0].read_text())["properties"]["geo:n_changes"] == 11


# Two harbours drawn in two files whose names differ only in Cyrillic: the file names made into ids kept the
# Latin part alone ("1"), so the two areas had one id.
NAMED_APART = {"Владивосток 1": DRAWN_RING, "Находка 1": [[x - 0.035, y] for x, y in DRAWN_RING]}


def test_two_areas_whose_file_names_differ_only_in_cyrillic_are_two_aois_in_one_report(user):
    for name, ring in NAMED_APART.items():
        drawn_aoi(user.home / f"{name}.geojson", [ring])
        result = user("run", "--aoi", f"{name}.geojson", "--source", "demo", "--before", "2015-08-21", "--after",
                      "2017-10-14", "--out", name)
        assert result.returncode == 0, result.output
    ids = {name: json.loads((user.home / name / "manifest.json").read_text())["aoi"]["id"] for name in NAMED_APART}
    assert len(set(ids.values())) == 2 and all(re.fullmatch(r"1-[0-9a-f]{8}", i) for i in ids.values()), ids
    result = user("report", *NAMED_APART, "--out", "both.html")
    assert result.returncode == 0, result.output
    report = (user.home / "both.html").read_text()
    for name, aoi_id in ids.items():
        assert f'<h2 id="aoi-{aoi_id}:title">{name} <span class="id">{aoi_id}</span></h2>' in report


def test_a_store_takes_both_areas_whose_file_names_differ_only_in_cyrillic(user):
    for name, ring in NAMED_APART.items():
        drawn_aoi(user.home / f"{name}.geojson", [ring])
    result = user("recheck", "--store", "store.gpkg", "--aoi", "Владивосток 1.geojson", "--aoi", "Находка 1.geojson",
                  "--source", "demo", "--since", "2015-08-01", "--json")
    assert result.returncode == 0, result.output
    entries = json.loads(result.stdout)["aois"]
    assert len({e["aoi_id"] for e in entries}) == 2 and all(e["pairs"] for e in entries), entries


def test_a_store_name_too_long_for_sqlites_journal_beside_it_is_refused_before_any_work(user):
    """SQLite writes ``<store>-journal`` beside the store: a 248-byte name passed the check (it allowed for the
    temporary name, 5 bytes more) and the re-check created an empty store, then failed to open it, calling it
    "not a results store", and left it behind."""
    drawn_aoi(user.home / "quay.geojson")
    store = "ж" * 121 + "x.gpkg"  # 248 bytes: with '-journal' 256
    result = user("recheck", "--store", store, "--aoi", "quay.geojson", "--source", "demo", "--since", "2015-08-01")
    assert result.returncode == 1, result.output
    assert result.stderr.startswith(f"Error: --store {store}: name too long (248 bytes; at most 247 here"), \
        result.stderr
    assert "Traceback" not in result.stderr and sorted(p.name for p in user.home.iterdir()) == ["quay.geojson"]


@pytest.mark.qgis
@pytest.mark.usefixtures("qgis_available")
def test_markup_in_an_areas_name_stays_text_in_qgis_map_tips(user):
    """QGIS shows a layer's map tip in a web view with JavaScript on (QgsMapTip) and puts each value in as it
    is: the name and source of an area drawn elsewhere, ``<img src=x onerror=...>``, became markup there and ran.
    Every value in the map tips of the run's layers is now escaped: the text shows, no element is made; the
    layers' metadata (also shown as HTML as it is) names the area with look-alikes of its angle brackets."""
    hostile = '<img src=x onerror="alert(1)"> & <script>alert(2)</script>'
    drawn_aoi(user.home / "harbour.geojson", properties={"name": f"Port {hostile}", "source": f"from {hostile}"})
    result = user("run", "--aoi", "harbour.geojson", "--source", "demo", "--before", "2015-08-21", "--after",
                  "2017-10-14", "--out", "run")
    assert result.returncode == 0, result.output
    seen = probe({"projects": [{"key": "run", "path": str(user.home / "run" / "project.qgz")}]})
    layers = seen["projects"]["run"]["layers"]
    tips = {name: layer["map_tips"] for name, layer in layers.items() if layer.get("kind") == "vector"}
    assert tips["areas of interest"] and tips["changes"], tips
    escaped = "&lt;img src=x onerror=\"alert(1)\"&gt; &amp; &lt;script&gt;alert(2)&lt;/script&gt;"
    assert f"Port {escaped}" in tips["areas of interest"][0] and f"from {escaped}" in tips["areas of interest"][0]
    assert not any("<img" in tip or "<script" in tip for layer_tips in tips.values() for tip in layer_tips), tips
    # nor in the layers' metadata, which QGIS also shows as HTML as it is (Properties > Information): the name
    # is there with its angle brackets as look-alikes, no tag
    about = {name: layer["metadata"]["title"] + layer["metadata"]["abstract"] for name, layer in layers.items()}
    assert "Port ‹img src=x onerror=\"alert(1)\"› & ‹script›alert(2)‹/script›" in about["changes"]
    assert not any("<" in text or ">" in text for text in about.values()), about
