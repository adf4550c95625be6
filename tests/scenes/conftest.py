"""Fixtures for archive tests: one loopback archive per session (tests/archive_server.py) holding real
COGs and STAC items (tests/archive_data.py), fast retry settings, and a private scene cache per test."""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass
from pathlib import Path

import pytest
import rasterio

from geo.aoi import load_aoi
from tests import archive_data
from tests.archive_server import ArchiveServer
from tests.conftest import REPO, run_geo

# Retries fast enough for tests; the defaults (1 s doubling, GDAL 3 x 1 s) are for real archives.
FAST_NETWORK = {
    "GEO_HTTP_BACKOFF": "0.05",
    "GEO_HTTP_MAX_WAIT": "3",
    "GEO_HTTP_TIMEOUT": "5",
    "GDAL_HTTP_RETRY_DELAY": "0.05",
    "GDAL_HTTP_TIMEOUT": "5",
}


@dataclass(frozen=True)
class Archive:
    server: ArchiveServer
    folder: Path


@pytest.fixture(scope="session")
def archive(tmp_path_factory):
    server = ArchiveServer(page_size=2).start()
    folder = tmp_path_factory.mktemp("archive")
    for spec in archive_data.SELECTION_SCENES:
        archive_data.s2_item(server, folder, spec)
    yield Archive(server, folder)
    server.stop()


def forget_remote_reads() -> None:
    """Make this process's GDAL forget what it fetched over HTTP (file sizes and byte ranges, per URL).

    GDAL keeps them for the life of the process and answers a later open of the same URL without a request,
    so a test counting the archive's traffic would see none if an earlier test read the same file. Each
    ``geo`` command is a fresh process; this gives a test the same cold start. rasterio has no call for it,
    so ask the libgdal it loaded (its wheel bundles one; a system build links the system's)."""
    here = Path(rasterio.__file__).parent
    bundled = sorted([*here.parent.glob("rasterio.libs/libgdal*"), *here.glob(".dylibs/libgdal*")])
    library = str(bundled[0]) if bundled else ctypes.util.find_library("gdal")
    if library is None:
        raise RuntimeError("cannot find the GDAL library rasterio uses, to clear its /vsicurl/ cache")
    ctypes.CDLL(library).VSICurlClearCache()


@pytest.fixture
def loopback(archive):
    """The session's archive server with an empty request log, no faults (none leak out either) and a GDAL
    that fetches its files anew (``forget_remote_reads``), so the log holds every read the test causes."""
    archive.server.clear()
    forget_remote_reads()
    yield archive.server
    archive.server.clear()


@pytest.fixture(autouse=True)
def fast_network(monkeypatch, tmp_path):
    for key, value in FAST_NETWORK.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GEO_SCENE_CACHE", str(tmp_path / "scene-cache"))
    return tmp_path / "scene-cache"


@pytest.fixture
def geo(fast_network):
    """``geo ARGS`` in a subprocess with fast retries and this test's scene cache (extra env as keywords)."""
    env = {**FAST_NETWORK, "GEO_SCENE_CACHE": str(fast_network)}

    def call(*args: str, cwd: Path | None = None, **extra_env: str):
        return run_geo(*args, env={**env, **extra_env}, cwd=cwd)
    return call


@pytest.fixture(scope="session")
def big_cog(tmp_path_factory):
    """A real 24 x 32 km 10 m band as a COG with 512 px tiles and overviews."""
    return archive_data.big_cog(tmp_path_factory.mktemp("big") / "red.tif")


@pytest.fixture(scope="session")
def nantes_aoi():
    return load_aoi(REPO / "aoi" / "demo-nantes-port.geojson")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``live`` touch the real archives: they run only when asked for (``pytest -m live``)."""
    if "live" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="touches the real internet archives; run with: pytest -m live")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)
