"""Hostile or broken archives, driven through the CLI against loopback archives: a ``next`` link that
loops or never ends, item ids that are paths, an AOI too big to send, a lookup answered with another item,
and two archives holding the same item id. Each case names the archive, exits 1 or carries on with what is
sound, and leaves nothing outside the scene cache."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import shapely
import shapely.affinity
from shapely.geometry import Polygon, box, mapping, shape

from geo.errors import ArchiveError
from geo.geometry import WGS84, reproject
from geo.scenes.paging import SearchLimits, checked_features
from geo.scenes.read import CLOUD_BUFFER_M
from geo.scenes.source import MAX_FOOTPRINT_VERTICES, search_footprint
from tests import archive_data
from tests.archive_data import CLOUD_OVER_AOI, SELECTION_SCENES, S2Spec, utc
from tests.archive_server import ArchiveServer

SEARCH = ("scenes", "search", "--aoi", "demo-nantes-port", "--from", "2015-12-01", "--to", "2017-12-31")
DEMO_RUN = ("--aoi", "demo-nantes-port", "--claim", "demo-nantes-construction")
SELECTION_IDS = sorted(s.item_id for s in SELECTION_SCENES)
B1, B2, B3 = "S2A_T30TXT_20151228_B1", "S2A_T30TXT_20151221_B2", "S2A_T30TXT_20151216_B3"
A2 = "S2A_T30TXT_20170704_A2"
NOTCH = "S2A_T30TXT_20160901_NOTCH"
# Ids an archive may send. Dated to win the demo job's pair (1 day and 0 days from the claim window, clear,
# orbit 51) if they were taken: then "..", as a cache folder, is the cache's parent.
HOSTILE = {"..": utc(2015, 12, 31), "a/../../x": utc(2017, 6, 30), "x\x00y": utc(2015, 12, 30),
           "L" * 300: utc(2017, 7, 1)}
CENTRE, RADIUS = (-1.528, 47.219), 0.012  # inside the demo scenes' footprint, at the corner of a cloud


def searches(server: ArchiveServer) -> list:
    return [r for r in server.records("/search") if r.method == "POST"]


def gear(vertices: int, notch: tuple[float, float] = (180.0, 270.0), depth: float = 0.25) -> Polygon:
    """A disc with a wedge (``notch``, degrees) cut to ``depth`` of its radius: not convex, and its hull has
    many vertices. Placed so that the wedge sits under the planted cloud of ``CLOUD_OVER_AOI``."""
    points = []
    for k in range(vertices):
        angle = 360.0 * k / vertices
        r = RADIUS * (depth if notch[0] <= angle < notch[1] else 1.0)
        points.append((round(CENTRE[0] + r * math.cos(math.radians(angle)), 7),
                       round(CENTRE[1] + r * math.sin(math.radians(angle)), 7)))
    return Polygon(points)


def notch_box() -> Polygon:
    """A small box in the wedge of ``gear``: inside its hull, outside the gear."""
    x, y = CENTRE[0] + 0.5 * RADIUS * math.cos(math.radians(225)), CENTRE[1] + 0.5 * RADIUS * math.sin(math.radians(225))
    return box(x - 0.0008, y - 0.0008, x + 0.0008, y + 0.0008)


def write_aoi(path: Path, aoi_id: str, geometry: Polygon) -> Path:
    feature = {"type": "Feature", "properties": {"id": aoi_id, "kind": "other"}, "geometry": mapping(geometry)}
    path.write_text(json.dumps(feature))
    return path


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """An archive holding the demo selection scenes, items with hostile ids, and an item whose footprint
    lies in a notch of ``gear``."""
    server = ArchiveServer(page_size=2).start()
    folder = tmp_path_factory.mktemp("hostile")
    for spec in SELECTION_SCENES:
        archive_data.s2_item(server, folder, spec)
    for number, (item_id, when) in enumerate(HOSTILE.items()):
        archive_data.s2_item(server, folder, S2Spec(item_id, when, 51, "2017" if when.year == 2017 else "2015"),
                             files_as=f"hostile-{number}")
    notch = archive_data.s2_item(server, folder, S2Spec(NOTCH, utc(2016, 9, 1), 51, "2015"))
    notch["geometry"], notch["bbox"] = mapping(notch_box()), list(notch_box().bounds)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """Another archive holding an item of B2's id (another date, the 2017 pixels) and A2."""
    server = ArchiveServer(page_size=2).start()
    folder = tmp_path_factory.mktemp("mirror")
    archive_data.s2_item(server, folder, S2Spec(B2, utc(2015, 12, 25), 51, "2017"))
    archive_data.s2_item(server, folder, next(s for s in SELECTION_SCENES if s.item_id == A2))
    yield server
    server.stop()


