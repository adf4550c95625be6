"""A run folder read back, for ``geo report RUN_DIR``: the values the GeoPackage, QGIS project and report are built
from (a run builds the same values from memory: ``geo.outputs.bundle.run_data``).

A run writes ``changes.geojson``, ``claims.json``, ``manifest.json``, ``aoi.geojson`` and the COGs
(``before_rgb.tif``, ``after_rgb.tif``, ``change_statistic.tif``), and, when a claim predicts vessels, the
vessel job's files (``vessels-manifest.json``, ``vessels.geojson``, ``timeseries.json|svg``,
``evidence.json``); ``load_run`` reads them and checks they are there and well formed, so
``geo report RUN_DIR`` fails with a message naming the bad file. A run writes its folder whole and marks it
complete last (``geo.atomic``): a folder without the marker is refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geo.atomic import MARKER, read_marker, recover_output_dir
from geo.errors import OutputError
from geo.results import GeoFeature, VesselData, utc_datetime
from geo.vector.feature import ChangeFeature

CHANGES = "changes.geojson"
NOT_COMPARED = "not_compared.geojson"  # the AOI's areas not compared (geo.outputs.not_compared)
CLAIMS = "claims.json"
MANIFEST = "manifest.json"
AOI = "aoi.geojson"
BEFORE_RGB = "before_rgb.tif"
AFTER_RGB = "after_rgb.tif"
STATISTIC = "change_statistic.tif"
GEOPACKAGE = "changes.gpkg"
REPORT = "report.html"
RECHECK_SUMMARY = "summary.json"  # a `geo recheck` run's folder: geo.recheck.outputs
RECHECK_LATEST = "latest.json"  # its outputs folder's (geo.recheck.outputs)
# The manifest's ``timings_s`` key of an output writer's seconds ("write rasters": geo.outputs.writers.write_run)
WRITER_TIMING = "write {}"


def job_timings(timings: Mapping[str, float]) -> dict[str, float]:
    """The job's own steps of a manifest's ``timings_s``, without the output writers' (which a report rebuilt from
    the folder would otherwise show and the run's own report, written before them, could not)."""
    prefix = WRITER_TIMING.format("")
    return {key: value for key, value in timings.items() if not key.startswith(prefix)}


# Written by the vessel job (geo.vessels.run_files.write_vessel_outputs) when a claim predicts vessels.
VESSEL_MANIFEST = "vessels-manifest.json"
VESSEL_DETECTIONS = "vessels.geojson"
VESSEL_SERIES = "timeseries.json"
VESSEL_EVIDENCE = "evidence.json"
VESSEL_PLOT = "timeseries.svg"
VESSEL_PLOT_NARROW = "timeseries-narrow.svg"  # the plot drawn for a phone (the report shows it on a narrow screen)


CLAIM_KEYS = (
    "claim_id", "aoi_id", "stance", "claim", "window", "clear_fraction", "signatures", "observable",
    "expected_change_types", "n_changes", "n_matching", "evidence", "verdict", "confidence",
    "confidence_label", "rationale",
)


# What the report reads of a run's manifest: a folder of an older workbench lacking one is named, not an internal error
MANIFEST_KEYS = (
    "workbench_version", "algorithm_version", "aoi", "scenes", "grid", "coregistration", "statistic", "cloud_masked",
    "clear_fraction", "warnings", "versions",
)


class RunFolderError(OutputError):
    """A run folder lacks a file the report needs, or holds a malformed one."""


@dataclass(frozen=True)
class RunData:
    folder: Path
    aoi: dict[str, Any]  # the AOI summary (id, name, ...)
    aoi_geometry: BaseGeometry  # lon/lat
    features: list[ChangeFeature]  # lon/lat
    claims: list[dict[str, Any]]
    manifest: dict[str, Any]
    vessels: VesselData | None = None
    not_compared: tuple[GeoFeature, ...] = ()  # lon/lat, one per reason (a folder from before them: none)

    @property
    def aoi_id(self) -> str:
        return str(self.aoi["id"])

    def raster(self, name: str) -> Path | None:
        path = self.folder / name
        return path if path.exists() else None

    def scene_datetime(self, role: str) -> datetime:
        """Acquisition time of the before/after scene (UTC), from the manifest."""
        return utc_datetime(self.manifest["scenes"][role]["datetime"])


