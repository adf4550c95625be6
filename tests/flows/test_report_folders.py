"""``geo report`` on folders a user hands it: a complete run folder from which a file was deleted since is said to
be so (it was asked whether it was a run folder at all), and nothing is written."""

from __future__ import annotations

import pytest

from tests.flows.conftest import DEMO_CATALOG, drawn_aoi


@pytest.fixture
def run_folder(user):
    drawn_aoi(user.home / "harbour.geojson")
    result = user("run", "--aoi", "harbour.geojson", "--source", str(DEMO_CATALOG), "--before", "2015-08-21",
                  "--after", "2017-10-14", "--out", "run")
    assert result.returncode == 0, result.output
    return user.home / "run"


@pytest.mark.parametrize("deleted", ["manifest.json", "claims.json", "aoi.geojson", "changes.geojson"])
def test_a_run_folder_with_a_file_deleted_names_the_file_and_the_way_out(user, run_folder, deleted):
    (run_folder / deleted).unlink()
    result = user("report", "run", "--out", "again.html")
    assert result.returncode == 1, result.output
    assert result.stderr.strip() == (f"Error: run/{deleted}: missing from the run folder (removed since the run "
                                     "wrote it?); run the job again")
    assert not (user.home / "again.html").exists()


def test_a_folder_that_is_no_run_folder_is_said_to_be_none(user):
    (user.home / "notes").mkdir()
    (user.home / "notes" / "manifest.json").write_text("{}")
    result = user("report", "notes", "--out", "r.html")
    assert result.returncode == 1, result.output
    assert result.stderr.strip().startswith("Error: notes: not a complete run folder (no .geo-complete.json")
    assert not (user.home / "r.html").exists()


def test_a_vessels_folder_is_said_to_be_the_output_of_geo_vessels(user):
    """It said "manifest.json: missing from the run folder (removed since the run wrote it?)"."""
    drawn_aoi(user.home / "harbour.geojson")
    counted = user("vessels", "--aoi", "harbour.geojson", "--source", str(DEMO_CATALOG), "--from", "2015-01-01",
                   "--to", "2018-01-01", "--out", "ships")
    assert (user.home / "ships" / "timeseries.csv").is_file(), counted.output
    result = user("report", "ships", "--out", "r.html")
    assert result.returncode == 1, result.output
    assert result.stderr.strip() == ("Error: ships: the output of `geo vessels`, not of a change job (its counts are "
                                     "in timeseries.csv and timeseries.svg); geo report reads the folders of `geo run` "
                                     "or `geo demo`")
    assert not (user.home / "r.html").exists()


def test_a_recheck_folder_is_said_to_be_the_output_of_geo_recheck(user):
    """A re-check's run folder said "manifest.json: missing from the run folder (removed since the run wrote it?);
    run the job again", and its outputs folder "not a complete run folder ...; run it again": nothing was removed,
    and no run would give them what geo report reads."""
    drawn_aoi(user.home / "harbour.geojson")
    checked = user("recheck", "--store", "store.gpkg", "--aoi", "harbour.geojson", "--source", str(DEMO_CATALOG),
                   "--since", "2015-08-01")
    assert (user.home / "store-outputs" / "runs" / "000001" / "summary.json").is_file(), checked.output
    for folder, what in (("store-outputs/runs/000001", "a `geo recheck` run's folder (what it found is in "
                          "changes.geojson and summary.json)"),
                         ("store-outputs", "the outputs folder of `geo recheck` (each run's changes in "
                          "runs/NNNNNN/changes.geojson, all of them in the store's layer file, store.qlr)"),
                         # the folder recheck ran in, and the store: "not a complete run folder ...; run it again"
                         (".", "the folder of the `geo recheck` store store.gpkg (its outputs in store-outputs)"),
                         ("store.gpkg", "the store of `geo recheck` (its outputs in store-outputs)")):
        result = user("report", folder, "--out", "r.html")
        assert result.returncode == 1, result.output
        assert result.stderr.strip() == (f"Error: {folder}: {what}; geo report reads the folders of `geo run` or "
                                         "`geo demo`")
    assert not (user.home / "r.html").exists()


@pytest.mark.parametrize("out", ["run/changes.geojson", "notes.txt", "report"])
def test_a_report_named_other_than_html_is_refused_before_it_overwrites_a_file(user, run_folder, out):
    """`--out run/changes.geojson` wrote the report over the run's own change layer; `--out notes.txt` over the
    user's notes."""
    (user.home / "notes.txt").write_text("mine")
    before = {path: path.read_bytes() for path in [*run_folder.iterdir(), user.home / "notes.txt"] if path.is_file()}
    result = user("report", "run", "--out", out)
    assert result.returncode == 1, result.output
    assert result.stderr.strip() == (f"Error: --out {out}: the report is an HTML file; name it .html or .htm "
                                     "(e.g. report.html)")
    assert {path: path.read_bytes() for path in before} == before and not (user.home / "report").exists()


@pytest.mark.parametrize(("named", "out"), [("run/report.html", ()), ("run/manifest.json", ()),
                                            ("run/report.html", ("--out", "again.html"))])
def test_a_file_of_a_run_folder_named_for_the_folder_names_the_folder_to_give(user, run_folder, named, out):
    """A shell's completion ends at a file: 'geo report run/report.html' was said to be '--out
    run/report.html/report.html: ... is a file, not a folder', an --out the user never gave."""
    before = (run_folder / "report.html").read_bytes()
    result = user("report", named, *out)
    assert result.returncode == 1, result.output
    assert result.stderr.strip() == (f"Error: {named}: a file, not a run folder; give the folder holding it: "
                                     "geo report run")
    assert (run_folder / "report.html").read_bytes() == before
    assert not (user.home / "again.html").exists()


def test_a_file_outside_any_run_folder_is_said_to_be_no_folder(user):
    (user.home / "notes.txt").write_text("mine")
    result = user("report", "notes.txt")
    assert result.returncode == 1, result.output
    assert result.stderr.strip() == ("Error: notes.txt: a file, not a run folder (give the output folder of `geo run` "
                                     "or `geo demo`)")
    assert (user.home / "notes.txt").read_text() == "mine"
