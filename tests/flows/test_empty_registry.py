"""``geo aoi list`` and ``geo claims list`` on a folder that is missing or holds nothing say so, rather than print
an empty table that reads as "the project defines nothing"."""

from __future__ import annotations

import json


def test_listing_an_empty_folder_says_it_holds_nothing(user):
    (user.home / "aoi").mkdir()
    (user.home / "seeds").mkdir()
    aois = user("aoi", "list", "--aoi-dir", "aoi")
    assert (aois.returncode, aois.stdout) == (0, "")
    assert aois.stderr.strip() == "no AOIs: aoi holds no GeoJSON file (.geojson; one Feature with an 'id' each)"
    claims = user("claims", "list", "--aoi-dir", "aoi", "--seeds-dir", "seeds", "--json")
    assert (claims.returncode, json.loads(claims.stdout)) == (0, [])
    assert claims.stderr.strip() == "no claims: seeds holds no claims file (.toml; the format is in seeds/README.md)"


def test_listing_a_missing_folder_names_it_and_where_its_path_came_from(user):
    given = user("aoi", "list", "--aoi-dir", "my aoi")
    assert (given.returncode, given.stdout) == (1, "")
    assert given.stderr.strip() == "Error: --aoi-dir my aoi: no such folder"

    project = user.home / "project"
    project.mkdir()
    (project / "aoi").mkdir()
    from_root = user("claims", "list", env={"GEO_ROOT": str(project)})
    assert (from_root.returncode, from_root.stdout) == (1, "")
    assert from_root.stderr.strip() == (f"Error: {project / 'seeds'}: no such folder (GEO_ROOT={project} names the "
                                        "folder holding aoi/ and seeds/; give the folder with --seeds-dir DIR)")
