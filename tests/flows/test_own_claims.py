"""An analyst's own claims and AOIs, written by hand beside the shipped ones, with the mistakes people make:
a broken file or claim stops the commands that need it (one line naming the file, the claim and the fault,
exit 1, nothing written) and is a warning for those that do not."""

from __future__ import annotations

import json
import shutil

from tests.conftest import REPO
from tests.flows.conftest import DEMO_CATALOG, drawn_aoi, registry_aoi

MY_CLAIM = """[document]
title = "My analysis"

[[claim]]
id = "my-island-works"
claimant = "Moi"
statement = "Des grues sont arrivées sur l'Île de Nantes — new construction."
date_stated = 2017-10-31
aoi_ids = ["my-island"]
window = { start = "2016-01-01", end = 2017-06-30 }
signatures = ["new_construction"]
"""

BAD_CLAIM = """
[[claim]]
id = "{id}"
claimant = "Someone"
statement = "Something happened."
date_stated = 2017-10-31
aoi_ids = ["{aoi}"]
window = {{ start = {start}, end = 2017-06-30 }}
signatures = ["{signature}"]
"""


def my_project(home, *bad_files: tuple[str, str]):
    """The shipped aoi/ and seeds/ copied into the user's folder, with their own AOI, claim and bad files."""
    project = home / "project"
    shutil.copytree(REPO / "aoi", project / "aoi")
    shutil.copytree(REPO / "seeds", project / "seeds")
    registry_aoi(project / "aoi" / "my-island.geojson", "my-island", "My island")
    (project / "seeds" / "mine.toml").write_text(MY_CLAIM, encoding="utf-8")
    for name, text in bad_files:
        (project / "seeds" / name).write_text(text, encoding="utf-8")
    return ("--aoi-dir", str(project / "aoi"), "--seeds-dir", str(project / "seeds")), project


def one_error_line(result, *needles: str) -> str:
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    line, = result.stderr.strip().splitlines()
    for needle in needles:
        assert needle in line, line
    return line


def test_a_syntax_error_stops_what_needs_every_claim_and_warns_elsewhere(user):
    dirs, project = my_project(user.home, ("broken.toml", '[document]\ntitle = "x"\n[[claim]]\nid = "half\n'))
    broken = str(project / "seeds" / "broken.toml")

    listed = user("claims", "list", *dirs)  # the validator: every file must load
    one_error_line(listed, broken, "malformed TOML")

    shown = user("claims", "show", "my-island-works", *dirs)
    assert shown.returncode == 0, shown.output
    claim = json.loads(shown.stdout)
    assert claim["window"] == {"start": "2016-01-01", "end": "2017-06-30"}  # a string date and a TOML date alike
    assert claim["statement"].startswith("Des grues sont arrivées sur l'Île")
    assert f"warning: {broken}: malformed TOML" in shown.stderr

    out = user.home / "out-registry"
    # The claims naming my-island are taken from every file: the broken one may hold one.
    registry = user("run", "--aoi", "my-island", "--source", str(DEMO_CATALOG), "--out", str(out), *dirs)
    one_error_line(registry, broken, "malformed TOML")
    assert not out.exists()

    out = user.home / "harbour"
    drawn = user("run", "--aoi", str(drawn_aoi(user.home / "harbour.geojson")), "--source", str(DEMO_CATALOG),
                 "--before", "2015-08-21", "--after", "2017-10-14", "--out", str(out), *dirs)
    assert drawn.returncode == 0, drawn.output
    assert f"warning: {broken}: malformed TOML" in drawn.stderr
    assert json.loads((out / "claims.json").read_text()) == []
    assert json.loads((out / "changes.geojson").read_text())["features"]


