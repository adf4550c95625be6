"""The ``files:`` line of a re-check that recorded a run: it listed changes.geojson, changes.kml and summary.json, but
not changes.qml and changes.qlr, the QGIS style and layer files written beside them (a user copying the listed files
to a laptop lost the styling). It now names every file the run wrote into its folder, as do the summary's ``files``
and the alert's."""

from __future__ import annotations

import json


def test_the_files_line_names_every_file_the_run_wrote(user):
    shell = user("recheck", "--store", "s.gpkg", "--aoi", "demo-nantes-port", "--source", "demo")
    assert shell.returncode == 0 and shell.stdout.startswith("run 1: "), shell.output
    [line] = [line for line in shell.stdout.splitlines() if line.startswith("files: ")]
    listed = line.removeprefix("files: ").split(", ")
    folder = user.home / "s-outputs" / "runs" / "000001"
    assert sorted(listed) == sorted(f"s-outputs/runs/000001/{p.name}" for p in folder.iterdir()
                                  if not p.name.startswith(".")), listed  # (the folder's completion marker)
    assert "s-outputs/runs/000001/changes.qml" in listed and "s-outputs/runs/000001/changes.qlr" in listed
    summary = json.loads((folder / "summary.json").read_text())
    assert sorted(f"s-outputs/{f}" for f in summary["files"].values()) == sorted(listed), summary["files"]
