"""A re-checked AOI partly outside the scenes: as ``geo run`` does (``test_partial_cover.py``), the window verdict's
rationale names the part outside the scenes, and the run's summary and the store record its share (window verdicts
over the stored pairs said nothing of it: the store's pairs did not record the scenes' nodata share)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.flows.conftest import DEMO_CATALOG, registry_aoi
from tests.flows.test_partial_cover import EAST, MY_CLAIM, OUTSIDE, WEST

NOTE = " 32% of the area lies outside the scenes and was not seen at all: nothing is known of that part."
BEFORE, AFTER = "S2A_30TXT_20150821_L1C_nantes", "S2_30TXT_20171014_L1C_nantes"


def test_a_window_verdict_names_the_part_of_the_aoi_outside_the_scenes(user):
    aoi_dir, seeds_dir = user.home / "aoi", user.home / "seeds"
    aoi_dir.mkdir()
    seeds_dir.mkdir()
    ring = [[WEST, 47.19], [EAST, 47.19], [EAST, 47.215], [WEST, 47.215], [WEST, 47.19]]
    registry_aoi(aoi_dir / "my-quay.geojson", "my-quay", "My quay", ring)
    (seeds_dir / "mine.toml").write_text(MY_CLAIM, encoding="utf-8")
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
