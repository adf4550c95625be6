"""A scheduled re-check over an autumn at Khabarovsk: a scene clouded over, one snowed over, one covering a third of
the area, then a clear one with a change. The run said "3 scenes skipped" and nothing of why (cloud? snow? the
scene off the area?): the cron log, the mail (--on-new's $GEO_RECHECK_TEXT, --notify's text) and summary.json had
each pair's long reason at best, the mail nothing. Now each says the reasons counted, in a few words; and the run's
file list names its changes.kml (it was written and said nowhere)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.archive_server import ArchiveServer
from tests.flows.test_verdict_honesty import part, utc
from tests.flows.tiles import Tile, tile_item, utm_box

AOI = "khabarovsk"
ALL = (-2, -2, 3, 3)
# a scene holding a third of the area was said "not covering the AOI", as one beside it: it covers too little of it
SKIPPED = {"clouded": 1, "snowed": 1, "covering too little of the AOI": 1}
WORDS = "3 scenes skipped (1 clouded, 1 snowed, 1 covering too little of the AOI)"


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Iterator[ArchiveServer]:
    server = ArchiveServer(page_size=20, webhooks={"/hooks/secret"}).start()
    folder = tmp_path_factory.mktemp("autumn")
    west, south, east, north = part(AOI, 0, 0, 1, 1)
    bounds = utm_box(32653, (west + east) / 2, (south + north) / 2, 5500, 4500)
    west_third = (bounds[0], bounds[1], bounds[0] + 4000, bounds[3])
    tiles = {
        "a-before": (utc(10, 5), {}),
        "b-clouded": (utc(10, 12), {"clouds": (part(AOI, *ALL),)}),
        "c-snowed": (utc(10, 19), {"snow": (part(AOI, *ALL),)}),
        "d-partial": (utc(10, 26), {"bounds": west_third}),
        "e-changed": (utc(11, 2), {"changed": part(AOI, .6, .4, .7, .5)}),
        "f-later": (utc(11, 9), {"changed": part(AOI, .6, .4, .7, .5)}),
    }
    for tag, (when, kwargs) in tiles.items():
        tile_bounds = kwargs.pop("bounds", bounds)
        tile_item(server, folder, Tile(f"S2A_{AOI}_{tag}", when, 32653, tile_bounds, noise_dn=20.0, **kwargs))
    yield server
    server.stop()


def test_a_re_check_says_why_its_scenes_were_skipped(user, archive):
    shell = user("recheck", "--aoi", AOI, "--store", "s.gpkg", "--source", archive.url, "--since", "2024-10-01",
                 "--sensor", "s2", "--on-new", 'printf "%s" "$GEO_RECHECK_TEXT" > mail.txt',
                 "--notify", f"{archive.url}/hooks/secret")
    assert shell.returncode == 0, shell.output
    # cron's log: a run that succeeds is quiet on stderr; each skipped pair's coverage note ("only 31% of the AOI was
    # seen on both dates ...", naming no AOI nor scene) is in its manifest, and its cause on the AOI's line
    assert shell.stderr == "", shell.stderr
    line, = [line for line in shell.stdout.splitlines() if line.startswith(f"  {AOI}: baseline")]
    assert f", {WORDS}; head S2A_{AOI}_f-later" in line, line

    summary = json.loads((user.home / "s-outputs" / "runs" / "000001" / "summary.json").read_text())
    assert summary == json.loads((user.home / "s-outputs" / "latest.json").read_text())
    entry, = summary["aois"]
    assert entry["skipped"] == SKIPPED and summary["skipped"] == SKIPPED, entry
    causes = {p["after_scene"].rsplit("_", 1)[1]: p.get("skipped_for") for p in entry["pairs"]}
    assert causes == {"b-clouded": "clouded", "c-snowed": "snowed", "d-partial": "covering too little of the AOI",
                      "e-changed": None, "f-later": None}, causes

    mail = (user.home / "mail.txt").read_text()
    assert f"• {AOI}: {WORDS}" in mail.splitlines(), mail
    # the claim's verdict from the vessel counts marked as the terminal marks it: the mail said "claim kremlin-denial
    # on khabarovsk: inconsistent with the denial" and then "... : no evidence found", two verdicts of one claim
    assert f"• claim kremlin-denial on {AOI} (vessel counts): no evidence found (first verdict)" in mail.splitlines()
    assert f"• claim kremlin-denial on {AOI}: inconsistent with the denial (first verdict)" in mail.splitlines()
    posted, = [json.loads(r.received) for r in archive.records("/hooks/")]
    assert f"• {AOI}: {WORDS}" in posted["text"].splitlines() and posted["skipped"] == SKIPPED, posted["text"]

    # the run's files: its changes.kml among them, where the terminal, the mail and the webhook list them
    files = [line for line in shell.stdout.splitlines() if line.startswith("files: ")]
    assert files == ["files: s-outputs/runs/000001/changes.geojson, s-outputs/runs/000001/changes.kml, "
                     "s-outputs/runs/000001/changes.qml, s-outputs/runs/000001/changes.qlr, "
                     "s-outputs/runs/000001/summary.json"], shell.stdout
    assert (user.home / "s-outputs" / "runs" / "000001" / "changes.kml").is_file()
    assert summary["files"]["kml"] == "runs/000001/changes.kml"
    assert posted["files"]["kml"] == str(user.home / "s-outputs" / "runs" / "000001" / "changes.kml")


@pytest.mark.parametrize(("since", "baseline", "cause", "short"), [
    ("2024-10-27", "d-partial", "covering too little of the AOI", "31%"),
    ("2024-10-20", "c-snowed", "snowed", "0%"),
])
def test_a_baseline_showing_too_little_of_the_aoi_is_moved_on(user, archive, since, baseline, cause, short):
    """A first re-check whose --since falls after a scene covering a third of the area (or snowed over): that scene
    became the chain's baseline, and every later scene, paired with it, was skipped, for good (its head never
    moved). Now the first scene the baseline could not pair with for its own want of clear ground starts the chain."""
    shell = user("recheck", "--aoi", AOI, "--store", "s.gpkg", "--source", archive.url, "--since", since,
                 "--sensor", "s2", "--json")
    assert shell.returncode == 0, shell.output
    entry, = json.loads(shell.stdout)["aois"]
    pairs = [(p["before_scene"].rsplit("_", 1)[1], p["after_scene"].rsplit("_", 1)[1], p["status"])
             for p in entry["pairs"]]
    assert pairs[-2:] == [(baseline, "e-changed", "skipped"), ("e-changed", "f-later", "done")], pairs
    assert entry["head_scene"] == f"S2A_{AOI}_f-later" and entry["baseline_scene"] == f"S2A_{AOI}_{baseline}"
    moved = entry["baseline_moved"]
    assert (moved["from"], moved["to"]) == (f"S2A_{AOI}_{baseline}", f"S2A_{AOI}_e-changed"), moved
    assert f"showed {short} of the AOI clear and free of snow (need 50%)" in moved["why"], moved
    assert entry["skipped"][cause] >= 1, entry["skipped"]

    again = user("recheck", "--store", "s.gpkg", "--sensor", "s2")
    assert again.returncode == 0 and again.stdout.startswith("nothing new: 1 AOI checked"), again.output
    import sqlite3

    with sqlite3.connect(user.home / "s.gpkg") as db:
        chain = db.execute("SELECT baseline_scene, head_scene FROM chains").fetchall()
    assert chain == [(f"S2A_{AOI}_e-changed", f"S2A_{AOI}_f-later")], chain
