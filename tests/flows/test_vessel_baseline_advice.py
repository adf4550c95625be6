"""Too few dates before a ship claim's window: the advice was "start the period earlier", which `geo vessels`
does with --from but `geo run` and `geo recheck` cannot (they count from 180 days before the window, no option
moves it). The rationale now says where each starts."""

from __future__ import annotations

import json

SHIP_CLAIM = """
[document]
title = "ships at Nantes"

[[claim]]
id = "nantes-ships"
claimant = "a test"
statement = "Large ships berthed at Nantes in October 2017."
date_stated = 2017-10-31
stance = "assert"
aoi_ids = ["demo-nantes-port"]
window = { start = 2017-10-10, end = 2017-10-20 }
signatures = ["large_vessels_at_berth"]
"""
ADVICE = "start the period earlier (geo vessels --from; geo run and geo recheck count from 180 days before the window)"


def test_too_few_baseline_dates_says_how_each_command_starts_its_period(user):
    seeds = user.home / "seeds"
    seeds.mkdir()
    (seeds / "ships.toml").write_text(SHIP_CLAIM)
    run = user("run", "--aoi", "demo-nantes-port", "--source", "demo", "--seeds-dir", str(seeds),
               "--before", "2015-08-21", "--after", "2017-10-14", "--out", "r")
    assert run.returncode == 0, run.output
    [claim] = json.loads((user.home / "r" / "claims.json").read_text())
    assert claim["vessel_evidence"]["rationale"].endswith(f"mean solar time at the AOI): {ADVICE}"), claim
    vessels = user("vessels", "--aoi", "demo-nantes-port", "--source", "demo", "--seeds-dir", str(seeds),
                   "--from", "2017-06-01", "--to", "2017-12-31", "--out", "v")
    assert vessels.returncode == 0, vessels.output
    [evidence] = json.loads((user.home / "v" / "evidence.json").read_text())
    assert evidence["rationale"].endswith(ADVICE), evidence
