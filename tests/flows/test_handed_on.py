"""A run folder handed on: zipped, sent, unzipped by a colleague somewhere else (another folder, read-only as some
unzip tools leave it, or without its heavy true-colour images, left out to fit a mail), who runs ``geo report`` on it.
The report received is the evidence: it is never replaced by a poorer one in silence."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess

import pytest

from tests.conftest import REPO
from tests.flows.conftest import DEMO_CATALOG, drawn_aoi


@pytest.fixture
def sent(user):
    """The run folder as the colleague unzipped it: another folder, spaces and accents in its path, renamed."""
    drawn_aoi(user.home / "harbour.geojson")
    result = user("run", "--aoi", "harbour.geojson", "--source", str(DEMO_CATALOG), "--before", "2015-08-21",
                  "--after", "2017-10-14", "--out", "run")
    assert result.returncode == 0, result.output
    received = user.home / "reçu de Léa" / "Nantes (copie)"
    received.parent.mkdir()
    shutil.copytree(user.home / "run", received)
    return received


@pytest.mark.parametrize("left_out", ["before_rgb.tif", "after_rgb.tif"])
def test_a_folder_sent_without_its_images_keeps_the_report_it_came_with(user, sent, left_out):
    # The report received has the swipe view and the chips inlined; rebuilt from the folder it had none of them,
    # written over the one received, with a warning only.
    (sent / left_out).unlink()
    received = (sent / "report.html").read_bytes()
    result = user("report", "reçu de Léa/Nantes (copie)")
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"Error: reçu de Léa/Nantes (copie)/{left_out}: missing from the run folder")
    assert "report.html" in result.stderr and "--out" in result.stderr, result.stderr
    assert (sent / "report.html").read_bytes() == received
    # written elsewhere, as the error says: the report without the pictures, saying why
    elsewhere = user("report", "reçu de Léa/Nantes (copie)", "--out", "mine.html")
    assert elsewhere.returncode == 0, elsewhere.output
    assert f"{left_out} missing" in (user.home / "mine.html").read_text(encoding="utf-8")
    assert (sent / "report.html").read_bytes() == received


def test_a_folder_sent_whole_rebuilds_its_report_in_place(user, sent):
    result = user("report", "reçu de Léa/Nantes (copie)")
    assert result.returncode == 0, result.output
    assert "data:image/jpeg" in (sent / "report.html").read_text(encoding="utf-8")


@pytest.fixture
def read_only(sent, tmp_path):
    """The received folder read-only (permission bits for a user; a read-only bind mount for root)."""
    if os.geteuid() != 0:
        sent.chmod(0o555)
        yield sent
        sent.chmod(0o755)
        return
    if subprocess.run(["mount", "--bind", str(sent), str(sent)], capture_output=True).returncode != 0:
        pytest.skip("cannot bind-mount as root here")
    try:
        if subprocess.run(["mount", "-o", "remount,ro,bind", str(sent)], capture_output=True).returncode != 0:
            pytest.skip("cannot remount read-only here")
        yield sent
    finally:
        subprocess.run(["umount", str(sent)], capture_output=True)


def test_a_read_only_folder_says_where_else_the_report_goes(user, read_only):
    # It said "--out reçu de Léa/Nantes (copie)/report.html: cannot write there": an option never given.
    result = user("report", "reçu de Léa/Nantes (copie)")
    assert result.returncode == 1, result.output
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("Error: reçu de Léa/Nantes (copie)/report.html: cannot write there ("), \
        result.stderr
    assert result.stderr.rstrip().endswith("write the report elsewhere with --out FILE.html"), result.stderr
    elsewhere = user("report", "reçu de Léa/Nantes (copie)", "--out", "mine.html")
    assert elsewhere.returncode == 0 and (user.home / "mine.html").is_file(), elsewhere.output


def test_a_demo_store_handed_on_says_the_demo_scenes_are_here_too(user):
    # The store keeps its catalog by its absolute path: the sender's checkout. On the colleague's machine the message
    # said "restore it, or give its new place with --source": the demo scenes' place in their own geo, unknown to them.
    drawn_aoi(user.home / "harbour.geojson")
    made = user("recheck", "--store", "watch/store.gpkg", "--aoi", "harbour.geojson", "--source", "demo",
                "--since", "2015-08-01")
    assert made.returncode == 0, made.output
    with sqlite3.connect(user.home / "watch" / "store.gpkg") as db:  # as made on the sender's machine
        db.execute("UPDATE store_meta SET value = '/home/lea/geo/scenes/demo/catalog.json' WHERE key = 'source'")
    refused = user("recheck", "--store", "watch/store.gpkg")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.output
    assert "/home/lea/geo/scenes/demo/catalog.json, which no longer exists" in refused.stderr
    assert refused.stderr.rstrip().endswith("the demo scenes of this geo are --source demo"), refused.stderr
    again = user("recheck", "--store", "watch/store.gpkg", "--source", "demo")
    assert again.returncode == 0 and again.stdout.startswith("nothing new: 1 AOI checked"), again.output


def test_a_copy_of_the_visible_files_only_is_told_what_it_lacks(user, sent):
    # `zip -r run.zip run/*`, `cp run/* there/`, a file manager's select-all: the hidden marker stays behind, and
    # the colleague holding every visible file was told to "run it again", a run they may not be able to make.
    copy = user.home / "visible only"
    copy.mkdir()
    visible = [path for path in sent.iterdir() if not path.name.startswith(".")]  # as the shell's * lists them
    for path in visible:
        shutil.copy2(path, copy / path.name)
    result = user("report", "visible only")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.output
    assert result.stderr.startswith("Error: visible only: not a complete run folder (no .geo-complete.json"), \
        result.stderr
    assert "hidden" in result.stderr and "copy the whole folder" in result.stderr, result.stderr
    assert sorted(p.name for p in copy.iterdir()) == sorted(p.name for p in visible)  # nothing written


def test_a_recheck_store_sent_with_its_outputs_names_no_folder_of_the_senders(user):
    # A run folder's manifest writes its catalog as 'my scenes/catalog.json' (geo.outputs.provenance); a re-check's
    # summary.json and latest.json wrote the sender's absolute path (their user name and folder layout) beside it.
    shutil.copytree(REPO / "scenes" / "demo", user.home / "my scenes", ignore=shutil.ignore_patterns("build.py"))
    drawn_aoi(user.home / "harbour.geojson")
    made = user("recheck", "--store", "watch/store.gpkg", "--aoi", "harbour.geojson", "--source", "my scenes",
                "--since", "2015-08-01")
    assert made.returncode == 0 and "1 new pair," in made.stdout, made.output
    outputs = user.home / "watch" / "store-outputs"
    for name in ("latest.json", "runs/000001/summary.json"):
        assert json.loads((outputs / name).read_text())["source"] == "my scenes/catalog.json", name
    for path in outputs.rglob("*"):
        if path.is_file():
            assert str(user.home) not in path.read_text(encoding="utf-8"), path
    again = user("recheck", "--store", "watch/store.gpkg", "--json")  # the store itself still finds its catalog
    assert again.returncode == 0 and json.loads(again.stdout)["source"] == "my scenes/catalog.json", again.output


def test_a_store_renamed_by_its_new_owner_names_its_former_outputs(user):
    # Renamed, the store writes its outputs again beside it under the new name, as when moved without them; the
    # warning said it had been "moved or copied without that folder" with the old one there, its layer file naming
    # a store gone.
    drawn_aoi(user.home / "harbour.geojson")
    made = user("recheck", "--store", "veille/store.gpkg", "--aoi", "harbour.geojson", "--source", str(DEMO_CATALOG),
                "--since", "2015-08-01")
    assert made.returncode == 0, made.output
    (user.home / "veille" / "store.gpkg").rename(user.home / "veille" / "nantes.gpkg")
    again = user("recheck", "--store", "veille/nantes.gpkg")
    assert again.returncode == 0 and "nothing new" in again.stdout, again.output
    assert (user.home / "veille" / "nantes-outputs" / "runs" / "000001" / "summary.json").is_file()
    told = [line for line in again.stderr.splitlines() if "run(s) [1]" in line]
    assert len(told) == 1 and "veille/store-outputs" in told[0] and "store.gpkg" in told[0], again.stderr
    assert "renamed" in told[0], again.stderr
