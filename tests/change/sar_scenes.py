"""A simulated Sentinel-1 series with known truth for the SAR change job: land with a stable texture and
water, gamma speckle of known looks (independent per date and polarisation), and planted backscatter
changes of known area and date — a bright block (new structures), a dark block (something removed) and
a ship on the water. Written as RTC-like items (float32 linear power, nodata NaN) either into a local STAC
catalog or onto the loopback archive posing as the Planetary Computer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pystac
from shapely.geometry import box, mapping

from geo.geometry import WGS84, reproject
from tests import archive_data, synthetic
from tests.vessels import sea

LOOKS = 4.4  # Sentinel-1 IW
SHAPE = (200, 240)
LAND_COLS = 144  # land left of this column, water right of it
DATES = [synthetic.utc(2022, 3, 1) + timedelta(days=12 * i) for i in range(5)]
ORBIT, STATE = 118, "ascending"
OTHER_ORBIT_DATE = DATES[0] + timedelta(days=1)  # a descending scene nearer the window: must not be used
ACCOUNT = "sentinel1euwestrtc"


@dataclass(frozen=True)
class Plant:
    name: str
    rows: tuple[int, int]
    cols: tuple[int, int]
    gains: tuple[float, float]  # intensity factor before ``first_date`` and from it on (both polarisations)
    first_date: int  # index into DATES
    change_type: str

    @property
    def mask(self) -> np.ndarray:
        out = np.zeros(SHAPE, bool)
        out[self.rows[0]:self.rows[1], self.cols[0]:self.cols[1]] = True
        return out

    def box_utm(self):
        x0, y0 = synthetic.ORIGIN
        return box(x0 + 10 * self.cols[0], y0 - 10 * self.rows[1], x0 + 10 * self.cols[1], y0 - 10 * self.rows[0])

    @property
    def area_m2(self) -> float:
        return 100.0 * (self.rows[1] - self.rows[0]) * (self.cols[1] - self.cols[0])


PLANTS = (
    Plant("structures", (40, 70), (30, 70), (1.0, 6.0), 3, "new_bright_surface"),  # +7.8 dB, 12 ha
    Plant("removed", (120, 150), (60, 90), (5.0, 1.0), 3, "darkening"),  # bright structures gone: -7 dB, 9 ha
    Plant("ship", (100, 106), (185, 210), (1.0, 80.0), 4, "vessel"),  # +19 dB on water, 250 m x 60 m
)


def mean_backscatter(date_index: int, geometry_gain: float = 1.0) -> dict[str, np.ndarray]:
    """Noise-free VV/VH intensity on a date: textured land (the texture is the ground's: the same on
    every date), dark water, the plants present by then."""
    texture = np.random.default_rng(7).gamma(4.0, 1 / 4.0, size=SHAPE)
    land = np.zeros(SHAPE, bool)
    land[:, :LAND_COLS] = True
    out = {}
    for pol, land_level, water_level in (("vv", 0.08, 0.005), ("vh", 0.016, 0.0008)):
        level = np.where(land, land_level * texture * geometry_gain, water_level)
        for plant in PLANTS:
            level = np.where(plant.mask, level * plant.gains[date_index >= plant.first_date], level)
        out[pol] = level
    return out


def speckled(date_index: int, seed: int, geometry_gain: float = 1.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {pol: (rng.gamma(LOOKS, 1.0 / LOOKS, size=SHAPE) * mean).astype(np.float32)
            for pol, mean in mean_backscatter(date_index, geometry_gain).items()}


def scene_ids() -> list[str]:
    return [f"S1A_IW_GRDH_1SDV_{when:%Y%m%d}_R{ORBIT}" for when in DATES]


OTHER_ID = f"S1A_IW_GRDH_1SDV_{OTHER_ORBIT_DATE:%Y%m%d}_R045"


def all_scenes() -> list[tuple[str, datetime, dict[str, np.ndarray], int, str]]:
    """(id, time, bands, relative orbit, orbit state) of the series and of one scene on another geometry
    (land 2.5 dB brighter: another incidence angle; a pair with it would light up all the land)."""
    scenes = [(sid, when, speckled(i, 500 + i), ORBIT, STATE) for i, (sid, when) in enumerate(zip(scene_ids(), DATES))]
    scenes.append((OTHER_ID, OTHER_ORBIT_DATE, speckled(0, 999, geometry_gain=1.8), 45, "descending"))
    return scenes


def footprint() -> dict:
    grid = sea.scene_grid(SHAPE)
    return mapping(reproject(box(*grid.bounds), synthetic.CRS_UTM.to_string(), WGS84))


def serve(server, folder: Path, scenes=None) -> None:
    """The scenes as COGs on "blob storage" and items (collection sentinel-1-rtc) on the loopback archive."""
    transform = sea.scene_grid(SHAPE).transform
    for sid, when, bands, orbit, state in scenes or all_scenes():
        hrefs = {}
        for pol, data in bands.items():
            cog = archive_data.write_cog(folder / sid / f"{pol}.tif", data, synthetic.CRS_UTM, transform, float("nan"))
            path = f"rtc/{sid}/{pol}.tif"
            server.add_file(path, cog)
            hrefs[pol] = f"http://{ACCOUNT}.blob.core.windows.net/{path}"
        archive_data.s1_item(server, sid, when, hrefs, "sentinel-1-rtc", footprint(), orbit, state)


def local_catalog(folder: Path, scenes) -> Path:
    """The scenes as a static STAC catalog on disk (RTC-like items with orbit metadata)."""
    transform = sea.scene_grid(SHAPE).transform
    catalog = pystac.Catalog("sar-test", "simulated Sentinel-1 scenes")
    for sid, when, bands, orbit, state in scenes:
        item = pystac.Item(sid, footprint(), list(box(*sea.scene_grid(SHAPE).bounds).bounds), when,
                           {"platform": "sentinel-1a", "constellation": "sentinel-1", "sar:instrument_mode": "IW",
                            "sar:polarizations": ["VV", "VH"], "sat:relative_orbit": orbit, "sat:orbit_state": state},
                           collection="sentinel-1-rtc")
        item.bbox = list(reproject(box(*sea.scene_grid(SHAPE).bounds), synthetic.CRS_UTM.to_string(), WGS84).bounds)
        for pol, data in bands.items():
            path = archive_data.write_cog(folder / sid / f"{pol}.tif", data, synthetic.CRS_UTM, transform, float("nan"))
            item.add_asset(pol, pystac.Asset(str(path), media_type=pystac.MediaType.COG, roles=["data"]))
        catalog.add_item(item)
    catalog.normalize_hrefs(str(folder))
    catalog.save(catalog_type=pystac.CatalogType.ABSOLUTE_PUBLISHED)
    return folder / "catalog.json"


CLAIMS = f"""
[document]
title = "simulated SAR claims"

