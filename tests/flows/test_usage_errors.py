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
]


@pytest.mark.parametrize(("args", "line"), CASES, ids=[" ".join(args[:2]) + f"-{i}" for i, (args, _) in enumerate(CASES)])
def test_a_usage_error_is_one_line_naming_the_input(user, args, line):
    result = user(*args)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", line + "\n")
    assert list(user.home.iterdir()) == []
