"""A claim over the Russian Far East dated in local days, its Sentinel-1 scenes in UTC: ``geo vessels`` on the
synthetic port (tests/vessels/port.py) moved to lon ~132 E (UTM zone 52), its scenes taken at 20:30 UTC, the
descending pass's 06:30 local the next morning (05:18 mean solar time there). The claim's window is
2021-06-10 to 2021-06-13: the busy scene of 2021-06-13 20:30 UTC is the 14th there, after the window. On main
it was dated by its UTC day, inside the window, and counted as the window's second date.

A second, ascending pass of the 13th at 09:12 UTC (18:00 there, the window's last day) shares the descending
one's UTC date but not its local day: the series keeps a row per local day, so both are rows."""

from __future__ import annotations

import csv
import json
import re
import shutil
import sqlite3
from datetime import datetime, time, timezone
from pathlib import Path

import pystac
import rasterio
from affine import Affine
from rasterio.crs import CRS
from shapely.geometry import box, mapping

from geo.geometry import WGS84, reproject
from geo.link import CONSISTENT
from geo.scenes.source import LocalCatalog
from tests import synthetic

EAST = CRS.from_epsg(32652)  # UTM 52N: central meridian 129 E
SHIFT_M = 240_000.0  # east of it: lon ~132.05 E at lat ~45 N
PASS = time(20, 30)  # UTC

CLAIMS = """
[document]
title = "far-east port claims"

[[claim]]
id = "east-ships"
claimant = "test"
statement = "Transport ships were in the port from 10 to 13 June (local days)."
date_stated = 2021-06-20
aoi_ids = ["east-port"]
window = {{ start = 2021-06-10, end = 2021-06-13 }}
signatures = ["large_vessels_at_berth"]
{zone}
"""


ASCENDING = "S1A_TEST_20210613_ASC"  # the 13th's scene again, at ASCENDING_PASS, a block of its water unseen
ASCENDING_PASS = time(9, 12)  # UTC: 18:00 the same day at lon 132 E


def moved(catalog: Path, folder: Path, ascending: bool = False, orbits: bool = False) -> Path:
    """The port's Sentinel-1 items written again at lon ~132 E, each taken at 20:30 UTC on its day; with
    ``ascending``, also ``ASCENDING``, which sees less of the water than the 13th's 20:30 pass; with ``orbits``,
    each item says its orbit (descending, ascending for ``ASCENDING``), as a SAR change pair needs."""
    items = []
    scenes = [(s, s.id, PASS) for s in LocalCatalog(catalog, "s1").all()]
    if ascending:
        scenes += [(s, ASCENDING, ASCENDING_PASS) for s, _, _ in scenes if s.id == "S1A_TEST_20210613"]
    for scene, scene_id, at in scenes:
        item_folder = folder / scene_id
        item_folder.mkdir(parents=True)
        bounds = None
        for name in ("vv", "vh"):
            with rasterio.open(scene.asset(name).href) as src:
                data, profile = src.read(1), src.profile
            if scene_id == ASCENDING:
                data[30:120, 180:270] = float("nan")  # water the pass did not see: it is the 13th's lesser scene
            transform = profile["transform"]
            profile.update(crs=EAST, transform=Affine(transform.a, 0, transform.c + SHIFT_M, 0, transform.e,
                                                      transform.f))
            with rasterio.open(item_folder / f"{name}.tif", "w", **profile) as dst:
                dst.write(data, 1)
                bounds = dst.bounds
        footprint = reproject(box(*bounds), EAST.to_string(), WGS84)
        when = datetime.combine(scene.datetime.date(), at, tzinfo=timezone.utc)
        properties = dict(scene.properties)
        if orbits:
            ascends = scene_id == ASCENDING
            properties.update({"sat:orbit_state": "ascending" if ascends else "descending",
                               "sat:relative_orbit": 61 if ascends else 134})
        item = pystac.Item(scene_id, mapping(footprint), list(footprint.bounds), when, properties,
                           collection="sentinel-1-rtc")
        for name in ("vv", "vh"):
            item.add_asset(name, pystac.Asset(str(item_folder / f"{name}.tif"), media_type=pystac.MediaType.GEOTIFF,
                                              roles=["data"]))
        items.append(item)
    return synthetic.write_catalog(folder, items)