# -- 14.5: a `next` link that loops or never ends -----------------------------------------------------------

@pytest.mark.parametrize("kind", ["loop", "loop-fresh"])
def test_search_stops_on_a_next_link_that_loops(geo, loopback, kind):
    # The fault lasts 300 pages, so a client that trusts the link fetches 300 pages, then succeeds.
    loopback.inject(kind, match="/search", methods=("POST",), times=300)
    result = geo(*SEARCH, "--source", loopback.url, "--json")
    assert result.returncode == 1, result.stderr
    assert f"{loopback.url}: search page 2 repeats the items of an earlier page (its `next` links loop)" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert len(searches(loopback)) == 2


def test_run_stops_on_a_next_link_that_loops(geo, loopback, tmp_path):
    loopback.inject("loop", match="/search", methods=("POST",), times=300)
    out = tmp_path / "out"
    result = geo("run", *DEMO_RUN, "--source", loopback.url, "--out", str(out))
    assert result.returncode == 1, result.stderr
    assert f"{loopback.url}: search page 2 repeats the items of an earlier page" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()
    assert len(searches(loopback)) == 2
    assert loopback.records("/files/") == []


@pytest.mark.parametrize("cap, message, pages", [
    ("GEO_SEARCH_MAX_ITEMS", "search found more than 20 items after 11 pages", 11),
    ("GEO_SEARCH_MAX_PAGES", "search did not end after 20 pages (40 items)", 20),
])
def test_search_that_never_ends_is_capped(geo, loopback, cap, message, pages):
    loopback.inject("endless", match="/search", methods=("POST",), times=300)  # new items on every page
    result = geo(*SEARCH, "--source", loopback.url, **{cap: "20"})
    assert result.returncode == 1, result.stderr
    assert f"{loopback.url}: {message}; narrow the dates or the AOI, or raise {cap}" in result.stderr
    assert len(searches(loopback)) == pages


def test_a_next_link_seen_before_is_a_loop_even_with_new_items():
    fetched = []

    def pages():  # tokens 0, 1, 2, 0, ...: the fourth page links back to the second
        for n in range(1000):
            fetched.append(n)
            yield {"features": [{"id": f"item-{n}", "collection": "c"}],
                   "links": [{"rel": "next", "href": "http://archive/search", "method": "POST",
                              "body": {"token": n % 3}}]}

    with pytest.raises(ArchiveError, match=r"http://archive: search page 4 links back to a page already fetched"):
        checked_features(pages(), "http://archive", SearchLimits())
    assert fetched == [0, 1, 2, 3]


def test_search_judges_the_least_cloudy_tiles_first(geo, loopback):
    result = geo(*SEARCH, "--source", loopback.url, "--json", "--max-judged", "3")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    # tile eo:cloud_cover: A1 5, B3 10, B1 20 | A2 30, B2 85, A3 100
    assert sorted(r["id"] for r in data["scenes"]) == sorted(["S2A_T30TXT_20170701_A1", B3, B1])
    assert data["scenes"][-1]["id"] == B1 and data["scenes"][-1]["cloud_fraction"] > 0.5  # judged inside the AOI
    assert [(r["id"], r["tile_cloud_cover"]) for r in data["not_judged"]] == [
        (B2, 85), ("S2A_T30TXT_20170702_A3", 100), (A2, 30)]  # in date order
    read = {r.path.split("/")[-2] for r in loopback.records("/files/")}
    assert read == {"S2A_T30TXT_20170701_A1", B3, B1}  # one SCL window per judged scene, no other
    table = geo(*SEARCH, "--source", loopback.url, "--max-judged", "5")
    assert "1 more scene not judged: only the 5 with the lowest tile cloud cover were" in table.stdout


# -- 14.6: item ids that are paths -------------------------------------------------------------------------