[[claim]]
id = "sar-build"
claimant = "test"
statement = "New structures went up at the site while it was clouded over."
date_stated = 2022-05-01
stance = "assert"
aoi_ids = ["sar-site"]
window = {{ start = {(DATES[0] + timedelta(days=2)).date()}, end = {(DATES[4] - timedelta(days=2)).date()} }}
signatures = ["new_construction"]

[[claim]]
id = "sar-denial"
claimant = "test"
statement = "Nothing was built."
date_stated = 2022-05-02
stance = "deny"
denies = ["sar-build"]
aoi_ids = ["sar-site"]
window = {{ start = {(DATES[0] + timedelta(days=2)).date()}, end = {(DATES[4] - timedelta(days=2)).date()} }}
signatures = ["new_construction"]
"""


def project(root: Path) -> tuple[Path, Path]:
    """(aoi dir, seeds dir) of the simulated site: an AOI 10 px inside the scene, two claims."""
    (root / "aoi").mkdir(parents=True)
    synthetic.write_aoi(root / "aoi" / "sar-site.geojson", "sar-site", synthetic.grid_bounds_lonlat(SHAPE, 10))
    (root / "seeds").mkdir()
    (root / "seeds" / "sar.toml").write_text(CLAIMS)
    return root / "aoi", root / "seeds"
