"""Whether each verdict is honest: the shipped claims (seeds/2024-10-nk-troops-russia.toml) run with ``geo run`` on
synthetic tiles over their AOIs (tests/flows/tiles.py: planted changes and clouds, the truth known), and the
verdict, its confidence and the rationale's words and numbers read the same in claims.json, the report and the
GeoPackage's claims layer, and say no more than the pixels allow."""

from __future__ import annotations

import html
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from shapely.geometry import shape

from tests.archive_server import ArchiveServer
from tests.conftest import REPO
from tests.flows.tiles import LonLatBox, Tile, tile_item, utm_box

from datetime import datetime, timezone

AOIS = {"chongjin-port": 32652, "pokrovsk": 32637, "vladivostok-port": 32652, "sergeevka-training-ground": 32653}


def aoi_bounds(aoi_id: str) -> LonLatBox:
    data = json.loads((REPO / "aoi" / f"{aoi_id}.geojson").read_text())
    west, south, east, north = shape(data["geometry"]).bounds
    return west, south, east, north


def part(aoi_id: str, x0: float, y0: float, x1: float, y1: float) -> LonLatBox:
    """The lon/lat box of the AOI's bounds between fractions (x0, y0) and (x1, y1) of its width and height."""
    west, south, east, north = aoi_bounds(aoi_id)
    return (west + x0 * (east - west), south + y0 * (north - south), west + x1 * (east - west),
            south + y1 * (north - south))


def utc(month: int, day: int) -> datetime:
    return datetime(2024, month, day, 2, 0, tzinfo=timezone.utc)


EAST_CHANGE = (.6, .4, .7, .5)  # a tenth of the AOI's width and height: 500 x 400 m at Chongjin
WEST_CHANGE = (.2, .4, .3, .5)
WEST_CLOUD = (-.3, -.3, .45, 1.3)  # the west 45% of the AOI under cloud, and the grid's margin beyond it


@dataclass(frozen=True)
class Scenes:
    """Item ids of the tiles over one AOI: before (clear) and after it, by what the after scene shows."""

    aoi_id: str

    def id(self, tag: str) -> str:
        return f"S2A_{self.aoi_id}_{tag}"


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Iterator[ArchiveServer]:
    server = ArchiveServer(page_size=20).start()
    folder = tmp_path_factory.mktemp("honesty")
    for aoi_id, epsg in AOIS.items():
        west, south, east, north = aoi_bounds(aoi_id)
        bounds = utm_box(epsg, (west + east) / 2, (south + north) / 2, 5000, 4500)
        scenes = Scenes(aoi_id)
        tiles = {
            "before": (utc(9, 28), {}),
            "after-half-cloud-change-under": (utc(10, 20), {"changed": part(aoi_id, *WEST_CHANGE),
                                                            "clouds": (part(aoi_id, *WEST_CLOUD),)}),
            "after-half-cloud-change-clear": (utc(10, 20), {"changed": part(aoi_id, *EAST_CHANGE),
                                                            "clouds": (part(aoi_id, *WEST_CLOUD),)}),
            "after-all-cloud": (utc(10, 21), {"clouds": (part(aoi_id, -2, -2, 3, 3),)}),
        }
        if aoi_id == "sergeevka-training-ground":  # camps: window 8-31 October
            tiles = {"before": (utc(10, 5), {}), "after-half-cloud-change-under": (utc(11, 2), {
                "changed": part(aoi_id, *WEST_CHANGE), "clouds": (part(aoi_id, *WEST_CLOUD),)}),
                     "before-no-scl": (utc(10, 4), {"scl": False}),  # a cloud over a fifth of the area, unjudged
                     "after-no-scl-cloud": (utc(11, 3), {"scl": False, "clouds": (part(aoi_id, .3, .3, .5, .5),)})}
        if aoi_id == "vladivostok-port":  # no scene before the arrival window (8-13 October): one in it, one after
            tiles = {"in-window": (utc(10, 10), {}), "after": (utc(10, 20), {"changed": part(aoi_id, *EAST_CHANGE)})}
        for tag, (when, kwargs) in tiles.items():
            tile_item(server, folder, Tile(scenes.id(tag), when, epsg, bounds, **kwargs))
    yield server
    server.stop()


def run(user, archive: ArchiveServer, aoi_id: str, claim: str, after_tag: str, before_tag: str = "before") -> Path:
    scenes = Scenes(aoi_id)
    shell = user("run", "--aoi", aoi_id, "--claim", claim, "--source", archive.url, "--before", scenes.id(before_tag),
                 "--after", scenes.id(after_tag), "--out", after_tag)
    assert shell.returncode == 0, shell.output
    out: Path = user.home / after_tag
    (out / "terminal.txt").write_text(shell.stdout)
    (out / "stderr.txt").write_text(shell.stderr)
    return out


def verdict_of(out: Path, claim: str) -> dict:
    return next(v for v in json.loads((out / "claims.json").read_text()) if v["claim_id"] == claim)


