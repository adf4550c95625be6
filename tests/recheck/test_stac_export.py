"""``geo recheck --export-stac DIR``: the store as a STAC Collection, one item per processed pair, valid
(pystac's JSON-schema validation, offline) and true to the store when read back with pystac."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

import pystac
import shapely
from shapely.geometry import shape

from tests.stac_offline import offline_validation


def _done_pairs(store) -> list[tuple]:
    with sqlite3.connect(store) as conn:
        return conn.execute("SELECT aoi_id, before_scene, after_scene, before_datetime, after_datetime FROM pairs "
                            "WHERE status = 'done' ORDER BY after_datetime, fid").fetchall()


def _store_changes(store, aoi_id: str, before: str, after: str) -> set[str]:
    with sqlite3.connect(store) as conn:
        rows = conn.execute("SELECT change_id FROM changes WHERE aoi_id = ? AND before_scene = ? AND after_scene = ?",
                            (aoi_id, before, after))
        return {r[0] for r in rows}


def test_the_store_exported_as_a_valid_collection_of_its_pairs(first_run, tmp_path, geo_cli):
    series, store = first_run
    series.publish(4)
    dest = tmp_path / "stac"
    result = geo_cli(*series.args(store, "--export-stac", str(dest)))
    assert result.returncode == 0, result.stderr
    pairs = _done_pairs(store)
    assert len(pairs) >= 6  # two runs over four AOIs
    assert f"STAC collection of {len(pairs)} item{'' if len(pairs) == 1 else 's'}:" in result.stderr
    collection = pystac.Collection.from_file(str(dest / "collection.json"))
    with offline_validation() as validator:
        pystac.validation.validate_all_dict(collection.to_dict(), str(dest / "collection.json"))
    assert validator.fetched == []
    items = {i.id: i for i in collection.get_items()}
    assert len(items) == len(pairs)
    with sqlite3.connect(store) as conn:
        aois = {r[0]: json.loads(r[1])["geometry"] for r in conn.execute("SELECT aoi_id, feature FROM aois")}
    for aoi_id, before, after, before_at, after_at in pairs:
        item = items[f"{aoi_id}_{before}_{after}"]
        assert shapely.equals_exact(shape(item.geometry), shape(aois[aoi_id]), 1e-9)
        assert item.common_metadata.start_datetime == datetime.fromisoformat(before_at.replace("Z", "+00:00"))
        assert item.common_metadata.end_datetime == datetime.fromisoformat(after_at.replace("Z", "+00:00"))
        geojson = item.assets["changes-geojson"]
        assert geojson.media_type == "application/geo+json" and geojson.roles == ["data"]
        features = json.loads(open(geojson.get_absolute_href()).read())["features"]
        assert {f["properties"]["change_id"] for f in features} == _store_changes(store, aoi_id, before, after)
        assert item.properties["geo:n_changes"] == len(features)
        sources = [pystac.Item.from_file(link.get_absolute_href()).id for link in item.get_links("derived_from")]
        assert sources == [before, after]
        assert "processing:software" in item.properties
    assert sum(i.properties["geo:n_changes"] for i in items.values()) == sum(
        len(_store_changes(store, *p[:3])) for p in pairs) > 0
    starts = min(i.common_metadata.start_datetime for i in items.values())
    assert collection.extent.temporal.intervals[0][0] == starts


def test_export_again_and_a_folder_that_is_not_an_export_is_refused(first_run, tmp_path, geo_cli):
    series, store = first_run
    dest = tmp_path / "stac"
    assert geo_cli(*series.args(store, "--export-stac", str(dest))).returncode == 0
    first = (dest / "collection.json").read_text()
    (dest / "notes.txt").write_text("mine")  # a file the user added is kept
    again = geo_cli(*series.args(store, "--export-stac", str(dest)))
    assert again.returncode == 0, again.stderr
    assert (dest / "collection.json").read_text() == first and (dest / "notes.txt").read_text() == "mine"
    other = tmp_path / "other"
    other.mkdir()
    (other / "thesis.tex").write_text("x")
    before = sqlite3.connect(store).execute("SELECT count(*) FROM runs").fetchone()[0]
    series.publish(4)
    refused = geo_cli(*series.args(store, "--export-stac", str(other)))
    assert refused.returncode == 1 and "--export-stac" in refused.stderr and "not empty" in refused.stderr
    assert sqlite3.connect(store).execute("SELECT count(*) FROM runs").fetchone()[0] == before  # no re-check ran
    assert sorted(p.name for p in other.iterdir()) == ["thesis.tex"]
