"""The README says what the program does: the files a run writes and their fields, the options each command
takes. Each test runs the real command, as a user following the README would, and reads the README's own words."""

from __future__ import annotations

import csv
import json
import re

from tests.conftest import REPO
from tests.flows.conftest import DEMO_CATALOG, drawn_aoi

README = REPO / "README.md"
FILE_NAME = re.compile(r"`([^`\s/]+\.(?:geojson|json|gpkg|kml|html|tif|qml|qlr|qgz|csv|svg|png)(?:\|[a-z|]+)?)`")
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
SHIP_CLAIM = """[document]
title = "ships at Nantes"
url = ""

[[claim]]
id = "nantes-ships"
claimant = "README test"
statement = "Ships arrived at the port of Nantes in October 2017."
date_stated = 2017-10-31
stance = "assert"
aoi_ids = ["demo-nantes-port"]
window = { start = 2017-10-01, end = 2017-10-20 }
signatures = ["large_vessels_at_berth"]
"""


def readme_section(start: str, end: str) -> str:
    text = README.read_text(encoding="utf-8")
    begin = text.index(start)
    return text[begin:text.index(end, begin)]


def named_files(section: str) -> set[str]:
    """The file names a README passage gives in backticks (``timeseries.csv|json`` is two), the COGs'
    ``.qml`` sidecars included when it says each has one."""
    names: set[str] = set()
    for token in FILE_NAME.findall(section):
        stem, _, suffixes = token.rpartition(".")
        names |= {f"{stem}.{suffix}" for suffix in suffixes.split("|")}
    if "`.qml` sidecar" in section:
        names |= {name.removesuffix(".tif") + ".qml" for name in names if name.endswith(".tif")}
    return names


def as_documented(name: str) -> str:
    """A run's file name as the README writes it: one file per scene is ``detections-<scene>``."""
    return re.sub(r"^detections-.+?\.(geojson|qml)$", r"detections-<scene>.\1", name)


def test_outputs_of_a_run_lists_every_file_a_run_writes_and_no_other_and_every_key_of_its_json(user):
    # aoi.geojson, and the detections' .qml beside each detections-<scene>.geojson, were written by every run
    # (the run's own item.json lists them as assets) but missing from the README's list.
    seeds = user.home / "my-seeds"
    seeds.mkdir()
    (seeds / "ships.toml").write_text(SHIP_CLAIM)
    result = user("run", "--aoi", "demo-nantes-port", "--seeds-dir", str(seeds), "--source", "demo",
                  "--before", "2015-08-21", "--after", "2017-10-14", "--out", "port")
    assert result.returncode == 0, result.output
    written = {p.name for p in (user.home / "port").iterdir() if not p.name.startswith(".")}
    assert {"vessels.geojson", "timeseries.csv", "aoi.geojson"} <= written  # the ship claim ran the vessel job
    assert any(name.startswith("detections-") for name in written)
    section = readme_section("## Outputs of a run", "**How the folder is written**")
    documented = named_files(section)
    assert {as_documented(name) for name in written} == documented, (
        f"written, not in the README: {sorted({as_documented(n) for n in written} - documented)}; "
        f"in the README, not written: {sorted(documented - {as_documented(n) for n in written})}")

    # Every key of the manifest, of its statistic and of a claim's entry is named in the README's entry for the
    # file (the statistic's name, irmad and changed_fraction, most of the manifest's keys were not).
    entry = section[section.index("- `manifest.json`"):section.index("- `item.json`")]
    named = set(re.findall(r"`([a-z0-9_]+)`", entry))
    manifest = json.loads((user.home / "port" / "manifest.json").read_text())
    assert "vessels" in manifest and manifest["statistic"]["method"] == "local-fusion"
    assert set(manifest) - named == set()
    assert set(manifest["statistic"]) - named == set()
    entry = section[section.index("- `changes.geojson`"):section.index("- `claims.json`")]
    named = set(re.findall(r"`([a-z0-9_]+)`", entry))
    changes = json.loads((user.home / "port" / "changes.geojson").read_text())["features"]
    assert len(changes) == 32 and {key for f in changes for key in f["properties"]} - named == set()
    entry = section[section.index("- `claims.json`"):section.index("- `aoi.geojson`")]
    named = set(re.findall(r"`([a-z0-9_]+)`", entry))
    [claim] = json.loads((user.home / "port" / "claims.json").read_text())
    assert claim["claim_id"] == "nantes-ships" and "vessel_evidence" in claim
    assert set(claim) - named == set()


