"""SAR re-checks over the loopback archive (issue 15): the Sentinel-1 chain of ``tests/recheck/test_sar_chain.py``
run against a STAC API posing as the Planetary Computer (``sentinel-1-rtc`` items, COGs on "blob storage" that
refuses unsigned requests) beside Sentinel-2 L2A items whose scene after the claims' window is clouded over the
AOI. Known truth: the Sentinel-2 pair is skipped as clouded, the Sentinel-1 chain pairs the five same-orbit
dates (reading signed blob URLs, never the other-geometry scenes), finds the planted changes and judges the
claims; a second re-check reads no COG byte and leaves the store byte-identical; a new same-orbit scene adds
one pair and only its own pixels are read."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest

from geo.change.detectors import SAR_VERSION
from tests import synthetic
from tests.archive_server import ArchiveServer
from tests.change import sar_scenes as sim
from tests.recheck.conftest import ALGORITHM_VERSION, SHAPE, build_series, dump_store
from tests.recheck.test_archive import archive_item, fetched_ranges
from tests.recheck.test_sar_chain import AOI_PIXELS, OTHER, S1_IDS, S2_CLEAR, S2_CLOUDED
from tests.scenes.conftest import FAST_NETWORK

NEXT_DATE = sim.DATES[4] + timedelta(days=12)  # the series' next pass on its orbit
NEXT = f"S1A_IW_GRDH_1SDV_{NEXT_DATE:%Y%m%d}_R{sim.ORBIT}"


@pytest.fixture
def sar_archive(tmp_path):
    """The SAR site's project; the archive serving its two Sentinel-2 scenes (the second clouded over the
    AOI) and the simulated Sentinel-1 series with two other-geometry scenes inside it."""
    series = build_series(tmp_path / "project", aois={"sar-site": AOI_PIXELS}, claims=sim.CLAIMS)
    series.add_scene(S2_CLEAR, synthetic.utc(2022, 3, 1), synthetic.make_series(SHAPE, ((0.0, 0.0),), {})[0])
    row0, col0, row1, col1 = AOI_PIXELS  # cloud over the AOI, its margin clear (the read is not empty)
    series.add_clouded_scene(S2_CLOUDED, synthetic.utc(2022, 4, 20), (0.2, -0.3),
                             (row0 - 2, col0 - 2, row1 + 2, col1 + 2), upto=0)
    server = ArchiveServer(page_size=3).start()
    for scene_id in (S2_CLEAR, S2_CLOUDED):
        server.add_item(archive_item(server, series, scene_id, tmp_path / "cogs"))
    scenes = sim.all_scenes()
    scenes.append((OTHER, sim.DATES[2] + timedelta(days=1), sim.speckled(2, 999, geometry_gain=1.8),
                   45, "descending"))
    sim.serve(server, tmp_path / "rtc", scenes)
    yield server, series
    server.stop()


def _pairs(store, version: str) -> list[tuple]:
    with sqlite3.connect(store) as conn:
        return list(conn.execute("SELECT before_scene, after_scene, status, n_changes FROM pairs "
                                 "WHERE algorithm_version = ? ORDER BY fid", (version,)))


def _changes(store, after_scene: str) -> list[tuple]:
    with sqlite3.connect(store) as conn:
        return list(conn.execute("SELECT geom, change_type, area_m2, score, pixels FROM changes "
                                 "WHERE after_scene = ? ORDER BY change_id", (after_scene,)))


def test_clouded_site_is_rechecked_on_sentinel1_from_the_archive(sar_archive, tmp_path, geo_cli):
    server, series = sar_archive
    env = {**FAST_NETWORK, "GEO_SCENE_CACHE": str(tmp_path / "cache"),
           "PC_SDK_SAS_URL": f"{server.url}/api/sas/v1/token", "GDAL_HTTP_PROXY": server.url.removeprefix("http://")}
    store = tmp_path / "s.gpkg"
    args = series.args(store, "--aoi", "sar-site", "--json")
    args[args.index("--source") + 1] = server.url
    first = geo_cli(*args, env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    summary = json.loads(first.stdout)
    assert summary["run_id"] == 1 and summary["failed_aois"] == []

    # Sentinel-2: the clouded pair recorded as skipped.
    assert _pairs(store, ALGORITHM_VERSION) == [(S2_CLEAR, S2_CLOUDED, "skipped", 0)]
    s2, s1 = summary["aois"]
    assert (s2["sensor"], s2["head_scene"]) == ("s2", S2_CLEAR)
    assert s2["pairs"][0]["reason"].startswith("only 0% of the AOI clear on both dates")

    # Sentinel-1: same-orbit pairs only, the planted changes found.
    assert (s1["sensor"], s1["baseline_scene"], s1["head_scene"]) == ("s1", S1_IDS[0], S1_IDS[4])
    assert {OTHER, sim.OTHER_ID} <= set(s1["new_scenes"])
    pairs = _pairs(store, SAR_VERSION)
    assert [p[:3] for p in pairs] == [(S1_IDS[i], S1_IDS[i + 1], "done") for i in range(4)]
    n_changes = [p[3] for p in pairs]
    assert n_changes[0] == n_changes[1] == 0 and n_changes[2] >= 2 and n_changes[3] >= 1, n_changes
    types = {t for p in s1["pairs"] for t in p["change_types"]}
    assert {"new_bright_surface", "darkening"} <= types, types

    # The window verdicts name Sentinel-1.
    verdicts = {(v["claim_id"], v["sensor"]): v["verdict"] for v in summary["verdicts"] if v["kind"] == "window"}
    assert verdicts == {("sar-build", "s1"): "consistent with the claim",
                        ("sar-denial", "s1"): "inconsistent with the denial"}

    # Pixels came signed from "blob storage", only of the same-orbit scenes; the S2 COGs from the archive.
    blob = [r for r in server.records("/rtc/") if r.host.endswith(".blob.core.windows.net")]
    assert blob and all(r.status in (200, 206) for r in blob)
    assert {r.path.split("/")[2] for r in blob} == set(S1_IDS)
    assert {r.path.split("/")[2] for r in server.records("/files/")} == {S2_CLEAR, S2_CLOUDED}
    # each byte once: a scene that is the after scene of one pair and the before scene of the next is cached
    for path, fetched in fetched_ranges([*blob, *server.records("/files/")]).items():
        assert all(a[1] < b[0] for a, b in zip(fetched, fetched[1:])), (path, fetched)

    # A second re-check, nothing new: the archive is searched, no COG byte is read, the store is untouched.
    rows, raw = dump_store(store), store.read_bytes()
    server.clear()
    second = geo_cli(*args, env=env, cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert json.loads(second.stdout)["run_id"] is None
    assert server.records("/search")
    assert server.records("/files/") == [] and server.records("/rtc/") == []
    assert dump_store(store) == rows and store.read_bytes() == raw

    # A new same-orbit scene on the archive: one new pair from the head, whose pixels come from the scene
    # cache (keyed by the unsigned href: the signature expires); only the new scene is read.
    sim.serve(server, tmp_path / "rtc", [(NEXT, NEXT_DATE, sim.speckled(5, 505), sim.ORBIT, sim.STATE)])
    server.clear()
    third = geo_cli(*args, env=env, cwd=tmp_path)
    assert third.returncode == 0, third.stderr[-3000:]
    summary = json.loads(third.stdout)
    assert summary["run_id"] == 2
    assert [(e["sensor"], e["new_scenes"], e["head_scene"]) for e in summary["aois"]] == [
        ("s2", [], S2_CLEAR), ("s1", [NEXT], NEXT)]
    assert [p[:3] for p in _pairs(store, SAR_VERSION)[4:]] == [(S1_IDS[4], NEXT, "done")]
    assert server.records("/files/") == []
    assert {r.path.split("/")[2] for r in server.records("/rtc/")} == {NEXT}
    # nothing was planted after the ship: at most speckle regions at the sieve's 8 px
    incremental = _changes(store, NEXT)
    assert all(pixels <= 10 for *_, pixels in incremental), incremental
    # and the head read from the cache gives the pair a fresh re-check (new store and cache) finds
    args[args.index("--store") + 1] = str(tmp_path / "fresh.gpkg")
    fresh = geo_cli(*args, env={**env, "GEO_SCENE_CACHE": str(tmp_path / "fresh-cache")}, cwd=tmp_path)
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert _changes(tmp_path / "fresh.gpkg", NEXT) == incremental
