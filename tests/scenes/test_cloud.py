"""Cloud judged inside the AOI from planted SCL clouds: the fractions match the planted truth, ranking
follows the AOI and not the tile's eo:cloud_cover, and only the SCL window travels."""

from __future__ import annotations

from datetime import date

import pytest
from shapely.geometry import box

from geo.geometry import WGS84, reproject
from geo.scenes.cache import SceneCache
from geo.scenes.cloud import aoi_covers, rank_by_clear
from geo.scenes.model import Scene
from geo.scenes.read import CLOUD_BUFFER_M
from geo.scenes.source import LocalCatalog, StacApi
from tests import archive_data
from tests.conftest import REPO
from tests.scenes.conftest import forget_remote_reads


def planted_cloud_fraction(clouds, aoi) -> float:
    """The share of ``aoi`` under the planted clouds or within 40 m of them (``CLOUD_BUFFER_M``: their soft edge)."""
    utm = aoi.utm_grid().crs.to_string()
    union = None
    for rows, cols in clouds:
        rect = reproject(archive_data.rect_lonlat(rows, cols), WGS84, utm).buffer(CLOUD_BUFFER_M)
        union = rect if union is None else union.union(rect)
    area = aoi.projected(utm)
    return 0.0 if union is None else union.intersection(area).area / area.area


@pytest.fixture
def candidates(loopback, nantes_aoi):
    return StacApi(loopback.url).search(nantes_aoi.geometry, date(2015, 1, 1), date(2018, 1, 1))


def test_aoi_fractions_match_the_planted_clouds(loopback, candidates, nantes_aoi, tmp_path):
    loopback.clear()
    covers = aoi_covers(candidates, nantes_aoi, SceneCache(tmp_path / "c"))
    specs = {s.item_id: s for s in archive_data.SELECTION_SCENES}
    assert len(covers) == len(specs) == 6
    for scene, cover in zip(candidates, covers):
        truth = planted_cloud_fraction(specs[scene.id].clouds, nantes_aoi)
        assert cover.method == "scl" and cover.nodata == pytest.approx(0.0, abs=0.005)
        assert cover.cloud == pytest.approx(truth, abs=0.02), scene.id
        assert cover.clear + cover.cloud + cover.nodata == pytest.approx(1.0)
    # only the SCL windows were read: a few kB, no spectral band
    files = loopback.records("/files/")
    assert files and all(r.path.endswith("/scl.tif") for r in files)
    assert loopback.bytes_sent("/files/") < 120_000


def test_wire_counts_do_not_depend_on_earlier_reads(loopback, candidates, nantes_aoi, tmp_path):
    # GDAL answers a second read of a URL in one process from memory, without a request: the counts
    # above would be empty after any test that read the same files, unless GDAL forgets (as `loopback` does).
    aoi_covers(candidates, nantes_aoi, SceneCache(tmp_path / "first"))
    first = [r.path for r in loopback.records("/files/")]
    assert first
    loopback.clear()
    aoi_covers(candidates, nantes_aoi, SceneCache(tmp_path / "second"))
    assert loopback.records("/files/") == []
    forget_remote_reads()
    aoi_covers(candidates, nantes_aoi, SceneCache(tmp_path / "third"))
    assert sorted(r.path for r in loopback.records("/files/")) == sorted(first)


def test_ranking_uses_the_aoi_not_the_tile(candidates, nantes_aoi, tmp_path):
    ranked = rank_by_clear(candidates, aoi_covers(candidates, nantes_aoi, SceneCache(tmp_path / "c")))
    order = [scene.id for scene, _ in ranked]
    tile_order = [s.id for s in sorted(candidates, key=lambda s: s.properties["eo:cloud_cover"])]
    # B2's tile is 85 % cloudy but its AOI is clear; B1's tile is 20 % cloudy but clouds sit on the AOI
    assert order.index("S2A_T30TXT_20151221_B2") < order.index("S2A_T30TXT_20151228_B1")
    assert tile_order.index("S2A_T30TXT_20151221_B2") > tile_order.index("S2A_T30TXT_20151228_B1")
    assert order[-1] == "S2A_T30TXT_20170702_A3"  # clouded everywhere
    assert [round(c.clear, 2) for _, c in ranked][:4] == [1.0, 1.0, 1.0, 1.0]


def test_unreadable_scl_marks_one_candidate_only(loopback, archive, candidates, nantes_aoi, tmp_path):
    spec = archive_data.S2Spec("S2A_BROKEN_SCL", archive_data.utc(2016, 2, 1), 94, "2015")
    item = archive_data.s2_item(loopback, archive.folder, spec, collection="cloud-tests")
    loopback.inject("status", match="S2A_BROKEN_SCL/scl.tif", methods=("GET", "HEAD"), status=404, times=-1)
    scenes = [*candidates, StacApi(loopback.url, ["cloud-tests"]).get(item["id"])]
    covers = aoi_covers(scenes, nantes_aoi, SceneCache(tmp_path / "c"))
    broken = covers[-1]
    assert not broken.usable and "asset 'scl'" in broken.error and "404" in broken.error
    assert all(c.usable for c in covers[:-1])


def test_sar_and_footprint_covers(nantes_aoi):
    minx, miny, maxx, maxy = nantes_aoi.geometry.bounds
    half = box((minx + maxx) / 2, miny - 0.1, maxx + 0.1, maxy + 0.1)  # covers the AOI's eastern half
    s1 = Scene("S1A_HALF", archive_data.utc(2024, 10, 7), half, {}, "sentinel-1-rtc", "sentinel-1a",
               {"sat:relative_orbit": 3})
    cover = aoi_covers([s1], nantes_aoi)[0]
    assert cover.method == "sar" and cover.cloud == 0.0
    assert cover.clear == pytest.approx(0.5, abs=0.01) and cover.nodata == pytest.approx(0.5, abs=0.01)
    demo = LocalCatalog(REPO / "scenes" / "demo").all()
    covers = aoi_covers(demo, nantes_aoi)
    assert [c.method for c in covers] == ["footprint", "footprint"]
    assert all(c.cloud is None and c.clear == pytest.approx(1.0) for c in covers)