def test_vessels_readme_names_every_field_and_column_geo_vessels_writes(user):
    # The README's lists lacked the detections' date and algorithm_version and the series' datetime, scene,
    # observed_km2 and land_mask columns.
    result = user("vessels", "--aoi", "demo-nantes-port", "--from", "2015-01-01", "--to", "2018-01-01",
                  "--source", "demo", "--out", "ships")
    assert result.returncode == 0, result.output
    out = user.home / "ships"
    section = readme_section("## Vessels (`geo vessels`", "- **Sentinel-1 (CFAR)**")

    listed = re.search(r"one polygon per detection inside the AOI with `([^`]+)`", section)
    assert listed is not None
    fields = [name.strip() for name in listed.group(1).split(",")]
    detections = json.loads((out / "vessels.geojson").read_text())["features"]
    assert len(detections) == 3  # the demo's after scene: three ships in the Loire
    for feature in detections:
        assert list(feature["properties"]) == fields
    for path in out.glob("detections-*.geojson"):
        for feature in json.loads(path.read_text())["features"]:
            assert list(feature["properties"]) == fields, path.name

    series = section[section.index("`timeseries.csv|json` ("):section.index("`timeseries.svg|png`")]
    named = set(re.findall(r"`([a-z0-9_]+)`", series))
    with (out / "timeseries.csv").open() as handle:
        columns = next(csv.reader(handle))
    document = json.loads((out / "timeseries.json").read_text())
    row_keys = {key for row in document["rows"] for key in row}
    assert set(columns) <= named, sorted(set(columns) - named)
    assert row_keys | set(document) <= named, sorted(row_keys | set(document) - named)
    assert named <= set(columns) | row_keys | set(document) | set(fields), (
        sorted(named - set(columns) - row_keys - set(document) - set(fields)))


def test_recheck_readme_lists_every_file_of_its_outputs_folder(user):
    result = user("recheck", "--store", "watch.gpkg", "--aoi", "demo-nantes-port", "--source", "demo")
    assert result.returncode == 0, result.output
    outputs = user.home / "watch-outputs"
    written = {str(p.relative_to(outputs)) for p in outputs.rglob("*") if p.is_file() and not p.name.startswith(".")}
    assert written == {"latest.json", "watch.qlr", "runs/000001/changes.geojson", "runs/000001/changes.qml",
                       "runs/000001/changes.qlr", "runs/000001/changes.kml", "runs/000001/summary.json"}
    paragraph = readme_section("**Files of each run**", "`--on-new CMD` runs")
    named = set(re.findall(r"`(?:runs/<run>/)?([^`\s/]+\.(?:geojson|json|kml|qml|qlr))`", paragraph))
    assert {name.replace("<store>", "watch") for name in named} == {path.rpartition("/")[2] for path in written}


def geo_commands() -> dict[tuple[str, ...], object]:
    """Every command of ``geo`` that runs something, by its path (``("scenes", "cache", "list")``)."""
    import click

    from geo.cli import cli

    found: dict[tuple[str, ...], object] = {}

    def walk(group: click.Group, path: tuple[str, ...]) -> None:
        context = click.Context(group)
        for name in group.list_commands(context):
            command = group.get_command(context, name)
            if isinstance(command, click.Group):
                walk(command, (*path, name))
            else:
                found[(*path, name)] = command

    walk(cli, ())
    return found


def help_options(user, path: tuple[str, ...]) -> set[str]:
    result = user(*path, "--help")
    assert result.returncode == 0, result.output
    return set(OPTION.findall(result.stdout))


def readme_command_spans() -> list[tuple[list[tuple[str, ...]], list[str]]]:
    """Each `geo ...` the README writes in backticks: the command paths it names (``list\\|clear`` is two)
    and the options it gives them."""
    commands = geo_commands()
    groups = {path[:n] for path in commands for n in range(len(path))}
    spans = []
    for span in re.findall(r"`(geo [^`]+)`", README.read_text(encoding="utf-8")):
        words = span.replace("\\|", "|").split()[1:]
        paths: list[tuple[str, ...]] = [()]
        for word in words:
            longer = [(*path, name) for path in paths for name in word.split("|")]
            if not all(path in commands or path in groups for path in longer):
                break
            paths = longer
        runnable = [path for path in paths if path in commands]
        if runnable:
            spans.append((runnable, OPTION.findall(span)))
    return spans


