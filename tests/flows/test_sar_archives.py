"""``geo vessels --sensor s1`` and ``geo run --sensor s1`` over Sentinel-1 items as archives and users publish
them: single polarisation (VV only, VH only), HH+HV (polar and some coastal acquisitions), pixels in dB, GRD DN
as uint16, nodata 0 / NaN / -9999, pairs across orbits, pass directions and instrument modes, items that do not
say their orbit. Each catalog is the synthetic port's Sentinel-1 series (tests/vessels/port.py, planted ships of
known number) written again; ships are counted right, or the command refuses in one line naming the scene and
what it lacks (exit 1, no traceback, no output folder)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pystac
import pytest
import rasterio

from geo.scenes.model import Scene
from geo.scenes.source import LocalCatalog

PERIOD = ("--from", "2021-03-25", "--to", "2021-06-30", "--sensor", "s1")
PAIR = ("--before", "2021-05-01", "--after", "2021-06-13")  # series of seven dates, 2 ships then 9
AFTER = "S1A_TEST_20210613"
HH = {"vv": "hh", "vh": "hv"}
Encoding = Callable[[np.ndarray], tuple[np.ndarray, str, float | None]]  # linear power -> (pixels, dtype, nodata)


def rewritten(catalog: Path, folder: Path, pols: Callable[[Scene], Sequence[str]] = lambda s: ("vv", "vh"),
              rename: Callable[[Scene], dict[str, str]] = lambda s: {}, encode: Encoding | None = None,
              props: Callable[[Scene], dict] = lambda s: {}, collection: str = "sentinel-1-rtc",
              band: dict | None = None) -> Path:
    """The port's Sentinel-1 items written again: the assets ``pols`` of each (renamed by ``rename``), their
    pixels through ``encode``, the properties updated by ``props``; ``band``: each asset's raster:bands entry."""
    out = pystac.Catalog("rewritten", "the port's Sentinel-1 series as another archive publishes it")
    for scene in LocalCatalog(catalog, "s1").all():
        assert scene.stac is not None
        item = pystac.Item(scene.id, scene.stac["geometry"], list(scene.geometry.bounds), scene.datetime,
                           {**scene.properties, **props(scene)}, collection=collection)
        for pol in pols(scene):
            with rasterio.open(scene.asset(pol).href) as src:
                data, profile = src.read(1), src.profile
            if encode is not None:
                data, dtype, nodata = encode(data)
                profile.update(dtype=dtype, nodata=nodata)
            name = rename(scene).get(pol, pol)
            path = folder / scene.id / f"{name}.tif"
            path.parent.mkdir(parents=True, exist_ok=True)
            with rasterio.open(path, "w", **profile) as dst:
                dst.write(data.astype(profile["dtype"]), 1)
            item.add_asset(name, pystac.Asset(str(path), media_type=pystac.MediaType.GEOTIFF, roles=["data"],
                                              extra_fields={"raster:bands": [band]} if band else None))
        out.add_item(item)
    out.normalize_hrefs(str(folder))
    out.save(catalog_type=pystac.CatalogType.ABSOLUTE_PUBLISHED)
    return folder / "catalog.json"


def on_orbit(scene: Scene) -> dict:
    return {"sat:relative_orbit": 118, "sat:orbit_state": "ascending"}


def in_window(scene: Scene) -> bool:
    return scene.id >= "S1A_TEST_202106"


def vessels(user, catalog: Path, project, out: str = "out"):
    return user("vessels", "--aoi", "test-port", *PERIOD, "--source", str(catalog), "--aoi-dir",
                str(project.aoi_dir), "--seeds-dir", str(project.seeds_dir), "--out", out)


def change(user, catalog: Path, project, *args: str, out: str = "out"):
    return user("run", "--sensor", "s1", "--aoi", "test-port", "--source", str(catalog), "--aoi-dir",
                str(project.aoi_dir), "--seeds-dir", str(project.seeds_dir), "--out", out, *args)


def counts(user, out: str = "out") -> dict[str, int]:
    return {row["scene"]: int(row["n_vessels"]) for row in csv.DictReader((user.home / out / "timeseries.csv").open())}


def planted(project) -> dict[str, int]:
    return {scene: len(ships) for scene, ships in project.ships.items() if scene.startswith("S1")}


def refused(user, result, *words: str, out: str = "out") -> str:
    """The one error line, after checking exit 1, no traceback and no output folder."""
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output and not (user.home / out).exists()
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def _db(power: np.ndarray) -> tuple[np.ndarray, str, float | None]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return 10 * np.log10(power), "float32", float("nan")


def _dn(power: np.ndarray) -> tuple[np.ndarray, str, float | None]:  # GRD: amplitude DN, 0 outside the swath
    return np.where(np.isfinite(power), np.clip(np.round(500 * np.sqrt(np.nan_to_num(power))), 1, 65535), 0), \
        "uint16", 0


@pytest.mark.parametrize("variant", ["vv-only", "hh-hv", "grd-dn-uint16", "nodata-0", "nodata-9999",
                                     "nodata-9999-undeclared"])
