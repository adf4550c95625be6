"""What a change job returns (``geo.jobs.spine.run_job``): the types that the writers of a run folder
(``geo.outputs``), the re-check store and the vessel evidence take, so that they need not import a job."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from geo.claim_verdict import ClaimVerdict
from geo.vector.feature import ChangeFeature

if TYPE_CHECKING:  # light to import: the run folder's readers take these types without the raster stack
    import numpy as np
    from shapely.geometry.base import BaseGeometry

    from geo.aoi import AOI
    from geo.scenes.model import Sensor
    from geo.scenes.read import Stack

# A GeoJSON feature as written or read: geometry (lon/lat) and properties (the AOI, vessel detections).
GeoFeature: TypeAlias = tuple["BaseGeometry", dict[str, Any]]


def utc_datetime(text: object) -> datetime:
    """An ISO date-time (``Z`` or an offset; naive taken as UTC) as an aware UTC datetime."""
    when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class VesselData:
    """The vessel job's part of a run, as its files hold it: detections inside the AOI (lon/lat), the count
    series, the claims' evidence, the plot's file and the vessel manifest. A run makes it in memory
    (``geo.vessels.run_files.vessel_data``); ``geo report`` reads it back from the folder. ``local_time_zone``: the
    zone whose days the rows' ``local_date`` counts (``timeseries.json``; UTC for a series from before it)."""

    detections: list[GeoFeature]
    rows: list[dict[str, Any]]
    large_length_m: float
    min_observed_fraction: float
    evidence: list[dict[str, Any]]
    plot: Path
    manifest: dict[str, Any]
    local_time_zone: str = "UTC"

    def datetimes(self) -> list[datetime]:
        """Acquisition times of the series' dates (UTC)."""
        return [utc_datetime(row["datetime"]) for row in self.rows]


# The manifest statistic's name when a pair was not compared (one date showed nothing of the grid,
# ``geo.jobs.unseen``): no change statistic raster is written.
NOT_COMPUTED = "not computed"


@dataclass(frozen=True)
class Manifest:
    """What a run did (``manifest.json``; README "Outputs of a run"): versions, the AOI, scenes and grid,
    parameters, the kit's own sections (co-registration, what its detector fitted), the statistic it
    applied, coverage, warnings and timings. ``vessels``: the vessel job's summary, when it ran."""

    workbench_version: str
    algorithm_version: str
    sensor: str
    aoi: Mapping[str, Any]
    claims: tuple[str, ...]
    scenes: Mapping[str, Any]  # before, after (scene summaries) and the selection's reasons
    grid: Mapping[str, Any]
    parameters: Mapping[str, Any]
    sections: Mapping[str, Any]  # the kit's sections, written at the top level (coregistration, irmad, ...)
    statistic: Mapping[str, Any]  # the detector as it ran (geo.change.detectors.base.Detection.summary)
    cloud_masked: Mapping[str, bool]
    clear_fraction: float
    n_changes: int
    warnings: tuple[str, ...]
    timings_s: Mapping[str, float]
    versions: Mapping[str, str]
    vessels: Mapping[str, Any] | None = None

    @property
    def coregistration(self) -> Mapping[str, Any] | None:
        """The shift applied to the after scene (None when the kit does not co-register)."""
        value = self.sections.get("coregistration")
        return value if isinstance(value, Mapping) else None

    def with_warnings(self, *more: str) -> Manifest:
        return replace(self, warnings=(*self.warnings, *more))

    def to_dict(self) -> dict[str, Any]:
        """The manifest as ``manifest.json`` holds it, keys in the order written since the first version."""
        head = {"workbench_version": self.workbench_version, "algorithm_version": self.algorithm_version,
                "sensor": self.sensor, "aoi": dict(self.aoi), "claims": list(self.claims), "scenes": dict(self.scenes),
                "grid": dict(self.grid), "parameters": dict(self.parameters)}
        tail = {"statistic": dict(self.statistic), "cloud_masked": dict(self.cloud_masked),
                "clear_fraction": self.clear_fraction, "n_changes": self.n_changes, "warnings": list(self.warnings),
                "timings_s": dict(self.timings_s), "versions": dict(self.versions)}
        return {**head, **self.sections, **tail, **({} if self.vessels is None else {"vessels": dict(self.vessels)})}

    @classmethod
    def from_dict(cls, manifest: Mapping[str, Any]) -> Manifest:
        """The manifest a ``to_dict`` wrote (keys it does not know are the kit's sections)."""
        known = {f.name for f in fields(cls)} - {"sections"}
        given = {k: v for k, v in manifest.items() if k in known}
        given["claims"], given["warnings"] = tuple(given["claims"]), tuple(given["warnings"])
        return cls(**given, sections={k: v for k, v in manifest.items() if k not in known})


def recorded_nodata(scenes: Mapping[str, Any], role: str) -> float | None:
    """Share of the AOI one scene (``role``: before or after) does not hold (outside its footprint, or nodata),
    as the pair's selection recorded it; None when it recorded none (a SAR pair records its ``coverage``)."""
    selection = scenes.get("selection")
    entry = selection.get(role) if isinstance(selection, Mapping) else None
    share = entry.get("nodata_fraction") if isinstance(entry, Mapping) else None
    return None if share is None else float(share)


def recorded_nodata_share(scenes: Mapping[str, Any], role: str) -> float:
    """``recorded_nodata``, 0 when none was recorded."""
    return recorded_nodata(scenes, role) or 0.0