def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_hostile_item_ids_are_refused_and_nothing_lands_outside_the_cache(geo, hostile, tmp_path):
    home = tmp_path / "home"
    cache = home / "cache"
    home.mkdir()
    (home / "keep.txt").write_text("keep")
    work = tmp_path / "work"
    work.mkdir()
    found = geo(*SEARCH, "--source", hostile.url, "--json", cwd=work, GEO_SCENE_CACHE=str(cache))
    assert found.returncode == 0, found.stderr
    assert sorted(r["id"] for r in json.loads(found.stdout)["scenes"]) == sorted([*SELECTION_IDS, NOTCH])
    assert f"{hostile.url}: refused 4 item(s) whose id is not a plain name" in found.stderr
    for shown in ("'..'", "'a/../../x'", r"'x\x00y'", "'" + "L" * 80 + "...'"):
        assert shown in found.stderr

    out = tmp_path / "out"
    run = geo("run", *DEMO_RUN, "--source", hostile.url, "--out", str(out), cwd=work, GEO_SCENE_CACHE=str(cache))
    assert run.returncode == 0, run.stderr
    scenes = json.loads((out / "manifest.json").read_text())["scenes"]
    assert (scenes["before"]["id"], scenes["after"]["id"]) == (B2, A2)
    judged = {c["id"] for side in scenes["selection"]["candidates"].values() for c in side}
    assert judged and judged <= {*SELECTION_IDS, NOTCH}
    for shown in ("'..'", "'a/../../x'", r"'x\x00y'"):  # named once, not once per search
        assert run.stderr.count(shown) == 1, run.stderr

    # Nothing outside the cache: the parent holds what it held, the working folder stays empty, and the
    # cache holds one folder per safe item id.
    assert tree(home) - {p for p in tree(home) if p.startswith("cache")} == {"keep.txt"}
    assert tree(work) == set()
    assert {p.name for p in cache.iterdir()} <= {*SELECTION_IDS, NOTCH}
    assert all(p.resolve().is_relative_to(cache.resolve()) for p in cache.rglob("*"))


def test_a_hostile_id_named_by_the_user_is_refused(geo, hostile, tmp_path):
    out = tmp_path / "out"
    result = geo("run", *DEMO_RUN, "--source", hostile.url, "--before", "..", "--after", "2017-07-01",
                 "--out", str(out))
    assert result.returncode == 1, result.stderr
    assert f"{hostile.url}: item id '..' is not a plain name" in result.stderr
    assert not out.exists() and "Traceback" not in result.stderr


@pytest.fixture
def filled_cache(tmp_path):
    """A cache with one item's entry, inside a folder that holds something else worth keeping."""
    home = tmp_path / "home"
    entry = home / "cache" / B2 / "red-0123456789abcdef.tif"
    entry.parent.mkdir(parents=True)
    entry.write_bytes(b"entry")
    (home / "keep.txt").write_text("keep")
    return home


@pytest.mark.parametrize("item", ["..", ".", "", "a/../../x", "../cache", "/etc", "L" * 300])
def test_cache_clear_refuses_an_item_that_is_not_a_plain_name(geo, filled_cache, item):
    result = geo("scenes", "cache", "clear", "--item", item, GEO_SCENE_CACHE=str(filled_cache / "cache"))
    assert result.returncode == 1, result.stdout
    assert "--item" in result.stderr and "not an item id" in result.stderr and "nothing removed" in result.stderr
    assert tree(filled_cache) == {"keep.txt", "cache", f"cache/{B2}", f"cache/{B2}/red-0123456789abcdef.tif"}


def test_cache_clear_of_an_item_not_cached_says_so_and_names_what_is(geo, filled_cache):
    """A typo in --item said "removed 0 file(s)" with exit 0, as if the item's windows were gone."""
    result = geo("scenes", "cache", "clear", "--item", B2[:-1], GEO_SCENE_CACHE=str(filled_cache / "cache"))
    assert result.returncode == 1, result.stdout
    assert f"--item '{B2[:-1]}': no cached windows of that item" in result.stderr
    assert f"did you mean '{B2}'?" in result.stderr and "nothing removed" in result.stderr
    assert tree(filled_cache) == {"keep.txt", "cache", f"cache/{B2}", f"cache/{B2}/red-0123456789abcdef.tif"}
    removed = geo("scenes", "cache", "clear", "--item", B2, GEO_SCENE_CACHE=str(filled_cache / "cache"))
    assert removed.returncode == 0 and "removed 1 file," in removed.stdout


