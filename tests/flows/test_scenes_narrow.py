"""``geo scenes search`` on a 60-column terminal printed its table 80 wide (date and id alone take 40 columns), and
the terminal wrapped every row into a jumble. Below the table's width it prints one block per scene, as ``geo claims
list`` does: the date and id on a line (never cut), then the facts, wrapped between them; no line wider than the
terminal. 80 columns keep the table."""

from __future__ import annotations

IDS = ("S2A_30TXT_20150821_L1C_nantes", "S2_30TXT_20171014_L1C_nantes")
SEARCH = ("scenes", "search", "--aoi", "demo-nantes-port", "--source", "demo", "--from", "2015-01-01", "--to",
          "2018-01-01")


def test_a_narrow_terminal_gets_a_block_per_scene(user):
    result = user(*SEARCH, columns=60)
    assert result.returncode == 0, result.output
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= 60, result.stdout
    assert lines[0].startswith("2 scenes over demo-nantes-port"), lines
    assert "2015-08-21 S2A_30TXT_20150821_L1C_nantes" in lines and "2017-10-14 S2_30TXT_20171014_L1C_nantes" in lines
    first = lines.index("2015-08-21 S2A_30TXT_20150821_L1C_nantes")
    assert lines[first + 1:first + 4] == ["  S2A, clear 100%, cloud n/a, nodata 0%, snow n/a,", "  tile cloud 0%", ""]

    sorted_by_date = user(*SEARCH, "--sort", "date", columns=60)
    assert [line.split()[1] for line in sorted_by_date.stdout.splitlines() if line[:4].isdigit()] == list(IDS)


def test_eighty_columns_keep_the_table(user):
    result = user(*SEARCH, columns=80)
    assert result.returncode == 0, result.output
    assert max(map(len, result.stdout.splitlines())) <= 80, result.stdout
    header = next(line for line in result.stdout.splitlines() if line.startswith("date"))
    assert header.split()[:4] == ["date", "id", "sat", "orbit"], header
    assert any(line.startswith("2015-08-21 S2A_30TXT_20150821_L1C_nantes S2A") for line in result.stdout.splitlines())
