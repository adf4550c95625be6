"""``geo vessels`` over a Sentinel-1 series seen in two instrument modes: the synthetic port's items
(tests/vessels/port.py, 1-4 ships a date, then 9 in the claim's window) marked IW or EW, the EW ones' pixels
block-averaged 4x4 to 40 m as EW sees. A mode's counts are not another's (here the 40 m scenes, read onto the
10 m grid, count 8-36 "ships" a date where 1-9 were planted; real EW misses small ships), so each mode is tested
against a baseline of its own: on main one series mixed them, and a busy IW window against a baseline with EW
dates in it came out "no evidence found" (p = 0.58)"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine

from geo.link import CONSISTENT, NO_EVIDENCE, NOT_TESTED
from geo.scenes.model import Scene
from tests.flows.test_sar_archives import in_window, rewritten, vessels

BLOCK = 4  # 10 m -> 40 m


def block_mean(data: np.ndarray, transform: Affine) -> tuple[np.ndarray, Affine]:
    """``data`` at BLOCK x its pixel size, each pixel the mean intensity of its block, and its transform."""
    rows, cols = (n // BLOCK for n in data.shape)
    blocks = data.astype("float64")[: rows * BLOCK, : cols * BLOCK].reshape(rows, BLOCK, cols, BLOCK)
    with np.errstate(invalid="ignore"):
        return np.nanmean(blocks, axis=(1, 3)), transform @ Affine.scale(BLOCK)


def coarsened(path: Path) -> None:
    """``path`` written again at BLOCK x its pixel size, each pixel the mean intensity of its block."""
    with rasterio.open(path) as src:
        data, profile = src.read(1), src.profile
    mean, transform = block_mean(data, profile["transform"])
    rows, cols = mean.shape
    profile.update(height=rows, width=cols, transform=transform, blockxsize=None, blockysize=None, tiled=False)
    profile = {k: v for k, v in profile.items() if v is not None}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(mean.astype(profile["dtype"]), 1)


def in_modes(catalog: Path, folder: Path, ew: Callable[[Scene], bool]) -> Path:
    """The port's Sentinel-1 items, those ``ew`` picks in EW mode at 40 m, the others IW at 10 m."""
    picked: set[str] = set()

    def mode(scene: Scene) -> dict:
        if ew(scene):
            picked.add(scene.id)
        return {"sar:instrument_mode": "EW" if ew(scene) else "IW"}

    out = rewritten(catalog, folder, props=mode)
    for tif in (tif for scene_id in picked for tif in (folder / scene_id).glob("*.tif")):
        coarsened(tif)
    return out


def at_berth(project, scene_id: str) -> int:
    """The ships planted alongside the middle pier (tests/vessels/port.py) on that date."""
    return sum((s.row, s.col) == (156.5, 120.0) for s in project.ships[scene_id])


def outputs(user, out: str = "out") -> tuple[list[dict], dict, dict]:
    rows = list(csv.DictReader((user.home / out / "timeseries.csv").open()))
    evidence = {e["claim_id"]: e for e in json.loads((user.home / out / "evidence.json").read_text())}
    manifest = json.loads((user.home / out / "vessels-manifest.json").read_text())
    return rows, evidence, manifest


def test_a_window_seen_in_ew_is_not_tested_against_an_iw_baseline(user, port_project, tmp_path):
    """On main the window's EW scenes were counted against IW's baseline in one series (36 'ships' a date
    against 1-3): a rise, whatever the port held. No baseline of EW: not tested, the rationale says why."""
    catalog = in_modes(port_project.catalog, tmp_path / "modes", in_window)
    result = vessels(user, catalog, port_project)
    assert result.returncode == 0, result.output
    rows, evidence, manifest = outputs(user)
    modes = {row["scene"]: row["instrument_mode"] for row in rows}
    assert modes == {s["id"]: ("EW" if s["id"] >= "S1A_TEST_202106" else "IW") for s in manifest["scenes"]}
    assert sorted(s for s, m in modes.items() if m == "EW") == ["S1A_TEST_20210611", "S1A_TEST_20210613"]
    assert {s["id"]: s["instrument_mode"] for s in manifest["scenes"]} == modes
    ships = evidence["test-ships"]
    assert ships["verdict"] == NOT_TESTED and ships["tests"] == {}, ships
    rationale = ships["rationale"]
    assert "s1 IW: no scene inside the window" in rationale, rationale
    assert "s1 EW: only 0 usable baseline dates" in rationale, rationale
    assert ("2 s1 EW scenes left out (S1A_TEST_20210611, S1A_TEST_20210613): instrument mode EW is not "
            "compared with s1 IW") in rationale, rationale
    # a quiet baseline date is still tested, in IW against IW, and says nothing of EW scenes after its window
    quiet = evidence["test-quiet"]
    assert quiet["verdict"] == NO_EVIDENCE and set(quiet["tests"]) == {"s1 IW", "s1 IW at berth"}, quiet
    assert "left out" not in quiet["rationale"], quiet["rationale"]


def test_ew_baseline_dates_are_left_out_of_an_iw_window_test(user, port_project, tmp_path):
    """Four of the ten baseline dates in EW (8-16 'ships' each): on main the baseline's mean rose to 5.2 and
    the busy window (9 ships a date) was 'no evidence found'. Now the IW window is tested against the six IW
    dates alone (a rise), and the rationale names the four EW scenes left out."""
    early = {f"S1A_TEST_202104{d:02d}" for d in (1, 7, 13, 19)}
    catalog = in_modes(port_project.catalog, tmp_path / "modes", lambda s: s.id in early)
    result = vessels(user, catalog, port_project)
    assert result.returncode == 0, result.output
    rows, evidence, manifest = outputs(user)
    assert sorted(r["scene"] for r in rows if r["instrument_mode"] == "EW") == sorted(early)
    # each mode's scenes make its own land mask: with one of all twelve the EW dates had 5-6 ships at berth (the
    # quays their 40 m pixels smear), where 0 or 1 was moored, and an IW date lost its berthed ship
    assert manifest["land_mask"] == {"s1 EW": "sar-temporal-median/4 scenes", "s1 IW": "sar-temporal-median/8 scenes"}
    assert "land mask s1 EW sar-temporal-median/4 scenes, s1 IW sar-temporal-median/8 scenes" in result.stdout
    assert {r["scene"]: int(r["n_at_berth"]) for r in rows} == {r["scene"]: at_berth(port_project, r["scene"]) for r in rows}
    assert len([r for r in rows if r["instrument_mode"] == "IW"]) == 8
    ships = evidence["test-ships"]
    assert ships["verdict"] == CONSISTENT and set(ships["tests"]) == {"s1 IW", "s1 IW at berth"}, ships
    test = ships["tests"]["s1 IW"]
    assert len(test["baseline"]) == 6 and len(test["window"]) == 2, test
    iw_baseline = [int(r["n_100m"]) for r in rows if r["instrument_mode"] == "IW" and r["date"] < "2021-06"]
    assert test["baseline"] == iw_baseline
    assert (f"4 s1 EW scenes left out ({', '.join(sorted(early))}): instrument mode EW is not compared with "
            "s1 IW") in ships["rationale"], ships["rationale"]
