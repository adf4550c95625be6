"""``geo vessels`` and ``geo run --sensor s1`` over a port that each Sentinel-1 pass shows in two slices (the
north half in one product, the south half in the next, as a pass's products meet along track): the synthetic
port's series (tests/vessels/port.py, planted ships of known number) cut in two per date. Counts and changes
must be those of the same scenes whole."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pystac
import rasterio
from affine import Affine
from rasterio.windows import Window
from shapely.geometry import box, mapping

from geo.geometry import WGS84, reproject
from geo.scenes.source import LocalCatalog

PERIOD = ("--from", "2021-03-25", "--to", "2021-06-30", "--sensor", "s1")
OVERLAP = 8  # rows the two slices share


def sliced_catalog(catalog: Path, folder: Path, slices: bool = True, id_tail: str = "") -> Path:
    """Each Sentinel-1 item of ``catalog`` (the port's, which say no orbit) on relative orbit 118 ascending, as
    two items of one pass (rows above and below the middle), or, without ``slices``, whole; ``id_tail`` is
    appended to each item's id."""
    sliced = pystac.Catalog("sliced", "a pass in two slices")
    for scene in LocalCatalog(catalog, "s1").all():
        with rasterio.open(scene.asset("vv").href) as src:
            height, width, crs = src.height, src.width, src.crs
        cuts = (("_N", (0, height // 2 + OVERLAP)), ("_S", (height // 2 - OVERLAP, height))) if slices else (
            ("", (0, height)),)
        for part, (row0, row1) in cuts:
            window = Window(0, row0, width, row1 - row0)
            hrefs = {}
            for pol in ("vv", "vh"):
                with rasterio.open(scene.asset(pol).href) as src:
                    transform = src.transform @ Affine.translation(0, row0)
                    profile = {**src.profile, "height": window.height, "transform": transform}
                    path = folder / f"{scene.id}{part}{id_tail}" / f"{pol}.tif"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    with rasterio.open(path, "w", **profile) as dst:
                        dst.write(src.read(1, window=window), 1)
                    bounds = (transform.c, transform.f + transform.e * window.height,
                              transform.c + transform.a * width, transform.f)
                hrefs[pol] = str(path)
            footprint = reproject(box(*bounds), crs.to_string(), WGS84)
            item = pystac.Item(f"{scene.id}{part}{id_tail}", mapping(footprint), list(footprint.bounds), scene.datetime,
                               {**scene.properties, "sat:relative_orbit": 118, "sat:orbit_state": "ascending"},
                               collection="sentinel-1-rtc")
            for pol, href in hrefs.items():
                item.add_asset(pol, pystac.Asset(href, media_type=pystac.MediaType.GEOTIFF, roles=["data"]))
            sliced.add_item(item)
    sliced.normalize_hrefs(str(folder))
    sliced.save(catalog_type=pystac.CatalogType.ABSOLUTE_PUBLISHED)
    return folder / "catalog.json"


def series(user, source: Path, project, out: str) -> dict[str, tuple[int, int]]:
    result = user("vessels", "--aoi", "test-port", *PERIOD, "--source", str(source), "--aoi-dir",
                  str(project.aoi_dir), "--seeds-dir", str(project.seeds_dir), "--out", out)
    assert result.returncode == 0, result.output
    rows = list(csv.DictReader((user.home / out / "timeseries.csv").open()))
    return {row["date"]: (int(row["n_vessels"]), int(row["n_large"])) for row in rows} | {
        "scenes": {row["date"]: row["scene"] for row in rows}}


def test_ships_of_a_pass_in_two_slices_are_counted_as_in_one_scene(user, port_project, tmp_path):
    """Each date's row was one slice's (the one seeing more of the water): about half the ships."""
    whole = series(user, sliced_catalog(port_project.catalog, tmp_path / "whole", slices=False), port_project, "whole")
    halves = series(user, sliced_catalog(port_project.catalog, tmp_path / "sliced"), port_project, "halves")
    names = halves.pop("scenes")
    whole.pop("scenes")
    assert halves == whole
    assert sum(n for n, _ in whole.values()) >= 30  # the ships planted over twelve dates, found whole
    for name in names.values():  # both slices of its pass
        base = name.split("+")[0][:-2]
        assert sorted(name.split("+")) == [f"{base}_N", f"{base}_S"], names


def test_sar_change_over_a_pass_in_two_slices_sees_all_of_the_aoi(user, port_project, tmp_path):
    """``geo run --sensor s1`` took one slice (each covers 53% of the AOI, over the 50% a candidate needs): the
    other half of the port unseen, its changes missing. The pass's slices are now one scene."""
    manifests, changes = {}, {}
    for name in ("whole", "halves"):
        source = sliced_catalog(port_project.catalog, tmp_path / name, slices=name == "halves")
        result = user("run", "--sensor", "s1", "--aoi", "test-port", "--source", str(source), "--before", "2021-04-01",
                      "--after", "2021-06-11", "--aoi-dir", str(port_project.aoi_dir), "--seeds-dir",
                      str(port_project.seeds_dir), "--out", name)
        assert result.returncode == 0, result.output
        assert "derived_from" not in result.stderr, result.stderr
        manifests[name] = json.loads((user.home / name / "manifest.json").read_text())
        changes[name] = sorted((f["properties"]["change_type"], f["properties"]["area_m2"]) for f in json.loads(
            (user.home / name / "changes.geojson").read_text())["features"])
    halves = manifests["halves"]["scenes"]
    assert halves["before"]["tiles"] == ["S1A_TEST_20210401_N", "S1A_TEST_20210401_S"]
    assert halves["selection"]["before"]["coverage"] == halves["selection"]["after"]["coverage"] == 1.0
    assert changes["halves"] == changes["whole"] and len(changes["whole"]) >= 9  # the planted ships among them
    links = [link["href"] for link in json.loads((user.home / "halves" / "item.json").read_text())["links"]
             if link["rel"] == "derived_from"]
    assert sorted(Path(href).parent.name for href in links) == [
        "S1A_TEST_20210401_N", "S1A_TEST_20210401_S", "S1A_TEST_20210611_N", "S1A_TEST_20210611_S"]
