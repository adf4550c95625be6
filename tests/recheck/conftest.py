"""A synthetic project for re-checks: four AOIs on one scene footprint, a series of dated scenes in which
roofs appear at known dates and places, and a local STAC catalog to which scenes are added between runs."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pystac
import pytest
import rasterio
from shapely.geometry import box

from geo.change.detectors import build_detector
from geo.geometry import WGS84, reproject
from geo.recheck.request import RecheckRequest
from geo.recheck.run import recheck
from tests import synthetic
from tests.synthetic import CRS_UTM, ORIGIN, Rect

SHAPE = (240, 240)
DATES = ((2021, 3, 1), (2021, 4, 1), (2021, 5, 1), (2021, 6, 1))
SCENE_IDS = tuple(f"S2A_SYN_{y}{m:02d}{d:02d}" for y, m, d in DATES)
SHIFTS = ((0.0, 0.0), (0.3, -0.2), (-0.25, 0.4), (0.15, 0.35))
# AOI id -> (row0, col0, row1, col1) in scene pixels
AOIS = {
    "site-a": (20, 20, 110, 110),
    "site-b": (20, 130, 110, 220),
    "site-c": (130, 20, 220, 110),
    "site-d": (130, 130, 220, 220),
}
# date index -> {AOI: roofs appearing at that date}
PLANTS = {
    1: {"site-a": (Rect(40, 40, 20, 20),), "site-c": (Rect(150, 50, 18, 24),)},
    2: {"site-b": (Rect(50, 150, 20, 22),), "site-a": (Rect(80, 70, 16, 20),)},
    3: {"site-d": (Rect(160, 160, 22, 20),), "site-b": (Rect(85, 180, 15, 25),)},
}
SINCE = "2021-03-01"
ALGORITHM_VERSION = build_detector().algorithm_version  # the default detector's: it keys the store's chains
SCL_VEGETATION, SCL_CLOUD_HIGH = 4, 9

CLAIMS = """
[document]
title = "synthetic re-check claims"

[[claim]]
id = "a-build"
claimant = "test"
statement = "Roofs went up on site A in March."
date_stated = 2021-04-20
stance = "assert"
aoi_ids = ["site-a"]
window = { start = 2021-03-05, end = 2021-03-25 }
signatures = ["new_construction"]

[[claim]]
id = "b-build"
claimant = "test"
statement = "Roofs went up on site B in March."
date_stated = 2021-04-20
stance = "assert"
aoi_ids = ["site-b"]
window = { start = 2021-03-05, end = 2021-03-25 }
signatures = ["new_construction"]

