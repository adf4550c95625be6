"""A re-check over scenes whose cloud could not be judged (L1C, no SCL: the demo's) called the share of the AOI it
saw "clear" in its claim-window verdicts, where `geo run` on the same pair says "seen (its cloud not judged ...)"."""

from __future__ import annotations

import json

from tests.flows.conftest import DRAWN_RING, registry_aoi

EARTHWORKS = """[[claim]]
id = "berms-2016"
claimant = "A report"
source = "A report, January 2017"
statement = "Berms were thrown up on the island in 2016."
date_stated = 2017-01-10
aoi_ids = ["harbour"]
window = { start = 2016-03-01, end = 2016-10-31 }
signatures = ["earthworks"]
"""


def test_a_window_verdict_says_the_cloud_was_not_judged_as_the_run_does(user):
    (user.home / "aoi").mkdir()
    (user.home / "seeds").mkdir()
    registry_aoi(user.home / "aoi" / "harbour.geojson", "harbour", "Harbour", DRAWN_RING)
    (user.home / "seeds" / "berms.toml").write_text(EARTHWORKS, encoding="utf-8")
    dirs = ("--aoi-dir", str(user.home / "aoi"), "--seeds-dir", str(user.home / "seeds"))
    ran = user("run", "--aoi", "harbour", "--source", "demo", "--out", "run", *dirs)
    assert ran.returncode == 0, ran.output
    (run_verdict,) = json.loads((user.home / "run" / "claims.json").read_text())
    rechecked = user("recheck", "--store", "store.gpkg", "--aoi", "harbour", "--source", "demo", "--since",
                     "2015-08-01", *dirs)
    assert rechecked.returncode == 0, rechecked.output
    # the terminal's line too, in `geo run`'s words ("clear fraction of AOI 100%" there when judged)
    assert "; 100% of the AOI seen; cloud not judged: no scene classification (SCL) on both scenes\n" in rechecked.stdout
    assert "cloud not judged: no scene classification (SCL) on both scenes" in ran.stdout
    summary = json.loads((user.home / "store-outputs" / "runs" / "000001" / "summary.json").read_text())
    windows = [v for v in summary["verdicts"] if v["claim_id"] == "berms-2016" and v.get("kind") == "window"]
    assert len(windows) == 1, summary["verdicts"]
    assert run_verdict["verdict"] == windows[0]["verdict"] == "no evidence found"
    assert "was seen (its cloud not judged: a scene without SCL) on both dates" in run_verdict["rationale"]
    assert windows[0]["rationale"] == run_verdict["rationale"], (windows[0]["rationale"], run_verdict["rationale"])