def project(root: Path, catalog: Path, zone: str) -> tuple[Path, Path]:
    """An AOI inside the moved scenes and the claims naming it (``zone``: a time_zone line, or '')."""
    [scene] = LocalCatalog(catalog, "s1").all()[:1]
    west, south, east, north = scene.geometry.bounds
    inset_x, inset_y = (east - west) * 0.05, (north - south) * 0.05
    (root / "aoi").mkdir()
    synthetic.write_aoi(root / "aoi" / "east-port.geojson", "east-port",
                        (west + inset_x, south + inset_y, east - inset_x, north - inset_y))
    (root / "seeds").mkdir()
    (root / "seeds" / "east.toml").write_text(CLAIMS.format(zone=zone))
    return root / "aoi", root / "seeds"


def vessels(user, port_project, tmp_path: Path, zone: str = "", ascending: bool = False
            ) -> tuple[list[dict], dict]:
    catalog = moved(port_project.catalog, tmp_path / "east", ascending)
    aoi_dir, seeds_dir = project(tmp_path, catalog, zone)
    result = user("vessels", "--aoi", "east-port", "--from", "2021-03-25", "--to", "2021-06-30", "--sensor", "s1",
                  "--source", str(catalog), "--aoi-dir", str(aoi_dir), "--seeds-dir", str(seeds_dir), "--out", "out")
    assert result.returncode == 0, result.output
    rows = list(csv.DictReader((user.home / "out" / "timeseries.csv").open()))
    [evidence] = json.loads((user.home / "out" / "evidence.json").read_text())
    return rows, evidence


def drawn(svg: str, rows: list[dict]) -> tuple[tuple[float, float], dict[str, float]]:
    """The claim window's shading (left and right x) in the count plot of ``timeseries.svg`` and the x of each
    scene's point there (matplotlib's SVG: the first patch of the window's colour, the first scatter's points
    in the rows' order)."""
    shading = re.search(r'<path d="M ([\d.]+) [\d.]+ \nL ([\d.]+) [^"]*"[^>]*fill: #f2c230', svg)
    assert shading, "no window shading"
    points = re.search(r'<g id="PathCollection_1">(.*?)</g>\s*</g>', svg, flags=re.S)
    assert points, "no points"
    xs = [float(x) for x in re.findall(r'<use [^>]* x="([\d.]+)"', points[1])]
    assert len(xs) == len(rows), (len(xs), len(rows))
    return (float(shading[1]), float(shading[2])), {row["scene"]: x for row, x in zip(rows, xs)}


def test_a_pass_at_20_30_utc_on_the_windows_last_day_is_after_it_at_132_east(user, port_project, tmp_path):
    rows, evidence = vessels(user, port_project, tmp_path)
    by_scene = {row["scene"]: row for row in rows}
    # outputs stay in UTC: the scenes' datetimes and dates as taken
    assert by_scene["S1A_TEST_20210613"]["datetime"].startswith("2021-06-13T20:30:00")
    assert by_scene["S1A_TEST_20210613"]["date"] == "2021-06-13"
    test = evidence["tests"]["s1"]
    # the window holds the 11th's pass (the 12th there) alone; on main the 13th's too: [6, 8] ships of 100 m+
    assert test["window"] == [int(by_scene["S1A_TEST_20210611"]["n_100m"])], test
    assert evidence["window_time_zone"] == "UTC+08:48"  # mean solar time at lon 132.05: 528 min
    assert len(test["baseline"]) == 10, test
    assert evidence["verdict"] == CONSISTENT, evidence["rationale"]
    # The plot draws it where the evidence counts it: after the shaded window, on the 14th of the days on its
    # axis. On main the point sat on its UTC date inside the shading, and the shading stopped at the start of the
    # window's last day.
    svg = (user.home / "out" / "timeseries.svg").read_text()
    (left, right), x = drawn(svg, rows)
    assert left < x["S1A_TEST_20210611"] < right < x["S1A_TEST_20210613"], (left, right, x)
    assert "<!-- local date (UTC+08:48, mean solar time) -->" in svg