[[claim]]
id = "d-build"
claimant = "test"
statement = "Roofs go up on site D in mid May."
date_stated = 2021-05-05
stance = "assert"
aoi_ids = ["site-d"]
window = { start = 2021-05-10, end = 2021-05-25 }
signatures = ["new_construction"]
"""


def box_lonlat(row0: int, col0: int, row1: int, col1: int) -> tuple[float, float, float, float]:
    left, right = ORIGIN[0] + col0 * 10, ORIGIN[0] + col1 * 10
    top, bottom = ORIGIN[1] - row0 * 10, ORIGIN[1] - row1 * 10
    return reproject(box(left, bottom, right, top), CRS_UTM.to_string(), WGS84).bounds


def rect_lonlat(rect: Rect):
    return reproject(box(ORIGIN[0] + rect.col * 10, ORIGIN[1] - (rect.row + rect.height) * 10,
                         ORIGIN[0] + (rect.col + rect.width) * 10, ORIGIN[1] - rect.row * 10),
                     CRS_UTM.to_string(), WGS84)


@dataclass
class Series:
    root: Path
    aoi_dir: Path
    seeds_dir: Path
    scenes_dir: Path

    @property
    def catalog(self) -> Path:
        return self.scenes_dir / "catalog.json"

    def item(self, scene_id: str) -> pystac.Item:
        return pystac.Item.from_file(str(self.scenes_dir / "items" / f"{scene_id}.json"))

    def publish(self, count: int, extra: tuple[str, ...] = ()) -> None:
        """Make the first ``count`` scenes of the series (and ``extra`` ones) visible in the catalog."""
        ids = sorted((*SCENE_IDS[:count], *extra))
        synthetic.write_catalog(self.scenes_dir, [self.item(i) for i in ids])

    def add_scene(self, scene_id: str, when, stack) -> None:
        item = synthetic.write_scene(self.scenes_dir / "data" / scene_id, scene_id, when, stack)
        (self.scenes_dir / "items").mkdir(exist_ok=True)
        (self.scenes_dir / "items" / f"{scene_id}.json").write_text(json.dumps(item.to_dict()))

    def add_clouded_scene(self, scene_id: str, when, shift: tuple[float, float], clouded: tuple[int, int, int, int],
                          upto: int = 2) -> None:
        """A scene showing the roofs planted at dates <= ``upto``, moved by ``shift``, with an SCL band that
        says 'cloud, high probability' over the ``clouded`` pixel box (row0, col0, row1, col1) and
        'vegetation' elsewhere, as Sentinel-2 L2A does."""
        plants = {k: tuple(r for rects in by_aoi.values() for r in rects) for k, by_aoi in PLANTS.items() if k <= upto}
        stack = synthetic.make_series(SHAPE, (*SHIFTS[:upto], shift), plants)[upto]
        self.add_scene(scene_id, when, stack)
        folder = self.scenes_dir / "data" / scene_id
        scl = np.full(SHAPE, SCL_VEGETATION, np.uint8)
        row0, col0, row1, col1 = clouded
        scl[row0:row1, col0:col1] = SCL_CLOUD_HIGH
        with rasterio.open(folder / "blue.tif") as ref:
            profile = {**ref.profile, "dtype": "uint8", "nodata": 0}
        with rasterio.open(folder / "scl.tif", "w", **profile) as dst:
            dst.write(scl, 1)
        item = self.item(scene_id)
        item.add_asset("scl", pystac.Asset(href=str(folder / "scl.tif"), media_type=pystac.MediaType.GEOTIFF,
                                           roles=["data"]))
        (self.scenes_dir / "items" / f"{scene_id}.json").write_text(json.dumps(item.to_dict()))

    def args(self, store: Path, *extra: str) -> list[str]:
        return ["recheck", "--store", str(store), "--source", str(self.catalog), "--aoi-dir", str(self.aoi_dir),
                "--seeds-dir", str(self.seeds_dir), *extra]


def build_series(root: Path, aois: dict[str, tuple[int, int, int, int]] = AOIS, claims: str = CLAIMS) -> Series:
    plants = {k: tuple(r for rects in by_aoi.values() for r in rects) for k, by_aoi in PLANTS.items()}
    stacks = synthetic.make_series(SHAPE, SHIFTS, plants)
    series = Series(root, root / "aoi", root / "seeds", root / "scenes")
    for scene_id, (y, m, d), stack in zip(SCENE_IDS, DATES, stacks):
        series.add_scene(scene_id, synthetic.utc(y, m, d), stack)
    series.aoi_dir.mkdir(parents=True)
    for aoi_id, pixels in aois.items():
        synthetic.write_aoi(series.aoi_dir / f"{aoi_id}.geojson", aoi_id, box_lonlat(*pixels))
    series.seeds_dir.mkdir()
    (series.seeds_dir / "claims.toml").write_text(claims)
    return series


def series_in(root: Path) -> Series:
    project = root / "project"
    return Series(project, project / "aoi", project / "seeds", project / "scenes")


def request(series: Series, store: Path, **overrides) -> RecheckRequest:
    settings = dict(store=store, source=str(series.catalog), aoi_refs=tuple(AOIS), since=date(2021, 3, 1),
                    aoi_dir=series.aoi_dir, seeds_dir=series.seeds_dir)
    settings.update(overrides)
    return RecheckRequest(**settings)


@pytest.fixture
def series(tmp_path: Path) -> Series:
    """A fresh project with the first three scenes published; no store yet."""
    project = build_series(tmp_path / "project")
    project.publish(3)
    return project


@pytest.fixture(scope="session")
def first_run_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Once per session: the project with three scenes published, re-checked once into ``s.gpkg``."""
    root = tmp_path_factory.mktemp("first-run")
    project = build_series(root / "project")
    project.publish(3)
    recheck(request(project, root / "s.gpkg"))
    return root


@pytest.fixture
def first_run(first_run_master: Path, tmp_path: Path) -> tuple[Series, Path]:
    """A private copy of ``first_run_master`` (project, store, outputs): (series, store path)."""
    root = tmp_path / "copy"
    shutil.copytree(first_run_master, root)
    for path in (root / "project" / "scenes").rglob("*.json"):  # the catalog holds absolute hrefs
        path.write_text(path.read_text().replace(str(first_run_master), str(root)))
    return series_in(root), root / "s.gpkg"


VOLATILE = {"recorded_at", "started_at", "finished_at", "host", "pid", "notified_at", "last_change", "update_time",
            "manifest"}


def dump_store(path: Path, ignore: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every row of every table, without the columns that record when and where (wall clock, host, pid,
    per-step timings) or any named in ``ignore``, and with run summaries stripped of the same keys."""
    skip = VOLATILE | set(ignore)
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        out = {}
        for table in tables:
            cursor = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
            names = [d[0] for d in cursor.description]
            rows = []
            for row in cursor:
                if table == "store_meta" and row[0] in skip:  # a key/value row (the store's source: a path)
                    continue
                values = []
                for name, value in zip(names, row):
                    if name in skip:
                        continue
                    if name == "summary" and table == "runs":
                        value = stable_summary(json.loads(value), ignore)
                    values.append(value)
                rows.append(tuple(values))
            out[table] = rows
        return out
    finally:
        conn.close()


def stable_summary(summary: dict, ignore: tuple[str, ...] = ()) -> str:
    drop = {"started_at", "finished_at", *ignore}
    return json.dumps({k: v for k, v in summary.items() if k not in drop}, sort_keys=True)


def output_files(folder: Path) -> dict[str, object]:
    """The files of an outputs folder; run summaries without their timestamps, the rest byte for byte."""
    out: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            name = str(path.relative_to(folder))
            if path.name in ("summary.json", "latest.json"):
                out[name] = stable_summary(json.loads(path.read_text()))
            else:
                out[name] = path.read_bytes()
    return out


_IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s+(\S+)\s*$", re.MULTILINE)


def imported_modules(stderr: str) -> set[str]:
    """The modules Python's import profiler (``PYTHONPROFILEIMPORTTIME=1``) listed on ``stderr``: every one
    the process imported, but for those imported by ``importlib.import_module`` itself, which bypasses the
    profiler (the CLI's command modules; what they import is listed)."""
    return set(_IMPORT_LINE.findall(stderr))
