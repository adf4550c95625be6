"""``geo recheck`` of a port whose Sentinel-1 archive holds a few EW passes among IW ones (the synthetic port of
tests/vessels/port.py, four of its ten baseline dates marked EW and block-averaged to 40 m as in
tests/flows/test_vessel_modes.py). ``geo vessels`` tests each mode against a baseline of its own; the re-check's
store kept no mode, so its one series mixed them: the four EW dates (8-16 'ships' each) raised the baseline and the
busy IW window (9 ships a date) came out "no evidence found". Now the store keeps each count's mode and the re-check
judges as ``geo vessels`` does."""

from __future__ import annotations

import json
import sqlite3

from geo.link import CONSISTENT
from tests.flows.test_vessel_modes import in_modes

EARLY_EW = {f"S1A_TEST_202104{d:02d}" for d in (1, 7, 13, 19)}


def test_a_recheck_tests_an_iw_window_against_iw_dates_alone(user, port_project, tmp_path):
    catalog = in_modes(port_project.catalog, tmp_path / "modes", lambda s: s.id in EARLY_EW)
    result = user("recheck", "--aoi", "test-port", "--source", str(catalog), "--aoi-dir", str(port_project.aoi_dir),
                  "--seeds-dir", str(port_project.seeds_dir), "--store", "port.gpkg")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.output
    entry, = json.loads((user.home / "port-outputs/runs/000001/summary.json").read_text())["aois"]
    evidence = {e["claim_id"]: e for e in entry["vessels"]["evidence"]}
    assert evidence["test-ships"]["verdict"] == CONSISTENT, result.stdout  # was: no evidence found (p = 0.581)
    assert evidence["test-ships"]["tests"] == ["s1 IW", "s1 IW at berth"]
    assert entry["vessels"]["series"] == {"s1 EW": 4, "s1 IW": 8}
    assert "vessels counted on 12 new scenes; series of 12 dates (s1 EW 4, s1 IW 8)" in result.stdout, result.stdout

    with sqlite3.connect(user.home / "port.gpkg") as conn:
        modes = dict(conn.execute("SELECT scene_id, instrument_mode FROM vessel_series"))
        details = {claim: json.loads(d) for claim, d in conn.execute(
            "SELECT claim_id, details FROM verdicts WHERE kind = 'vessels'")}
    assert sorted(s for s, m in modes.items() if m == "EW") == sorted(EARLY_EW)
    assert len(modes) == 12 and {m for s, m in modes.items() if s not in EARLY_EW} == {"IW"}

    ships = details["test-ships"]
    assert ships["verdict"] == CONSISTENT and set(ships["tests"]) == {"s1 IW", "s1 IW at berth"}, ships["rationale"]
    test = ships["tests"]["s1 IW"]
    assert len(test["baseline"]) == 6 and len(test["window"]) == 2 and ships["p_value"] < 0.05, test
    assert (f"4 s1 EW scenes left out ({', '.join(sorted(EARLY_EW))}): instrument mode EW is not compared with "
            "s1 IW") in ships["rationale"], ships["rationale"]
