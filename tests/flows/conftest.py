"""Flows as a new user walks them: the installed ``geo`` command run as a subprocess from a temporary folder
outside the checkout, on the shipped demo catalog and on the loopback archive; tests assert what the user
gets (files, their contents, what the terminal shows), not only exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import archive_data
from tests.archive_server import ArchiveServer
from tests.conftest import REPO
from tests.scenes.conftest import FAST_NETWORK

DEMO_CATALOG = REPO / "scenes" / "demo" / "catalog.json"
# Inside the demo scenes' footprint and the demo AOI (Nantes port), 2.3 x 2.8 km, drawn as geojson.io does.
DRAWN_RING = [[-1.565, 47.19], [-1.535, 47.19], [-1.535, 47.215], [-1.565, 47.215], [-1.565, 47.19]]
BEFORE_ID, AFTER_ID = "S2A_T30TXT_20151216_FLOW", "S2A_T30TXT_20170701_FLOW"


@dataclass(frozen=True)
class Shell:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def geo_command() -> list[str]:
    """The ``geo`` console script installed beside this interpreter (what a user runs), else ``-m geo``."""
    script = Path(sys.executable).with_name("geo")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "geo"]


@pytest.fixture
def user(tmp_path):
    """Run ``geo ARGS`` in a fresh folder outside the checkout, as a user would, with a private scene cache."""
    home = tmp_path / "work"
    home.mkdir()

    def run(*args: str, columns: int = 200, env: dict[str, str] | None = None) -> Shell:
        full_env = {**os.environ, **FAST_NETWORK, "COLUMNS": str(columns),
                    "GEO_SCENE_CACHE": str(tmp_path / "scene-cache"), **(env or {})}
        full_env.pop("GEO_DEBUG", None)
        proc = subprocess.run([*geo_command(), *args], capture_output=True, text=True, cwd=home, env=full_env,
                              timeout=600)
        return Shell(proc.returncode, proc.stdout, proc.stderr)

    run.home = home  # type: ignore[attr-defined]
    return run


def drawn_aoi(path: Path, rings: list[list[list[float]]] | None = None, properties: dict | None = None,
              crs: str | None = None) -> Path:
    """A FeatureCollection as geojson.io saves it: no id, no kind, maybe no properties at all."""
    features = [{"type": "Feature", "properties": properties or {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}
                for ring in (rings or [DRAWN_RING])]
    data: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        data["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(data))
    return path


def registry_aoi(path: Path, aoi_id: str, name: str, ring: list[list[float]] | None = None) -> Path:
    """An analyst's own AOI file of an aoi/ folder: one Feature (a registry AOI), with its id, name and kind."""
    feature = {"type": "Feature", "properties": {"id": aoi_id, "name": name, "kind": "port"},
               "geometry": {"type": "Polygon", "coordinates": [ring or DRAWN_RING]}}
    path.write_text(json.dumps(feature))
    return path


@pytest.fixture(scope="session")
def flow_archive(tmp_path_factory):
    """A loopback STAC API holding two clear Sentinel-2 L2A items over Nantes (the demo's real pixels)."""
    server = ArchiveServer(page_size=2).start()
    folder = tmp_path_factory.mktemp("flow-archive")
    for item_id, when, pixels in ((BEFORE_ID, archive_data.utc(2015, 12, 16), "2015"),
                                  (AFTER_ID, archive_data.utc(2017, 7, 1), "2017")):
        archive_data.s2_item(server, folder, archive_data.S2Spec(item_id, when, 94, pixels))
    yield server
    server.stop()