def agree(out: Path, claim: str) -> dict:
    """The claim's verdict in claims.json, checked to read the same in the terminal, report and GeoPackage."""
    import pyogrio

    verdict = verdict_of(out, claim)
    terminal = (out / "terminal.txt").read_text()
    assert f"claim {claim}: {verdict['verdict']}" in terminal, terminal
    report = html.unescape(re.sub(r"<[^>]+>", "", (out / "report.html").read_text()))
    report = re.sub(r"\s+", " ", report)
    assert verdict["rationale"].split(". ")[0] in report, report
    rows = pyogrio.read_dataframe(out / "changes.gpkg", layer="claims")
    row = rows[(rows["claim_id"] == claim) & (rows["aoi_id"] == verdict["aoi_id"])].iloc[0]
    assert row["verdict"] == verdict["verdict"]
    if verdict["confidence"] is None:  # not tested
        assert row["confidence"] is None or row["confidence"] != row["confidence"], row  # null (NaN)
    else:
        assert abs(float(row["confidence"]) - verdict["confidence"]) < 1e-6
    return verdict


def changes(out: Path) -> list[dict]:
    return [f["properties"] for f in json.loads((out / "changes.geojson").read_text())["features"]]


def test_a_change_under_the_cloud_of_a_half_clouded_after_scene_is_no_evidence(user, archive):
    """The cloud's edge (SCL is 20 m, the bands 10 m) was found as new bright surfaces (2 changes, 8,078 m²) and
    the embarkation claim read 'consistent with the claim' on a change that was under the cloud."""
    out = run(user, archive, "chongjin-port", "nis-embarkation", "after-half-cloud-change-under")
    assert changes(out) == []
    verdict = agree(out, "nis-embarkation")
    assert verdict["verdict"] == "no evidence found", verdict
    assert 0.5 < verdict["clear_fraction"] < 0.56, verdict
    assert f"{verdict['clear_fraction']:.0%} of the area was clear on both dates and no change" in verdict["rationale"]


def test_a_change_in_the_clear_half_of_a_half_clouded_after_scene_is_the_only_change(user, archive):
    out = run(user, archive, "chongjin-port", "nis-embarkation", "after-half-cloud-change-clear")
    found = changes(out)
    assert len(found) == 1, found  # the planted 500 x 400 m change; nothing along the cloud's edge
    assert 190_000 < found[0]["area_m2"] < 230_000, found
    verdict = agree(out, "nis-embarkation")
    assert verdict["verdict"] == "consistent with the claim", verdict
    # the after scene's clear share, as its selection warns of it and as the job saw it (cloud and 40 m around it)
    after = next(s for s in verdict["scenes"] if s["role"] == "after")
    assert (f"only {after['clear_fraction']:.0%} of the AOI is clear (no candidate reached 80%)"
            in (out / "stderr.txt").read_text()), ((out / "stderr.txt").read_text(), after)
    assert verdict["n_changes"] == 1 and verdict["area_m2"] == found[0]["area_m2"], verdict
    assert f"1 change of a kind the claim predicts (1 new bright surface; {found[0]['area_m2']:,.0f} m² in all)" in \
        verdict["rationale"]


def test_no_scene_before_the_window_does_not_say_the_archive_misses_the_place(user, archive):
    """An archive holding the AOI's scenes in and after the window, none before it, was said to 'seem not to
    image the AOI's place (... open sea far from land ...)', and a registry AOI's lon and lat to be maybe swapped."""
    shell = user("run", "--aoi", "vladivostok-port", "--claim", "nis-arrival-vladivostok", "--source", archive.url,
                 "--out", "out")
    assert shell.returncode == 1, shell.output
    assert "no scene over AOI 'vladivostok-port' on or before 2024-10-08" in shell.stderr, shell.stderr
    assert "seems not to image" not in shell.stderr and "swapped" not in shell.stderr, shell.stderr
    assert ("the archive does image the AOI: its nearest scene after the window is "
            f"{Scenes('vladivostok-port').id('after')} (2024-10-20)") in shell.stderr, shell.stderr
    assert not (user.home / "out").exists()


def test_a_pair_inside_the_window_leaves_the_claim_not_tested(user, archive):
    """Dates that put the before scene inside the window (10 October, the window 8-13): not tested, no confidence,
    whatever changed; the change polygons are still written, linked to no claim."""
    shell = user("run", "--aoi", "vladivostok-port", "--claim", "nis-arrival-vladivostok", "--source", archive.url,
                 "--before", "2024-10-10", "--after", "2024-10-20", "--out", "out")
    assert shell.returncode == 0, shell.output
    out = user.home / "out"
    (out / "terminal.txt").write_text(shell.stdout)
    verdict = agree(out, "nis-arrival-vladivostok")
    assert verdict["verdict"] == "not tested" and verdict["confidence"] is None, verdict
    assert not verdict["pair_brackets_window"] and verdict["n_changes"] == 0, verdict
    assert verdict["rationale"].startswith("Change polygons (not tested): The scenes (2024-10-10 and 2024-10-20) do "
                                           "not lie on either side of the claim window 2024-10-08 to 2024-10-13"), verdict
    found = changes(out)
    assert len(found) == 1 and found[0]["claim_ids"] == [], found


