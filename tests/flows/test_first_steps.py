"""What a first-time user reads first: ``geo --help`` says what to run first, and every line it gives runs as
written from an empty folder (copied literally, continuation lines and comments included); ``geo coreg
--help`` says in which unit its metres are."""

from __future__ import annotations

import json
import shlex



def _first_steps(help_text: str) -> list[list[str]]:
    """The command lines under 'Start here', each joined across its backslash continuations."""
    lines = help_text.split("Start here", 1)[1].splitlines()[1:]
    commands, pending = [], ""
    for line in lines:
        text = line.strip()
        if not (pending or text.startswith("geo ")):
            break
        pending += text[:-1] + " " if text.endswith("\\") else text
        if not text.endswith("\\"):
            commands.append(shlex.split(pending, comments=True))
            pending = ""
    return commands


def test_geo_help_says_what_to_run_first_and_each_line_runs_as_written(user):
    shown = user("--help")
    assert shown.returncode == 0 and "Start here" in shown.stdout, shown.output
    commands = _first_steps(shown.stdout)
    assert [c[:2] for c in commands] == [["geo", "demo"], ["geo", "aoi"], ["geo", "scenes"], ["geo", "run"],
                                         ["geo", "vessels"]]
    assert all(len(line) <= 78 for line in shown.stdout.splitlines()), "wider than an 80-column terminal"
    for command in commands:
        result = user(*command[1:])
        assert result.returncode == 0, f"{shlex.join(command)}: {result.output}"
        assert "Error" not in result.stderr, result.stderr
    home = user.home
    assert (home / "demo-output" / "report.html").is_file()
    changes = json.loads((home / "nantes" / "changes.geojson").read_text())
    assert changes["type"] == "FeatureCollection" and changes["features"]
    assert json.loads((home / "nantes-vessels" / "timeseries.json").read_text())
    listing = user("scenes", "search", "--aoi", "demo-nantes-port", "--source", "demo", "--from", "2015-06-01",
                   "--to", "2017-12-31", "--json")
    assert [s["date"] for s in json.loads(listing.stdout)["scenes"]] == ["2015-08-21", "2017-10-14"]


def test_coreg_help_gives_its_metres_on_the_ground_not_in_map_units(user):
    """It said 'map units of REF', which for a REF in lon/lat (the OSCD crops, the demo scenes) would be
    degrees; the numbers are ground metres (README, *geo coreg JSON*)."""
    text = " ".join(user("coreg", "--help").stdout.split())
    assert "map units" not in text
    assert "dx_m/dy_m are the same shift in metres on the ground, east and north positive" in text


def test_geo_alone_or_a_group_alone_shows_its_help_not_an_error(user):
    """`geo`, the first thing a new user types, printed 'Error: Usage: geo ...' on stderr, exit 1, with
    "(see 'geo --help')" glued to the help's last line; `geo eval`, `geo scenes` alike."""
    for args, first, listed in (((), "Usage: geo [OPTIONS] COMMAND [ARGS]...", "Start here"),
                                (("eval",), "Usage: geo eval [OPTIONS] COMMAND [ARGS]...", "oscd"),
                                (("scenes",), "Usage: geo scenes [OPTIONS] COMMAND [ARGS]...", "search")):
        result = user(*args)
        assert result.returncode == 0, result.output
        assert result.stdout.startswith(first) and listed in result.stdout
        assert result.stdout == user(*args, "--help").stdout
        assert result.stderr == "" and "Error" not in result.stdout


def test_every_out_folder_s_help_says_a_second_run_replaces_it(user):
    """`geo demo --help` said only 'Output folder.': run twice (as the first steps do), is the old one kept,
    mixed in, or refused? `geo run` and `geo vessels` said."""
    for command in ("demo", "run", "vessels"):
        text = " ".join(user(command, "--help").stdout.split())
        assert ("--out PATH Output folder (created, or replaced whole by the new run in one step if this command wrote "
                "it; see README)") in text