def test_every_option_the_readme_gives_a_command_is_in_its_help(user):
    spans = readme_command_spans()
    assert len(spans) > 50  # the commands table and the text's examples
    options = {path: help_options(user, path) for path in {p for paths, _ in spans for p in paths}}
    for paths, named in spans:
        for option in named:
            assert any(option in options[path] for path in paths), (paths, option)


def test_every_option_of_every_command_is_in_the_readme(user):
    # `geo coreg --band` and `geo scenes search --sort` were in --help only.
    text = README.read_text(encoding="utf-8")
    missing = {" ".join(path): sorted(o for o in help_options(user, path) - {"--help"}
                                      if not re.search(re.escape(o) + r"(?![\w-])", text))
               for path in geo_commands()}
    assert {command: options for command, options in missing.items() if options} == {}


def test_scenes_search_over_an_area_inside_the_scenes_has_no_negative_nodata(user):
    # The footprint's share of an area wholly inside it came out a hair above 1 and nodata_fraction as -0.0.
    aoi = drawn_aoi(user.home / "harbour east.geojson", rings=[
        [[-1.545, 47.195], [-1.53, 47.195], [-1.53, 47.205], [-1.545, 47.205], [-1.545, 47.195]]])
    result = user("scenes", "search", "--aoi", aoi.name, "--from", "2015-01-01", "--to", "2018-01-01",
                  "--source", "demo", "--json")
    assert result.returncode == 0, result.output
    scenes = json.loads(result.stdout)["scenes"]
    assert [(s["clear_fraction"], s["nodata_fraction"]) for s in scenes] == [(1.0, 0.0), (1.0, 0.0)]
    assert "-0.0" not in result.stdout


def test_eval_oscd_without_data_says_how_to_give_it(user):
    # Installed (no checkout to find shared/data beside) it said "OSCD root .../site-packages/geo/shared/data/oscd
    # is not a folder", and --help gave the default as ../shared/data/oscd, which reads as beside the current folder.
    nowhere = user.home / "nowhere"
    result = user("eval", "oscd", env={"GEO_SHARED_DATA": str(nowhere)})
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.strip() == (
        f"Error: no OSCD data at {nowhere}/oscd (the default: shared/data/oscd beside or above the checkout geo runs "
        "from, or $GEO_SHARED_DATA/oscd); give the OSCD folder with --root DIR")


def test_demo_source_under_a_geo_root_without_the_demo_scenes_says_what_to_do(user):
    root = user.home / "project"
    for folder in ("aoi", "seeds"):
        (root / folder).mkdir(parents=True)
    aoi = drawn_aoi(user.home / "harbour.geojson")
    result = user("run", "--aoi", aoi.name, "--source", "demo", "--before", "2015-08-21", "--after", "2017-10-14",
                  "--out", "harbour", env={"GEO_ROOT": str(root)})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Error: --source demo: no demo scenes at {root}/scenes/demo/catalog.json (GEO_ROOT={root} moves scenes/ "
        "too: link or copy the checkout's scenes/demo there)")
    assert not (user.home / "harbour").exists()
    assert DEMO_CATALOG.is_file()  # the checkout's, which GEO_ROOT moved away from


def readme_example(command: str) -> tuple[list[str], list[str]]:
    """The README's ```bash line starting ``geo COMMAND`` (its arguments, split as a shell would) and the comment
    lines under it (what it prints)."""
    import shlex

    block = re.search(rf"```bash\n(geo {command} [^\n]*)\n((?:# [^\n]*\n)*)```", README.read_text(encoding="utf-8"))
    assert block, f"no ```bash example of geo {command} in the README"
    return shlex.split(block[1])[1:], [line.removeprefix("# ") for line in block[2].splitlines()]