def test_ships_are_counted_whatever_the_archive_publishes(user, port_project, tmp_path, variant):
    """Already right on main for each: VV alone, HH+HV (HH is the co-pol, as VV), GRD DN squared to intensity,
    and every way of saying nodata (a -9999 fill the file does not declare is no valid intensity)."""
    blank = lambda fill: lambda p: (np.nan_to_num(p, nan=fill), "float32", fill)  # noqa: E731
    kwargs = {
        "vv-only": {"pols": lambda s: ("vv",)},
        "hh-hv": {"rename": lambda s: HH, "props": lambda s: {"sar:polarizations": ["HH", "HV"]}},
        "grd-dn-uint16": {"encode": _dn, "collection": "sentinel-1-grd"},
        "nodata-0": {"encode": blank(0.0)},
        "nodata-9999": {"encode": blank(-9999.0)},
        "nodata-9999-undeclared": {"encode": lambda p: (np.nan_to_num(p, nan=-9999.0), "float32", None)},
    }[variant]
    catalog = rewritten(port_project.catalog, tmp_path / variant, **kwargs)
    result = vessels(user, catalog, port_project)
    assert result.returncode == 0, result.output
    assert counts(user) == planted(port_project)


@pytest.mark.parametrize("variant", ["own-sigma0", "upper-case-keys"])
def test_ships_are_counted_in_users_own_catalogs(user, port_project, tmp_path, variant):
    """A user's own calibrated float32 COGs in a collection not named RTC were squared as if GRD DN: 2-6 ships a
    date where 1-3 were planted, 12 where 9 were. Assets keyed VV/VH (not vv/vh) were 'no vv/vh/hh/hv asset':
    every scene left out, exit 1. Integers are DN, floats power; the keys are read in any case."""
    kwargs = {"own-sigma0": {"collection": "my-s1-sigma0"},
              "upper-case-keys": {"rename": lambda s: {"vv": "VV", "vh": "VH"}}}[variant]
    catalog = rewritten(port_project.catalog, tmp_path / variant, **kwargs)
    result = vessels(user, catalog, port_project)
    assert result.returncode == 0, result.output
    assert counts(user) == planted(port_project)


def test_a_cross_pol_only_scene_is_left_out_by_name(user, port_project, tmp_path):
    """VH alone (an item whose VV asset is missing) was read as if it were co-pol: 0-2 ships a date where 1-9 were
    planted, exit 0. Ships, water and land are read in co-pol: the scene is left out, named, with why."""
    catalog = rewritten(port_project.catalog, tmp_path / "vh", pols=lambda s: ("vh",) if in_window(s) else ("vv", "vh"))
    result = vessels(user, catalog, port_project)
    assert result.returncode == 0, result.output
    assert "S1A_TEST_20210611 (only cross-pol vh (read in co-pol: vv or hh))" in result.stderr
    expected = {s: n for s, n in planted(port_project).items() if not s.startswith("S1A_TEST_202106")}
    assert counts(user) == expected
    # all of them cross-pol only: no scene to count, said after the warning naming them
    catalog = rewritten(port_project.catalog, tmp_path / "vh-all", pols=lambda s: ("vh",))
    refused(user, vessels(user, catalog, port_project, "all-vh"), "no s1 scene over AOI 'test-port'", out="all-vh")


def test_backscatter_in_db_is_refused_naming_the_scene(user, port_project, tmp_path):
    """dB read as power: negative pixels invalid, the rest wrong ('internal error: ValueError: no valid pixels to
    build a land mask from', exit 2)."""
    catalog = rewritten(port_project.catalog, tmp_path / "db", encode=_db, props=on_orbit)
    line = refused(user, vessels(user, catalog, port_project), "scene S1A_TEST_20210401", "asset 'vv'", "dB",
                   "10^(dB/10)")
    assert "median -1" in line  # the sea near -18 dB
    refused(user, change(user, catalog, port_project, *PAIR, out="change"), "scene S1A_TEST_20210501", "dB",
            out="change")
    # said in the item (raster:bands unit dB): read as power, every planted ship counted
    catalog = rewritten(port_project.catalog, tmp_path / "db-said", encode=_db, band={"unit": "dB"})
    result = vessels(user, catalog, port_project, "said")
    assert result.returncode == 0, result.output
    assert counts(user, "said") == planted(port_project)


