"""SAR in re-checks: a site that cloud hides from Sentinel-2 gets a Sentinel-1 chain beside its Sentinel-2 one.

The project (a local catalog, through the real command): the simulated Sentinel-1 series of
``tests/change/sar_scenes.py`` (five dates on relative orbit 118 ascending, structures built and removed on
the fourth, a ship on the fifth) plus one scene on another orbit geometry inside the series, and two
Sentinel-2 scenes over the same ground: a clear one before the claims' window and one after it whose AOI is
under cloud (SCL 'cloud, high probability'). Known truth: the Sentinel-2 pair is skipped as clouded, the
Sentinel-1 chain starts at the same baseline date, pairs only same-orbit scenes, finds the planted changes
and judges the claims; a second re-check is a no-op; a later clear Sentinel-2 scene pairs around the clouded one.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import timedelta

import numpy as np
import pystac
import pytest

from geo.change.detectors import SAR_VERSION
from tests import synthetic
from tests.change import sar_scenes as sim
from tests.recheck.conftest import ALGORITHM_VERSION, SHAPE, build_series, dump_store, imported_modules
from tests.recheck.test_noop_imports import PROFILE, assert_light

S2_CLEAR, S2_CLOUDED, S2_LATER = "S2A_SYN_20220301", "S2A_SYN_20220420", "S2A_SYN_20220501"
S1_IDS = sim.scene_ids()  # 1, 13, 25 March, 6 and 18 April 2022 on relative orbit 118 ascending
OTHER = "S1A_IW_GRDH_1SDV_20220326_R045"  # another geometry, between the third and fourth dates
LATE_OTHER = "S1A_IW_GRDH_1SDV_20220420_R045"  # another geometry after the chain's head (published later)
AOI_PIXELS = (10, 10, 190, 230)  # the SAR project's AOI (10 px inside its 200 x 240 scene) on the S2 grid


def _sar_items(folder) -> list[pystac.Item]:
    scenes = sim.all_scenes()  # its other-geometry scene is the latest before the claims' window: not a baseline
    scenes.append((OTHER, sim.DATES[2] + timedelta(days=1), sim.speckled(2, 999, geometry_gain=1.8), 45, "descending"))
    scenes.append((LATE_OTHER, sim.DATES[4] + timedelta(days=2), sim.speckled(4, 998, geometry_gain=1.8), 45,
                   "descending"))
    catalog = pystac.Catalog.from_file(str(sim.local_catalog(folder, scenes)))
    return [item.clone() for item in catalog.get_items()]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("sar-recheck")
    series = build_series(root / "project", aois={"sar-site": AOI_PIXELS}, claims=sim.CLAIMS)
    ground = synthetic.make_series(SHAPE, ((0.0, 0.0),), {})[0]
    series.add_scene(S2_CLEAR, synthetic.utc(2022, 3, 1), ground)
    row0, col0, row1, col1 = AOI_PIXELS  # cloud over the AOI, its margin clear (the read is not empty)
    series.add_clouded_scene(S2_CLOUDED, synthetic.utc(2022, 4, 20), (0.2, -0.3), (row0 - 2, col0 - 2, row1 + 2, col1 + 2),
                             upto=0)
    series.add_scene(S2_LATER, synthetic.utc(2022, 5, 1), synthetic.make_series(SHAPE, ((0.0, 0.0), (0.1, 0.2)), {})[1])
    sar = _sar_items(root / "sar")

    def publish(*s2_ids: str, late: bool = False) -> None:
        s1 = [i.clone() for i in sar if late or i.id != LATE_OTHER]
        synthetic.write_catalog(series.scenes_dir, [*(series.item(i) for i in s2_ids), *s1])

    publish(S2_CLEAR, S2_CLOUDED)
    return series, publish, root / "s.gpkg"


def _pairs(store, version: str) -> list[tuple]:
    with sqlite3.connect(store) as conn:
        return list(conn.execute("SELECT before_scene, after_scene, status, n_changes, run_id FROM pairs "
                                 "WHERE algorithm_version = ? ORDER BY fid", (version,)))


def test_clouded_site_is_rechecked_on_sentinel1(project, geo_cli):
    series, publish, store = project
    first = geo_cli(*series.args(store, "--aoi", "sar-site", "--json"), cwd=store.parent)
    assert first.returncode == 0, first.stderr[-3000:]
    summary = json.loads(first.stdout)
    assert summary["run_id"] == 1 and summary["failed_aois"] == []

    # Sentinel-2: the clouded pair is recorded as skipped; the chain stays at its baseline.
    assert _pairs(store, ALGORITHM_VERSION) == [(S2_CLEAR, S2_CLOUDED, "skipped", 0, 1)]
    s2, s1 = summary["aois"]
    assert (s2["aoi_id"], s2["sensor"], s2["head_scene"]) == ("sar-site", "s2", S2_CLEAR)
    assert s2["pairs"][0]["reason"].startswith("only 0% of the AOI clear on both dates")

    # Sentinel-1: a chain of its own from the same baseline date, on one orbit geometry (the other one seen only).
    assert (s1["aoi_id"], s1["sensor"], s1["algorithm_version"]) == ("sar-site", "s1", SAR_VERSION)
    assert s1["baseline_scene"] == S1_IDS[0] and s1["head_scene"] == S1_IDS[4]
    assert s1["baseline_reason"].endswith("the nearest whose orbit geometry has the most later scenes to pair with")
    assert {OTHER, sim.OTHER_ID} <= set(s1["new_scenes"])
    pairs = _pairs(store, SAR_VERSION)
    assert [(b, a, s) for b, a, s, _, _ in pairs] == [(S1_IDS[i], S1_IDS[i + 1], "done") for i in range(4)]
    n_changes = [n for *_, n, _ in pairs]
    # the structures and their removal appear on the fourth date, the ship on the fifth; speckle-only
    # pairs stay near the test's false-alarm rate (no region of 8 px or more)
    assert n_changes[0] == n_changes[1] == 0 and n_changes[2] >= 2 and n_changes[3] >= 1, n_changes
    types = sorted(t for p in s1["pairs"] for t in p["change_types"])
    assert {"new_bright_surface", "darkening"} <= set(types), types
    with sqlite3.connect(store) as conn:
        stored = conn.execute("SELECT count(*) FROM changes WHERE algorithm_version = ?", (SAR_VERSION,)).fetchone()[0]
    assert stored == sum(n_changes) == summary["n_new_changes"]

    # The window verdicts name the sensor that judged them.
    verdicts = {(v["claim_id"], v["sensor"]): v for v in summary["verdicts"] if v["kind"] == "window"}
    assert set(verdicts) == {("sar-build", "s1"), ("sar-denial", "s1")}
    assert verdicts["sar-build", "s1"]["verdict"] == "consistent with the claim"
    assert verdicts["sar-denial", "s1"]["verdict"] == "inconsistent with the denial"
    assert all(v["algorithm_version"] == SAR_VERSION for v in verdicts.values())
    with sqlite3.connect(store) as conn:
        rows = conn.execute("SELECT claim_id, algorithm_version FROM verdicts WHERE kind = 'window' "
                            "ORDER BY claim_id").fetchall()
    assert rows == [("sar-build", SAR_VERSION), ("sar-denial", SAR_VERSION)]

    # A second re-check with nothing new: no run, nothing written, decided without the processing path.
    rows_before = dump_store(store)
    second = geo_cli(*series.args(store, "--aoi", "sar-site", "--json"), cwd=store.parent, env=PROFILE)
    assert second.returncode == 0, second.stderr[-3000:]
    assert json.loads(second.stdout)["run_id"] is None
    assert dump_store(store) == rows_before
    assert_light(imported_modules(second.stderr))

    # A clear Sentinel-2 scene later: the Sentinel-2 chain goes around the clouded scene; Sentinel-1 has nothing new.
    publish(S2_CLEAR, S2_CLOUDED, S2_LATER)
    third = geo_cli(*series.args(store, "--aoi", "sar-site", "--json"), cwd=store.parent)
    assert third.returncode == 0, third.stderr[-3000:]
    summary = json.loads(third.stdout)
    assert summary["run_id"] == 2
    assert [(e["sensor"], e["head_scene"]) for e in summary["aois"]] == [("s2", S2_LATER)]
    assert _pairs(store, ALGORITHM_VERSION) == [(S2_CLEAR, S2_CLOUDED, "skipped", 0, 1),
                                                (S2_CLEAR, S2_LATER, "done", 0, 2)]
    assert [p[4] for p in _pairs(store, SAR_VERSION)] == [1, 1, 1, 1]

    # A Sentinel-1 scene on another orbit geometry after the head: recorded as seen, never paired; then quiet.
    publish(S2_CLEAR, S2_CLOUDED, S2_LATER, late=True)
    fourth = geo_cli(*series.args(store, "--aoi", "sar-site", "--json"), cwd=store.parent)
    assert fourth.returncode == 0, fourth.stderr[-3000:]
    summary = json.loads(fourth.stdout)
    assert [(e["sensor"], e["new_scenes"], e["pairs"], e["head_scene"]) for e in summary["aois"]] == [
        ("s2", [], [], S2_LATER), ("s1", [LATE_OTHER], [], S1_IDS[4])]
    assert len(_pairs(store, SAR_VERSION)) == 4
    rows_before = dump_store(store)
    fifth = geo_cli(*series.args(store, "--aoi", "sar-site", "--json"), cwd=store.parent, env=PROFILE)
    assert fifth.returncode == 0 and json.loads(fifth.stdout)["run_id"] is None, fifth.stderr[-3000:]
    assert dump_store(store) == rows_before
    assert_light(imported_modules(fifth.stderr))


def test_sensor_s2_keeps_to_sentinel2(project, geo_cli, tmp_path):
    """``--sensor s2``: the clouded site gets no Sentinel-1 chain."""
    series, publish, _ = project
    publish(S2_CLEAR, S2_CLOUDED)
    store = tmp_path / "s2.gpkg"
    result = geo_cli(*series.args(store, "--aoi", "sar-site", "--json", "--sensor", "s2"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert [(e["sensor"], e["pairs"][0]["status"]) for e in summary["aois"]] == [("s2", "skipped")]
    assert _pairs(store, SAR_VERSION) == [] and summary["verdicts"] == []
    assert np.isclose(summary["aois"][0]["pairs"][0]["clear_fraction"], 0.0)


def test_sensor_both_runs_sentinel1_beside_a_clear_sentinel2_chain(project, geo_cli, tmp_path):
    """``--sensor both``: a Sentinel-1 chain from the first re-check, though Sentinel-2 is clear; the text
    report names the Sentinel-1 chain and its verdicts."""
    series, publish, _ = project
    publish(S2_CLEAR, S2_LATER)
    store = tmp_path / "both.gpkg"
    result = geo_cli(*series.args(store, "--aoi", "sar-site", "--sensor", "both"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert _pairs(store, ALGORITHM_VERSION) == [(S2_CLEAR, S2_LATER, "done", 0, 1)]
    assert [(b, a, s) for b, a, s, _, _ in _pairs(store, SAR_VERSION)] == [
        (S1_IDS[i], S1_IDS[i + 1], "done") for i in range(4)]
    lines = result.stdout.splitlines()
    assert any(line.strip().startswith(f"sar-site (Sentinel-1): baseline {S1_IDS[0]}; 4 pairs") for line in lines), lines
    assert any("claim sar-build on sar-site (Sentinel-1): consistent with the claim" in line for line in lines), lines


def test_a_single_polarisation_scene_continues_the_chain(tmp_path, geo_cli):
    """The fourth date published with VV only (a single-pol acquisition, or an item whose VH the archive lost):
    its pairs are tested on the polarisation both dates have, VV, and the structures built on that date are
    still found (the pair failed, 'a pair needs the same polarisations': the AOI in failed_aois, exit 4)."""
    series = build_series(tmp_path / "project", aois={"sar-site": AOI_PIXELS}, claims=sim.CLAIMS)
    series.add_scene(S2_CLEAR, synthetic.utc(2022, 3, 1), synthetic.make_series(SHAPE, ((0.0, 0.0),), {})[0])
    sar = _sar_items(tmp_path / "sar")
    for item in sar:
        if item.id == S1_IDS[3]:
            del item.assets["vh"]
    synthetic.write_catalog(series.scenes_dir, [series.item(S2_CLEAR), *(i for i in sar if i.id != LATE_OTHER)])
    store = tmp_path / "s.gpkg"
    result = geo_cli(*series.args(store, "--aoi", "sar-site", "--sensor", "both", "--json"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["failed_aois"] == []
    pairs = _pairs(store, SAR_VERSION)
    assert [(b, a, s) for b, a, s, _, _ in pairs] == [(S1_IDS[i], S1_IDS[i + 1], "done") for i in range(4)]
    n_changes = [n for *_, n, _ in pairs]
    assert n_changes[0] == n_changes[1] == 0 and n_changes[2] >= 2 and n_changes[3] >= 1, n_changes


def _declared(qlr) -> list[str]:
    """The fields a ``changes.qlr`` declares (``<expressionfields>``): those its GeoJSON's features do not have."""
    return re.findall(r'<field name="([^"]+)" expression="NULL"', qlr.read_text())


