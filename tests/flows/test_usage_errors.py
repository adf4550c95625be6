"""A mistyped command line (unknown option or command, missing option or argument, a value not among the
choices) is a user error like any other: one line naming what is wrong and where the options are listed,
exit code 1, nothing written."""

from __future__ import annotations

import pytest

CASES = [
    (("run", "--aoi", "x", "--out", "o", "--bogus", "1"),
     "Error: No such option '--bogus'. Did you mean '--out'? (see 'geo run --help')"),
    (("run", "--out", "o"), "Error: Missing option '--aoi' (see 'geo run --help')"),
    (("run", "--aoi", "x", "--sensor", "s3", "--out", "o"),
     "Error: Invalid value for '--sensor': 's3' is not one of 's2', 's1' (see 'geo run --help')"),
    (("coreg", "ref.tif"), "Error: Missing argument 'TGT' (see 'geo coreg --help')"),
    (("frob",), "Error: No such command 'frob' (see 'geo --help')"),
    (("scenes", "cache", "purge"), "Error: No such command 'purge' (see 'geo scenes cache --help')"),
    # -v is geo's own option: after the command it was only "No such option '-v'", though the README says "-v shows"
    (("recheck", "--store", "s.gpkg", "-vv"),
     "Error: No such option '-v': -v is geo's own, given before the command: geo -v recheck ... "
     "(see 'geo recheck --help')"),
    (("scenes", "cache", "list", "--verbose"),
     "Error: No such option '--verbose': --verbose is geo's own, given before the command: "
     "geo --verbose scenes cache list ... (see 'geo scenes cache list --help')"),
    # --workers N beside --scheduler was silently ignored (the blocks ran on the cluster's workers)
    (("run", "--aoi", "demo-nantes-port", "--source", "demo", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1",
      "--out", "o"),
     "Error: --workers and --scheduler tcp://127.0.0.1:1: give one (with --scheduler the work runs on the workers "
     "of that cluster) (see 'geo run --help')"),
    (("recheck", "--store", "s.gpkg", "--scheduler", "tcp://127.0.0.1:1", "--workers", "1"),
     "Error: --workers and --scheduler tcp://127.0.0.1:1: give one (with --scheduler the work runs on the workers "
     "of that cluster) (see 'geo recheck --help')"),
]


@pytest.mark.parametrize(("args", "line"), CASES, ids=[" ".join(args[:2]) + f"-{i}" for i, (args, _) in enumerate(CASES)])
def test_a_usage_error_is_one_line_naming_the_input(user, args, line):
    result = user(*args)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", line + "\n")
    assert list(user.home.iterdir()) == []


EMPTY = "empty (a shell variable not set?)"
EMPTY_CASES = [  # `--source "$SRC"` in a script with SRC unset: run searched Earth Search, recheck read ./catalog.json
    (("run", "--aoi", "demo-nantes-port", "--source", "", "--out", "o"), "geo run", "--source"),
    (("scenes", "search", "--aoi", "demo-nantes-port", "--from", "2015-01-01", "--to", "2016-01-01", "--source", ""),
     "geo scenes search", "--source"),
    (("recheck", "--store", "s.gpkg", "--aoi", "demo-nantes-port", "--source", ""), "geo recheck", "--source"),
    (("vessels", "--aoi", "demo-nantes-port", "--from", "2015-01-01", "--to", "2016-01-01", "--source", " ", "--out",
      "o"), "geo vessels", "--source"),
    # an empty --aoi was ": is a folder", an empty --claim or --before an unknown id '', an empty --since ignored
    (("run", "--aoi", "", "--source", "demo", "--out", "o"), "geo run", "--aoi"),
    (("recheck", "--store", "s.gpkg", "--aoi", "demo-nantes-port", "--aoi", "", "--source", "demo"), "geo recheck",
     "--aoi"),
    (("run", "--aoi", "demo-nantes-port", "--claim", "", "--source", "demo", "--out", "o"), "geo run", "--claim"),
    (("run", "--aoi", "demo-nantes-port", "--before", "", "--after", "2017-10-14", "--source", "demo", "--out", "o"),
     "geo run", "--before"),
    (("recheck", "--store", "s.gpkg", "--aoi", "demo-nantes-port", "--since", "", "--source", "demo"), "geo recheck",
     "--since"),
    # recheck --out '' wrote the store's outputs into the current folder (cron's: $HOME); --on-new '' ran nothing
    (("recheck", "--store", "s.gpkg", "--aoi", "demo-nantes-port", "--source", "demo", "--out", ""), "geo recheck",
     "--out"),
    (("recheck", "--store", "s.gpkg", "--aoi", "demo-nantes-port", "--source", "demo", "--on-new", ""), "geo recheck",
     "--on-new"),
    (("run", "--aoi", "demo-nantes-port", "--source", "demo", "--out", ""), "geo run", "--out"),
    (("demo", "--out", ""), "geo demo", "--out"),
    # an empty --scheduler ran the job in this process, as if no cluster had been named
    (("run", "--aoi", "demo-nantes-port", "--source", "demo", "--scheduler", "", "--out", "o"), "geo run",
     "--scheduler"),
    (("recheck", "--store", "s.gpkg", "--aoi", "demo-nantes-port", "--source", "demo", "--scheduler", " "),
     "geo recheck", "--scheduler"),
]


@pytest.mark.parametrize(("args", "command", "option"), EMPTY_CASES,
                         ids=[f"{command}{option}-{i}" for i, (_, command, option) in enumerate(EMPTY_CASES)])
def test_an_empty_value_is_refused_not_taken_for_the_default(user, args, command, option):
    result = user(*args)
    line = f"Error: Invalid value for '{option}': {EMPTY} (see '{command} --help')"
    assert (result.returncode, result.stdout, result.stderr) == (1, "", line + "\n")
    assert list(user.home.iterdir()) == []


NOT_FINITE = [
    (("coreg", "--read-budget", "nan", "a.tif", "b.tif"), "--read-budget", "nan"),  # was an internal error (exit 2)
    (("coreg", "--read-budget", "inf", "a.tif", "b.tif"), "--read-budget", "inf"),
    (("vessels", "--aoi", "demo-nantes-port", "--source", "demo", "--from", "2015-01-01", "--to", "2018-01-01",
      "--out", "o", "--pfa", "nan"), "--pfa", "nan"),  # counted 0 vessels in every scene
    (("scenes", "search", "--aoi", "demo-nantes-port", "--source", "demo", "--from", "2015-01-01", "--to",
      "2018-01-01", "--max-cloud", "NaN"), "--max-cloud", "NaN"),  # hid no scene
    (("recheck", "--aoi", "demo-nantes-port", "--source", "demo", "--store", "o/s.gpkg", "--wait", "nan"),
     "--wait", "nan"),
    (("recheck", "--aoi", "demo-nantes-port", "--source", "demo", "--store", "o/s.gpkg", "--on-new-timeout",
      "inf"), "--on-new-timeout", "inf"),
]


@pytest.mark.parametrize(("args", "option", "value"), NOT_FINITE, ids=[f"{o}-{v}" for _, o, v in NOT_FINITE])
def test_a_number_that_is_not_finite_is_refused_naming_the_option(user, args, option, value):
    """click's FloatRange lets nan through every bound (a comparison with nan is false) and inf through an open one."""
    result = user(*args)
    command = " ".join(a for a in args[:2] if not a.startswith("-"))
    assert (result.returncode, result.stdout, result.stderr) == (
        1, "", f"Error: Invalid value for '{option}': {value} is not a finite number (see 'geo {command} --help')\n")
    assert list(user.home.iterdir()) == []
