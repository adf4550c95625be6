"""Window verdicts are re-judged only for the claims whose chain segment a new pair touches (or that were
never judged): the verdict of a claim whose window lies elsewhere cannot differ, so it is neither judged
again nor written again."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timezone

from shapely.geometry import box

import geo.recheck.window_verdicts as window_module
from geo.aoi import AOI
from geo.claims import claim_from_table
from geo.store import PairRow, SceneRef
from geo.recheck.run import recheck
from tests.recheck.conftest import SCENE_IDS, build_series, request


def verdict_rows(store) -> list[tuple]:
    with sqlite3.connect(store) as conn:
        return list(conn.execute("SELECT aoi_id, claim_id, before_scene, after_scene, verdict, run_id FROM verdicts "
                                 "WHERE kind = 'window' ORDER BY fid"))


def judging_spy(monkeypatch) -> list[tuple[str, ...]]:
    """Records, per call of the verdict rules in a window verdict, the claims judged (the claim first)."""
    calls: list[tuple[str, ...]] = []
    rules = window_module.verdicts

    def spy(claims, features, context):
        calls.append(tuple(c.id for c in claims))
        return rules(claims, features, context)

    monkeypatch.setattr(window_module, "verdicts", spy)
    return calls


def test_only_claims_whose_window_a_new_pair_touches_are_judged(first_run, monkeypatch):
    series, store = first_run  # run 1 judged a-build and b-build (March windows) over S0 -> S1
    before = verdict_rows(store)
    assert [r[1:4] for r in before] == [("a-build", SCENE_IDS[0], SCENE_IDS[1]),
                                        ("b-build", SCENE_IDS[0], SCENE_IDS[1])]
    judged = judging_spy(monkeypatch)
    series.publish(4)  # a new pair S2 -> S3 on every site; only d-build's window (10-25 May) lies on it
    report = recheck(request(series, store))
    assert report.summary["n_pairs"] == 4
    assert judged == [("d-build",)]  # a-build and b-build: no work at all
    after = verdict_rows(store)
    assert after[:2] == before  # and no new rows for them
    assert [r[1:] for r in after[2:]] == [("d-build", SCENE_IDS[2], SCENE_IDS[3], "consistent with the claim", 2)]


DENIAL = """
[[claim]]
id = "a-denied"
claimant = "test"
statement = "Nothing was built on site A in March."
date_stated = 2021-04-21
stance = "deny"
denies = ["a-build"]
aoi_ids = ["site-a"]
window = { start = 2021-03-05, end = 2021-03-25 }
signatures = ["new_construction"]
"""


def test_a_claim_never_judged_is_judged_with_the_claims_it_denies(tmp_path, monkeypatch):
    """A claim added to the seeds after its window was passed by the chain is judged at the AOI's next new
    pair (its segment has no verdict yet), together with the claim it denies, whose own verdict is not
    judged again."""
    from tests.recheck.conftest import CLAIMS

    series = build_series(tmp_path / "project")
    series.publish(2)
    store = tmp_path / "s.gpkg"
    recheck(request(series, store, aoi_refs=("site-a",)))
    (series.seeds_dir / "claims.toml").write_text(CLAIMS + DENIAL)
    judged = judging_spy(monkeypatch)
    series.publish(3)
    recheck(request(series, store, aoi_refs=("site-a",)))
    assert judged == [("a-denied", "a-build")]
    assert [r[1:5] for r in verdict_rows(store)] == [
        ("a-build", SCENE_IDS[0], SCENE_IDS[1], "consistent with the claim"),
        ("a-denied", SCENE_IDS[0], SCENE_IDS[1], "inconsistent with the denial")]



def test_the_segment_starts_at_the_last_scene_before_the_window_in_its_local_days():
    """Over Vladivostok (mean solar UTC+08:48) the pass at 20:30 UTC on 31 March, the window's first day in
    UTC, was taken on 1 April there: inside the window, so the segment starts a scene earlier (on main it
    started at it, and a change of the window's first day there was left out)."""
    aoi = AOI("vlad", "Vladivostok", "RU", "port", box(131.85, 43.08, 131.95, 43.13), "test")
    table = {"id": "arrival", "claimant": "x", "statement": "y", "date_stated": date(2021, 7, 1), "aoi_ids": ["vlad"],
             "signatures": ["new_construction"], "window": {"start": date(2021, 3, 31), "end": date(2021, 5, 20)}}
    a, b, c = (SceneRef(f"S{m}{d}", datetime(2021, m, d, 20, 30, tzinfo=timezone.utc))
               for m, d in ((3, 25), (3, 31), (5, 30)))
    chain = [PairRow(a, b, "done", 0.9, 1, (0.0, 0.0)), PairRow(b, c, "done", 0.9, 2, (0.0, 0.0))]
    assert window_module.segment(chain, claim_from_table(table, {"title": "t"}, "t"), aoi) == (0, 2)
    in_utc = claim_from_table({**table, "time_zone": "UTC"}, {"title": "t"}, "t")
    assert window_module.segment(chain, in_utc, aoi) == (1, 2)


SPRING = """
[[claim]]
id = "a-spring"
claimant = "test"
statement = "Roofs went up on site A around the start of April."
date_stated = 2021-04-25
stance = "assert"
aoi_ids = ["site-a"]
window = { start = 2021-03-20, end = 2021-04-20 }
signatures = ["new_construction"]
"""


def claim_links(store) -> dict[tuple[str, str], list[str]]:
    with sqlite3.connect(store) as conn:
        return {(before, after): json.loads(ids) for before, after, ids in conn.execute(
            "SELECT before_scene, after_scene, claim_ids FROM changes ORDER BY fid")}


def test_a_window_verdict_links_the_changes_it_counts_to_its_claim(tmp_path):
    """A window holding a chain scene (20 March - 20 April; the scene of 1 April) is judged on the segment
    1 March -> 1 May: neither of its pairs brackets the window, so neither linked its roofs to the claim, yet
    the window verdict counts both; in QGIS the claim's "consistent" verdict stood beside no change of its own.
    Its changes are linked once the segment covers the window, those of an earlier run too."""
    from tests.recheck.conftest import CLAIMS

    series = build_series(tmp_path / "project", claims=CLAIMS + SPRING)
    series.publish(2)
    store = tmp_path / "s.gpkg"
    recheck(request(series, store, aoi_refs=("site-a",)))
    march, april, may = SCENE_IDS[:3]
    assert claim_links(store) == {(march, april): ["a-build"]}  # the window not covered yet: nothing to link

    series.publish(3)
    report = recheck(request(series, store, aoi_refs=("site-a",)))
    assert claim_links(store) == {(march, april): ["a-build", "a-spring"], (april, may): ["a-spring"]}
    spring = next(v for v in report.summary["verdicts"] if v["claim_id"] == "a-spring" and v["kind"] == "window")
    assert (spring["verdict"], spring["n_matching"], spring["covers_window"]) == ("consistent with the claim", 2, True)
    run_changes = json.loads((tmp_path / "s-outputs" / "runs" / "000002" / "changes.geojson").read_text())
    assert [f["properties"]["claim_ids"] for f in run_changes["features"]] == [["a-spring"]]
