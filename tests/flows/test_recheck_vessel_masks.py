"""``geo recheck`` of a port first imaged in IW, then in EW (the synthetic port of tests/vessels/port.py served by
the loopback archive, its EW passes block-averaged to 40 m as in tests/flows/test_vessel_modes.py). The store kept
one land mask per sensor: the first run's, made of IW scenes, so every EW pass was judged against IW's sea, where
the quays its 40 m pixels smear past that mask passed for ships at berth (5 a date, where 0 or 1 was moored). Now
each mode has its own mask, made of its own scenes (as ``geo vessels`` makes one per sensor and mode) and kept.
A store of schema 7 keeps its one mask per sensor: read as the mode its scenes' counts are all of."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import pytest
import rasterio
from shapely.geometry import mapping

from geo.scenes.source import LocalCatalog
from geo.store import schema
from tests import archive_data
from tests.archive_server import ArchiveServer
from tests.flows.test_vessel_modes import at_berth, block_mean
from tests.recheck.test_old_store import as_schema_8, without_mask_modes
from tests.vessels.port import BASELINE_DATES

IW = [f"S1A_TEST_{d:%Y%m%d}" for d in BASELINE_DATES[:6]]  # 1 April - 1 May
EW = ["S1A_TEST_20210507", "S1A_TEST_20210513", "S1A_TEST_20210519"]
LATER_EW = ["S1A_TEST_20210525", "S1A_TEST_20210611", "S1A_TEST_20210613"]


class Archive:
    """The port's Sentinel-1 passes as a STAC API publishes them, one by one."""

    def __init__(self, server: ArchiveServer, project, folder) -> None:
        self.server, self.folder = server, folder
        self.scenes = {s.id: s for s in LocalCatalog(project.catalog, "s1").all()}

    def publish(self, scene_ids: list[str], mode: str) -> None:
        for scene_id in scene_ids:
            scene, hrefs = self.scenes[scene_id], {}
            for pol in ("vv", "vh"):
                with rasterio.open(scene.asset(pol).href) as src:
                    data, crs, transform = src.read(1), src.crs, src.transform
                if mode == "EW":
                    data, transform = block_mean(data, transform)
                cog = archive_data.write_cog(self.folder / scene_id / f"{pol}.tif", data.astype("float32"), crs,
                                             transform, -32768.0)
                hrefs[pol] = self.server.add_file(f"s1/{scene_id}/{pol}.tif", cog)
            archive_data.s1_item(self.server, scene_id, scene.datetime, hrefs, "sentinel-1-rtc",
                                 mapping(scene.geometry), instrument_mode=mode)


@pytest.fixture
def archive(port_project, tmp_path) -> Iterator[Archive]:
    server = ArchiveServer(page_size=5).start()
    server.add_collection("sentinel-2-l2a")  # the archive's optical collection: nothing over the port
    yield Archive(server, port_project, tmp_path / "cogs")
    server.stop()


def recheck_port(user, project, archive: Archive):
    result = user("recheck", "--aoi", "test-port", "--source", archive.server.url, "--aoi-dir", str(project.aoi_dir),
                  "--seeds-dir", str(project.seeds_dir), "--store", "port.gpkg")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.output
    return result


def stored(user) -> tuple[dict[str, tuple], dict[tuple[str, str | None], tuple[str, int]]]:
    """The store's counts (scene -> mode, n_vessels, n_at_berth, land_mask) and its masks ((sensor, mode) ->
    method, run)."""
    with sqlite3.connect(user.home / "port.gpkg") as conn:
        rows = {r[0]: r[1:] for r in conn.execute(
            "SELECT scene_id, instrument_mode, n_vessels, n_at_berth, land_mask FROM vessel_series")}
        masks = {(s, m): (method, run) for s, m, method, run in conn.execute(
            "SELECT sensor, instrument_mode, method, run_id FROM vessel_masks")}
    return rows, masks


def test_ew_passes_are_judged_against_a_land_mask_of_ew_scenes(user, port_project, archive):
    archive.publish(IW, "IW")
    recheck_port(user, port_project, archive)
    archive.publish(EW, "EW")
    recheck_port(user, port_project, archive)
    rows, masks = stored(user)
    assert masks == {("s1", "IW"): ("sar-temporal-median/6 scenes", 1),
                     ("s1", "EW"): ("sar-temporal-median/3 scenes", 2)}
    assert {s: r[0] for s, r in rows.items()} == {**dict.fromkeys(IW, "IW"), **dict.fromkeys(EW, "EW")}
    # the IW-built mask gave each EW pass 5 ships at berth (n_vessels 13, 9, 14): the quays its 40 m pixels smear
    assert [rows[s][2] for s in EW] == [at_berth(port_project, s) for s in EW] == [1, 0, 0]
    assert [rows[s][2] for s in IW] == [at_berth(port_project, s) for s in IW] == [1, 0, 0, 1, 0, 0]
    assert [rows[s][1] for s in EW] == [9, 4, 9]  # 3, 1, 3 planted: EW still over-counts (test_vessel_modes.py)
    assert {rows[s][3] for s in EW} == {"sar-temporal-median/3 scenes"}

    # Each mode's kept mask judges its later passes; none is built again.
    archive.publish(LATER_EW, "EW")
    later = recheck_port(user, port_project, archive)
    rows, again = stored(user)
    assert again == masks
    assert {rows[s][3] for s in LATER_EW} == {"sar-temporal-median/3 scenes (kept from an earlier run)"}
    assert [rows[s][2] for s in LATER_EW] == [at_berth(port_project, s) for s in LATER_EW] == [1, 0, 0]
    summary = json.loads((user.home / "port-outputs/runs/000003/summary.json").read_text())
    assert summary["aois"][0]["vessels"]["series"] == {"s1 EW": 6, "s1 IW": 6}, later.stdout


def test_an_old_stores_mask_made_of_iw_scenes_is_read_as_iws(user, port_project, archive):
    """A store of schema 7 whose first run saw IW alone kept one mask for s1: after the migration it is IW's (every
    count of its run is IW), judging a later IW pass as before, while the EW passes get a mask of their own."""
    archive.publish(IW, "IW")
    recheck_port(user, port_project, archive)
    with sqlite3.connect(user.home / "port.gpkg") as conn:
        as_schema_8(conn)
        without_mask_modes(conn)
        conn.execute("UPDATE store_meta SET value = '7' WHERE key = 'schema_version'")
    conn.close()
    archive.publish(EW, "EW")
    archive.publish(["S1A_TEST_20210525"], "IW")
    later = recheck_port(user, port_project, archive)
    assert f"schema migrated from version 7 to {schema.LATEST}" in later.stdout, later.stdout
    rows, masks = stored(user)
    assert masks == {("s1", None): ("sar-temporal-median/6 scenes", 1),
                     ("s1", "EW"): ("sar-temporal-median/3 scenes", 2)}
    assert rows["S1A_TEST_20210525"] == ("IW", 2, 1, "sar-temporal-median/6 scenes (kept from an earlier run)")
    assert [rows[s][1:] for s in EW] == [(9, 1, "sar-temporal-median/3 scenes"), (4, 0, "sar-temporal-median/3 scenes"),
                                         (9, 0, "sar-temporal-median/3 scenes")]