def test_a_claim_in_utc_days_keeps_the_scenes_utc_dates(user, port_project, tmp_path):
    """``time_zone = "UTC"``: the days the scenes are dated in, the 13th's pass inside the window again."""
    rows, evidence = vessels(user, port_project, tmp_path, zone='time_zone = "UTC"')
    by_scene = {row["scene"]: row for row in rows}
    assert evidence["window_time_zone"] == "UTC"
    assert evidence["tests"]["s1"]["window"] == [int(by_scene[s]["n_100m"])
                                                 for s in ("S1A_TEST_20210611", "S1A_TEST_20210613")]
    svg = (user.home / "out" / "timeseries.svg").read_text()
    (left, right), x = drawn(svg, rows)
    assert left < x["S1A_TEST_20210611"] < x["S1A_TEST_20210613"] < right, (left, right, x)
    assert "local date" not in svg  # UTC days: the scenes' own dates, nothing to say


def test_two_passes_of_one_utc_date_on_two_local_days_are_two_rows_and_the_windows_last_day_counts(
        user, port_project, tmp_path):
    """The 13th at 09:12 UTC (18:00 there, the window's last day) and at 20:30 UTC (the 14th there, after it): one
    UTC date, two local days. On main the series kept one row per UTC date and sensor, the 20:30 pass (it saw more
    of the water), and dropped the 09:12 one: the window lost its last day, its test held the 11th's pass alone."""
    rows, evidence = vessels(user, port_project, tmp_path, ascending=True)
    by_scene = {row["scene"]: row for row in rows}
    assert [(by_scene[s]["date"], by_scene[s]["local_date"]) for s in (ASCENDING, "S1A_TEST_20210613")] == [
        ("2021-06-13", "2021-06-13"), ("2021-06-13", "2021-06-14")]
    assert 0.8 <= float(by_scene[ASCENDING]["observed_fraction"]) < float(by_scene["S1A_TEST_20210613"]["observed_fraction"])
    test = evidence["tests"]["s1"]
    assert test["window"] == [int(by_scene[s]["n_100m"]) for s in ("S1A_TEST_20210611", ASCENDING)], test
    assert test["window"][1] >= 5, test  # the 13th's ships, fewer where its water was not seen
    assert evidence["verdict"] == CONSISTENT, evidence["rationale"]
    series = json.loads((user.home / "out" / "timeseries.json").read_text())
    assert series["local_time_zone"] == "UTC+08:48"
    assert all(row["dropped_scenes"] == [] for row in series["rows"])


def test_in_utc_days_the_two_passes_of_a_date_are_one_row_keeping_the_better_seen(user, port_project, tmp_path):
    """A claim counting UTC days (its ``time_zone``): the 13th's two passes are one day again; the one that saw
    less of the water is dropped, as two scenes of a day always were."""
    rows, evidence = vessels(user, port_project, tmp_path, zone='time_zone = "UTC"', ascending=True)
    kept = {row["scene"]: row for row in rows}
    assert ASCENDING not in kept and kept["S1A_TEST_20210613"]["local_date"] == "2021-06-13"
    series = json.loads((user.home / "out" / "timeseries.json").read_text())
    assert series["local_time_zone"] == "UTC"
    assert [r["dropped_scenes"] for r in series["rows"] if r["scene"] == "S1A_TEST_20210613"] == [[ASCENDING]]
    assert evidence["tests"]["s1"]["window"] == [int(kept[s]["n_100m"]) for s in ("S1A_TEST_20210611",
                                                                                  "S1A_TEST_20210613")]