def pictures_gone(folder: Path) -> list[str]:
    """The true-colour images the run wrote into ``folder`` (its marker lists them) that are no longer there: a copy
    sent without them (they are the folder's heaviest files). A report made from the folder lacks its pictures."""
    listed = (read_marker(folder) or {}).get("files", [])
    return [name for name in (BEFORE_RGB, AFTER_RGB) if name in listed and not (Path(folder) / name).exists()]


def _json(path: Path) -> Any:
    if not path.exists():
        # read only from a folder whose run completed (its marker checked first): the file was removed since
        raise RunFolderError(f"{path}: missing from the run folder (removed since the run wrote it?); run the job again")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunFolderError(f"{path}: not readable JSON ({exc})") from None


def _features(path: Path) -> list[GeoFeature]:
    data = _json(path)
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise RunFolderError(f"{path}: not a GeoJSON FeatureCollection")
    out: list[GeoFeature] = []
    for index, feature in enumerate(data.get("features", [])):
        try:
            out.append((shape(feature["geometry"]), dict(feature.get("properties") or {})))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RunFolderError(f"{path}: feature {index} has a malformed geometry ({exc})") from None
    return out


def _change_features(path: Path) -> list[ChangeFeature]:
    """``changes.geojson`` as change features; a feature lacking a contract attribute is named."""
    out = []
    for index, (geometry, props) in enumerate(_features(path)):
        try:
            out.append(ChangeFeature.from_properties(geometry, props))
        except KeyError as exc:
            raise RunFolderError(f"{path}: feature {index} lacks the attribute {exc} (written by an older "
                                 "workbench? run again)") from None
        except (TypeError, ValueError) as exc:
            raise RunFolderError(f"{path}: feature {index} has a malformed attribute ({exc})") from None
    return out


def _recheck_outputs_of(path: Path) -> str | None:
    """The name of the outputs folder of the re-check store ``path`` (``geo.recheck.outputs``: ``STEM-outputs``
    beside it), or None when ``path`` is no store having one."""
    outputs = path.with_name(f"{path.stem}-outputs")
    return outputs.name if path.is_file() and (outputs / RECHECK_LATEST).is_file() else None


def _refuse_recheck_folder(folder: Path) -> None:
    """A ``geo recheck`` outputs folder, or one of its runs' folders, said to be one: neither ever had a manifest,
    and 'run it again' would not give them one (``geo.recheck.outputs`` writes them)."""
    if (folder / "runs").is_dir() and (folder / RECHECK_LATEST).is_file():
        layers = next((f", {q.name}" for q in sorted(folder.glob("*.qlr"))), "")
        what = ("the outputs folder of `geo recheck` (each run's changes in runs/NNNNNN/changes.geojson, all of them "
                f"in the store's layer file{layers})")
    elif (folder / RECHECK_SUMMARY).is_file() and not (folder / MANIFEST).exists():
        what = f"a `geo recheck` run's folder (what it found is in {CHANGES} and {RECHECK_SUMMARY})"
    elif (store := next((p for p in sorted(folder.iterdir()) if _recheck_outputs_of(p)), None)) is not None:
        what = f"the folder of the `geo recheck` store {store.name} (its outputs in {_recheck_outputs_of(store)})"
    else:
        return
    raise RunFolderError(f"{folder}: {what}; geo report reads the folders of `geo run` or `geo demo`")