@pytest.mark.parametrize("variant, read", [("vv-after", ["vv"]), ("hh-hv", ["hh", "hv"])])
def test_change_pair_uses_the_polarisation_both_dates_have(user, port_project, tmp_path, variant, read):
    """Before VV+VH, after VV only: was refused ('a pair needs the same polarisations'); the pair test runs on VV
    and finds the ships that came (9 planted) and the two that left. HH+HV on both dates (fine on main): the
    same."""
    kwargs = {"vv-after": {"pols": lambda s: ("vv",) if in_window(s) else ("vv", "vh")},
              "hh-hv": {"rename": lambda s: HH}}[variant]
    catalog = rewritten(port_project.catalog, tmp_path / variant, props=on_orbit, **kwargs)
    result = change(user, catalog, port_project, *PAIR)
    assert result.returncode == 0, result.output
    manifest = json.loads((user.home / "out" / "manifest.json").read_text())
    assert manifest["polarisations"] == manifest["scenes"]["selection"]["polarisations"] == read
    types = Counter(f["properties"]["change_type"] for f in
                    json.loads((user.home / "out" / "changes.geojson").read_text())["features"])
    assert planted(port_project)[AFTER] - 1 <= types["vessel"] <= planted(port_project)[AFTER]
    assert types["water_change"] == planted(port_project)["S1A_TEST_20210501"]


def test_a_series_scene_lacking_a_polarisation_is_left_out(user, port_project, tmp_path):
    """One date of the series VV only: 'internal error: ValueError: all input arrays must have the same shape',
    exit 2. It is left out of the omnibus series, with a warning naming it."""
    catalog = rewritten(port_project.catalog, tmp_path / "series", props=on_orbit,
                        pols=lambda s: ("vv",) if s.id == "S1A_TEST_20210513" else ("vv", "vh"))
    result = change(user, catalog, port_project, *PAIR)
    assert result.returncode == 0, result.output
    assert "series scene S1A_TEST_20210513 left out: it has vv, the pair vv/vh" in result.stderr
    manifest = json.loads((user.home / "out" / "manifest.json").read_text())
    selection = manifest["scenes"]["selection"]
    assert selection["polarisations"] == ["vv", "vh"]
    assert selection["series"] == ["S1A_TEST_20210501", "S1A_TEST_20210507", "S1A_TEST_20210519",
                                   "S1A_TEST_20210525", "S1A_TEST_20210611", AFTER]
    assert [s["id"] for s in manifest["omnibus"]["scenes"]] == selection["series"]


@pytest.mark.parametrize("after, has", [("hh-hv", "hh/hv"), ("vh-only", "only cross-pol vh")])
def test_dates_sharing_no_polarisation_make_no_pair(user, port_project, tmp_path, after, has):
    """VV+VH before, HH+HV after (another acquisition plan): no polarisation to compare; was refused only once
    read ('a pair needs the same polarisations'), now at selection, naming the scenes. A VH-only after scene
    was paired, its VH read as co-pol."""
    kwargs = {"hh-hv": {"rename": lambda s: HH if in_window(s) else {}},
              "vh-only": {"pols": lambda s: ("vh",) if in_window(s) else ("vv", "vh")}}[after]
    catalog = rewritten(port_project.catalog, tmp_path / after, props=on_orbit, **kwargs)
    result = change(user, catalog, port_project, *PAIR)
    refused(user, result, "sharing a co-polarisation (vv or hh)", "before S1A_TEST_20210501 has vv/vh",
            f"after {AFTER} has {has}")


def test_dates_both_cross_pol_only_are_not_said_to_share_nothing(user, port_project, tmp_path):
    """Every scene VH only: the refusal said the pair shares no polarisation, then that both have vh. What they
    lack is a co-polarisation, in which the change is read."""
    catalog = rewritten(port_project.catalog, tmp_path / "vh", props=on_orbit, pols=lambda s: ("vh",))
    line = refused(user, change(user, catalog, port_project, *PAIR), "before S1A_TEST_20210501 has only cross-pol vh")
    assert "sharing a co-polarisation (vv or hh)" in line and "sharing a polarisation" not in line, line


@pytest.mark.parametrize("after_props, seen", [
    ({"sat:relative_orbit": 45}, "after 2021-06-13: relative orbit 45 ascending IW (1 scene)"),  # fine on main
    ({"sat:orbit_state": "descending"}, "after 2021-06-13: relative orbit 118 descending IW (1 scene)"),  # fine
    ({"sar:instrument_mode": "EW"}, "after 2021-06-13: relative orbit 118 ascending EW (1 scene)"),  # was paired
])
def test_no_pair_across_geometries(user, port_project, tmp_path, after_props, seen):
    """June on another geometry: no pair, the geometries named. An EW scene (other swaths and incidence angles,
    40 m pixels) was paired with IW ones of the same orbit, exit 0."""
    props = lambda s: {**on_orbit(s), **(after_props if s.id == AFTER else {})}  # noqa: E731
    catalog = rewritten(port_project.catalog, tmp_path / "geometry", props=props)
    result = change(user, catalog, port_project, *PAIR)
    refused(user, result, "same relative orbit and orbit direction, in one mode",
            "before 2021-05-01: relative orbit 118 ascending IW (6 scenes)", seen)


def test_items_that_do_not_say_their_orbit_are_refused_saying_so(user, port_project):
    """The port's own items say no orbit: the refusal said 'unknown orbit ... name other dates or scenes', which
    no dates or scenes can mend."""
    result = change(user, port_project.catalog, port_project, *PAIR)
    line = refused(user, result, "do not say their orbit", "sat:relative_orbit", "sat:orbit_state")
    assert "name other dates" not in line
