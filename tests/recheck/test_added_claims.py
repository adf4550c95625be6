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
    assert result.stdout.startswith(f"run {runs_before + 1}: 0 new pairs, 0 new changes"), result.stdout
    assert "claim c-build on site-c: consistent with the claim (" in result.stdout, result.stdout  # its first verdict
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
    assert again.returncode == 0 and again.stdout.startswith("nothing new: 4 AOIs checked"), again.stdout


def test_a_claim_added_whose_window_the_chain_has_not_reached_waits(first_run, geo_cli):
    series, store = first_run
    (series.seeds_dir / "claims.toml").write_text(CLAIMS + C_BUILD.replace("2021-03-05", "2021-08-01")
                                                  .replace("2021-03-25", "2021-08-20"))
    result = geo_cli(*series.args(store))
    assert result.returncode == 0 and result.stdout.startswith("nothing new: 4 AOIs checked"), result.stdout
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT count(*) FROM verdicts WHERE claim_id = 'c-build'").fetchone() == (0,)


A_WINDOW = 'id = "a-build"\nclaimant = "test"\nstatement = "Roofs went up on site A in March."\ndate_stated = 2021-04-20\nstance = "assert"\naoi_ids = ["site-a"]\nwindow = { start = 2021-03-05, end = 2021-03-25 }\nsignatures = ["new_construction"]'


def _latest_window(store) -> tuple:
    with sqlite3.connect(store) as db:
        return db.execute("SELECT before_scene, after_scene, verdict FROM verdicts WHERE kind = 'window' "
                          "AND claim_id = 'a-build' ORDER BY fid DESC LIMIT 1").fetchone()


def test_a_claim_edited_is_judged_again_as_it_now_reads(first_run, geo_cli):
    """The analyst corrects a claim: its verdict follows the claim as it now reads, without waiting for a new
    scene (the store kept the verdict of the claim as first written, cron saying "nothing new")."""
    series, store = first_run
    assert A_WINDOW in CLAIMS
    seeds = series.seeds_dir / "claims.toml"
    # the roofs of site A: one from 2021-04-01 (judged over March), one from 2021-05-01
    seeds.write_text(CLAIMS.replace(A_WINDOW, A_WINDOW.replace("2021-03-05", "2021-04-05")
                                    .replace("2021-03-25", "2021-04-25")))
    april = geo_cli(*series.args(store))
    assert april.returncode == 0 and "run 2: 0 new pairs" in april.stdout, april.stdout + april.stderr
    assert _latest_window(store) == ("S2A_SYN_20210401", "S2A_SYN_20210501", "consistent with the claim")
    with sqlite3.connect(store) as db:  # QGIS's changes of the claim: April's roof, no longer March's
        assert db.execute("SELECT after_scene FROM changes WHERE claim_ids LIKE '%\"a-build\"%'").fetchall() == [
            ("S2A_SYN_20210501",)]
    # a claim no roof went up for: no evidence, on the same segment as before (judged again, not kept)
    seeds.write_text(CLAIMS.replace(A_WINDOW, A_WINDOW.replace('"new_construction"', '"earthworks"')))
    earthworks = geo_cli(*series.args(store))
    assert earthworks.returncode == 0 and "run 3: 0 new pairs" in earthworks.stdout, earthworks.stdout
    assert "claim a-build on site-a: no evidence found (was consistent with the claim)" in earthworks.stdout
    assert _latest_window(store) == ("S2A_SYN_20210301", "S2A_SYN_20210401", "no evidence found")
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT signatures FROM claims WHERE claim_id = 'a-build'").fetchone() == ('["earthworks"]',)
    again = geo_cli(*series.args(store))  # judged as it reads: nothing new, on the quick path
    assert again.returncode == 0 and again.stdout.startswith("nothing new: 4 AOIs checked"), again.stdout
    # a statement reworded changes no verdict: no run for it
    seeds.write_text(CLAIMS.replace(A_WINDOW, A_WINDOW.replace('"new_construction"', '"earthworks"'))
                     .replace("Roofs went up on site A in March.", "Roofs rose on site A in March."))
    reworded = geo_cli(*series.args(store))
    assert reworded.returncode == 0 and reworded.stdout.startswith("nothing new: 4 AOIs checked"), reworded.stdout