def test_broken_claims_stop_the_jobs_that_use_them_only(user):
    bad = ("[document]\ntitle = \"Hand-written\"\n"
           + BAD_CLAIM.format(id="typo", aoi="chongjin-port", start="2016-01-01", signature="new_constructions")
           + BAD_CLAIM.format(id="zoned", aoi="my-island", start="2016-01-01T00:00:00+02:00", signature="earthworks"))
    twice = "[document]\ntitle = \"Copy\"\n" + BAD_CLAIM.format(
        id="my-island-works", aoi="my-island", start="2016-01-01", signature="earthworks")
    dirs, project = my_project(user.home, ("bad.toml", bad))
    bad_path = str(project / "seeds" / "bad.toml")

    typo = user("claims", "show", "typo", *dirs)
    one_error_line(typo, bad_path, "claim 'typo'", "unknown signature(s) ['new_constructions']",
                   "did you mean 'new_construction'?")
    zoned = user("claims", "show", "zoned", *dirs)  # a date-time in TOML was taken, then broke geo run
    one_error_line(zoned, bad_path, "claim 'zoned'", "field 'start' must be a date YYYY-MM-DD",
                   "2016-01-01T00:00:00+02:00")

    out = user.home / "out-all"
    every = user("run", "--aoi", "my-island", "--source", str(DEMO_CATALOG), "--out", str(out), *dirs)
    one_error_line(every, bad_path, "claim 'zoned'")  # it names my-island: its job cannot leave it out silently
    assert not out.exists()

    out = user.home / "out-mine"
    mine = user("run", "--aoi", "my-island", "--claim", "my-island-works", "--source", str(DEMO_CATALOG),
                "--out", str(out), *dirs)
    assert mine.returncode == 0, mine.output
    warnings = [line for line in mine.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2 and all(w.startswith(f"warning: {bad_path} claim '") for w in warnings)
    assert "claim 'typo'" in warnings[0] and "claim 'zoned'" in warnings[1]
    verdicts = json.loads((out / "claims.json").read_text())
    assert [v["claim"]["id"] for v in verdicts] == ["my-island-works"]
    assert verdicts[0]["verdict"] == "consistent with the claim"  # as the demo claim: the same window, same port

    (project / "seeds" / "bad.toml").unlink()
    (project / "seeds" / "copy.toml").write_text(twice, encoding="utf-8")
    shown = user("claims", "show", "my-island-works", *dirs)  # defined twice: neither is taken
    one_error_line(shown, str(project / "seeds" / "mine.toml"), "'my-island-works' is already defined in",
                   str(project / "seeds" / "copy.toml"))
    other = user("claims", "show", "demo-nantes-construction", *dirs)
    assert other.returncode == 0 and json.loads(other.stdout)["aoi_ids"] == ["demo-nantes-port"]
    assert "already defined" in other.stderr


def test_aoi_ids_naming_a_file_says_ids_are_wanted(user):
    named_file = MY_CLAIM.replace('aoi_ids = ["my-island"]', 'aoi_ids = ["aoi/my-island.geojson"]')
    dirs, project = my_project(user.home)
    (project / "seeds" / "mine.toml").write_text(named_file, encoding="utf-8")
    listed = user("claims", "list", *dirs)
    one_error_line(listed, "claim 'my-island-works' names unknown AOI 'aoi/my-island.geojson'",
                   "aoi_ids takes AOI ids, the 'id' of a file in aoi/, not file names")


def test_geo_demo_goes_on_past_broken_files_it_does_not_need(user):
    dirs, project = my_project(user.home, ("broken.toml", "[document\n"))
    (project / "aoi" / "half-drawn.geojson").write_text('{"type": "Feature", "properties": {"id": "half"}, ')
    (project / "scenes").symlink_to(REPO / "scenes")  # GEO_ROOT moves scenes/ too: the demo's are there
    root = {"GEO_ROOT": str(project)}

    listed = user("aoi", "list", env=root)
    one_error_line(listed, str(project / "aoi" / "half-drawn.geojson"), "malformed GeoJSON")

    out = user.home / "demo"
    demo = user("demo", "--out", str(out), env=root)
    assert demo.returncode == 0, demo.output
    warnings = [line for line in demo.stderr.splitlines() if line.startswith("warning:")]
    assert warnings[0].startswith(f"warning: {project / 'aoi' / 'half-drawn.geojson'}: malformed GeoJSON")
    assert warnings[1].startswith(f"warning: {project / 'seeds' / 'broken.toml'}: malformed TOML")
    assert warnings[0].endswith("(skipped: not needed here; check with `geo aoi list`)") and len(warnings) == 2
    verdicts = json.loads((out / "claims.json").read_text())
    assert [(v["claim_id"], v["verdict"]) for v in verdicts] == [("demo-nantes-construction", "consistent with the claim")]


def test_an_aoi_asked_for_by_its_file_name_names_its_id(user):
    dirs, project = my_project(user.home)
    island = project / "aoi" / "my-island.geojson"
    island.write_text(island.read_text().replace('"id": "my-island"', '"id": "my-isle"'))
    shown = user("aoi", "show", "my-island", *dirs[:2])
    one_error_line(shown, "unknown AOI id 'my-island' (my-island.geojson has id 'my-isle'; known in")


def test_a_claim_on_the_aoi_of_an_unreadable_file_says_the_file_was_skipped(user):
    dirs, project = my_project(user.home)
    island = project / "aoi" / "my-island.geojson"
    island.write_text(island.read_text()[:-20])  # saved half-way: which AOI it defines cannot be read
    shown = user("claims", "show", "my-island-works", *dirs)
    one_error_line(shown, "claim 'my-island-works' names unknown AOI 'my-island' (an AOI file that cannot be read "
                   "was skipped: it may be this AOI's)")
    other = user("claims", "show", "demo-nantes-construction", *dirs)
    assert other.returncode == 0 and json.loads(other.stdout)["aoi_ids"] == ["demo-nantes-port"]
    assert f"warning: {island}: malformed GeoJSON" in other.stderr


def test_an_id_a_slip_away_from_a_known_one_is_suggested(user):
    """`--aoi vladivostok` (the id is 'vladivostok-port') or a claim id a letter off listed every id there is and
    left the user to spot the one meant; the field names and AOI ids inside a claims file were suggested already."""
    dirs, project = my_project(user.home)
    shown = user("aoi", "show", "my-iland", *dirs[:2])
    one_error_line(shown, "unknown AOI id 'my-iland' (did you mean 'my-island'? known in")
    ran = user("run", "--aoi", "my-island", "--claim", "my-island-wroks", "--source", str(DEMO_CATALOG), "--out", "out",
               *dirs)
    one_error_line(ran, "unknown claim id(s) my-island-wroks (did you mean 'my-island-works'? known: ")
    rechecked = user("recheck", "--store", "store.gpkg", "--aoi", "my-islnd", "--source", str(DEMO_CATALOG), *dirs)
    one_error_line(rechecked, "unknown AOI id 'my-islnd' (did you mean 'my-island'? known in")
    assert not (user.home / "out").exists() and not (user.home / "store.gpkg").exists()


def test_hidden_files_beside_the_aoi_and_claims_files_are_not_read(user):
    """A project folder copied from a Mac onto a USB stick or a share carries AppleDouble files ('._mine.toml',
    binary), and Emacs keeps '.#mine.toml' (a link to nowhere) while the file is edited: both were read as
    claims or AOI files, so `geo claims list`/`geo aoi list` failed on them and `geo run` stopped ("malformed
    TOML", a seeds file too broken to tell which claims it holds)."""
    dirs, project = my_project(user.home)
    apple_double = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02\x00\x00\x00\x09\x00\x00\x00\x32"
    (project / "seeds" / "._mine.toml").write_bytes(apple_double)
    (project / "aoi" / "._my-island.geojson").write_bytes(apple_double)
    (project / "seeds" / ".#mine.toml").symlink_to("me@host.1234:1700000000")
    for command in (("claims", "list", *dirs), ("aoi", "list", *dirs[:2])):
        listed = user(*command)
        assert listed.returncode == 0 and listed.stderr == "", listed.output
        assert "my-island" in listed.stdout
    ran = user("run", "--aoi", "my-island", "--source", str(DEMO_CATALOG), "--out", "out", *dirs)
    assert ran.returncode == 0 and "warning" not in ran.stderr, ran.output
    assert json.loads((user.home / "out" / "claims.json").read_text())[0]["claim_id"] == "my-island-works"


def test_a_claim_of_ones_own_with_one_strong_change_reads_in_the_singular(user):
    """The README walk's own harbour and claim: one change strong enough read "1 of them score at least 25%"."""
    ring = [[-1.56, 47.200], [-1.53, 47.200], [-1.53, 47.215], [-1.56, 47.215], [-1.56, 47.200]]
    options, project = my_project(user.home)
    registry_aoi(project / "aoi" / "my-island.geojson", "my-island", "My island", ring)
    result = user("run", "--aoi", "my-island", "--claim", "my-island-works", "--source", "demo", *options,
                  "--out", "mine")
    assert result.returncode == 0, result.output
    claim, = json.loads((user.home / "mine" / "claims.json").read_text())
    rationale = claim["rationale"]
    assert " 1 of them scores at least 25%, covering 3,601 m² " in rationale, rationale
    assert " 1 of them scores at least 25%" in result.stdout
