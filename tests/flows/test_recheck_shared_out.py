"""Two stores given one ``--out`` (two cron lines of two projects writing into one shared outputs folder): each
store numbers its runs from 1, so the second store's ``runs/000001/`` replaced the first's, and ``latest.json``
said whichever ran last, without a word. A folder holding another store's outputs is now refused before anything
is written."""

from __future__ import annotations

from tests.flows.conftest import AFTER_ID, drawn_aoi, registry_aoi


def test_a_second_store_is_refused_an_out_folder_holding_another_stores_outputs(user, flow_archive):
    area = drawn_aoi(user.home / "area.geojson")
    first = user("recheck", "--store", "a.gpkg", "--aoi", str(area), "--since", "2015-12-01", "--source",
                 flow_archive.url, "--out", "shared")
    assert first.returncode == 0 and first.stdout.startswith("run 1:"), first.output
    summary = (user.home / "shared" / "runs" / "000001" / "summary.json").read_bytes()
    latest = (user.home / "shared" / "latest.json").read_bytes()
    other = registry_aoi(user.home / "quay.geojson", "quay", "Quay")
    second = user("recheck", "--store", "b.gpkg", "--aoi", str(other), "--since", "2015-12-01", "--source",
                  flow_archive.url, "--out", "shared")
    assert second.returncode == 1 and "Traceback" not in second.stderr, second.output
    assert "--out shared" in second.stderr and "a.gpkg" in second.stderr, second.stderr
    assert (user.home / "shared" / "runs" / "000001" / "summary.json").read_bytes() == summary
    assert (user.home / "shared" / "latest.json").read_bytes() == latest
    assert not (user.home / "b.gpkg").exists()
    # the store itself, and another folder for the second store, are fine
    again = user("recheck", "--store", "a.gpkg", "--out", "shared")
    assert again.returncode == 0 and "nothing new" in again.stdout, again.output
    own = user("recheck", "--store", "b.gpkg", "--aoi", str(other), "--since", "2015-12-01", "--source",
               flow_archive.url, "--out", "shared-b")
    assert own.returncode == 0 and own.stdout.startswith("run 1:"), own.output
    assert AFTER_ID in (user.home / "shared-b" / "latest.json").read_text()
