"""``geo scenes search --json`` finding nothing in a local catalog: the table's line saying why ("none between
...; the catalog holds no Sentinel-1 scene ...") had no counterpart in the JSON, a script got an empty list and
no reason. It is the JSON's ``note`` (null when scenes were found)."""

from __future__ import annotations

import json

import pytest

from tests.flows.conftest import DEMO_CATALOG, drawn_aoi


@pytest.mark.parametrize("args, note", [
    (("--sensor", "s1"), "the catalog holds no Sentinel-1 scene (it holds 2 Sentinel-2 scenes)"),
    (("--from", "2019-01-01", "--to", "2019-02-01"), "the catalog's 2 dates over the AOI: 2015-08-21, 2017-10-14"),
    ((), None),
])
def test_the_json_says_why_nothing_was_found(user, args, note):
    drawn_aoi(user.home / "harbour.geojson")
    dates = () if "--from" in args else ("--from", "2015-01-01", "--to", "2018-01-01")
    result = user("scenes", "search", "--aoi", "harbour.geojson", "--source", str(DEMO_CATALOG), *dates, *args,
                  "--json")
    assert result.returncode == 0, result.output
    data = json.loads(result.stdout)
    assert data["note"] == note
    assert len(data["scenes"]) == (2 if note is None else 0)
    text = user("scenes", "search", "--aoi", "harbour.geojson", "--source", str(DEMO_CATALOG), *dates, *args)
    assert (note is None) == ("none between" not in text.stdout)
    if note:
        assert note in " ".join(text.stdout.split())
