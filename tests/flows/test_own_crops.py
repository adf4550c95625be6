"""An analyst's own scenes cut into pieces: each date's bands cropped into a west and an east file (two
downloads of a clipped product, or a tile split to keep files small), catalogued as two items of the same
time without ``sat:relative_orbit`` (rio-stac and pystac write none). The two pieces are one observation:
they were taken as two scenes, the pair read from one of them, and half of the AOI was reported unseen."""

from __future__ import annotations

import json
from pathlib import Path

import pystac
import rasterio
from rasterio.windows import Window

from tests.flows.conftest import DEMO_CATALOG
from tests.flows.test_own_stac_tools import BANDS, DATES

HALVES = ("west", "east")


def cropped(src_path: str, out: Path, half: str) -> Path:
    """One half of a band file (the west half keeps 10 columns of the east's, as clipped downloads overlap)."""
    with rasterio.open(src_path) as src:
        middle = src.width // 2
        window = Window(0, 0, middle + 10, src.height) if half == "west" else Window(middle, 0, src.width - middle,
                                                                                      src.height)
        profile = {**src.profile, "width": int(window.width), "height": int(window.height),
                   "transform": src.window_transform(window), "driver": "GTiff"}
        for key in ("blockxsize", "blockysize", "tiled"):
            profile.pop(key, None)
        with rasterio.open(out, "w", **profile) as dst:
            dst.write(src.read(window=window))
    return out


def crops_catalog(folder: Path) -> Path:
    """Each demo date as two items, ``<id>-west`` and ``<id>-east``, sensed at the same time, no orbit."""
    from shapely.geometry import box, mapping

    catalog = pystac.Catalog("crops", "my cropped scenes")
    for demo in pystac.Catalog.from_file(str(DEMO_CATALOG)).get_items(recursive=True):
        for half in HALVES:
            files = {name: cropped(demo.assets[name].get_absolute_href(), folder / f"{demo.id}-{half}-{name}.tif", half)
                     for name in BANDS}
            with rasterio.open(files["blue"]) as src:
                from rasterio.warp import transform_bounds

                bounds = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
            item = pystac.Item(f"{demo.id}-{half}", mapping(box(*bounds)), list(bounds), demo.datetime,
                               {"platform": demo.properties.get("platform", "sentinel-2a")})
            for name, path in files.items():
                item.add_asset(BANDS[name], pystac.Asset(str(path), media_type="image/tiff; application=geotiff",
                                                         roles=["data"]))
            catalog.add_item(item)
    catalog.normalize_and_save(str(folder / "catalog"), pystac.CatalogType.SELF_CONTAINED)
    return folder / "catalog" / "catalog.json"


def areas(user, out: str) -> list[float]:
    return [f["properties"]["area_m2"] for f in json.loads((user.home / out / "changes.geojson").read_text())["features"]]


def test_two_pieces_of_one_observation_are_read_as_one_scene(user):
    folder = user.home / "pieces"
    folder.mkdir()
    crops_catalog(folder)
    ours = user("run", "--aoi", "demo-nantes-port", "--source", "pieces/catalog", *DATES, "--out", "ours")
    assert ours.returncode == 0, ours.output
    demo = user("run", "--aoi", "demo-nantes-port", "--source", "demo", *DATES, "--out", "demo")
    assert demo.returncode == 0, demo.output
    manifest = json.loads((user.home / "ours" / "manifest.json").read_text())
    before = manifest["scenes"]["before"]
    assert sorted(before.get("tiles", [before["id"]])) == sorted(
        f"S2A_30TXT_20150821_L1C_nantes-{h}" for h in HALVES), before
    assert "100% of the AOI seen" in ours.stdout and "outside the scene" not in ours.output, ours.output
    # the pieces hold the demo's pixels: the same changes but for the seam's few pixels (each piece is resampled
    # up to its own edge) and the shift measured over a mosaic (0.001 px apart); from one piece: 25, 0.147 km²
    ours_areas, demo_areas = areas(user, "ours"), areas(user, "demo")
    assert abs(len(ours_areas) - len(demo_areas)) <= 2 and abs(sum(ours_areas) / sum(demo_areas) - 1) < 0.05
