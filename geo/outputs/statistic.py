"""The change statistic as the outputs name it: label, unit and the levels that were applied, read from a
run's manifest (``statistic``, written by the detector that ran: ``geo.change.detectors.Detection.summary``).

Manifests built by hand (the SAR job) or by older versions carry only a name and the grow and seed
thresholds; ``describe`` fills in the rest from those, so the report and the styles never invent a label
(no "χ²" or degrees of freedom for a statistic without them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from geo.change.detectors import detector_settings
from geo.results import NOT_COMPUTED


@dataclass(frozen=True)
class LevelView:
    key: str
    value: float
    label: str
    role: str


@dataclass(frozen=True)
class StatisticView:
    method: str
    label: str
    unit: str  # "" when the manifest does not say
    unit_long: str
    dof: int | None
    levels: tuple[LevelView, ...]
    parameters: dict[str, Any]  # the detector's own settings ({} when it did not list them)

    @property
    def grow(self) -> float:
        """The lowest level: a changed pixel is never below it."""
        return min(level.value for level in self.levels)

    @property
    def top(self) -> float:
        """Where a colour ramp over the statistic saturates."""
        return 4.0 * max(level.value for level in self.levels)

    def heading(self) -> str:
        """A column heading for scores: "Score (mean |z|)"; just "Score" when the unit is unknown."""
        return f"Score ({self.unit})" if self.unit else "Score"


def _fallback_levels(statistic: Mapping[str, Any]) -> tuple[LevelView, ...]:
    grow, seed = float(statistic["threshold_grow"]), float(statistic["threshold_seed"])
    levels = [LevelView("grow", grow, "detection level", "pixels above it can be change")]
    if seed > grow:
        levels.append(LevelView("seed", seed, "seed level", "a change must reach it somewhere"))
    return tuple(levels)


def describe(statistic: Mapping[str, Any]) -> StatisticView:
    """What the outputs say about a run's statistic (``manifest["statistic"]``); one not computed (a pair not
    compared, ``geo.jobs.unseen``) has no level."""
    levels = tuple(LevelView(str(level["key"]), float(level["value"]), str(level["label"]), str(level["role"]))
                   for level in statistic.get("levels", []))
    if not levels and statistic.get("name") != NOT_COMPUTED:
        levels = _fallback_levels(statistic)
    dof = statistic.get("dof")
    return StatisticView(
        str(statistic.get("method", statistic.get("name", ""))), str(statistic.get("label", statistic.get("name", ""))),
        str(statistic.get("unit", "")), str(statistic.get("unit_long", "")), None if dof is None else int(dof), levels,
        dict(statistic.get("parameters", {})),
    )


def job_parameters(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The job's settings worth showing beside the detector's: those that configure a detector are left out
    when the detector listed its own (a local-regression run shows no chi-square significance levels)."""
    parameters = dict(manifest.get("parameters", {}))
    if "parameters" not in manifest.get("statistic", {}):
        return parameters
    configure = detector_settings()
    return {k: v for k, v in parameters.items() if k not in configure}
