"""A re-check store moved (or copied) to another folder, as an administrator does when setting up the
scheduled re-checks elsewhere: the next re-check writes the outputs beside it and says what happened."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.flows.conftest import DEMO_CATALOG, drawn_aoi


def test_a_store_moved_without_its_outputs_gets_them_back_and_is_told_so_once(user):
    aoi = drawn_aoi(user.home / "harbour.geojson")
    first = user("recheck", "--store", "trial/store.gpkg", "--aoi", str(aoi), "--source", str(DEMO_CATALOG),
                 "--since", "2015-08-01")
    assert first.returncode == 0, first.output
    (user.home / "srv geo").mkdir()
    shutil.move(user.home / "trial" / "store.gpkg", user.home / "srv geo" / "store.gpkg")
    shutil.rmtree(user.home / "trial")  # the old outputs went with the old folder
    again = user("recheck", "--store", "srv geo/store.gpkg", "--source", str(DEMO_CATALOG))
    assert again.returncode == 0, again.output
    outputs = user.home / "srv geo" / "store-outputs"
    summary = json.loads((outputs / "runs" / "000001" / "summary.json").read_text())
    assert summary["run_id"] == 1 and summary["n_new_changes"] > 0
    assert "../store.gpkg|layername=changes" in (outputs / "store.qlr").read_text()
    assert "did not finish" not in again.output  # nothing failed: the store was moved
    told = [line for line in again.output.splitlines() if "run(s) [1]" in line or "run 1" in line]
    assert len(told) == 1 and "moved" in told[0] and "srv geo/store-outputs" in told[0], again.output
    assert "nothing new" in again.stdout


def test_two_drawn_areas_of_the_same_name_are_refused_naming_both(user):
    # Two folders' "site.geojson": different places, the same AOI id (from the file name). Taking one of them
    # silently would leave the other never checked.
    (user.home / "east").mkdir()
    (user.home / "west").mkdir()
    east = drawn_aoi(user.home / "east" / "site.geojson")
    west = drawn_aoi(user.home / "west" / "site.geojson",
                     [[[-1.575, 47.18], [-1.55, 47.18], [-1.55, 47.20], [-1.575, 47.20], [-1.575, 47.18]]])
    result = user("recheck", "--store", "store.gpkg", "--aoi", "east/site.geojson", "--aoi", "west/site.geojson",
                  "--source", str(DEMO_CATALOG), "--since", "2015-08-01")
    assert result.returncode == 1, result.output
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "west/site.geojson" in result.stderr and "east/site.geojson" in result.stderr
    assert "'site'" in result.stderr
    assert sorted(p.name for p in user.home.iterdir()) == ["east", "west"]  # no store, no outputs
    same = user("recheck", "--store", "store.gpkg", "--aoi", str(east), "--aoi", str(east), "--source",
                str(DEMO_CATALOG), "--since", "2015-08-01")
    assert same.returncode == 0 and "1 new pair," in same.stdout, same.output  # the same file twice is fine


def test_a_redrawn_area_is_not_taken_in_silence(user):
    # The area is drawn again (bigger) under the same file name after its first re-check: nothing new to pair,
    # but the user is told the stored area differs and when the new one applies.
    aoi = drawn_aoi(user.home / "site.geojson")
    first = user("recheck", "--store", "store.gpkg", "--aoi", "site.geojson", "--source", str(DEMO_CATALOG),
                 "--since", "2015-08-01")
    assert first.returncode == 0 and "1 new pair," in first.stdout, first.output
    assert "differs" not in first.output
    drawn_aoi(aoi, [[[-1.57, 47.18], [-1.52, 47.18], [-1.52, 47.23], [-1.57, 47.23], [-1.57, 47.18]]])
    again = user("recheck", "--store", "store.gpkg", "--aoi", "site.geojson", "--source", str(DEMO_CATALOG))
    assert again.returncode == 0 and "run 2: 0 new pairs" in again.stdout, again.output
    told = [line for line in again.stdout.splitlines() if "redrawn" in line]
    assert told == ["  site: its area redrawn, recorded: the pairs of new scenes are processed with it, those already "
                    "processed keep the old one"], again.output
    assert again.stderr == ""  # said once, on the run's lines
    for args in (("--aoi", "site.geojson"), ()):  # recorded: nothing more to tell, with the file or cron's
        same = user("recheck", "--store", "store.gpkg", "--source", str(DEMO_CATALOG), *args)
        assert same.returncode == 0 and "nothing new" in same.stdout and "redrawn" not in same.output, same.output


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder nobody may write: chmod for a user; for root (whom chmod does not stop) a read-only bind mount."""
    folder = tmp_path / "work" / "shared"
    folder.mkdir(parents=True)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    source = tmp_path / "shared-source"
    source.mkdir()
    mounted = subprocess.run(["mount", "--bind", str(source), str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot make a read-only folder as root here: {mounted.stderr.decode().strip()}")
    try:
        if subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("cannot remount read-only here")
        (source / "store.gpkg").write_bytes(b"")  # filled below through the writable side
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


def test_a_store_in_a_folder_the_recheck_cannot_write_is_named_as_such(user, read_only_folder):
    # systemd's User=geo and a store folder owned by root, or a read-only share: the store itself is fine.
    aoi = drawn_aoi(user.home / "harbour.geojson")
    made = user("recheck", "--store", "made/store.gpkg", "--aoi", str(aoi), "--source", str(DEMO_CATALOG),
                "--since", "2015-08-01")
    assert made.returncode == 0, made.output
    if os.geteuid() == 0:
        (read_only_folder.parent.parent / "shared-source" / "store.gpkg").write_bytes(
            (user.home / "made" / "store.gpkg").read_bytes())
    result = user("recheck", "--store", "shared/store.gpkg", "--source", str(DEMO_CATALOG), "--out", "outs")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "--store shared/store.gpkg: cannot write there" in result.stderr and "not writable" in result.stderr
    assert "not a results store" not in result.stderr  # it is one
    assert not (user.home / "outs").exists()
