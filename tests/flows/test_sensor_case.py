"""``--sensor S2``: the README and the papers say "S2" and "S1"; the options took only ``s2``/``s1`` and refused the
capitals as invalid ("'S2' is not one of 's2', 's1'"). Every ``--sensor`` takes its value in any case."""

from __future__ import annotations

import json


def test_sensor_in_capitals_is_the_sensor(user):
    result = user("scenes", "search", "--aoi", "demo-nantes-port", "--source", "demo", "--from", "2015-01-01", "--to",
                  "2018-01-01", "--sensor", "S2", "--json")
    assert result.returncode == 0, result.output
    found = json.loads(result.stdout)
    assert found["sensor"] == "s2" and [scene["sensor"] for scene in found["scenes"]] == ["s2", "s2"]

    result = user("run", "--aoi", "demo-nantes-port", "--source", "demo", "--before", "2015-08-21", "--after",
                  "2017-10-14", "--sensor", "S2", "--out", "harbour")
    assert result.returncode == 0, result.output
    assert json.loads((user.home / "harbour" / "manifest.json").read_text())["sensor"] == "s2"

    result = user("vessels", "--aoi", "demo-nantes-port", "--source", "demo", "--from", "2015-06-01", "--to",
                  "2017-12-31", "--sensor", "S2", "--out", "ships")
    assert result.returncode == 0, result.output

    result = user("recheck", "--store", "watch.gpkg", "--aoi", "demo-nantes-port", "--source", "demo",
                  "--sensor", "S2")
    assert result.returncode == 0, result.output

    # a wrong one is still refused, naming the choices as the help gives them
    result = user("run", "--aoi", "demo-nantes-port", "--source", "demo", "--sensor", "S3", "--out", "x")
    assert result.returncode == 1
    assert "'S3' is not one of 's2', 's1'" in result.stderr