def refuse_file(folder: Path) -> None:
    """A file named for a run folder (a shell's completion ends at one) is said to be one, naming the run folder
    that holds it; it was taken for the folder of a default ``--out`` (``run/report.html/report.html``)."""
    if not Path(folder).is_file():
        return
    if (outputs := _recheck_outputs_of(Path(folder))) is not None:
        raise RunFolderError(f"{folder}: the store of `geo recheck` (its outputs in {outputs}); geo report reads the "
                             "folders of `geo run` or `geo demo`")
    parent = Path(folder).parent
    if (parent / MARKER).is_file() or (parent / MANIFEST).is_file():
        raise RunFolderError(f"{folder}: a file, not a run folder; give the folder holding it: geo report {parent}")
    raise RunFolderError(f"{folder}: a file, not a run folder (give the output folder of `geo run` or `geo demo`)")


def load_run(folder: Path) -> RunData:
    """Read a complete run folder (``geo report RUN_DIR``)."""
    folder = Path(folder)
    refuse_file(folder)
    if not folder.is_dir():
        recover_output_dir(folder)  # a run killed halfway through replacing it: its previous run comes back
    if not folder.is_dir():
        raise RunFolderError(f"{folder}: not a folder (give the output folder of `geo run` or `geo demo`)")
    _refuse_recheck_folder(folder)
    if not (folder / MARKER).is_file():
        raise RunFolderError(f"{folder}: not a complete run folder (no {MARKER}, the hidden file a run writes "
                             "last: an interrupted run, a partial copy (of its visible files alone: `cp RUN/*`, a "
                             "file manager's select-all), or one from an older workbench); copy the whole folder, "
                             "or run it again")
    if not (folder / MANIFEST).exists() and (folder / VESSEL_MANIFEST).exists():
        raise RunFolderError(f"{folder}: the output of `geo vessels`, not of a change job (its counts are in "
                             "timeseries.csv and timeseries.svg); geo report reads the folders of `geo run` or `geo demo`")
    manifest = _json(folder / MANIFEST)
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
    if not isinstance(manifest, dict):
        raise RunFolderError(f"{folder / MANIFEST}: expected a JSON object")
    if missing := [key for key in MANIFEST_KEYS if key not in manifest]:
        raise RunFolderError(f"{folder / MANIFEST}: lacks {', '.join(missing)} (written by an older workbench? run the "
                             "job again)")
    # a folder from before the areas not compared has none; one whose run wrote them (its marker lists the file) must
    written = (folder / NOT_COMPARED).exists() or NOT_COMPARED in (read_marker(folder) or {}).get("files", [])
    not_compared = tuple(_features(folder / NOT_COMPARED)) if written else ()
    return RunData(folder, {**manifest["aoi"], **props}, geometry, _change_features(folder / CHANGES), claims, manifest,
                   load_vessels(folder), not_compared)


def load_vessels(folder: Path) -> VesselData | None:
    """The vessel job's files of a run folder, or None when the run made none (no claim predicts vessels)."""
    if not (folder / VESSEL_MANIFEST).exists():
        return None
    manifest = _json(folder / VESSEL_MANIFEST)
    series = _json(folder / VESSEL_SERIES)
    evidence = _json(folder / VESSEL_EVIDENCE)
    try:
        rows = list(series["rows"])
        for row in rows:
            utc_datetime(row["datetime"]), int(row["n_vessels"]), int(row["n_large"]), float(row["observed_fraction"])
        large, observed = float(series["large_length_m"]), float(series["min_observed_fraction"])
        zone = str(series.get("local_time_zone", "UTC"))  # a series from before local days: UTC dates
    except (KeyError, TypeError, ValueError) as exc:
        raise RunFolderError(f"{folder / VESSEL_SERIES}: not a vessel count series ({exc})") from None
    if not isinstance(evidence, list) or not all(isinstance(e, dict) and "claim_id" in e for e in evidence):
        raise RunFolderError(f"{folder / VESSEL_EVIDENCE}: expected a list of claim evidence")
    if not (folder / VESSEL_PLOT).is_file():
        raise RunFolderError(f"{folder / VESSEL_PLOT}: missing (the vessel job writes it with {VESSEL_SERIES})")
    return VesselData(_features(folder / VESSEL_DETECTIONS), rows, large, observed, evidence, folder / VESSEL_PLOT,
                      manifest, zone)
