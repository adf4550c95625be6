"""What ``--help`` says matches what the command does."""

from __future__ import annotations

import re

from urllib3.util.retry import Retry

from geo.recheck.notify import AlertRetry


def test_notify_retries_help_gives_the_waits_urllib3_makes(user):
    policy = AlertRetry()
    retry = Retry(total=policy.retries, backoff_factor=policy.backoff_s, status_forcelist=(503,))
    waits = []
    for _ in range(policy.retries):
        retry = retry.increment(method="POST", url="/hook", error=ConnectionError("down"))
        waits.append(retry.get_backoff_time())
    assert waits == [0, 1, 2, 4]
    text = re.sub(r"-\s+", "-", " ".join(user("recheck", "--help").stdout.split()))  # click wraps at hyphens
    assert "(the first at once, then after 1, 2, 4 s..., or the answer's Retry-After)" in text


def test_run_help_does_not_say_only_planetary_computer_serves_sentinel_1(user):
    text = re.sub(r"-\s+", "-", " ".join(user("run", "--help").stdout.split()))
    assert "needed for --sensor s1" not in text  # a STAC API URL or a local catalog of Sentinel-1 serves too
    assert "--sensor s1 needs one holding Sentinel-1 (not earth-search)" in text


def test_every_command_searches_the_same_archive_for_a_sensor_by_default(user):
    # geo scenes search --sensor s1 finds scenes on Planetary Computer: geo run and geo vessels, given the
    # ids it listed and no --source, look there too, not on Earth Search (which has no Sentinel-1).
    for command in ("run", "vessels", "scenes search"):
        text = re.sub(r"-\s+", "-", " ".join(user(*command.split(), "--help").stdout.split()))
        assert "earth-search for s2, planetary-computer for s1" in text or (
            "[default: earth-search; planetary-computer with --sensor s1]" in text), (command, text)
    from geo.scenes.model import Sensor
    from geo.scenes.source import default_source

    assert (default_source(Sensor.S2), default_source(Sensor.S1), default_source(None)) == (
        "earth-search", "planetary-computer", "earth-search")


def test_run_help_names_every_file_the_run_writes(user):
    from tests.flows.conftest import DEMO_CATALOG, drawn_aoi

    text = re.sub(r"-\s+", "-", " ".join(user("run", "--help").stdout.split()))
    aoi = drawn_aoi(user.home / "harbour.geojson")
    result = user("run", "--aoi", str(aoi), "--source", str(DEMO_CATALOG), "--before", "2015-08-21", "--after",
                  "2017-10-14", "--out", "harbour")
    assert result.returncode == 0, result.output
    written = {p.name for p in (user.home / "harbour").iterdir() if not p.name.startswith(".")}
    named = {name for name in written if name in text}
    tifs = {name for name in written if name.endswith((".tif", ".qml"))}  # "COGs" (each with its style)
    assert written - tifs == named, sorted(written - tifs - named)
    assert "COGs" in text


HEAVY = {"numpy", "rasterio", "shapely", "geopandas", "pyproj", "scipy", "pandas"}


def imported_modules(stderr: str) -> set[str]:
    """The modules a run under PYTHONPROFILEIMPORTTIME (python -X importtime) imported: one line each on stderr."""
    return {line.split("|")[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def command_paths(group, path=()):
    """Every command and sub-command of ``geo`` (``("run",)``, ``("scenes", "cache", "list")``...)."""
    import click

    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from command_paths(command, (*path, name))


def test_every_commands_help_imports_none_of_the_pipeline(user):
    # `geo run --help` took a second, importing numpy, rasterio, geopandas... for a page of text: each command's
    # module imports what its work needs inside the command.
    from geo.cli import cli

    paths = list(command_paths(cli))
    assert {("run",), ("demo",), ("vessels",), ("scenes", "search"), ("aoi", "show"), ("report",)} <= set(paths)
    heavy = {}
    for path in paths:
        result = user(*path, "--help", env={"PYTHONPROFILEIMPORTTIME": "1"})
        assert result.returncode == 0, (path, result.output)
        assert result.stdout.startswith(f"Usage: geo {' '.join(path)} "), (path, result.stdout)
        imported = imported_modules(result.stderr)
        assert "click" in imported, (path, result.stderr[-2000:])  # importtime's report: an empty one proves nothing
        if imported & HEAVY:
            heavy[" ".join(path)] = sorted(imported & HEAVY)
    assert heavy == {}


def test_report_help_names_the_file_a_run_folder_holds(user):
    from geo.outputs.run_data import REPORT

    text = " ".join(user("report", "--help").stdout.split())
    assert f"[default: RUN_DIR/{REPORT} for one run; required for several]" in text


def test_geo_help_lists_every_command_as_click_would_without_importing_them(user):
    # `geo --help` is the first thing a new user types: it summarises each command from its docstring, read
    # from the source, not by importing every command's module (numpy, rasterio, geopandas...: a second).
    import click

    from geo.cli import COMMANDS, cli

    result = user("--help", env={"PYTHONPROFILEIMPORTTIME": "1"})  # python -X importtime: each import on stderr
    assert result.returncode == 0, result.output
    imported = imported_modules(result.stderr)
    assert {"geo.cli", "click"} <= imported
    assert imported & HEAVY == set()
    assert {name for name in imported if name.startswith("geo.cli.")} <= {"geo.cli.console"}
    listing = result.stdout.split("Commands:\n")[1].split("\n\n")[0]  # the first steps follow
    rows = dict(line.strip().split(None, 1) for line in listing.splitlines() if line.strip())
    limit = 78 - 6 - max(map(len, COMMANDS))  # click's help is 78 wide on a terminal of 80 columns or more
    context = click.Context(cli)
    assert rows == {name: cli.get_command(context, name).get_short_help_str(limit) for name in COMMANDS}
    assert rows["coreg"].startswith("Sub-pixel shift of TGT relative to REF")
