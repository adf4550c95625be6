"""``GEO_SCENE_CACHE`` naming a file (a typo in a profile, a path meant for something else): a run on item ids was an
internal error (``NotADirectoryError``, exit 2) when it looked an item up in that "cache"; a search went on with a
warning. Both now run uncached, saying so, and the file is left as it was."""

from __future__ import annotations

import json

from tests.flows.conftest import AFTER_ID, BEFORE_ID, drawn_aoi


def test_a_cache_path_naming_a_file_runs_uncached_and_leaves_the_file(user, flow_archive, tmp_path):
    drawn_aoi(user.home / "harbour.geojson")
    misplaced = tmp_path / "notes.txt"
    misplaced.write_text("mine\n")
    env = {"GEO_SCENE_CACHE": str(misplaced)}
    result = user("run", "--aoi", "harbour.geojson", "--source", flow_archive.url, "--before", BEFORE_ID, "--after",
                  AFTER_ID, "--out", "out", env=env)
    assert result.returncode == 0, result.output
    assert "internal error" not in result.stderr
    assert f"warning: cannot write scene cache entry {misplaced}/" in result.stderr
    assert "(GEO_SCENE_CACHE names the cache folder)" in result.stderr
    manifest = json.loads((user.home / "out" / "manifest.json").read_text())
    assert [manifest["scenes"][side]["id"] for side in ("before", "after")] == [BEFORE_ID, AFTER_ID]
    assert misplaced.read_text() == "mine\n"


def test_listing_or_clearing_a_cache_path_naming_a_file_says_it_is_a_file(user, tmp_path):
    """It was listed as '0 cached windows in .../notes.txt' and cleared as 'removed 0 file(s)'."""
    misplaced = tmp_path / "notes.txt"
    misplaced.write_text("mine\n")
    for command in (("list",), ("list", "--json"), ("clear",)):
        result = user("scenes", "cache", *command, env={"GEO_SCENE_CACHE": str(misplaced)})
        assert (result.returncode, result.stdout) == (1, ""), result.output
        assert result.stderr.strip() == (f"Error: {misplaced}: the scene cache is a file, not a folder "
                                         "(GEO_SCENE_CACHE names the cache folder)")
    assert misplaced.read_text() == "mine\n"
