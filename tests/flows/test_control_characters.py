"""A name or statement carrying a control character (pasted from a PDF or a terminal; JSON's ``\\u000b`` and
TOML's ``\\u0000`` escapes pass any parser) went into project.qgz and changes.kml, which no XML reader then
parses (XML 1.0 admits no C0 control but tab and line ends): QGIS 3.22 still opened the project, other readers
refused it. Now refused where it is read, in one line naming the field, the character and where it is."""

from __future__ import annotations

from tests.flows.conftest import DEMO_CATALOG, drawn_aoi
from tests.flows.test_own_claims import MY_CLAIM, my_project, one_error_line


def test_an_area_named_with_a_control_character_is_refused_naming_it(user):
    out = user.home / "out"
    area = drawn_aoi(user.home / "quay.geojson", properties={"name": "Quay\u000bnorth"})
    result = user("run", "--aoi", str(area), "--source", str(DEMO_CATALOG), "--out", str(out))
    line = one_error_line(result, "quay.geojson", "property 'name'", "U+000B", "character 5")
    assert "'Quay'" in line
    assert not out.exists()
    shown = user("aoi", "show", str(area))
    one_error_line(shown, "U+000B")


def test_a_claim_statement_with_a_control_character_is_refused_naming_it(user):
    claim = MY_CLAIM.replace("new construction.", "new construction.\\u0000")
    dirs, project = my_project(user.home, ("nul.toml", claim.replace("my-island-works", "nul-claim")))
    out = user.home / "out"
    result = user("run", "--aoi", "my-island", "--claim", "nul-claim", "--source", str(DEMO_CATALOG), "--out",
                  str(out), *dirs)
    one_error_line(result, "nul.toml", "'nul-claim'", "field 'statement'", "U+0000")
    assert not out.exists()
    fine = user("claims", "show", "my-island-works", *dirs)  # the other claims still load, the broken one warned of
    assert fine.returncode == 0 and "my-island-works" in fine.stdout, fine.output
