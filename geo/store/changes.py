"""The store's change polygons: the ``changes`` feature layer's reads and writes, the contract's attributes
(``ChangeFeature``) with ``first_seen`` and ``run_id``, and what a Sentinel-1 pair adds to them
(``schema.SAR_CHANGE_COLUMNS``), as a run's ``changes.geojson`` has them."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from geo.store import gpkg, schema
from geo.store.times import iso_utc
from geo.vector.feature import ChangeFeature  # no shapely at import: the quick path reads the store without it

CHANGE_FIELDS = ("change_id", "aoi_id", "claim_ids", "before_scene", "after_scene", "before_date", "after_date",
                 "first_seen", "area_m2", "score", "confidence", "change_type", "type_confidence", "pixels",
                 "algorithm_version", "run_id")
SENSOR_FIELDS = tuple(schema.SAR_CHANGE_COLUMNS)
# The rows a re-check recorded: a polygon and its measures. An analyst's own polygon drawn in QGIS, whose form asks
# only for the columns declared NOT NULL, lacks them: it stays in the layer, and is no change of a run's files, of
# a STAC item or alert, nor evidence of a verdict judged again.
RECORDED = ("geom IS NOT NULL AND " +
            " AND ".join(f"typeof({c}) IN ('integer', 'real')" for c in ("area_m2", "score", "confidence")))


_TYPED_ID = re.compile(r"[^\s,;\[\]\"']+")


def stored_claim_ids(text: str | None) -> list[str]:
    """A change's ``claim_ids`` as stored: JSON text, as a re-check writes it, or the ids an analyst typed over it
    in QGIS, as the cell reads (``a-build, b-build``; a lone ``a-build``)."""
    if not text or not text.strip():
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return _TYPED_ID.findall(text)
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


class ChangeLog:
    """The ``changes`` table's reads and writes (writes inside the store's ``transaction()``)."""

    conn: sqlite3.Connection

    def changes(self, run_id: int | None = None, aoi_id: str | None = None, algorithm_version: str | None = None,
                after_scenes: Sequence[str] | None = None) -> list[ChangeFeature]:
        """Change polygons (lon/lat) with their attributes, in the order they were recorded: a sensor's own
        (``SENSOR_FIELDS``, those it has) before ``first_seen`` and ``run_id``; only those a re-check recorded
        (``RECORDED``)."""
        where, args = [RECORDED], []
        for column, value in (("run_id", run_id), ("aoi_id", aoi_id), ("algorithm_version", algorithm_version)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if after_scenes is not None:
            where.append(f"after_scene IN ({', '.join('?' * len(after_scenes))})")
            args.extend(after_scenes)
        sql = f"SELECT geom, {', '.join(CHANGE_FIELDS + SENSOR_FIELDS)} FROM changes WHERE " + " AND ".join(where)
        features: list[ChangeFeature] = []
        for row in self.conn.execute(sql + " ORDER BY fid", args):
            props = dict(zip(CHANGE_FIELDS, row[1:]))
            props["claim_ids"] = stored_claim_ids(props["claim_ids"])
            own = {k: v for k, v in zip(SENSOR_FIELDS, row[1 + len(CHANGE_FIELDS):]) if v is not None}
            props = {**{k: v for k, v in props.items() if k not in ("first_seen", "run_id")}, **own,
                     "first_seen": props["first_seen"], "run_id": props["run_id"]}
            features.append(ChangeFeature.from_properties(gpkg.decode(row[0]), props))
        return features

    def add_changes(self, features: Sequence[ChangeFeature], first_seen: datetime, run_id: int, recorded_at: str) -> None:
        rows: list[tuple[Any, ...]] = []
        for f in features:
            rows.append((
                gpkg.encode(gpkg.as_multipolygon(f.geometry)), f.change_id, f.aoi_id, json.dumps(list(f.claim_ids)),
                f.before_scene, f.after_scene, f.before_date, f.after_date, iso_utc(first_seen), f.area_m2, f.score,
                f.confidence, f.change_type, f.type_confidence, f.pixels, f.algorithm_version, run_id,
                *(f.extra.get(name) for name in SENSOR_FIELDS), recorded_at,
            ))
        columns = CHANGE_FIELDS + SENSOR_FIELDS
        self.conn.executemany(
            f"INSERT INTO changes (geom, {', '.join(columns)}, recorded_at) VALUES ({', '.join('?' * (len(columns) + 2))})",
            rows,
        )
        if features:
            gpkg.touch(self.conn, "changes", recorded_at, [f.geometry for f in features])

    def link_changes(self, links: Mapping[str, Sequence[str]], recorded_at: str) -> None:
        """Add claim ids to stored changes (change id -> claim ids), after those they have: a window verdict
        links the changes of its segment's pairs, which no pair linked on its own."""
        updates = []
        for change_id, stored in self.conn.execute(
                f"SELECT change_id, claim_ids FROM changes WHERE change_id IN ({', '.join('?' * len(links))})",
                list(links)):
            have = stored_claim_ids(stored)
            merged = have + [c for c in links[change_id] if c not in have]
            if merged != have:
                updates.append((json.dumps(merged), change_id))
        self.conn.executemany("UPDATE changes SET claim_ids = ? WHERE change_id = ?", updates)
        if updates:
            gpkg.touch(self.conn, "changes", recorded_at)

    def claim_links(self) -> set[tuple[str, str, str]]:
        """(claim id, AOI id, algorithm version) of the stored changes linked to a claim."""
        links: set[tuple[str, str, str]] = set()
        for aoi_id, version, stored in self.conn.execute(
                "SELECT DISTINCT aoi_id, algorithm_version, claim_ids FROM changes WHERE claim_ids NOT IN ('', '[]')"):
            links.update((claim_id, aoi_id, version) for claim_id in stored_claim_ids(stored))
        return links

    def unlink_claim(self, claim_id: str, aoi_id: str, algorithm_version: str, recorded_at: str) -> None:
        """Take ``claim_id`` off the AOI's stored changes: the claim was edited, and its verdict links anew the
        changes that bear on it as it now reads."""
        updates = []
        for change_id, stored in self.conn.execute(
                "SELECT change_id, claim_ids FROM changes WHERE aoi_id = ? AND algorithm_version = ? "
                "AND claim_ids LIKE ?", (aoi_id, algorithm_version, f'%{claim_id}%')):
            have = stored_claim_ids(stored)
            if claim_id in have:
                updates.append((json.dumps([c for c in have if c != claim_id]), change_id))
        self.conn.executemany("UPDATE changes SET claim_ids = ? WHERE change_id = ?", updates)
        if updates:
            gpkg.touch(self.conn, "changes", recorded_at)

    def run_manifests(self, run_id: int) -> list[dict[str, Any]]:
        """The manifests of the pairs a run processed (``pairs.manifest``), in the order it recorded them."""
        return [json.loads(m) for (m,) in self.conn.execute(
            "SELECT manifest FROM pairs WHERE run_id = ? AND status = 'done' AND manifest IS NOT NULL ORDER BY fid",
            (run_id,))]
