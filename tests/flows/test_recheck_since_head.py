"""``geo recheck --since DATE`` earlier than an existing chain's head: by design the chain goes on from its head
(README), but the run took the date and said nothing, as if it had gone back to it. Now one line says so, naming the
AOI, its head scene's date, that --since applies to AOIs new to the store, and how to start over; a run without
--since (a cron line's) says nothing of it."""

from __future__ import annotations

import json


def test_a_since_before_the_head_is_said_once(user):
    first = user("recheck", "--store", "watch.gpkg", "--aoi", "demo-nantes-port", "--source", "demo")
    assert first.returncode == 0, first.output
    assert "--since" not in first.output

    again = user("recheck", "--store", "watch.gpkg", "--aoi", "demo-nantes-port", "--source", "demo",
                 "--since", "2016-01-01")
    assert again.returncode == 0, again.output
    notes = [line for line in again.output.splitlines() if "--since" in line]
    assert len(notes) == 1, again.output
    assert ("--since 2016-01-01 applies only to AOIs new to the store: demo-nantes-port goes on from its head scene "
            "of 2017-10-14" in notes[0]), notes[0]
    assert "new --store" in notes[0], notes[0]

    quiet = user("recheck", "--store", "watch.gpkg", "--aoi", "demo-nantes-port", "--source", "demo")
    assert quiet.returncode == 0 and "--since" not in quiet.output, quiet.output

    later = user("recheck", "--store", "watch.gpkg", "--aoi", "demo-nantes-port", "--source", "demo",
                 "--since", "2018-01-01")  # after the head: it applies (scenes before it are ignored), nothing to say
    assert later.returncode == 0 and "--since" not in later.output, later.output

    as_json = user("recheck", "--store", "watch.gpkg", "--aoi", "demo-nantes-port", "--source", "demo",
                   "--since", "2016-01-01", "--json")
    assert as_json.returncode == 0, as_json.output
    json.loads(as_json.stdout)  # the note on stderr, the JSON whole
    assert "applies only to AOIs new to the store" in as_json.stderr
