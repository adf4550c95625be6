"""``geo aoi list`` and ``geo claims list`` on a folder that is missing or holds nothing say so, rather than print
an empty table that reads as "the project defines nothing"."""

from __future__ import annotations

import json

from tests.conftest import REPO


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


def test_claims_without_their_aoi_folder_name_the_folder_not_each_aoi(user):
    """A project holding seeds/ and no aoi/ yet, or an --aoi-dir typed wrong: `geo claims list` said the first
    claim "names unknown AOI 'demo-nantes-port'" (every AOI was unknown, the folder never named), and
    `geo claims show` of a claim in a missing --seeds-dir said "unknown claim id(s) ... (known: )"."""
    project = user.home / "project"
    (project / "seeds").mkdir(parents=True)
    (project / "seeds" / "demo.toml").write_text(
        (REPO / "seeds" / "demo-nantes.toml").read_text(encoding="utf-8"), encoding="utf-8")
    for args in (("list",), ("show", "demo-nantes-construction")):
        listed = user("claims", *args, env={"GEO_ROOT": str(project)})
        assert (listed.returncode, listed.stdout) == (1, ""), listed.output
        assert listed.stderr.strip() == (f"Error: {project / 'aoi'}: no such folder (GEO_ROOT={project} names the "
                                         "folder holding aoi/ and seeds/; give the folder with --aoi-dir DIR)")
    typed = user("claims", "list", "--aoi-dir", "aois", "--seeds-dir", str(project / "seeds"))
    assert (typed.returncode, typed.stderr.strip()) == (1, "Error: --aoi-dir aois: no such folder"), typed.output
    shown = user("claims", "show", "demo-nantes-construction", "--seeds-dir", "seed", "--aoi-dir", str(REPO / "aoi"))
    assert (shown.returncode, shown.stderr.strip()) == (1, "Error: --seeds-dir seed: no such folder"), shown.output


def test_a_claim_asked_for_without_a_claims_folder_names_the_folder(user):
    """GEO_ROOT set to a project of aoi/ alone, or --seeds-dir mistyped: `geo run --claim my-claim` said
    "unknown claim id(s) my-claim (known: )"."""
    (user.home / "project" / "aoi").mkdir(parents=True)
    drawn = user.home / "harbour.geojson"
    drawn.write_text((REPO / "aoi" / "demo-nantes-port.geojson").read_text(encoding="utf-8"), encoding="utf-8")
    project = user.home / "project"
    ran = user("run", "--aoi", "harbour.geojson", "--claim", "my-claim", "--source", str(REPO / "scenes" / "demo"),
               "--out", "out", env={"GEO_ROOT": str(project)})
    assert (ran.returncode, ran.stderr.strip()) == (1, f"Error: {project / 'seeds'}: no such folder (GEO_ROOT={project} "
                                                       "names the folder holding aoi/ and seeds/; give the folder with "
                                                       "--seeds-dir DIR)"), ran.output
    typed = user("vessels", "--aoi", "harbour.geojson", "--claim", "my-claim", "--seeds-dir", "seed", "--source", "demo",
                 "--from", "2015-06-01", "--to", "2017-12-31", "--out", "out")
    assert (typed.returncode, typed.stderr.strip()) == (1, "Error: --seeds-dir seed: no such folder"), typed.output
    assert not (user.home / "out").exists()


def test_an_aoi_id_asked_for_without_an_aoi_folder_says_the_folder_is_missing(user):
    """--aoi-dir mistyped: "unknown AOI id 'demo-nantes-port' (known in aoi: none)" read as an empty folder."""
    asked = user("aoi", "show", "demo-nantes-port", "--aoi-dir", "aois")
    assert (asked.returncode, asked.stderr.strip()) == (
        1, "Error: unknown AOI id 'demo-nantes-port' (known in aois: no such folder)"), asked.output