def outside_scenes_share(scenes: Mapping[str, Any]) -> float:
    """Share of the AOI the scenes do not hold, as the pair's selection recorded it per scene: the larger of
    the two, since a pixel missing on either date is not seen."""
    return max(recorded_nodata_share(scenes, role) for role in ("before", "after"))


def seen_clear_split(clear_fraction: float, scenes: Mapping[str, Any], role: str | None = None,
                     left_out: float = 0.0) -> tuple[int, int, int]:
    """Whole percents of the AOI: seen clear (on both dates, or in the ``role`` scene alone), outside the
    scenes (or that scene), and the rest (cloud, or gaps inside them); the outside share is what the
    selection recorded, capped at what was not seen; ``left_out``: the share seen on both dates but not compared
    (the manifest's ``not_compared``), said apart, not in the rest."""
    share = outside_scenes_share(scenes) if role is None else recorded_nodata_share(scenes, role)
    return seen_shares(clear_fraction, share, left_out)


def left_out_share(sections: Mapping[str, Any]) -> float:
    """The share of the AOI seen on both dates but not compared, as a manifest (or its sections) records it."""
    entry = sections.get("not_compared")
    return float(entry.get("fraction") or 0.0) if isinstance(entry, Mapping) else 0.0


def seen_shares(clear_fraction: float, outside_share: float, left_out: float = 0.0) -> tuple[int, int, int]:
    """Whole percents of the AOI seen clear, outside the scenes (capped at what was not seen), and the rest, less
    ``left_out`` (seen but not compared: snow on one date only, said apart; it was counted in the rest as cloud)."""
    clear = round(100 * clear_fraction)
    outside = min(round(100 * outside_share), 100 - clear)
    left = min(round(100 * left_out), 100 - clear - outside)
    return clear, outside, 100 - clear - outside - left


def seen_words(clear_fraction: float, outside_share: float, sensor: Sensor | None = None,
               cloud_unjudged: str | None = None, left_out: float = 0.0) -> str:
    """How much of the AOI was seen, in the terminal's words (``geo run``, ``geo recheck``): a part outside the
    scenes is named as such, not left to read as cloud; a radar's (``sensor``) share is 'seen', never 'clear',
    and so is an optical one whose cloud was not judged (``cloud_unjudged``: on which scenes, ``cloud_unjudged_on``);
    ``left_out``: seen on both dates but not compared (a warning says it), not in the cloud's share."""
    clear, outside, rest = seen_shares(clear_fraction, outside_share, left_out)
    radar = sensor is not None and not sensor.sees_cloud
    if cloud_unjudged and not radar:  # no scene classification: nodata was masked, cloud was not
        parts = [f"{clear}% of the AOI seen", f"{outside}% outside the scenes" if outside else "",
                 f"{rest}% gaps inside {'them' if outside else 'the scenes'}" if rest else "",
                 f"cloud not judged: no scene classification (SCL) on {cloud_unjudged}"]
        return "; ".join(part for part in parts if part)
    if not outside:
        return f"{clear}% of the AOI seen" if radar else f"clear fraction of AOI {clear_fraction:.0%}"
    cloud = f"; {rest}% {'gaps' if radar else 'cloud or gaps'} inside them" if rest else ""
    return f"{clear}% of the AOI seen{'' if radar else ' clear'}; {outside}% outside the scenes{cloud}"


def cloud_unjudged_on(cloud_masked: Mapping[str, bool]) -> str | None:
    """The scenes of a pair whose cloud was not masked (no SCL), in words; None when both were."""
    unmasked = [role for role in ("before", "after") if not cloud_masked.get(role, True)]
    return None if not unmasked else "both scenes" if len(unmasked) == 2 else f"the {unmasked[0]} scene"


def run_caveats(manifest: Mapping[str, Any]) -> list[str]:
    """What ``geo run`` warned of a run (``manifest``: as ``manifest.json`` holds it), in the terminal's words:
    the scene selection's warnings and the run's, then how much of the AOI was seen when part of it lies outside
    the scenes or their cloud was not judged (no SCL). Empty for a run without a caveat."""
    from geo.scenes.model import Sensor  # pystac: not for a module that only reads results

    scenes = manifest.get("scenes") or {}
    selection = scenes.get("selection") or {}
    said = [str(w) for w in (*(selection.get("warnings") or ()), *(manifest.get("warnings") or ()))]
    sensor = Sensor.named(manifest.get("sensor")) or Sensor.S2
    unjudged = cloud_unjudged_on(manifest.get("cloud_masked") or {}) if sensor.sees_cloud else None
    clear, outside = float(manifest.get("clear_fraction") or 0.0), outside_scenes_share(scenes)
    if unjudged or seen_shares(clear, outside)[1]:
        said.append(seen_words(clear, outside, sensor, unjudged, left_out_share(manifest)))
    return said


@dataclass(frozen=True)
class JobResult:
    features: list[ChangeFeature]
    claims: list[ClaimVerdict]
    manifest: Manifest
    before: Stack
    after: Stack
    statistic: np.ndarray
    mask: np.ndarray
    aoi: AOI | None = None
    vessels: VesselData | None = None  # when a claim predicts vessels and the vessel job counted them
    # the AOI's areas not compared, lon/lat, one per reason (geo.outputs.not_compared); None: not made yet
    not_compared: tuple[GeoFeature, ...] | None = None