def test_the_share_of_the_area_seen_reads_the_same_in_the_rationale_and_everywhere_else(user, archive):
    """54.496% of the training ground clear on both dates: claims.json, the terminal, the report's area line and its
    'Clear area', and the confidence said 55%; the rationale alone said '54% of the area was clear'."""
    out = run(user, archive, "sergeevka-training-ground", "nis-onward-bases", "after-half-cloud-change-under")
    verdict = agree(out, "nis-onward-bases")
    assert verdict["verdict"] == "no evidence found" and changes(out) == [], verdict
    seen = f"{verdict['clear_fraction']:.0%}"
    assert verdict["rationale"].startswith(f"{seen} of the area was clear on both dates and no change"), verdict
    assert f"clear fraction of AOI {seen}" in (out / "terminal.txt").read_text()
    report = (out / "report.html").read_text()
    assert f"{seen} of the area clear on both dates" in report
    assert verdict["confidence"] == verdict["clear_fraction"]  # no evidence: the share seen (under the 0.8 cap)


def test_a_flag_photo_is_not_observable_whatever_changed(user, archive):
    """The Pokrovsk flags photo: a 69 ha change in the clear half of the mine changes nothing; nor does the cloud."""
    out = run(user, archive, "pokrovsk", "pokrovsk-flags-photo", "after-half-cloud-change-clear")
    verdict = agree(out, "pokrovsk-flags-photo")
    assert verdict["verdict"] == "not observable" and verdict["confidence"] == 1.0, verdict
    assert verdict["n_changes"] == len(changes(out)) >= 1 and verdict["n_matching"] == 0, verdict
    assert verdict["rationale"] == ("What the claim predicts (flags, personnel) is smaller than what 10 m Sentinel-2 "
                                    "pixels can show, so the imagery can neither support nor contradict it.")


def test_a_change_on_scenes_whose_cloud_was_not_judged_says_it_may_be_cloud(user, archive):
    """Scenes without SCL: a cloud over a fifth of the training ground was a 2.6 km² new bright surface, and the camps
    claim read 'consistent with the claim' at 93% (high), its rationale silent on the cloud not being judged."""
    out = run(user, archive, "sergeevka-training-ground", "nis-onward-bases", "after-no-scl-cloud", "before-no-scl")
    verdict = agree(out, "nis-onward-bases")
    assert verdict["verdict"] == "consistent with the claim", verdict
    assert verdict["confidence"] < 0.7 and verdict["confidence_label"] == "medium", verdict
    assert ("The scenes' cloud was not judged (a scene without SCL): a cloud or its shadow shows as such a change, "
            "so these may be cloud, and the confidence is at most 69%.") in verdict["rationale"], verdict


def test_a_scene_clouded_over_the_whole_grid_leaves_its_claims_not_observable(user, archive):
    """Not an error with no verdict: nothing could be compared, so nothing is found and each claim, the
    denial too, is not observable; the files that cannot be made are named as such, the others written."""
    import pyogrio

    scenes = Scenes("chongjin-port")
    shell = user("run", "--aoi", "chongjin-port", "--claim", "nis-embarkation", "--claim", "kremlin-denial",
                 "--source", archive.url, "--before", scenes.id("before"), "--after", scenes.id("after-all-cloud"),
                 "--out", "all-cloud")
    assert shell.returncode == 0, shell.output
    out = user.home / "all-cloud"
    verdicts = {v["claim_id"]: v for v in json.loads((out / "claims.json").read_text())}
    assert {c: v["verdict"] for c, v in verdicts.items()} == {"nis-embarkation": "not observable",
                                                              "kremlin-denial": "not observable"}
    assert all("0% of the area" in v["rationale"] for v in verdicts.values()), verdicts
    assert changes(out) == []
    assert len(pyogrio.read_dataframe(out / "changes.gpkg", layer="claims")) == 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["clear_fraction"] == 0 and manifest["n_changes"] == 0
    assert manifest["statistic"]["name"] == "not computed"
    said = " ".join(manifest["warnings"])
    assert f"scene {scenes.id('after-all-cloud')}: no valid pixels over the area" in said, said
    assert "change_statistic.tif not written" in said and "after_rgb.tif not written" in said, said
    assert (out / "before_rgb.tif").exists()
    assert not (out / "after_rgb.tif").exists() and not (out / "change_statistic.tif").exists()
    with zipfile.ZipFile(out / "project.qgz") as project:  # no layer pointing at a file that is not there
        qgs = project.read(next(n for n in project.namelist() if n.endswith(".qgs"))).decode()
    sources = " ".join(re.findall(r"<datasource>([^<]*)</datasource>", qgs))  # (the caveats name them in metadata)
    assert "change_statistic.tif" not in sources and "after_rgb.tif" not in sources and "before_rgb.tif" in sources
    report = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", (out / "report.html").read_text())))
    assert f"scene {scenes.id('after-all-cloud')} shows nothing of the area" in report
    assert "claim nis-embarkation: not observable" in shell.stdout
    assert ".partial" not in shell.output and "Traceback" not in shell.output
