"""Choices in any case: ``--sensor S2`` was taken (test_sensor_case.py), but ``--sort DATE``, ``--method
Local-Fusion``, ``geo recheck --sensor Both`` and ``--source Demo`` were refused ("'DATE' is not one of 'clear',
'date'"). Every choice and registered name takes any case, and what is written keeps the canonical spelling."""

from __future__ import annotations

import json


def test_sort_and_source_in_any_case(user):
    result = user("scenes", "search", "--aoi", "demo-nantes-port", "--source", "Demo", "--from", "2015-01-01",
                  "--to", "2018-01-01", "--sort", "DATE", "--json")
    assert result.returncode == 0, result.output
    found = json.loads(result.stdout)
    dates = [scene["date"] for scene in found["scenes"]]
    assert dates == sorted(dates) and len(dates) == 2


def test_method_in_any_case(user):
    user.home.joinpath("oscd").mkdir()
    result = user("eval", "oscd", "--root", "oscd", "--method", "Local-Fusion", "--method", "CVA-OTSU")
    assert "--method" not in result.stderr, result.stderr


def test_wrong_choice_still_refused(user):
    result = user("scenes", "search", "--aoi", "demo-nantes-port", "--source", "demo", "--from", "2015-01-01",
                  "--to", "2018-01-01", "--sort", "cloud")
    assert result.returncode == 1 and "'cloud' is not one of 'clear', 'date'" in result.stderr
