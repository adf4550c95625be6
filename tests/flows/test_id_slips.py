"""Ids typed as a new user types them: in capitals (copied from a report title or a document), or as the registry
file's name (``ls aoi/`` shows ``demo-nantes-port.geojson``) from another folder. Each is refused in one line that
names the id meant; capitals had no "did you mean", and the file name was only said not to exist."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO
from tests.flows.conftest import drawn_aoi

AOI_DIR = REPO / "aoi"


@pytest.mark.parametrize("command", [("aoi", "show"), ("run", "--out", "out", "--source", "demo", "--aoi")])
def test_an_aoi_id_in_capitals_is_answered_with_the_id(user, command):
    result = user(*command, "DEMO-NANTES-PORT")
    assert result.returncode == 1, result.output
    line, = result.stderr.strip().splitlines()
    assert line.startswith("Error: unknown AOI id 'DEMO-NANTES-PORT' (did you mean 'demo-nantes-port'? known in ")
    assert not (user.home / "out").exists()


@pytest.mark.parametrize("command", [("claims", "show"), ("run", "--aoi", "demo-nantes-port", "--source", "demo",
                                                          "--out", "out", "--claim")])
def test_a_claim_id_in_capitals_is_answered_with_the_id(user, command):
    result = user(*command, "DEMO-NANTES-CONSTRUCTION")
    assert result.returncode == 1, result.output
    line, = result.stderr.strip().splitlines()
    assert line.startswith("Error: unknown claim id(s) DEMO-NANTES-CONSTRUCTION (did you mean "
                           "'demo-nantes-construction'? known: ")
    assert not (user.home / "out").exists()


@pytest.mark.parametrize("command", [("aoi", "show"), ("run", "--out", "out", "--source", "demo", "--aoi"),
                                     ("scenes", "search", "--from", "2015-01-01", "--to", "2018-01-01", "--source",
                                      "demo", "--aoi"),
                                     ("recheck", "--store", "out/store.gpkg", "--source", "demo", "--aoi")])
def test_a_registry_file_name_typed_from_another_folder_names_its_id(user, command):
    result = user(*command, "demo-nantes-port.geojson")
    assert result.returncode == 1, result.output
    # `geo aoi show` takes the id as its argument: "give --aoi demo-nantes-port" there was an option it refuses.
    advice = "give its id: geo aoi show" if command[0] == "aoi" else "give --aoi"
    assert result.stderr.strip() == (f"Error: demo-nantes-port.geojson: AOI file does not exist here; "
                                     f"{AOI_DIR / 'demo-nantes-port.geojson'} is the AOI of id 'demo-nantes-port': "
                                     f"{advice} demo-nantes-port")
    assert not (user.home / "out").exists()


def test_a_file_of_the_current_folder_is_still_taken_before_the_registrys_of_that_name(user):
    drawn_aoi(user.home / "demo-nantes-port.geojson")
    result = user("aoi", "show", "demo-nantes-port.geojson")
    assert result.returncode == 0, result.output
    assert '"source": "drawn area (demo-nantes-port.geojson' in result.stdout


def test_a_run_folder_named_after_its_aoi_leaves_the_id_usable(user):
    """'--out vladivostok-port' is the natural name of a run: every later '--aoi vladivostok-port' from that folder
    was refused as 'demo-nantes-port: is a folder; --aoi takes an AOI id or a polygon file'."""
    run = ("run", "--aoi", "demo-nantes-port", "--source", "demo", "--before", "2015-08-21", "--after", "2017-10-14",
           "--out", "demo-nantes-port")
    first = user(*run)
    assert first.returncode == 0, first.output
    again = user(*run)
    assert again.returncode == 0, again.output
    assert json.loads((user.home / "demo-nantes-port" / "manifest.json").read_text())["aoi"]["id"] == "demo-nantes-port"
    search = user("scenes", "search", "--aoi", "demo-nantes-port", "--source", "demo", "--from", "2015-01-01", "--to",
                  "2018-01-01", "--json")
    assert search.returncode == 0, search.output
    assert len(json.loads(search.stdout)["scenes"]) == 2
    shown = user("aoi", "show", "demo-nantes-port")
    assert shown.returncode == 0, shown.output
    assert json.loads(shown.stdout)["id"] == "demo-nantes-port"


def test_a_folder_that_is_no_aoi_id_is_still_said_to_be_a_folder(user):
    (user.home / "harbour").mkdir()
    result = user("aoi", "show", "harbour")
    assert result.returncode == 1, result.output
    assert result.stderr.strip() == ("Error: harbour: is a folder; --aoi takes an AOI id or a polygon file (GeoJSON, "
                                     "GeoPackage...)")


@pytest.mark.parametrize("command", ["run", "vessels"])
def test_claims_listed_with_commas_are_each_a_claim(user, command):
    """'--claim a,b' (as 'geo eval oscd --cities a,b' takes them) was one unknown id 'a,b', with a 'did you mean'
    of a only."""
    dates = (("--before", "2015-08-21", "--after", "2017-10-14") if command == "run"
             else ("--from", "2015-01-01", "--to", "2018-01-01"))
    result = user(command, "--aoi", "demo-nantes-port", "--source", "demo", *dates, "--out", "out", "--claim",
                  "demo-nantes-construction,kremlin-denial")
    assert result.returncode == 1, result.output
    line, = result.stderr.strip().splitlines()
    assert line.startswith("Error: claim 'kremlin-denial' does not name AOI 'demo-nantes-port'"), line
    assert not (user.home / "out").exists()


def test_a_run_of_claims_listed_with_commas_tests_each(user):
    result = user("run", "--aoi", "demo-nantes-port", "--source", "demo", "--before", "2015-08-21", "--after",
                  "2017-10-14", "--out", "out", "--claim", "demo-nantes-construction,")
    assert result.returncode == 0, result.output
    claims = json.loads((user.home / "out" / "claims.json").read_text())
    assert [c["claim_id"] for c in claims] == ["demo-nantes-construction"]
