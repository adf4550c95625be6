"""A re-check store moved (or copied) to another folder, as an administrator does when setting up the
scheduled re-checks elsewhere: the next re-check writes the outputs beside it and says what happened."""

from __future__ import annotations

import json
import shutil

from tests.flows.conftest import DEMO_CATALOG, drawn_aoi


def test_a_store_moved_without_its_outputs_gets_them_back_and_is_told_so_once(user):
    aoi = drawn_aoi(user.home / "harbour.geojson")
    first = user("recheck", "--store", "trial/store.gpkg", "--aoi", str(aoi), "--source", str(DEMO_CATALOG),
                 "--since", "2015-08-01")
    assert first.returncode == 0, first.output
    (user.home / "srv geo").mkdir()
    shutil.move(user.home / "trial" / "store.gpkg", user.home / "srv geo" / "store.gpkg")
    shutil.rmtree(user.home / "trial")  # the old outputs went with the old folder
    again = user("recheck", "--store", "srv geo/store.gpkg", "--source", str(DEMO_CATALOG))
    assert again.returncode == 0, again.output
    outputs = user.home / "srv geo" / "store-outputs"
    summary = json.loads((outputs / "runs" / "000001" / "summary.json").read_text())
    assert summary["run_id"] == 1 and summary["n_new_changes"] > 0
    assert "../store.gpkg|layername=changes" in (outputs / "store.qlr").read_text()
    assert "did not finish" not in again.output  # nothing failed: the store was moved
    told = [line for line in again.output.splitlines() if "run(s) [1]" in line or "run 1" in line]
    assert len(told) == 1 and "moved" in told[0] and "srv geo/store-outputs" in told[0], again.output
    assert "nothing new" in again.stdout
