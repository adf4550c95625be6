"""A run folder read back: what the GeoPackage and the report are built from.

A run writes ``changes.geojson``, ``claims.json``, ``manifest.json``, ``aoi.geojson`` and the COGs
(``before_rgb.tif``, ``after_rgb.tif``, ``change_statistic.tif``); ``load_run`` reads them and checks
they are there and well formed, so ``geo report RUN_DIR`` fails with a message naming the bad file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geo.errors import OutputError

CHANGES = "changes.geojson"
CLAIMS = "claims.json"
MANIFEST = "manifest.json"
AOI = "aoi.geojson"
BEFORE_RGB = "before_rgb.tif"
AFTER_RGB = "after_rgb.tif"
STATISTIC = "change_statistic.tif"
GEOPACKAGE = "changes.gpkg"
REPORT = "report.html"


CLAIM_KEYS = (
    "claim_id", "aoi_id", "stance", "claim", "window", "clear_fraction", "signatures", "observable",
    "expected_change_types", "n_changes", "n_matching", "evidence", "verdict", "confidence",
    "confidence_label", "rationale",
)


class RunFolderError(OutputError):
    """A run folder lacks a file the report needs, or holds a malformed one."""


@dataclass(frozen=True)
class RunData:
    folder: Path
    aoi: dict[str, Any]  # the AOI summary (id, name, ...)
    aoi_geometry: BaseGeometry  # lon/lat
    features: list[tuple[BaseGeometry, dict[str, Any]]]  # lon/lat
    claims: list[dict[str, Any]]
    manifest: dict[str, Any]

    @property
    def aoi_id(self) -> str:
        return str(self.aoi["id"])

    def raster(self, name: str) -> Path | None:
        path = self.folder / name
        return path if path.exists() else None

    def scene_datetime(self, role: str) -> datetime:
        """Acquisition time of the before/after scene (UTC), from the manifest."""
        text = self.manifest["scenes"][role]["datetime"]
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _json(path: Path) -> Any:
    if not path.exists():
        raise RunFolderError(f"{path}: missing (is {path.parent} the output folder of `geo run` or `geo demo`?)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunFolderError(f"{path}: not readable JSON ({exc})") from None


def _features(path: Path) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    data = _json(path)
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise RunFolderError(f"{path}: not a GeoJSON FeatureCollection")
    out = []
    for index, feature in enumerate(data.get("features", [])):
        try:
            out.append((shape(feature["geometry"]), dict(feature.get("properties") or {})))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RunFolderError(f"{path}: feature {index} has a malformed geometry ({exc})") from None
    return out


def load_run(folder: Path, manifest: dict[str, Any] | None = None) -> RunData:
    """Read a run folder. ``manifest`` stands in for ``manifest.json`` while a run is still writing."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RunFolderError(f"{folder}: not a folder (give the output folder of `geo run` or `geo demo`)")
    manifest = manifest if manifest is not None else _json(folder / MANIFEST)
    claims = _json(folder / CLAIMS)
    if not isinstance(claims, list) or not all(isinstance(c, dict) for c in claims):
        raise RunFolderError(f"{folder / CLAIMS}: expected a list of claim verdicts")
    for index, entry in enumerate(claims):
        missing = [k for k in CLAIM_KEYS if k not in entry]
        if missing:
            raise RunFolderError(
                f"{folder / CLAIMS}: entry {index} lacks {', '.join(missing)} (written by an older workbench? run again)"
            )
    aoi_features = _features(folder / AOI)
    if len(aoi_features) != 1:
        raise RunFolderError(f"{folder / AOI}: expected exactly one AOI feature, found {len(aoi_features)}")
    geometry, props = aoi_features[0]
    for key in ("scenes", "aoi"):
        if key not in manifest:
            raise RunFolderError(f"{folder / MANIFEST}: no {key!r} entry")
    return RunData(folder, {**manifest["aoi"], **props}, geometry, _features(folder / CHANGES), claims, manifest)
