"""A pair whose compared pixels hold one value in every band on a date (fresh snow on a frozen lake, calm open sea
at 10 m, a saturated patch): there is no texture to compare the dates by. Noise-free synthetic snow on both dates
ended `geo run` in "internal error: ValueError: array must not contain infs or NaNs" (IR-MAD's canonical
correlation divided by the zero variance); now the area is not compared, said with the reason, and the claim is
not observable, not "no evidence found" on ground nothing could be told apart on."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.archive_server import ArchiveServer
from tests.flows.test_snow import ALL, AOI, CLAIM, khabarovsk_archive, run
from tests.flows.test_verdict_honesty import agree, changes, part, utc


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Iterator[ArchiveServer]:
    snow = (part(AOI, *ALL),)
    tiles = {"flat-before": (utc(10, 5), 0.0), "flat-after": (utc(11, 5), 0.0), "noisy-before": (utc(10, 6), 20.0)}
    server = khabarovsk_archive(tmp_path_factory.mktemp("textureless"), {
        tag: (when, {"noise_dn": noise, "snow": snow}) for tag, (when, noise) in tiles.items()})
    yield server
    server.stop()


@pytest.mark.parametrize("before, date", [("flat-before", "both dates"), ("noisy-before", "the after date")])
def test_a_pair_with_no_texture_is_not_compared_and_says_why(user, archive, before, date):
    out = run(user, archive, "flat-after", before)
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