def test_a_recheck_keeps_what_sentinel1_adds_to_a_change(tmp_path, geo_cli):
    """The store's changes and a run's files have the attributes a Sentinel-1 pair adds to the contract's (backscatter,
    dB change per polarisation, water share), as ``geo run --sensor s1`` writes them for the same pair; on main the
    store dropped them, and a re-check's changes.geojson had the contract's alone. A run whose Sentinel-1 pairs
    found nothing declares them in its changes.qlr, as one with changes has them."""
    from geo.vector.sensor_columns import sar_columns

    series = build_series(tmp_path / "project", aois={"sar-site": AOI_PIXELS}, claims=sim.CLAIMS)
    series.add_scene(S2_CLEAR, synthetic.utc(2022, 3, 1), synthetic.make_series(SHAPE, ((0.0, 0.0),), {})[0])
    sar = [i for i in _sar_items(tmp_path / "sar") if i.id in S1_IDS]
    store, out = tmp_path / "s.gpkg", tmp_path / "s-outputs" / "runs"
    columns = list(sar_columns(("vv", "vh"), dated=False))
    assert columns == ["sensor", "backscatter", "db_change_vv", "db_change_vh", "water_share"]

    synthetic.write_catalog(series.scenes_dir, [series.item(S2_CLEAR), *sar[:3]])  # speckle only: no change
    quiet = geo_cli(*series.args(store, "--aoi", "sar-site", "--sensor", "both", "--json"), cwd=tmp_path)
    assert quiet.returncode == 0 and json.loads(quiet.stdout)["n_new_changes"] == 0, quiet.stderr[-3000:]
    declared = _declared(out / "000001" / "changes.qlr")
    assert declared[:3] == ["change_id", "aoi_id", "claim_ids"] and declared[-len(columns):] == columns, declared

    synthetic.write_catalog(series.scenes_dir, [series.item(S2_CLEAR), *sar])
    busy = geo_cli(*series.args(store, "--aoi", "sar-site", "--sensor", "both", "--json"), cwd=tmp_path)
    assert busy.returncode == 0, busy.stderr[-3000:]
    rechecked = {f["properties"]["change_id"]: f["properties"]
                 for f in json.loads((out / "000002" / "changes.geojson").read_text())["features"]}
    assert len(rechecked) >= 3 and _declared(out / "000002" / "changes.qlr") == []
    run = geo_cli("run", "--aoi", "sar-site", "--sensor", "s1", "--before", S1_IDS[2], "--after", S1_IDS[3],
                  "--source", str(series.catalog), "--aoi-dir", str(series.aoi_dir), "--seeds-dir",
                  str(series.seeds_dir), "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    direct = {f["properties"]["change_id"]: f["properties"]
              for f in json.loads((tmp_path / "run" / "changes.geojson").read_text())["features"]}
    assert len(direct) >= 2 and set(direct) <= set(rechecked)
    for change_id, properties in direct.items():
        assert list(properties)[-len(columns):] == columns
        # claim_ids aside: the re-check's window verdicts link the changes they count, which this pair alone does
        # not (it brackets no claim's window: `geo run` links none)
        assert {k: rechecked[change_id][k] for k in properties if k != "claim_ids"} == {
            k: v for k, v in properties.items() if k != "claim_ids"}, change_id
        assert set(properties["claim_ids"]) <= set(rechecked[change_id]["claim_ids"])
    with sqlite3.connect(store) as conn:
        stored = conn.execute("SELECT count(*), count(DISTINCT sensor), min(db_change_vh) < 0 < max(db_change_vh) "
                              "FROM changes WHERE algorithm_version = ?", (SAR_VERSION,)).fetchone()
    assert stored == (len(rechecked), 1, 1)
