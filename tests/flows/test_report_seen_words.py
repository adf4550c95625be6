"""The share of the AOI seen, as the terminal and the report say it, for a pair whose cloud was not judged (the
demo's scenes have no scene classification) over an area partly outside the scenes: the terminal said "2% gaps inside
them; cloud not judged", the report "2% cloud or gaps inside them; cloud not judged", naming cloud it had not looked
for."""

from __future__ import annotations

from tests.flows.conftest import DEMO_CATALOG, drawn_aoi

# North-west over the demo scenes' corner: about half of it outside them.
HARBOUR = [[-1.59, 47.20], [-1.55, 47.20], [-1.55, 47.25], [-1.59, 47.25], [-1.59, 47.20]]


def test_the_report_says_the_gaps_as_the_terminal_does_when_cloud_was_not_judged(user):
    aoi = drawn_aoi(user.home / "harbour.geojson", [HARBOUR])
    shell = user("run", "--aoi", str(aoi), "--source", str(DEMO_CATALOG), "--before", "2016-01-01", "--after",
                 "2017-01-01", "--out", "out")
    assert shell.returncode == 0, shell.output
    summary, = [line for line in shell.stdout.splitlines() if "change polygon" in line]
    assert "45% of the AOI seen; 53% outside the scenes; 2% gaps inside them; cloud not judged" in summary, summary
    report = (user.home / "out" / "report.html").read_text()
    assert ("45% of the area seen on both dates; 53% outside the scenes; 2% gaps inside them; cloud not judged: no "
            "scene classification (SCL) on both scenes.") in report
    assert "cloud or gaps" not in report