def test_a_recheck_keeps_the_windows_last_local_day_of_a_utc_date_with_two_passes(user, port_project, tmp_path):
    """The re-check's series (its store's rows) as ``geo vessels``'s: the 13th's passes at 09:12 and 20:30 UTC
    are two local days, two rows, the window's last day counted. On main the store's series kept one per UTC date:
    12 dates, the window's test the 11th's pass alone."""
    catalog = moved(port_project.catalog, tmp_path / "east", ascending=True)
    aoi_dir, seeds_dir = project(tmp_path, catalog, "")
    result = user("recheck", "--aoi", "east-port", "--source", str(catalog), "--aoi-dir", str(aoi_dir),
                  "--seeds-dir", str(seeds_dir), "--store", "port.gpkg")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.output
    entry, = json.loads((user.home / "port-outputs/runs/000001/summary.json").read_text())["aois"]
    assert entry["vessels"]["n_counted"] == 13 and entry["vessels"]["series"] == {"s1": 13}, entry["vessels"]
    with sqlite3.connect(user.home / "port.gpkg") as conn:
        n_100m = dict(conn.execute("SELECT scene_id, n_100m FROM vessel_series"))
        [details] = [json.loads(d) for (d,) in conn.execute(
            "SELECT details FROM verdicts WHERE kind = 'vessels' AND claim_id = 'east-ships'")]
        [window] = conn.execute("SELECT window_start, window_end, window_time_zone FROM claims WHERE claim_id = "
                                "'east-ships'")
    assert details["window_time_zone"] == "UTC+08:48"
    # the store's claims table says whose days its window's dates are (it kept bare dates)
    assert window[:2] == ("2021-06-10", "2021-06-13") and json.loads(window[2]) == {"east-port": "UTC+08:48"}
    assert details["tests"]["s1"]["window"] == [n_100m["S1A_TEST_20210611"], n_100m[ASCENDING]], details["tests"]
    assert details["verdict"] == CONSISTENT, details["rationale"]
    # a claim judged for the first time says so (it read "(was none)")
    assert f"claim east-ships on east-port (vessel counts): {CONSISTENT} (first verdict)" in result.stdout, result.stdout


def test_the_reports_vessel_table_dates_each_row_by_its_local_day(user, port_project, tmp_path):
    """``geo run --sensor s1``'s report lists the counted dates as the plot and the evidence count them: the 13th's
    two passes are the 13th and the 14th at UTC+08:48, each with its UTC time beside. On main the table listed
    the UTC date, 2021-06-13 twice, and said the dates ran "to 2021-06-13" while the plot's axis ran to the 14th."""
    catalog = moved(port_project.catalog, tmp_path / "east", ascending=True, orbits=True)
    aoi_dir, seeds_dir = project(tmp_path, catalog, "")
    result = user("run", "--aoi", "east-port", "--sensor", "s1", "--source", str(catalog), "--aoi-dir",
                  str(aoi_dir), "--seeds-dir", str(seeds_dir), "--out", "run")
    assert result.returncode == 0, result.output
    # the sensors searched are said as such (it read "13 s1/s2 scene(s)" when only one sensor had scenes)
    counts = r"^vessel counts: 13 scenes from \S+ to \S+ \(s1/s2 searched\), 55 vessel detections"
    assert re.search(counts, result.stdout, re.M), result.stdout
    html = (user.home / "run" / "report.html").read_text()
    table = vessel_table(html)
    # the classes the claims' test counts beside "Large" (>= 50 m): the table had only that, the rationale "ships
    # >= 100 m ... 0.0 per scene" (found with sen2ships' Algiers, every ship >= 100 m)
    assert table[0] == ["Date (UTC+08:48)", "Taken (UTC)", "Sensor", "Scene", "Vessels", "Large", ">= 100 m",
                        ">= 100 m at berth", "Vessel area m²", "Water seen"]
    rows = {r["scene"]: r for r in json.loads((user.home / "run" / "timeseries.json").read_text())["rows"]}
    assert all(row[6:8] == [str(rows[row[3]]["n_100m"]), str(rows[row[3]]["n_100m_at_berth"])] for row in table[1:])
    by_scene = {row[3]: row for row in table[1:]}
    assert len(by_scene) == 13
    assert by_scene[ASCENDING][:2] == ["2021-06-13", "2021-06-13 09:12"]
    assert by_scene["S1A_TEST_20210613"][:2] == ["2021-06-14", "2021-06-13 20:30"]
    assert by_scene["S1A_TEST_20210401"][:2] == ["2021-04-02", "2021-04-01 20:30"]
    assert "13 dates (S1) from 2021-04-02 to 2021-06-14, local days at UTC+08:48 (searched " in " ".join(html.split())
    # geo report rebuilds it alike from the folder; a series written before rows said their local day (no
    # local_date, no local_time_zone) still renders, by its UTC dates
    copy = tmp_path / "old"
    shutil.copytree(user.home / "run", copy)
    series = json.loads((copy / "timeseries.json").read_text())
    del series["local_time_zone"]
    for row in series["rows"]:
        del row["local_date"]
    (copy / "timeseries.json").write_text(json.dumps(series))
    (user.home / "run" / "report.html").unlink()
    for folder in (user.home / "run", copy):
        shell = user("report", str(folder))
        assert shell.returncode == 0 and "Traceback" not in shell.stderr, shell.output
    assert vessel_table((user.home / "run" / "report.html").read_text()) == table
    old = vessel_table((copy / "report.html").read_text())
    assert old[0][:2] == ["Date (UTC)", "Sensor"]
    assert [row[0] for row in old[1:] if row[2].startswith("S1A_TEST_20210613")] == ["2021-06-13", "2021-06-13"]