def test_the_readme_s_offline_coreg_and_vessels_examples_run_and_print_what_it_says(user):
    """A README walk found no `geo coreg` line to run on files the checkout holds, nor an offline `geo vessels`
    one outside `geo --help`: now the README gives both, run here as written (the coreg paths are the
    checkout's) with the figures it quotes."""
    args, printed = readme_example("coreg")
    args = [str(REPO / a) if a.startswith("scenes/demo/") else a for a in args]
    result = user(*args)
    assert result.returncode == 0, result.output
    assert result.stdout.splitlines() == printed, result.stdout
    args, _ = readme_example("vessels")
    assert "--source" in args and args[args.index("--source") + 1] == "demo"
    result = user(*args)
    assert result.returncode == 0, result.output
    out = user.home / args[args.index("--out") + 1]
    with open(out / "timeseries.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    said = re.search(r"Offline, on the demo scenes \(Sentinel-2 only: (\d+) ships on\s+(\S+), (\d+) on (\S+), (\d+) of "
                     r"them 50 m or longer\)", README.read_text(encoding="utf-8"))
    assert said, "the README's figures for the offline geo vessels example"
    assert [(r["date"], r["sensor"], r["n_vessels"]) for r in rows] == [
        (said[2], "s2", said[1]), (said[4], "s2", said[3])]
    assert sum(int(r["n_large"]) for r in rows) == int(said[5])


def test_the_readme_says_where_to_draw_an_area_for_the_demo_scenes(user):
    """A README walk drew its own area as *Your own area* says and ran it with `--source demo`, as its example
    does: the README never said the demo scenes cover only ~5 x 6.5 km of Nantes, so an area drawn anywhere else
    (the user's own harbour) was refused. It now gives their extent: the demo items' own, an area drawn inside it
    finds both scenes whole, one outside is refused naming the same extent, and the outline it points to lies inside."""
    said = re.search(r"they cover lon (\S+) to (\S+), lat (\S+) to\s+(\S+), about",
                     README.read_text(encoding="utf-8").replace("−", "-"))
    assert said, "the README's extent of the demo scenes"
    west, east, south, north = (float(value.rstrip(",")) for value in said.groups())
    boxes = [json.loads(path.read_text())["bbox"] for path in DEMO_CATALOG.parent.glob("*/*.json")]
    assert len(boxes) == 2
    assert [round(v, 4) for v in (min(b[0] for b in boxes), max(b[2] for b in boxes), min(b[1] for b in boxes),
                                  max(b[3] for b in boxes))] == [west, east, south, north]

    inside = drawn_aoi(user.home / "inside.geojson", rings=[
        [[west + 0.002, south + 0.002], [west + 0.02, south + 0.002], [west + 0.02, south + 0.015],
         [west + 0.002, south + 0.015], [west + 0.002, south + 0.002]]])
    result = user("scenes", "search", "--aoi", inside.name, "--from", "2015-01-01", "--to", "2018-01-01",
                  "--source", "demo", "--json")
    assert result.returncode == 0, result.output
    assert [s["clear_fraction"] for s in json.loads(result.stdout)["scenes"]] == [1.0, 1.0]

    away = drawn_aoi(user.home / "my harbour.geojson", rings=[
        [[9.93, 53.535], [9.97, 53.535], [9.97, 53.55], [9.93, 53.55], [9.93, 53.535]]])
    result = user("run", "--aoi", away.name, "--source", "demo", "--before", "2015-08-21", "--after", "2017-10-14",
                  "--out", "away")
    assert result.returncode == 1
    assert f"lon {west:.4f}..{east:.4f}, lat {south:.4f}..{north:.4f}" in result.stderr, result.stderr
    assert not (user.home / "away").exists()

    result = user("aoi", "show", "demo-nantes-port")
    assert result.returncode == 0, result.output
    bounds = json.loads(result.stdout)["bounds"]
    assert west < bounds[0] < bounds[2] < east and south < bounds[1] < bounds[3] < north


def test_every_environment_variable_a_help_names_is_in_the_readme(user):
    # `geo recheck --help` gives --store's default as "$GEO_STORE or recheck.gpkg"; the README never named
    # GEO_STORE, so a cron line or unit setting it was a thing found in --help alone.
    text = README.read_text(encoding="utf-8")
    named: dict[str, set[str]] = {}
    for path in geo_commands():
        result = user(*path, "--help", columns=400)
        assert result.returncode == 0, result.output
        for variable in re.findall(r"\$(GEO_[A-Z_]+)", result.stdout):
            named.setdefault(variable, set()).add(" ".join(path))
    assert "GEO_STORE" in named
    assert {v: sorted(c) for v, c in named.items() if not re.search(rf"\b{v}\b", text)} == {}
