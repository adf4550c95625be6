"""A re-check's pair partly outside the scenes with snow on the after date only: the AOI's line said "71% of the AOI
seen clear; 20% outside the scenes; 9% cloud or gaps inside them", the snow's 3% (seen, not compared) counted as
cloud, and said apart only with -v: 103% of the area. ``geo run`` says it once (tests/flows/test_not_compared.py);
the re-check now too, and keeps the share in the pair's summary."""

from __future__ import annotations

import json

from tests.flows.test_not_compared import AREA, archive  # noqa: F401  (the pair's archive, a fixture)
from tests.flows.tiles import lon_lat_aoi

SNOW_WHY = "snow or ice on one date only, a season's change"


def test_the_recheck_shares_add_up_to_the_area(user, archive):  # noqa: F811
    lon_lat_aoi(user.home / "area.geojson", AREA)
    shell = user("recheck", "--aoi", "area.geojson", "--store", "s.gpkg", "--source", archive.url, "--since",
                 "2024-09-28", "--sensor", "s2", "--max-pairs", "1")
    assert shell.returncode == 0, shell.output
    line, = [line for line in shell.stdout.splitlines() if " baseline S2A_T_before;" in line]
    assert line.endswith("; head S2A_T_after; 71% of the AOI seen clear; 20% outside the scenes; 6% cloud or gaps "
                         f"inside them; 3% not compared ({SNOW_WHY})"), line
    summary = json.loads((user.home / "s-outputs" / "runs" / "000001" / "summary.json").read_text())
    pair, = summary["aois"][0]["pairs"]
    assert round(pair["not_compared"]["fraction"], 2) == 0.03 and pair["not_compared"]["why"] == SNOW_WHY, pair
