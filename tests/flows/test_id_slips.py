"""Ids typed as a new user types them: in capitals (copied from a report title or a document), or as the registry
file's name (``ls aoi/`` shows ``demo-nantes-port.geojson``) from another folder. Each is refused in one line that
names the id meant; capitals had no "did you mean", and the file name was only said not to exist."""

from __future__ import annotations

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
    assert result.stderr.strip() == (f"Error: demo-nantes-port.geojson: AOI file does not exist here; "
                                     f"{AOI_DIR / 'demo-nantes-port.geojson'} is the AOI of id 'demo-nantes-port': "
                                     f"give --aoi demo-nantes-port")
    assert not (user.home / "out").exists()


def test_a_file_of_the_current_folder_is_still_taken_before_the_registrys_of_that_name(user):
    drawn_aoi(user.home / "demo-nantes-port.geojson")
    result = user("aoi", "show", "demo-nantes-port.geojson")
    assert result.returncode == 0, result.output
    assert '"source": "drawn area (demo-nantes-port.geojson' in result.stdout
