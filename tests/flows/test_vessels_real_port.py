"""``geo vessels`` on a REAL port as an analyst checks "large ships at berth": the sen2ships Algiers scene
(Sentinel-2 L2A "Raw" exports, reflectance x 65535; 27 labelled ships, all >= 100 m, 15 at berth along the
quays and 12 at anchor) catalogued with pystac as a user does, the one scene given as two dates.

The terminal said ``13 vessels (13 >= 50 m)`` per date and nothing else: not the >= 100 m class nor at berth /
at anchor, which the claim turns on, and not that the single-scene land mask paints every ship alongside a quay
land (0 of the 15 found here; 2 of 136 on the six labelled ports), so ``n_at_berth`` 0 read as an empty quay. On the other five ports what it counts at berth is quay-side clutter
(1 ship among 46 "at berth" detections), so the warning says the counts are detections, not a census."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pystac
import pytest
import rasterio
from shapely.geometry import box, mapping

from geo.geometry import WGS84, reproject

from tests.flows.conftest import drawn_aoi
from tests.vessels import sen2ships

pytestmark = pytest.mark.skipif(not sen2ships.available(), reason="no sen2ships ports in ../shared/data")

WHOLE_PORT = [[3.055, 36.752], [3.150, 36.752], [3.150, 36.810], [3.055, 36.810], [3.055, 36.752]]
OPEN_SEA = [[3.140, 36.800], [3.160, 36.800], [3.160, 36.820], [3.140, 36.820], [3.140, 36.800]]


def port_catalog(folder: Path, port: str = "algiers", dates: int = 2) -> Path:
    """The port's band files, one item per date (the same scene each time), scale 1/65535 in raster:bands."""
    catalog = pystac.Catalog("sen2ships", "ports")
    files = {p.name.split("_L2A_")[1][:3]: p for p in (sen2ships.data_root() / port).glob("*.tiff")}
    day = next(iter(files.values())).name[:10]
    with rasterio.open(files["B08"]) as src:
        footprint = reproject(box(*src.bounds), src.crs, WGS84)
    for k in range(dates):
        when = datetime.fromisoformat(day).replace(hour=10, minute=30, tzinfo=timezone.utc) + timedelta(days=5 * k)
        item = pystac.Item(f"{port}-{when:%Y%m%d}", mapping(footprint), list(footprint.bounds), when,
                           {"platform": "sentinel-2a"})
        for code, path in files.items():
            item.add_asset(code, pystac.Asset(str(path), roles=["data"], extra_fields={
                "raster:bands": [{"data_type": "uint16", "scale": 1 / 65535, "offset": 0.0}]}))
        catalog.add_item(item)
    catalog.normalize_and_save(str(folder), pystac.CatalogType.SELF_CONTAINED)
    return folder / "catalog.json"


def _vessels_over(user, name: str, ring: list[list[float]]):
    """``geo vessels`` over the area ``ring`` drawn as ``name``.geojson, on the two-date Algiers catalog."""
    port_catalog(user.home / "ports")
    aoi = drawn_aoi(user.home / f"{name}.geojson", [ring])
    return user("vessels", "--aoi", str(aoi), "--source", "ports", "--from", "2023-08-01", "--to", "2023-08-31",
                "--out", "ships")


def test_the_terminal_gives_the_claims_classes_and_says_berthed_ships_are_missed(user):
    result = _vessels_over(user, "algiers", WHOLE_PORT)
    assert result.returncode == 0, result.output
    rows = (user.home / "ships" / "timeseries.csv").read_text().splitlines()
    assert len(rows) == 3
    assert "2023-08-17 s2: 13 vessels (13 >= 50 m, 10 >= 100 m; 0 at berth, 13 at anchor)" in result.stdout
    note = " ".join(result.stderr.split())
    assert "not a census" in note and "at berth" in note and "2 of 136" in note, result.stderr
    assert "4 in 5 of its detections were not ships" in note, result.stderr
    assert "--berthed" in note and "3 or more" in note, result.stderr


def test_an_area_of_open_sea_is_all_water(user):
    result = _vessels_over(user, "sea", OPEN_SEA)
    assert result.returncode == 0, result.output
    rows = json.loads((user.home / "ships" / "timeseries.json").read_text())["rows"]
    assert all(3.5 < r["observed_km2"] < 4.5 for r in rows), [r["observed_km2"] for r in rows]
