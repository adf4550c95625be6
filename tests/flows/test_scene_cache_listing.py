"""``geo scenes cache list`` read in a terminal: at 80 columns the table folded every creation time (an ISO time
with its offset) into seven lines and assets into pieces ("swir1/6"); where the table does not fit, the windows
are listed one line each under their item. An empty cache printed an empty table frame."""

from __future__ import annotations

import json

from tests.flows.conftest import AFTER_ID, BEFORE_ID, drawn_aoi


def test_the_cache_listing_reads_one_line_a_window_at_80_columns_and_as_a_table_when_wide(user, flow_archive,
                                                                                          tmp_path):
    empty = user("scenes", "cache", "list", columns=80)
    assert empty.returncode == 0 and "┏" not in empty.stdout, empty.output
    assert empty.stdout.startswith("0 cached windows in ") and "total 0.0 MB" in empty.stdout
    aoi = drawn_aoi(user.home / "area.geojson")
    ran = user("run", "--aoi", str(aoi), "--source", flow_archive.url, "--before", BEFORE_ID, "--after", AFTER_ID,
               "--out", "run")
    assert ran.returncode == 0, ran.output
    entries = json.loads(user("scenes", "cache", "list", "--json").stdout)["entries"]
    narrow = user("scenes", "cache", "list", columns=80).stdout.splitlines()
    assert narrow[0].startswith(f"{len(entries)} cached windows in ") and narrow[-1].startswith("total ")
    assert all(len(line) <= 80 for line in narrow[1:-1]), narrow  # (the folder's path may be longer)
    for entry in entries:
        created = entry["created"][:16].replace("T", " ")
        line = (f"  {entry['asset']} {entry['crs']} {entry['shape'][0]}x{entry['shape'][1]} {entry['resolution']:g} m "
                f"{entry['resampling']} {entry['bytes'] / 1024:.0f} KB {created} UTC")
        assert line in narrow, (line, narrow)
    assert sorted(line for line in narrow[1:-1] if not line.startswith(" ")) == sorted({BEFORE_ID, AFTER_ID})
    wide = user("scenes", "cache", "list", columns=200).stdout
    assert "created UTC" in wide and wide.count(BEFORE_ID) == sum(e["item_id"] == BEFORE_ID for e in entries)
