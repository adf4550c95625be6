"""``geo recheck --since DATE`` earlier than where an existing chain starts: by design the chain goes on from its head
(README), but the run took the date and said nothing, as if it had gone back to it. Now one line says so, naming the
AOI, its baseline's and head scene's dates and how to start over; a run without --since, or with one inside the chain
(a cron line's, which started it), says nothing of it."""

from __future__ import annotations

import json


def test_a_since_before_the_head_is_said_once(user):
    first = user("recheck", "--store", "watch.gpkg", "--aoi", "demo-nantes-port", "--source", "demo")
    assert first.returncode == 0, first.output
    assert "--since" not in first.output

    again = user("recheck", "--store", "watch.gpkg", "--aoi", "demo-nantes-port", "--source", "demo",
                 "--since", "2015-07-01")
    assert again.returncode == 0, again.output
    notes = [line for line in again.output.splitlines() if "--since" in line]
    assert len(notes) == 1, again.output
    assert ("--since 2015-07-01 is before where a chain of the store starts, and a chain does not go back: "
            "demo-nantes-port starts at its baseline scene of 2015-08-21 and goes on from its head scene of 2017-10-14"
            in " ".join(notes[0].split())), notes[0]
    assert "new --store" in notes[0], notes[0]

    quiet = user("recheck", "--store", "watch.gpkg", "--aoi", "demo-nantes-port", "--source", "demo")
    assert quiet.returncode == 0 and "--since" not in quiet.output, quiet.output

    for inside in ("2015-08-21", "2016-01-01", "2018-01-01"):  # the chain's own start (a cron line's), within it, later
        later = user("recheck", "--store", "watch.gpkg", "--aoi", "demo-nantes-port", "--source", "demo", "--since", inside)
        assert later.returncode == 0 and "--since" not in later.output, later.output

    as_json = user("recheck", "--store", "watch.gpkg", "--aoi", "demo-nantes-port", "--source", "demo",
                   "--since", "2015-07-01", "--json")
    assert as_json.returncode == 0, as_json.output
    json.loads(as_json.stdout)  # the note on stderr, the JSON whole
    assert "a chain does not go back" in " ".join(as_json.stderr.split())