DENIAL = ('\n[[claim]]\nid = "a-denied"\nclaimant = "test"\nstatement = "Nothing was built on site A in March."\n'
          'date_stated = 2021-04-21\nstance = "deny"\ndenies = ["a-build"]\naoi_ids = ["site-a"]\n'
          'window = { start = 2021-03-05, end = 2021-03-25 }\nsignatures = ["new_construction"]\n')


def _latest(store, claim_id: str) -> str:
    with sqlite3.connect(store) as db:
        return db.execute("SELECT verdict FROM verdicts WHERE kind = 'window' AND claim_id = ? ORDER BY fid DESC "
                          "LIMIT 1", (claim_id,)).fetchone()[0]


def test_a_denial_is_judged_again_when_the_claim_it_denies_is_edited(first_run, geo_cli):
    """A denial's verdict is read against the claim it denies ("inconsistent with the denial" when that claim's
    changes are there): the denied claim corrected, the denial kept the verdict read against the claim as first
    written."""
    series, store = first_run
    seeds = series.seeds_dir / "claims.toml"
    seeds.write_text(CLAIMS + DENIAL)
    added = geo_cli(*series.args(store))
    assert added.returncode == 0, added.stdout + added.stderr
    assert _latest(store, "a-denied") == "inconsistent with the denial"
    seeds.write_text(CLAIMS.replace(A_WINDOW, A_WINDOW.replace('"new_construction"', '"earthworks"')) + DENIAL)
    edited = geo_cli(*series.args(store))
    assert edited.returncode == 0, edited.stdout + edited.stderr
    assert _latest(store, "a-build") == "no evidence found"
    assert _latest(store, "a-denied") != "inconsistent with the denial", edited.stdout
    assert "claim a-denied on site-a: " in edited.stdout and "(was inconsistent with the denial)" in edited.stdout


def test_a_claim_edited_past_the_chain_head_has_its_verdict_withdrawn(first_run, geo_cli):
    """A claim corrected to a window the chain has not reached kept the verdict of its old window (QGIS and the
    summaries read March's roof as evidence for a claim now about June): that verdict is withdrawn, said as
    news, and the claim waits for the scenes that cover its new window."""
    series, store = first_run
    assert _latest(store, "a-build") == "consistent with the claim"
    seeds = series.seeds_dir / "claims.toml"
    seeds.write_text(CLAIMS.replace(A_WINDOW, A_WINDOW.replace("2021-03-05", "2021-05-10")
                                    .replace("2021-03-25", "2021-05-25")))
    moved = geo_cli(*series.args(store))
    assert moved.returncode == 0 and "run 2: 0 new pairs" in moved.stdout, moved.stdout + moved.stderr
    assert "claim a-build on site-a: not tested (was consistent with the claim)" in moved.stdout, moved.stdout
    assert "past the newest scene (S2A_SYN_20210501" in moved.stdout, moved.stdout
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT count(*) FROM verdicts WHERE kind = 'window' AND claim_id = 'a-build'"
                          ).fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM changes WHERE claim_ids LIKE '%\"a-build\"%'").fetchone() == (0,)
        assert db.execute("SELECT window_start FROM claims WHERE claim_id = 'a-build'").fetchone() == ("2021-05-10",)
    summary = json.loads((store.parent / "s-outputs" / "latest.json").read_text())
    assert [(n["claim_id"], n["verdict"], n["previous_verdict"], n["changed"]) for n in summary["verdicts"]] == [
        ("a-build", "not tested", "consistent with the claim", True)]
    again = geo_cli(*series.args(store))  # withdrawn once: nothing new until June's scene
    assert again.returncode == 0 and again.stdout.startswith("nothing new: 4 AOIs checked"), again.stdout
    series.publish(4)  # June's scene: the new window (no roof on site A in May) judged, its first verdict
    june = geo_cli(*series.args(store))
    assert june.returncode == 0, june.stdout + june.stderr
    assert _latest(store, "a-build") == "no evidence found"
    assert "claim a-build on site-a: no evidence found (first verdict)" in june.stdout, june.stdout