def test_cache_clear_never_follows_a_link_out_of_the_cache(geo, filled_cache, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("precious")
    (filled_cache / "cache" / "linked").symlink_to(outside, target_is_directory=True)
    env = {"GEO_SCENE_CACHE": str(filled_cache / "cache")}
    one = geo("scenes", "cache", "clear", "--item", "linked", **env)
    assert one.returncode == 1 and "'linked' cannot name a scene cache folder" in one.stderr
    assert "resolves outside the cache" in one.stderr
    everything = geo("scenes", "cache", "clear", **env)
    assert everything.returncode == 0, everything.stderr
    assert "removed 1 file," in everything.stdout
    assert (outside / "precious.txt").read_text() == "precious"
    assert tree(filled_cache) == {"keep.txt", "cache", "cache/linked"}


# -- 14.7: AOIs too big to send as they are ----------------------------------------------------------------

def test_search_sends_a_small_footprint_covering_the_aoi_and_judges_the_exact_aoi(geo, hostile, tmp_path):
    aoi = gear(20_000)
    path = write_aoi(tmp_path / "gear.geojson", "gear-port", aoi)
    hostile.clear()
    result = geo("scenes", "search", "--aoi", str(path), "--from", "2015-12-01", "--to", "2017-12-31",
                 "--source", hostile.url, "--json")
    assert result.returncode == 0, result.stderr
    posts = searches(hostile)
    assert posts
    for post in posts:
        assert len(post.received) < 4_000  # the AOI's own GeoJSON is ~750 kB
        footprint = shape(json.loads(post.received)["intersects"])
        assert shapely.get_num_coordinates(footprint) <= MAX_FOOTPRINT_VERTICES
        assert footprint.covers(aoi)
        assert footprint.intersects(notch_box())  # the archive answers with the notch item too ...
    rows = json.loads(result.stdout)["scenes"]
    assert sorted(r["id"] for r in rows) == SELECTION_IDS  # ... which misses the exact AOI: dropped
    # Cloud is judged inside the exact AOI, not inside what the archive was sent.
    clouds = shapely.union_all([archive_data.rect_lonlat(rows_, cols) for rows_, cols in CLOUD_OVER_AOI])
    utm = "EPSG:32630"  # the cloud and 40 m around it (CLOUD_BUFFER_M: its soft edge), measured in metres
    clouds, aoi = reproject(clouds, WGS84, utm).buffer(CLOUD_BUFFER_M), reproject(aoi, WGS84, utm)
    truth = clouds.intersection(aoi).area / aoi.area
    hull_figure = clouds.intersection(aoi.convex_hull).area / aoi.convex_hull.area
    assert abs(truth - hull_figure) > 0.05  # the two differ enough for the check below to tell them apart
    b1 = next(r for r in rows if r["id"] == B1)
    assert b1["cloud_fraction"] == pytest.approx(truth, abs=0.02)


@pytest.mark.parametrize("geometry", [
    gear(5_000),
    shapely.segmentize(shapely.affinity.rotate(box(-1.56, 47.2, -1.53, 47.2003), 33), 0.00001),  # a sliver
    shapely.MultiPolygon([gear(3_000), shapely.affinity.translate(gear(3_000), 0.5, 0.3)]),
], ids=["gear", "sliver", "two-parts"])
def test_footprint_has_few_vertices_and_covers_the_aoi(geometry):
    assert shapely.get_num_coordinates(geometry) > MAX_FOOTPRINT_VERTICES
    footprint = search_footprint(geometry)
    assert shapely.get_num_coordinates(footprint) <= MAX_FOOTPRINT_VERTICES
    assert footprint.covers(geometry)
    assert footprint.area < 1.5 * geometry.convex_hull.area
    assert footprint.exterior.is_ccw  # RFC 7946: exterior rings counter-clockwise


def test_the_footprint_of_an_aoi_cut_at_180_is_drawn_round_it_and_cut_there():
    """Its hull was that of the two parts as they lie, -180..180: a band round the globe sent to the archive."""
    oval = shapely.affinity.scale(shapely.Point(180, 68.9).buffer(0.05, 64), 1, 0.4)  # 179.95..180.05
    geometry = shapely.MultiPolygon([oval.intersection(box(0, -90, 180, 90)), shapely.affinity.translate(
        oval.intersection(box(180, -90, 360, 90)), -360)])
    assert shapely.get_num_coordinates(geometry) > MAX_FOOTPRINT_VERTICES
    footprint = search_footprint(geometry)
    assert isinstance(footprint, shapely.MultiPolygon) and all(p.exterior.is_ccw for p in footprint.geoms)
    assert shapely.get_num_coordinates(footprint) <= MAX_FOOTPRINT_VERTICES and footprint.covers(geometry)
    assert footprint.area < 1.5 * oval.area  # its two sides, each beside 180


def test_aoi_file_too_big_is_refused_before_it_is_read(geo, loopback, tmp_path):
    path = tmp_path / "huge.geojson"
    with path.open("wb") as handle:
        handle.truncate(200_000_000)  # sparse: 200 MB of NUL, not valid GeoJSON, never to be read
    result = geo(*SEARCH[:3], str(path), *SEARCH[4:], "--source", loopback.url)
    assert result.returncode == 1, result.stderr
    assert f"{path}: AOI file is 200.0 MB, over the 10 MB limit" in result.stderr
    assert "Traceback" not in result.stderr and loopback.records() == []


def test_aoi_with_too_many_vertices_is_refused(geo, loopback, tmp_path):
    path = write_aoi(tmp_path / "dense.geojson", "dense-port", gear(150_000))
    assert path.stat().st_size < 10_000_000
    result = geo("run", "--aoi", str(path), "--source", loopback.url, "--before", "2015-12-21",
                 "--after", "2017-07-04", "--out", str(tmp_path / "out"))
    assert result.returncode == 1, result.stderr
    assert f"{path}: polygon has 150,001 vertices, over the limit of 100,000" in result.stderr
    assert loopback.records() == [] and not (tmp_path / "out").exists()


# -- 13.9: lookups by item id ------------------------------------------------------------------------------

def test_lookup_answered_with_another_item_is_refused(geo, loopback, tmp_path, fast_network):
    loopback.inject("ignore-ids", match="/search", methods=("POST",), times=-1)
    out = tmp_path / "out"
    result = geo("run", *DEMO_RUN, "--source", loopback.url, "--before", B1, "--after", "2017-07-01",
                 "--out", str(out))
    assert result.returncode == 1, result.stderr
    assert (f"{loopback.url}: asked for item '{B1}', the archive answered with other items: '{B3}', '{B2}'"
            in result.stderr)
    assert not out.exists() and "Traceback" not in result.stderr
    assert not list(fast_network.rglob("item-*.json")) and loopback.records("/files/") == []


def test_same_item_id_in_two_archives(geo, loopback, mirror, tmp_path):
    named = ("--before", B2, "--after", A2)
    first = geo("run", *DEMO_RUN, "--source", loopback.url, *named, "--out", str(tmp_path / "first"))
    assert first.returncode == 0, first.stderr
    mirror.clear()
    second = geo("run", *DEMO_RUN, "--source", mirror.url, *named, "--out", str(tmp_path / "second"))
    assert second.returncode == 0, second.stderr
    before = json.loads((tmp_path / "second" / "manifest.json").read_text())["scenes"]["before"]
    assert before["id"] == B2 and before["datetime"].startswith("2015-12-25")  # the mirror's item ...
    assert searches(mirror)  # ... looked up there, not taken from the first archive's cached item
    assert {r.path.rsplit("/", 1)[-1] for r in mirror.records(f"/files/s2/{B2}/")} >= {"red.tif", "scl.tif"}
    changes = {name: json.loads((tmp_path / name / "changes.geojson").read_text())["features"]
               for name in ("first", "second")}
    assert len(changes["second"]) < len(changes["first"])  # the mirror's "before" holds the after pixels

    loopback.clear()  # the first archive's item and windows are still in the cache, as its own
    third = geo("run", *DEMO_RUN, "--source", loopback.url, *named, "--out", str(tmp_path / "third"))
    assert third.returncode == 0, third.stderr
    assert loopback.records() == []
    assert (tmp_path / "third" / "changes.geojson").read_text() == (tmp_path / "first" / "changes.geojson").read_text()
