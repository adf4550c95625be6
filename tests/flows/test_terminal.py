"""What the terminal shows: user and archive text printed as text (never markup, never control sequences),
ids never cut, each warning once."""

from __future__ import annotations

import json
import re

from tests.flows.conftest import DEMO_CATALOG, drawn_aoi

HOSTILE_CLAIMS = """
[document]
title = "hostile \\u001b]0;pwned\\u0007 document"

[[claim]]
id = "a-very-long-claim-identifier-that-a-narrow-terminal-would-cut-short"
claimant = "[red]Ministry[/red] \\u001b[2J of [bold]Truth"
statement = "Troops arrived. \\u001b[31mred\\u001b[0m"
date_stated = 2024-10-18
stance = "assert"
aoi_ids = ["site"]
window = { start = 2024-10-08, end = 2024-10-13 }
signatures = ["vehicle_parks"]
"""


# The same claims with their control sequences taken out: text geo takes, markup and all.
MARKUP_CLAIMS = re.sub(r"\\u001b(\[\d*[A-Za-z]|\]0;)|\\u0007", "", HOSTILE_CLAIMS)


def write_project(home, claims: str = MARKUP_CLAIMS):
    (home / "aoi").mkdir()
    drawn = drawn_aoi(home / "aoi" / "site.geojson", properties={"id": "site", "name": "[blink]Site[/blink]"})
    (home / "seeds").mkdir()
    (home / "seeds" / "claims.toml").write_text(claims)
    return drawn


def test_terminal_control_sequences_in_claims_are_refused_and_not_echoed(user):
    # An escape sequence in a claim (it would clear the screen, retitle the terminal) cannot go into any output
    # (no XML document may hold it): refused where read, named by its code point, never printed raw.
    write_project(user.home, HOSTILE_CLAIMS)
    result = user("claims", "list", "--aoi-dir", "aoi", "--seeds-dir", "seeds")
    assert result.returncode == 1 and "U+001B" in result.stderr, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output


def test_claims_list_prints_user_text_as_text_and_never_cuts_ids(user):
    assert "\\u001b" not in MARKUP_CLAIMS and "\\u0007" not in MARKUP_CLAIMS
    write_project(user.home)
    for columns in (60, 80):
        result = user("claims", "list", "--aoi-dir", "aoi", "--seeds-dir", "seeds", columns=columns)
        assert result.returncode == 0, result.output
        assert "a-very-long-claim-identifier-that-a-narrow-terminal-would-cut-short" in result.stdout
        assert "2024-10-08" in result.stdout and "2024-10-13" in result.stdout  # the window's dates never cut
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    wide = user("claims", "list", "--aoi-dir", "aoi", "--seeds-dir", "seeds", columns=200)
    assert "[red]Ministry[/red]" in wide.stdout and "[bold]Truth" in wide.stdout  # shown, not interpreted
    aois = user("aoi", "list", "--aoi-dir", "aoi", columns=200)
    assert "[blink]Site[/blink]" in aois.stdout


def test_markup_in_an_aoi_reference_is_an_error_message_not_a_traceback(user):
    result = user("run", "--aoi", "[/bold]x", "--out", "o")
    assert result.returncode == 1
    assert "[/bold]x: AOI file does not exist" in result.stderr and "Traceback" not in result.output  # a path
    result = user("run", "--aoi", "[red]gone[/red].geojson", "--out", "o")
    assert result.returncode == 1 and "[red]gone[/red].geojson: AOI file does not exist" in result.stderr


def test_paths_with_brackets_are_printed_as_they_are_and_warnings_print_once(user):
    # West of the demo scenes: half of the area lies outside them, which the run warns of.
    west = [[-1.60, 47.20], [-1.56, 47.20], [-1.56, 47.22], [-1.60, 47.22], [-1.60, 47.20]]
    aoi = drawn_aoi(user.home / "area.geojson", [west])
    result = user("run", "--aoi", str(aoi), "--source", str(DEMO_CATALOG), "--before", "2015-08-21",
                  "--after", "2017-10-14", "--out", "results [v2]")
    assert result.returncode == 0, result.output
    assert (user.home / "results [v2]" / "report.html").is_file()
    assert "evidence report: results [v2]/report.html" in result.stdout
    warnings = re.findall(r"warning: ([^\n]*)", result.output)
    assert len(warnings) == len(set(warnings)) >= 1, result.output  # each warning printed once
    # Half of this area lies outside the demo scenes: the user is told, once, and the manifest says it too.
    manifest = json.loads((user.home / "results [v2]" / "manifest.json").read_text())
    seen = round(100 * manifest["clear_fraction"])
    assert 30 < seen < 50
    coverage = re.findall(r"warning: (only \d+% of the AOI was seen on both dates[^\n]*)", result.output)
    assert len(coverage) == 1 and coverage[0].startswith(f"only {seen}% "), result.output
    assert coverage[0] in manifest["warnings"]


