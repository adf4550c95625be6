"""``geo recheck --export-stac DIR``: the README says DIR "must be new, empty or a previous export ... any other folder
is refused before the re-check starts (exit 1)". A `geo run` or `geo demo` folder is complete (it has the marker a
previous export has too), so it was taken for one: its report, QGIS project, COGs and GeoPackage were replaced by
the collection, silently."""

from __future__ import annotations

import json


def test_export_stac_into_a_run_folder_is_refused_and_the_run_is_kept(user):
    result = user("run", "--aoi", "demo-nantes-port", "--source", "demo", "--before", "2015-08-21", "--after",
                  "2017-10-14", "--out", "harbour")
    assert result.returncode == 0, result.output
    run = user.home / "harbour"
    before = sorted(p.name for p in run.iterdir())
    assert "report.html" in before

    result = user("recheck", "--store", "watch.gpkg", "--aoi", "demo-nantes-port", "--source", "demo",
                  "--export-stac", "harbour")
    assert result.returncode == 1, result.output
    assert result.stderr.strip() == (
        "Error: --export-stac harbour: the folder of a geo run or geo demo (its report.html ...), not a previous "
        "export: the export replaces the whole folder; give a new or empty one, or the folder of a previous export")
    assert sorted(p.name for p in run.iterdir()) == before
    assert not (user.home / "watch.gpkg").exists()  # refused before the re-check starts

    # a previous export is still replaced, as the README says
    result = user("recheck", "--store", "watch.gpkg", "--aoi", "demo-nantes-port", "--source", "demo",
                  "--export-stac", "stac")
    assert result.returncode == 0, result.output
    result = user("recheck", "--store", "watch.gpkg", "--export-stac", "stac")
    assert result.returncode == 0, result.output
    assert json.loads((user.home / "stac" / "collection.json").read_text())["type"] == "Collection"
