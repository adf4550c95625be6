"""Scripts pass ``--json`` to every command that lists or shows the project's AOIs and claims: ``geo aoi show``
and ``geo claims show`` refused it ("No such option '--json'") while their ``list`` siblings took it. They print
JSON either way; with ``--json`` the same JSON."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize("command", [("aoi", "list"), ("claims", "list"), ("aoi", "show", "musudan"),
                                     ("claims", "show", "nis-embarkation"), ("scenes", "cache", "list")])
def test_every_listing_command_takes_json(user, command):
    result = user(*command, "--json")
    assert result.returncode == 0, result.output
    data = json.loads(result.stdout)
    if command[-1] == "list":
        assert isinstance(data if command[0] != "scenes" else data["entries"], list)
    else:
        assert data["id"] == command[-1]
        assert user(*command).stdout == result.stdout  # show prints JSON with or without it