def test_control_characters_from_files_never_reach_the_terminal(user):
    write_project(user.home)
    bad = user("run", "--aoi", "site", "--claim", "nope\x1b[2J", "--aoi-dir", "aoi", "--seeds-dir", "seeds",
               "--out", "o")
    assert bad.returncode == 1 and "\x1b" not in bad.output and "unknown claim id" in bad.stderr
    (user.home / "seeds" / "claims.toml").write_text(HOSTILE_CLAIMS)  # escapes in the file: refused, by code point
    result = user("claims", "show", "a-very-long-claim-identifier-that-a-narrow-terminal-would-cut-short",
                  "--aoi-dir", "aoi", "--seeds-dir", "seeds")
    assert result.returncode == 1 and "\x1b" not in result.output and "U+001B" in result.stderr, result.output


def test_scene_search_never_cuts_ids_or_dates_in_a_narrow_terminal(user):
    # The ids are what --before/--after take: a user copies them from this table, in any terminal width.
    aoi = drawn_aoi(user.home / "area.geojson")
    for columns in (60, 80):
        result = user("scenes", "search", "--aoi", str(aoi), "--from", "2015-01-01", "--to", "2018-01-01",
                      "--source", str(DEMO_CATALOG), columns=columns)
        assert result.returncode == 0, result.output
        for scene_id, date in (("S2A_30TXT_20150821_L1C_nantes", "2015-08-21"),
                               ("S2_30TXT_20171014_L1C_nantes", "2017-10-14")):
            row = next(line for line in result.stdout.splitlines() if scene_id in line)
            assert date in row, result.stdout


def test_scene_search_headers_are_never_split_mid_word_in_a_narrow_terminal(user):
    """Below 80 columns the search table's headers were folded into 4-letter pieces ('orbi' / 't', 'noda' / 'ta'):
    each header word is now whole, on a line of its own at most. (At 60 columns, narrower than the table, it is a
    block per scene: tests/flows/test_scenes_narrow.py.)"""
    aoi = drawn_aoi(user.home / "area.geojson")
    words = sorted(["date", "id", "sat", "orbit", "clear", "cloud", "nodata", "snow", "tile", "cloud"])
    for columns in (80,):
        result = user("scenes", "search", "--aoi", str(aoi), "--from", "2015-01-01", "--to", "2018-01-01",
                      "--source", str(DEMO_CATALOG), columns=columns)
        assert result.returncode == 0, result.output
        lines = result.stdout.splitlines()
        rule = next(i for i, line in enumerate(lines) if line.lstrip().startswith("─"))
        header = [word for line in lines[1:rule] for word in line.split()]
        assert sorted(header) == words, result.stdout
    assert max(map(len, lines)) <= 80, result.stdout  # and at 80 the table fits


def test_claims_list_at_80_columns_keeps_the_aoi_ids_and_claimant_readable(user):
    """At 80 columns the shipped claims' table folded their AOI ids into 4-letter pieces ('chon' / 'gjin' /
    '-por' / 't'), the ids ``--aoi`` takes, and the claimant likewise. A terminal too narrow for the table gets
    a block per claim; a wide one the table, each AOI id whole on a line of its own."""
    from tests.conftest import REPO

    args = ("--aoi-dir", str(REPO / "aoi"), "--seeds-dir", str(REPO / "seeds"))
    narrow = user("claims", "list", *args, columns=80)
    assert narrow.returncode == 0, narrow.output
    lines = narrow.stdout.splitlines()
    assert max(map(len, lines)) <= 80, narrow.stdout
    assert "nis-embarkation (assert, observable)" in lines
    assert "  AOIs     chongjin-port, hungnam-port, musudan" in lines
    assert "  claimant National Intelligence Service (Republic of Korea)" in lines
    wide = user("claims", "list", *args, columns=160)
    rows = wide.stdout.splitlines()
    assert max(map(len, rows)) <= 160 and rows[0].startswith("┏"), wide.stdout
    cells = {cell.strip() for row in rows for cell in row.split("│")}
    assert {"chongjin-port", "hungnam-port", "musudan", "sergeevka-training-ground"} <= cells
    assert "National Intelligence Service (Republic of Korea)" in cells


def test_a_terminal_that_is_not_utf8_shows_the_demo_with_question_marks_not_an_internal_error(user):
    # A Latin-1 or ASCII locale (LANG=en_US.ISO-8859-1 on an older server; PYTHONIOENCODING=ascii here) lacks the
    # verdict line's dash and m²: the demo wrote its folder, then ended "internal error: UnicodeEncodeError"
    # (exit 2) without saying where its report was.
    demo = user("demo", env={"PYTHONIOENCODING": "ascii"})
    assert demo.returncode == 0, demo.output
    assert "consistent with the claim ? 11 changes of a kind" in demo.stdout and "85,000 m? in all" in demo.stdout
    assert "evidence report: demo-output/report.html" in demo.stdout and demo.stderr == ""
    assert (user.home / "demo-output" / "report.html").is_file()
