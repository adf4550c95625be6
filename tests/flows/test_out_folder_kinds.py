"""``--out DIR`` of ``geo run``, ``geo demo`` and ``geo vessels``: a run replaces the whole folder, and the README says
an existing one must be "a run folder ... or empty". Any complete geo output folder passed for one: ``geo vessels
--out`` on a change run's folder wiped its report, project and layers, and ``geo run --out`` on a re-check store's
``runs/000001`` put a change run where the store's run was, silently. A command replaces a folder of its own kind
only (a re-run); another command's is refused, named, untouched."""

from __future__ import annotations

from pathlib import Path

VESSELS = ("vessels", "--aoi", "demo-nantes-port", "--source", "demo", "--from", "2015-06-01", "--to", "2017-12-31")
RUN = ("run", "--aoi", "demo-nantes-port", "--source", "demo", "--before", "2015-08-21", "--after", "2017-10-14")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_vessels_into_a_change_run_folder_is_refused_and_a_rerun_replaces_it(user):
    assert user("demo", "--out", "harbour").returncode == 0
    run = user.home / "harbour"
    kept = _snapshot(run)
    assert "report.html" in kept

    result = user(*VESSELS, "--out", "harbour")
    assert result.returncode == 1, result.output
    assert result.stderr.strip() == (
        "Error: --out harbour: the folder of a geo run or geo demo (its report.html ...), not a previous geo vessels "
        "run: the run replaces the whole folder; give a new or empty one, or the folder of a previous geo vessels run")
    assert "Traceback" not in result.output
    assert _snapshot(run) == kept
    assert sorted(p.name for p in user.home.iterdir()) == ["harbour"]  # no staging folder left beside it

    # the same kind of run replaces it, as the README says: geo run into geo demo's folder, geo demo again
    result = user(*RUN, "--out", "harbour")
    assert result.returncode == 0, result.output
    assert user("demo", "--out", "harbour").returncode == 0


def test_run_into_a_vessels_folder_is_refused_and_vessels_reruns_into_it(user):
    assert user(*VESSELS, "--out", "ships").returncode == 0
    ships = user.home / "ships"
    kept = _snapshot(ships)

    for command in (RUN, ("demo",)):
        result = user(*command, "--out", "ships")
        assert result.returncode == 1, result.output
        assert result.stderr.strip() == (
            "Error: --out ships: the folder of geo vessels (its timeseries.csv ...), not a previous geo run or geo "
            "demo: the run replaces the whole folder; give a new or empty one, or the folder of a previous geo run "
            "or geo demo")
        assert _snapshot(ships) == kept

    result = user(*VESSELS, "--out", "ships")
    assert result.returncode == 0, result.output


def test_run_into_a_recheck_run_folder_is_refused(user):
    result = user("recheck", "--store", "watch.gpkg", "--aoi", "demo-nantes-port", "--source", "demo")
    assert result.returncode == 0, result.output
    outputs = user.home / "watch-outputs"
    kept = _snapshot(outputs)
    folder = outputs.relative_to(user.home) / "runs" / "000001"
    assert (user.home / folder / "summary.json").is_file()

    for command in (RUN, VESSELS):
        result = user(*command, "--out", str(folder))
        assert result.returncode == 1, result.output
        assert result.stderr.strip().startswith(
            f"Error: --out {folder}: a geo recheck store's run folder (its summary.json ...), not a previous geo "), \
            result.stderr
        assert _snapshot(outputs) == kept
