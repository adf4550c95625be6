"""A pair whose compared pixels hold one value in every band on a date (fresh snow on a frozen lake, calm open sea
at 10 m, a saturated patch): there is no texture to compare the dates by. Noise-free synthetic snow on both dates
ended `geo run` in "internal error: ValueError: array must not contain infs or NaNs" (IR-MAD's canonical
correlation divided by the zero variance); now the area is not compared, said with the reason, and the claim is
not observable, not "no evidence found" on ground nothing could be told apart on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.archive_server import ArchiveServer
from tests.flows.test_verdict_honesty import agree, changes, part, utc
from tests.flows.tiles import Tile, tile_item, utm_box

AOI = "khabarovsk"
CLAIM = "nis-onward-bases"  # window 8-31 October 2024
ALL = (-2, -2, 3, 3)


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Iterator[ArchiveServer]:
    server = ArchiveServer(page_size=20).start()
    folder = tmp_path_factory.mktemp("textureless")
    west, south, east, north = part(AOI, 0, 0, 1, 1)
    bounds = utm_box(32653, (west + east) / 2, (south + north) / 2, 5500, 4500)
    snow = (part(AOI, *ALL),)
    tiles = {"flat-before": (utc(10, 5), 0.0), "flat-after": (utc(11, 5), 0.0), "noisy-before": (utc(10, 6), 20.0)}
    for tag, (when, noise) in tiles.items():
        tile_item(server, folder, Tile(f"S2A_{AOI}_{tag}", when, 32653, bounds, noise_dn=noise, snow=snow))
    yield server
    server.stop()


def run(user, archive: ArchiveServer, before: str, after: str) -> Path:
    shell = user("run", "--aoi", AOI, "--claim", CLAIM, "--source", archive.url, "--before", f"S2A_{AOI}_{before}",
                 "--after", f"S2A_{AOI}_{after}", "--out", after)
    assert shell.returncode == 0, shell.output
    assert "internal error" not in shell.output and "Traceback" not in shell.output, shell.output
    out: Path = user.home / after
    (out / "terminal.txt").write_text(shell.stdout)
    (out / "stderr.txt").write_text(shell.stderr)
    return out


@pytest.mark.parametrize("before, date", [("flat-before", "both dates"), ("noisy-before", "the after date")])
def test_a_pair_with_no_texture_is_not_compared_and_says_why(user, archive, before, date):
    out = run(user, archive, before, "flat-after")
    assert changes(out) == []
    verdict = agree(out, CLAIM)
    assert verdict["verdict"] == "not observable", verdict
    assert verdict["clear_fraction"] == 0.0, verdict
    why = f"one value in every band on {date} (no texture to compare by: fresh snow, calm water or saturation)"
    assert f"100% had {why}, and was not compared" in verdict["rationale"], verdict
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["not_compared"] == {"fraction": 1.0, "why": why}, manifest.get("not_compared")
    assert manifest["statistic"]["name"] == "not computed", manifest["statistic"]
    said = (out / "stderr.txt").read_text()
    assert f"(seen before 100%, after 100%; 100% had {why}, and was not compared)" in said, said
