"""A claim added to the seeds after its AOI's chain already covers its window is judged by the next re-check,
over the stored chain, reading no pixels. It waited for the AOI's next new scene: cron's runs said "nothing new",
the store held no verdict for it, and an AOI that no clear scene reaches for weeks left it unjudged that long."""

from __future__ import annotations

import json
import sqlite3

from tests.recheck.conftest import CLAIMS
from tests.recheck.test_quick import C_BUILD as QUICK_C_BUILD

C_BUILD = QUICK_C_BUILD.format(aoi="site-c")


def test_a_claim_added_over_a_covered_window_is_judged_by_the_next_recheck(first_run, geo_cli):
    series, store = first_run
    with sqlite3.connect(store) as db:
        runs_before = db.execute("SELECT count(*) FROM runs").fetchone()[0]
    for raster in (series.scenes_dir / "data").rglob("*.tif"):  # judging reads the store, not the scenes
        raster.unlink()
    (series.seeds_dir / "claims.toml").write_text(CLAIMS + C_BUILD)
    result = geo_cli(*series.args(store), env={"TZ": "Asia/Pyongyang"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"run {runs_before + 1}: 0 new pair(s), 0 new change(s)"), result.stdout
    assert "claim c-build on site-c: consistent with the claim (was none)" in result.stdout, result.stdout
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT verdict, before_scene, after_scene, covers_window FROM verdicts "
                          "WHERE kind = 'window' AND claim_id = 'c-build'").fetchall()
        linked = db.execute("SELECT count(*) FROM changes WHERE aoi_id = 'site-c' AND claim_ids LIKE '%c-build%'"
                            ).fetchone()[0]
        stored = db.execute("SELECT claim_id FROM claims WHERE claim_id = 'c-build'").fetchall()
    # site-c's roof appears on 2021-04-01: the segment 03-01 -> 04-01 covers the window
    assert rows == [("consistent with the claim", "S2A_SYN_20210301", "S2A_SYN_20210401", 1)]
    assert linked == 1 and stored == [("c-build",)]
    summary = json.loads((store.parent / "s-outputs" / "latest.json").read_text())
    assert [(n["claim_id"], n["verdict"], n["changed"]) for n in summary["verdicts"]] == [
        ("c-build", "consistent with the claim", True)]
    assert [e["pairs"] for e in summary["aois"]] == [[], [], [], []]
    again = geo_cli(*series.args(store))  # judged once: the next run has nothing new, on the quick path
    assert again.returncode == 0 and again.stdout.startswith("nothing new: 4 AOI(s) checked"), again.stdout


def test_a_claim_added_whose_window_the_chain_has_not_reached_waits(first_run, geo_cli):
    series, store = first_run
    (series.seeds_dir / "claims.toml").write_text(CLAIMS + C_BUILD.replace("2021-03-05", "2021-08-01")
                                                  .replace("2021-03-25", "2021-08-20"))
    result = geo_cli(*series.args(store))
    assert result.returncode == 0 and result.stdout.startswith("nothing new: 4 AOI(s) checked"), result.stdout
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT count(*) FROM verdicts WHERE claim_id = 'c-build'").fetchone() == (0,)
