"""A re-checked AOI partly outside the scenes: as ``geo run`` does (``test_partial_cover.py``), the window verdict's
rationale names the part outside the scenes, and the run's summary and the store record its share (window verdicts
over the stored pairs said nothing of it: the store's pairs did not record the scenes' nodata share)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.flows.conftest import DEMO_CATALOG, DRAWN_RING, drawn_aoi
from tests.flows.test_partial_cover import OUTSIDE, QUAY_RING, my_quay_project

NOTE = " 32% of the area lies outside the scenes and was not seen at all: nothing is known of that part."
BEFORE, AFTER = "S2A_30TXT_20150821_L1C_nantes", "S2_30TXT_20171014_L1C_nantes"


def test_a_window_verdict_names_the_part_of_the_aoi_outside_the_scenes(user):
    aoi_dir, seeds_dir = my_quay_project(user.home)
    result = user("recheck", "--store", "store.gpkg", "--aoi", "my-quay", "--source", str(DEMO_CATALOG),
                  "--since", "2015-08-01", "--aoi-dir", str(aoi_dir), "--seeds-dir", str(seeds_dir), "--json")
    assert result.returncode == 0, result.output
    summary = json.loads(result.stdout)

    pair, = summary["aois"][0]["pairs"]
    assert (pair["before_scene"], pair["after_scene"], pair["status"]) == (BEFORE, AFTER, "done")
    assert pair["clear_fraction"] == pytest.approx(1 - OUTSIDE, abs=0.01)
    assert pair["outside_fraction"] == pytest.approx(OUTSIDE, abs=0.005)
    window, = [v for v in summary["verdicts"] if v["kind"] == "window"]
    assert window["verdict"] == "consistent with the claim"
    assert window["clear_fraction"] == pytest.approx(1 - OUTSIDE, abs=0.01)
    assert window["outside_fraction"] == pytest.approx(OUTSIDE, abs=0.005)
    assert window["rationale"].endswith(NOTE)

    with sqlite3.connect(user.home / "store.gpkg") as conn:
        shares, = conn.execute("SELECT before_nodata_fraction, after_nodata_fraction FROM pairs").fetchall()
        rationales = dict(conn.execute("SELECT kind, rationale FROM verdicts").fetchall())
    assert shares == pytest.approx((OUTSIDE, OUTSIDE), abs=0.005)
    assert rationales["window"] == window["rationale"]
    assert rationales["pair"].endswith(NOTE)  # the pair's own verdict, as geo run's


def test_the_terminal_line_of_a_re_checked_aoi_names_the_part_outside_the_scenes(user):
    """``geo recheck``'s line per AOI says what ``geo run``'s summary says (it said nothing of the AOI's cover
    outside a changed verdict's rationale)."""
    drawn_aoi(user.home / "quay.geojson", [QUAY_RING])
    result = user("recheck", "--store", "store.gpkg", "--aoi", "quay.geojson", "--source", str(DEMO_CATALOG),
                  "--since", "2015-08-01")
    assert result.returncode == 0, result.output
    line, = [line for line in result.stdout.splitlines() if line.startswith("  quay:")]
    n_changes = len(json.loads((user.home / "store-outputs" / "runs" / "000001" / "changes.geojson").read_text())[
        "features"])
    assert n_changes > 0
    assert line == (f"  quay: baseline {BEFORE}; 1 pair, {n_changes} change{'' if n_changes == 1 else 's'}; head {AFTER}; "
                    "68% of the AOI seen; 32% outside the scenes; cloud not judged: no scene classification (SCL) on "
                    "both scenes")  # the demo's L1C scenes: geo run's words
    summary = json.loads((user.home / "store-outputs" / "latest.json").read_text())
    assert summary["aois"][0]["pairs"][0]["outside_fraction"] == pytest.approx(OUTSIDE, abs=0.005)


def test_a_re_checked_aoi_inside_the_scenes_reads_as_before(user):
    """No share outside the scenes, no words of it; ``--source demo`` names the shipped scenes as for ``geo run``
    (it was refused: "scene source 'demo' is neither ...")."""
    drawn_aoi(user.home / "inside.geojson", [DRAWN_RING])
    result = user("recheck", "--store", "store.gpkg", "--aoi", "inside.geojson", "--source", "demo",
                  "--since", "2015-08-01")
    assert result.returncode == 0, result.output
    line, = [line for line in result.stdout.splitlines() if line.startswith("  inside:")]
    # the demo's L1C scenes: their cloud not judged, said as geo run says it
    assert line.endswith(f"; head {AFTER}; 100% of the AOI seen; cloud not judged: no scene classification (SCL) on "
                         "both scenes") and "outside" not in result.stdout, line