def vessel_table(html: str) -> list[list[str]]:
    """The report's table of counts per date: its header and rows, each cell's text."""
    section = re.search(r'<section class="panel vessels".*?<table[^>]*>(.*?)</table>', html, flags=re.S)
    assert section, "no vessel table"
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", section[1], flags=re.S)]


def line_islands_claim(tmp_path: Path) -> tuple[str, ...]:
    """A claim over the demo AOI whose window, 2015-08-21 to 2017-10-14, counts UTC+14:00's days."""
    repo = Path(__file__).resolve().parents[2]
    seeds, aois = tmp_path / "seeds", tmp_path / "aoi"
    seeds.mkdir()
    aois.mkdir()
    (aois / "demo-nantes-port.geojson").write_bytes((repo / "aoi" / "demo-nantes-port.geojson").read_bytes())
    (seeds / "mine.toml").write_text(CLAIMS.format(zone='time_zone = "+14:00"').replace(
        "east-port", "demo-nantes-port").replace("2021-06-10", "2015-08-21").replace("2021-06-13", "2017-10-14"))
    return "--seeds-dir", str(seeds), "--aoi-dir", str(aois)


def test_no_scene_before_a_window_in_a_far_zone_says_the_day_is_the_zones(user, tmp_path):
    """The demo's before scene, 2015-08-21 11:00 UTC, is the 22nd on Line Islands time: a claim window from the
    21st there has no scene on or before it. The refusal names the zone its day is counted in; on main it
    said "no scene ... on or before 2015-08-21" and then listed the catalog's date 2015-08-21, a contradiction."""
    out = tmp_path / "run"
    shell = user("run", "--aoi", "demo-nantes-port", "--source", "demo", *line_islands_claim(tmp_path), "--out",
                 str(out))
    assert shell.returncode == 1, shell.output
    [line] = shell.stderr.strip().splitlines()
    assert line.startswith("Error: no scene over AOI 'demo-nantes-port' on or before 2015-08-21 (a local day, "
                           "UTC+14:00: scenes count by their date there) within 365 days in "), line
    assert "2015-08-21, 2017-10-14" in line and "Traceback" not in shell.output and not out.exists()


def test_a_recheck_baseline_before_a_window_in_a_far_zone_says_the_day_is_the_zones(user, tmp_path):
    """The re-check's baseline, the latest scene on or before the window's first day there: none, so the first
    after it, the scene of 2015-08-21 (UTC). Its reason said "no scene on or before 2015-08-21", of a scene
    dated 2015-08-21."""
    shell = user("recheck", "--aoi", "demo-nantes-port", "--source", "demo", *line_islands_claim(tmp_path),
                 "--store", str(tmp_path / "watch.gpkg"), "--json")
    assert shell.returncode == 0, shell.output
    [entry] = json.loads(shell.stdout)["aois"]
    assert entry["baseline_scene"] == "S2A_30TXT_20150821_L1C_nantes"
    assert entry["baseline_reason"] == ("no scene on or before 2015-08-21 (a local day, UTC+14:00: scenes count by "
                                        "their date there) within 365 days: first scene after it")
