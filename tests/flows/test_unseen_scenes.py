"""Scenes that show little or nothing of the AOI, as a user meets them: a date all no data (or cloud), or one
whose few valid pixels are too few to compare (a scene's edge grazing the grid, a gap in the cloud). Either
way ``geo run`` ends with the claims *not observable*, not an error with no verdict; what it writes says so
in words and strict JSON, and names nothing it did not compute (no "nan" level)."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio

from tests.conftest import REPO

DEMO = REPO / "scenes" / "demo"
BEFORE, AFTER = "S2A_30TXT_20150821_L1C_nantes", "S2_30TXT_20171014_L1C_nantes"


def demo_keeping(folder: Path, scene_id: str, side: int) -> Path:
    """The demo catalog (L1C, no SCL) with ``scene_id`` no data but a ``side`` × ``side`` pixel square in the
    middle (0: nothing at all)."""
    shutil.copytree(DEMO, folder)
    for path in (folder / scene_id).glob("*.tif"):
        with rasterio.open(path, "r+", IGNORE_COG_LAYOUT_BREAK="YES") as dst:
            kept = np.zeros((dst.height, dst.width), dst.dtypes[0])
            row, col = dst.height // 2, dst.width // 2
            kept[row:row + side, col:col + side] = dst.read(1)[row:row + side, col:col + side]
            dst.write(kept, 1)
    return folder


def strict_json(path: Path):
    """``path`` read as RFC 8259 JSON: NaN and Infinity are no JSON values (a browser's JSON.parse refuses them)."""
    def refuse(name: str):
        raise AssertionError(f"{path.name} holds {name}, which is not JSON")
    return json.loads(path.read_text(), parse_constant=refuse)


def report_text(path: Path) -> str:
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", path.read_text(), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def run_demo(user, source: Path, out: str):
    return user("run", "--aoi", "demo-nantes-port", "--claim", "demo-nantes-construction", "--source", str(source),
                "--before", "2015-08-21", "--after", "2017-10-14", "--out", out)


@pytest.mark.parametrize("side", [1, 3, 7])  # 1, 11 and 54 pixels of the grid: below IR-MAD's 60
def test_a_scene_showing_a_handful_of_pixels_leaves_its_claims_not_observable(user, side):
    """It ended exit 1 'IR-MAD needs at least 60 valid pixels, the pair has 11', with no verdict, where a scene
    showing nothing at all gives 'not observable'."""
    shell = run_demo(user, demo_keeping(user.home / "scenes", AFTER, side), "out")
    assert shell.returncode == 0, shell.output
    out = user.home / "out"
    [verdict] = strict_json(out / "claims.json")
    assert verdict["verdict"] == "not observable" and "0% of the area" in verdict["rationale"], verdict
    manifest = strict_json(out / "manifest.json")
    assert manifest["statistic"]["name"] == "not computed" and manifest["n_changes"] == 0
    said = " ".join(manifest["warnings"])
    assert "too few valid pixels" in said and "change_statistic.tif not written" in said, said
    assert not (out / "change_statistic.tif").exists()
    assert (out / "before_rgb.tif").exists() and (out / "after_rgb.tif").exists()  # each date shows something
    assert "claim demo-nantes-construction: not observable" in shell.stdout
    assert "Traceback" not in shell.output and "Error" not in shell.output


def test_the_files_of_a_pair_not_compared_hold_no_nan(user):
    """The statistic not computed had NaN levels: manifest.json held NaN (no JSON value) and the report's
    method listed 'Levels applied: nan: detection level — pixels above it can be change'."""
    shell = run_demo(user, demo_keeping(user.home / "scenes", AFTER, 0), "out")
    assert shell.returncode == 0, shell.output
    out = user.home / "out"
    manifest = strict_json(out / "manifest.json")
    assert manifest["statistic"]["name"] == "not computed"
    # an L1C scene (no SCL) showing nothing is all nodata: its cloud was not judged, so none was masked
    said = " ".join(manifest["warnings"])
    assert f"scene {AFTER}: no valid pixels over the area (all nodata)" in said, said
    assert f"after_rgb.tif not written: scene {AFTER} shows nothing of the area (no data: no SCL" in said, said
    strict_json(out / "item.json")
    text = report_text(out / "report.html")
    assert "Change statistic change statistic (not computed: nothing seen on one date)" in text, text
    assert not re.search(r"\bnan\b", text, re.IGNORECASE), text
    assert "Levels applied" not in text
    footer = text[text.rindex("Open project.qgz"):]  # the files it points the reader to: those written
    assert "before_rgb.tif is a Cloud-Optimised GeoTIFF;" in footer, footer
    assert "after_rgb.tif" not in footer and "change_statistic.tif" not in footer, footer


def test_a_before_scene_showing_nothing_leaves_the_after_picture_named_as_there(user):
    """The report said 'No true-colour images in the run folder' beside the after_rgb.tif the run wrote."""
    shell = run_demo(user, demo_keeping(user.home / "scenes", BEFORE, 0), "out")
    assert shell.returncode == 0, shell.output
    assert (user.home / "out" / "after_rgb.tif").exists()
    text = report_text(user.home / "out" / "report.html")
    assert "No true-colour images" not in text, text
    assert (f"No before/after picture: the run folder holds after_rgb.tif alone (before_rgb.tif not written: scene "
            f"{BEFORE} shows nothing of the area (no data: no SCL, so no cloud was masked))") in text, text


def test_both_scenes_showing_nothing_are_both_named(user):
    """Neither date shows anything: the reason (the manifest's, the terminal's warning) named the before scene
    alone, as if the after one had been seen."""
    source = demo_keeping(user.home / "scenes", BEFORE, 0)
    demo_keeping(user.home / "both", AFTER, 0)
    shutil.copytree(user.home / "both" / AFTER, source / AFTER, dirs_exist_ok=True)
    shell = run_demo(user, source, "out")
    assert shell.returncode == 0, shell.output
    reason = strict_json(user.home / "out" / "manifest.json")["statistic"]["reason"]
    assert reason == (f"scene {BEFORE}: no valid pixels over the area (all nodata); "
                      f"scene {AFTER}: no valid pixels over the area (all nodata)"), reason
    assert f"{reason}: no change could be looked for on this pair" in shell.output, shell.output


def s1_pair(root: Path, shown: dict[str, int | None]) -> Path:
    """Two same-orbit Sentinel-1 RTC dates (1 and 13 June 2021) of textured land, 1 km square; a date of
    ``shown`` is no data but a square of that side in the middle (0: nothing; None: whole)."""
    from tests import synthetic
    from tests.vessels import sea

    n = 100
    rng = np.random.default_rng(1)
    texture = rng.gamma(6.0, 1 / 6.0, size=(n, n))
    items = []
    for role, day in (("before", 1), ("after", 13)):
        when = synthetic.utc(2021, 6, day)
        side = shown.get(role)
        bands = {}
        for name, mean in (("vv", 0.05), ("vh", 0.01)):
            image = (mean * texture * rng.gamma(4.0, 1 / 4.0, size=(n, n))).astype(np.float32)
            if side is not None:
                kept = np.full_like(image, np.nan)
                kept[n // 2:n // 2 + side, n // 2:n // 2 + side] = image[n // 2:n // 2 + side, n // 2:n // 2 + side]
                image = kept
            bands[name] = image
        scene_id = f"S1A_LAND_{when:%Y%m%d}"
        item = sea.write_s1_item(root / "scenes" / scene_id, scene_id, when, bands)
        item.properties.update({"sat:relative_orbit": 118, "sat:orbit_state": "ascending"})
        items.append(item)
    synthetic.write_aoi(root / "site.geojson", "site", synthetic.grid_bounds_lonlat((n, n), 20))
    return synthetic.write_catalog(root / "scenes", items)


@pytest.mark.parametrize("shown, written", [
    ({"after": 0}, ("before_rgb.tif",)),  # one date no data over the area
    ({"after": 3}, ("before_rgb.tif", "after_rgb.tif")),  # 9 pixels: below the log-ratio's 100
    ({"before": 0, "after": 0}, ()),  # neither date: was an error naming the before scene
])
def test_a_sentinel1_date_showing_little_or_nothing_is_no_error(user, shown, written):
    catalog = s1_pair(user.home, shown)
    shell = user("run", "--sensor", "s1", "--aoi", "site.geojson", "--source", str(catalog), "--before",
                 "2021-06-01", "--after", "2021-06-13", "--out", "out")
    assert shell.returncode == 0, shell.output
    out = user.home / "out"
    manifest = strict_json(out / "manifest.json")
    assert manifest["statistic"]["name"] == "not computed" and manifest["clear_fraction"] < 0.01
    assert {p.name for p in out.glob("*.tif")} == set(written)
    said = " ".join(manifest["warnings"])
    assert "no change could be looked for on this pair" in said and "all cloud" not in said, said  # radar: no data
    assert not re.search(r"\bnan\b", report_text(out / "report.html"), re.IGNORECASE)
