"""Snow at the claims' places: Khabarovsk lies under snow from November to March. A scene after the first snow
was compared with one before it as any pair: snow over part of the area was found as a new bright surface beside
the real change, snow over all of it was taken in by the local fits' gain and the onward-bases claim read "no
evidence found" on ground nobody could see (the synthetic tiles of tests/flows/tiles.py: planted snow and change,
the truth known)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import shape

from tests.archive_server import ArchiveServer
from tests.flows.test_verdict_honesty import agree, changes, part, utc
from tests.flows.tiles import Tile, tile_item, utm_box

AOI = "khabarovsk"
CLAIM = "nis-onward-bases"  # window 8-31 October 2024
EAST_CHANGE = (.6, .4, .7, .5)  # 800 x 700 m
WEST_SNOW = (-.3, -.3, .45, 1.3)  # the west 45% of the AOI and the grid's margin beyond it
ALL = (-2, -2, 3, 3)


def khabarovsk_archive(folder: Path, tiles: dict[str, tuple[datetime, dict[str, Any]]]) -> ArchiveServer:
    """A loopback archive of a synthetic tile over the AOI (5.5 x 4.5 km) per tag: its date and ``Tile`` options."""
    server = ArchiveServer(page_size=20).start()
    west, south, east, north = part(AOI, 0, 0, 1, 1)
    bounds = utm_box(32653, (west + east) / 2, (south + north) / 2, 5500, 4500)
    for tag, (when, options) in tiles.items():
        tile_item(server, folder, Tile(f"S2A_{AOI}_{tag}", when, 32653, bounds, **options))
    return server


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Iterator[ArchiveServer]:
    tiles = {
        "before": (utc(10, 5), {}),
        "before-snow": (utc(10, 6), {"snow": (part(AOI, *ALL),)}),  # an early snow, for a pair snowed on both dates
        "after-west-snow": (utc(11, 4), {"snow": (part(AOI, *WEST_SNOW),), "changed": part(AOI, *EAST_CHANGE)}),
        "after-snow": (utc(11, 5), {"snow": (part(AOI, *ALL),)}),
        "after-snow-no-scl": (utc(11, 20), {"snow": (part(AOI, *ALL),), "scl": False}),
        "after-melted": (utc(11, 12), {"changed": part(AOI, *EAST_CHANGE)}),
    }
    server = khabarovsk_archive(tmp_path_factory.mktemp("snow"), {  # (snow has a texture: noise as a sensor's)
        tag: (when, {"noise_dn": 20.0, **options}) for tag, (when, options) in tiles.items()})
    yield server
    server.stop()


def run(user, archive: ArchiveServer, after: str, before: str = "before") -> Path:
    shell = user("run", "--aoi", AOI, "--claim", CLAIM, "--source", archive.url, "--before", f"S2A_{AOI}_{before}",
                 "--after", f"S2A_{AOI}_{after}", "--out", after)
    assert shell.returncode == 0, shell.output
    assert "internal error" not in shell.output and "Traceback" not in shell.output, shell.output
    out: Path = user.home / after
    (out / "terminal.txt").write_text(shell.stdout)
    (out / "stderr.txt").write_text(shell.stderr)
    return out


def test_a_snowed_after_scene_makes_the_claim_not_observable_not_consistent(user, archive):
    """Snow over the whole area on the after date: 'no evidence found' on all of it before (the snow taken in by
    the local fits' gain); now not observable, saying why."""
    out = run(user, archive, "after-snow")
    assert changes(out) == []
    verdict = agree(out, CLAIM)
    assert verdict["verdict"] == "not observable", verdict
    assert verdict["clear_fraction"] == 0.0, verdict
    assert verdict["rationale"] == (
        "Only 0% of the area was free of cloud and gaps on both dates and compared; 100% had snow or ice on one date "
        "only, a season's change, and was not compared (at least 50% is needed), so too little of the ground was seen.")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["not_compared"] == {"fraction": 1.0, "why": "snow or ice on one date only, a season's change"}
    assert manifest["snow"]["before"] == 0.0 and manifest["snow"]["after"] == 1.0, manifest["snow"]
    terminal = (out / "terminal.txt").read_text() + (out / "stderr.txt").read_text()
    # (it read "(before 100%, after 100%: outside the scenes, no data or cloud; 100% had snow ...)": every date seen in
    # full, and the snow's shortfall blamed on cloud and the scenes' edges in cron's log)
    assert ("only 0% of the AOI was seen on both dates and compared (seen before 100%, after 100%; 100% had snow or "
            "ice on one date only, a season's change, and was not compared)") in terminal


def test_snow_is_found_without_the_scene_classification(user, archive):
    """An L1C-like item (no SCL): the snow is told from its bands, as on the L2A one."""
    out = run(user, archive, "after-snow-no-scl")
    assert changes(out) == []
    assert agree(out, CLAIM)["verdict"] == "not observable"


def test_a_change_beside_the_snow_is_found_and_the_snow_share_said(user, archive):
    """Snow on the west 45% of the area, a camp-sized change in the clear east: the change alone is found (the
    snow was a second new bright surface before); the verdict rests on the rest and says how much was left out."""
    out = run(user, archive, "after-west-snow")
    found = json.loads((out / "changes.geojson").read_text())["features"]
    bright = [f["properties"] for f in found if f["properties"]["change_type"] == "new_bright_surface"]
    assert len(bright) == 1 and 600_000 < bright[0]["area_m2"] < 700_000, bright  # the 800 x 700 m change
    snow_east = part(AOI, *WEST_SNOW)[2]
    assert all(shape(f["geometry"]).bounds[0] > snow_east for f in found), found  # (the rest: bits at its edges)
    verdict = agree(out, CLAIM)
    assert verdict["verdict"] == "consistent with the claim", verdict
    left_out = json.loads((out / "manifest.json").read_text())["not_compared"]["fraction"]
    assert 0.45 <= left_out < 0.5, left_out  # the west 45%, grown by the 20 m of a snow line
    assert 0.5 < verdict["clear_fraction"] <= 0.55 and abs(verdict["clear_fraction"] + left_out - 1) < 1e-3, verdict
    assert (f"{round(100 * left_out)}% of the area had snow or ice on one date only, a season's change, and was not "
            "compared: nothing is known of that part.") in verdict["rationale"], verdict
    assert (f"{round(100 * left_out)}% of the AOI had snow or ice on one date only, a season's change, and was not "
            "compared") in (out / "stderr.txt").read_text()


def test_snow_on_both_dates_is_compared(user, archive):
    """A winter pair (snow before and after): nothing left out, nothing changed, no evidence found on all of it."""
    out = run(user, archive, "after-snow", before="before-snow")
    assert changes(out) == []
    verdict = agree(out, CLAIM)
    assert verdict["verdict"] == "no evidence found" and verdict["clear_fraction"] == 1.0, verdict
    assert "snow" not in verdict["rationale"], verdict
    assert "not_compared" not in json.loads((out / "manifest.json").read_text())



def test_a_re_check_says_a_pair_was_skipped_for_snow(user, archive):
    """A scheduled re-check through the first snow: the pair whose after scene is snowed all over is skipped, its
    reason naming the snow (it said 'only 0% of the AOI clear on both dates', which reads as cloud in cron's mail);
    the next scene, snowed in the west only, pairs with the autumn head."""
    shell = user("recheck", "--aoi", AOI, "--store", "s.gpkg", "--source", archive.url, "--since", "2024-10-01",
                 "--sensor", "s2", "--json")
    assert shell.returncode == 0, shell.output
    pairs = [(p["before_scene"].rsplit("_", 1)[1], p["after_scene"].rsplit("_", 1)[1], p["status"], p["reason"])
             for p in json.loads(shell.stdout)["aois"][0]["pairs"]]
    assert pairs[0] == ("before", "before-snow", "skipped", "only 0% of the AOI clear on both dates and compared "
                        "(need 50%; 100% had snow or ice on one date only, a season's change)"), pairs
    assert pairs[1][:3] == ("before", "after-west-snow", "done"), pairs


def test_a_pair_chosen_for_the_claim_goes_past_an_early_snow(user, archive):
    """No dates given: the after scenes nearest the window's end (4 and 5 November) are snowed, by their SCL, on
    45% and all of the area, the one of 12 November not: it is chosen, the change found on all the area."""
    shell = user("run", "--aoi", AOI, "--claim", CLAIM, "--source", archive.url, "--out", "chosen")
    assert shell.returncode == 0, shell.output
    manifest = json.loads((user.home / "chosen" / "manifest.json").read_text())
    selection = manifest["scenes"]["selection"]
    assert (selection["before"]["id"], selection["after"]["id"]) == (f"S2A_{AOI}_before", f"S2A_{AOI}_after-melted")
    assert "not_compared" not in manifest and manifest["clear_fraction"] == 1.0
    judged = {c["id"].rsplit("_", 1)[1]: c for c in selection["candidates"]["after"]}
    assert judged["after-snow"]["snow_fraction"] == 1.0 and judged["after-melted"]["snow_fraction"] == 0.0, judged
    assert 0.44 < judged["after-west-snow"]["snow_fraction"] < 0.47, judged


def test_scenes_search_shows_the_snow_an_analyst_picks_dates_by(user, archive):
    """An analyst choosing --before/--after by hand over a Far-East autumn: the table showed clear, cloud and nodata
    only, a scene snowed all over read '100%' clear as the bare one; now a snow column (SCL class 11, inside the AOI,
    part of the clear), as the JSON's snow_fraction, and n/a for a scene without its scene classification."""
    shell = user("scenes", "search", "--aoi", AOI, "--from", "2024-10-01", "--to", "2024-11-30", "--source",
                 archive.url, "--sort", "date", columns=120)
    assert shell.returncode == 0, shell.output
    lines = shell.stdout.splitlines()
    header = next(line for line in lines if line.startswith("date"))
    assert header.split()[:8] == ["date", "id", "sat", "orbit", "clear", "cloud", "nodata", "snow"], shell.stdout
    snow_at = header.index("snow")
    cells = {line.split()[1].rsplit("_", 1)[1]: line[snow_at:snow_at + 4].strip() for line in lines
             if line.startswith("2024-")}
    assert cells == {"before": "0%", "before-snow": "100%", "after-west-snow": "45%", "after-snow": "100%",
                     "after-snow-no-scl": "n/a", "after-melted": "0%"}, shell.stdout


def test_the_ground_compared_is_shown_alike_on_both_dates_beside_the_snow(user, archive):
    """Snow on the west 45% of the after date set that date's display stretch (its 98th percentile the snow's
    0.8): in QGIS and in the report the ground beside it, the part compared, showed a few times darker than on the
    before date, as a wide change did before it was left out of the stretch; now the area not compared is left
    out as the changes are."""
    import re

    from tests.flows.test_wide_change_display import pixels, stretch

    out = run(user, archive, "after-west-snow")
    before, after = stretch(out / "before_rgb.qml"), stretch(out / "after_rgb.qml")
    for (low_b, high_b), (low_a, high_a) in zip(before, after):
        assert high_b < 0.35 and high_a == pytest.approx(high_b, rel=0.1), (before, after)
    report = (out / "report.html").read_text()
    views = [pixels(uri) for uri in re.findall(r'data:image/jpeg;base64,[A-Za-z0-9+/=]+', report)[:2]]
    east = [view[view.shape[0] // 10: view.shape[0] // 3, -view.shape[1] // 5:].mean() for view in views]
    assert abs(east[0] - east[1]) < 0.1 * east[0], east  # (of 255: was ~70% darker after)
    # the area's line and the claim card's clear area say the part not compared, beside "55% clear on both dates"
    # after "100% of the area clear" on each date (it was in the rationale alone)
    import html

    left_out = round(100 * json.loads((out / "manifest.json").read_text())["not_compared"]["fraction"])
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", report)))
    said = f"{left_out}% not compared (snow or ice on one date only, a season's change)"
    assert text.count(said) == 2, re.findall(r"[^.]{0,80}clear on both dates[^.]{0,120}", text)
