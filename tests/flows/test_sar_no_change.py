"""``geo run --sensor s1`` that finds no change: its ``changes`` layer has the columns, and their types, of a
Sentinel-1 run that found changes (``sensor``, ``backscatter``, ``db_change_<pol>``, ``water_share`` and the
omnibus dating, ``change_first_seen`` ... as Date fields), so a QGIS style or filter on them and a script
reading the table work on a quiet run; ``changes.qlr`` declares them to QGIS (which reads an empty GeoJSON's
fields from no feature) as it reads them from a busy run's ``changes.geojson``. The quiet pair: the synthetic port's series with the after date's
pixels those of the before date (tests/flows/test_sar_archives.py writes the catalogs)."""

from __future__ import annotations

import json
import shutil

import pyogrio
import pytest

from tests.flows.test_sar_archives import AFTER, PAIR, change, on_orbit, rewritten

BEFORE = "S1A_TEST_20210501"


def _columns(folder) -> list[tuple[str, str]]:
    info = pyogrio.read_info(folder / "changes.gpkg", layer="changes")
    return list(zip(info["fields"], map(str, info["dtypes"])))


def test_a_pair_without_change_has_the_columns_of_one_with_changes(user, port_project, tmp_path):
    busy = change(user, rewritten(port_project.catalog, tmp_path / "busy", props=on_orbit), port_project, *PAIR,
                  out="busy")
    assert busy.returncode == 0, busy.output
    quiet_catalog = rewritten(port_project.catalog, tmp_path / "quiet", props=on_orbit)
    for pol in ("vv", "vh"):  # the after date sees what the before date saw
        shutil.copyfile(tmp_path / "quiet" / BEFORE / f"{pol}.tif", tmp_path / "quiet" / AFTER / f"{pol}.tif")
    quiet = change(user, quiet_catalog, port_project, *PAIR, out="quiet")
    assert quiet.returncode == 0, quiet.output

    busy_out, quiet_out = user.home / "busy", user.home / "quiet"
    assert len(json.loads((busy_out / "changes.geojson").read_text())["features"]) > 0
    assert json.loads((quiet_out / "changes.geojson").read_text())["features"] == []
    assert pyogrio.read_info(quiet_out / "changes.gpkg", layer="changes")["features"] == 0
    manifest = json.loads((quiet_out / "manifest.json").read_text())
    assert manifest["sensor"] == "s1" and manifest["polarisations"] == ["vv", "vh"] and manifest["omnibus"]["run"]
    columns = _columns(quiet_out)
    assert columns == _columns(busy_out)
    typed = dict(columns)
    assert {name: typed[name] for name in ("sensor", "backscatter", "db_change_vv", "db_change_vh", "water_share",
                                           "omnibus_share", "change_first_seen", "change_first_scene",
                                           "change_last_unchanged", "change_date_agreement")} == {
        "sensor": "object", "backscatter": "object", "db_change_vv": "float64", "db_change_vh": "float64",
        "water_share": "float64", "omnibus_share": "float64", "change_first_seen": "datetime64[D]",
        "change_first_scene": "object", "change_last_unchanged": "datetime64[D]", "change_date_agreement": "float64"}
    assert columns[-1] == ("evidence_for", "object")  # the extras in the order a busy run writes them

    # QGIS: the quiet run's changes.qlr has the fields, typed, of the busy run's changes.geojson
    from tests.outputs.test_qgis import _qgis_missing, probe

    if _qgis_missing():
        pytest.skip(_qgis_missing())
    seen = probe({"vectors": [{"key": "busy", "uri": str(busy_out / "changes.geojson")}], "ranges": [],
                  "definitions": [{"key": "quiet", "path": str(quiet_out / "changes.qlr")}]})
    assert seen["definitions"]["quiet"]["read"], seen["definitions"]["quiet"]["error"]
    layer = seen["definitions"]["quiet"]["layers"]["changes"]
    assert layer["valid"] and layer["count"] == 0 and layer["geometry"] == "Polygon"
    expected = {name: kind for name, kind in seen["vectors"]["busy"]["variant_types"].items() if name != "id"}
    assert {"db_change_vh", "change_first_seen", "claim_ids"} <= set(expected)
    assert layer["variant_types"] == expected
    assert layer["fields"]["change_first_seen"] == "Date" and layer["fields"]["claim_ids"] == "StringList"
