"""The contract between the change job's spine (``geo.jobs.spine``) and a sensor: the job's inputs, what a
kit hands back at each stage, and the ``SensorKit`` protocol itself.

A new sensor is one module with a class that has these members (``ParamsKit`` gives those read from its
parameters), and one line in ``geo.jobs.kits.KITS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import numpy as np
from geo.vector.feature import ChangeFeature

from geo.aoi import AOI
from geo.claims import Claim
from geo.grid import Grid
from geo.scenes.model import Scene, Sensor
from geo.scenes.read import Stack
from geo.scenes.source import SceneSource
from geo.vector.attributes import PairIdentity

Step = Callable[[str], AbstractContextManager[None]]


@dataclass(frozen=True)
class ChangeJob:
    """An AOI, its claims and the scene pair to compare (``series``: the scenes from before to after on the
    pair's geometry, for a kit that tests a time series; empty otherwise)."""

    aoi: AOI
    claims: tuple[Claim, ...]
    before: Scene
    after: Scene
    pair_reason: Mapping[str, Any] = field(default_factory=dict)
    series: tuple[Scene, ...] = ()


@dataclass(frozen=True)
class AlignedStacks:
    """Both scenes on the job's grid, the after scene moved onto the before scene (or as read, when the
    sensor needs no alignment); ``manifest`` holds what the alignment did, as manifest sections."""

    before: Stack
    after: Stack
    manifest: dict[str, Any]
    warnings: tuple[str, ...] = ()
    # Pixels seen on both dates but left out of the comparison (snow on one date only), and why; None: none.
    excluded: np.ndarray | None = None
    excluded_why: str = ""


@dataclass(frozen=True)
class FoundChanges:
    """What a kit's detector found on the aligned pair: GeoJSON-ready features (lon/lat geometry, the
    contract's properties), the change statistic and mask on the grid, the statistic's description (the
    manifest's ``statistic``, which the report and styles read) and further manifest sections."""

    features: list[ChangeFeature]
    statistic: np.ndarray
    mask: np.ndarray
    description: dict[str, Any]
    manifest: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


class SensorKit(Protocol):
    """One sensor's part of a change job; the spine does the rest."""

    @property
    def sensor(self) -> Sensor: ...

    @property
    def algorithm_version(self) -> str:
        """Stamped on every feature and the manifest; keys re-check chains."""
        ...

    @property
    def resolution(self) -> float: ...

    @property
    def margin_m(self) -> float:
        """Read this far beyond the AOI (context for co-registration or a filter's window)."""
        ...

    @property
    def min_grid_m(self) -> float:
        """The margin grows on an axis where the grid would be narrower than this (a small AOI's context)."""
        ...

    @property
    def min_clear_fraction(self) -> float: ...

    def parameters(self) -> dict[str, Any]:
        """The manifest's ``parameters``."""
        ...

    def select(self, source: SceneSource, aoi: AOI, claims: Sequence[Claim], before: str | None,
               after: str | None) -> ChangeJob:
        """The pair (and series) to compare, from a date or an item id per side, or around the claims."""
        ...

    def read(self, scene: Scene, grid: Grid, role: str = "scene") -> Stack:
        """The kit's bands of ``scene`` on ``grid`` (``role``: how errors name the scene: before, after...)."""
        ...

    def align(self, job: ChangeJob, grid: Grid, step: Step) -> AlignedStacks: ...

    def detect(self, job: ChangeJob, pair: AlignedStacks, grid: Grid, inside: np.ndarray,
               identity: PairIdentity, step: Step) -> FoundChanges:
        """Changes on the pair inside the AOI (``inside``), their features stamped with ``identity``."""
        ...


class KitParams(Protocol):
    """What the spine reads from a kit's parameters (a frozen dataclass, written whole to the manifest)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def resolution(self) -> float: ...

    @property
    def margin_m(self) -> float: ...

    @property
    def min_grid_m(self) -> float: ...

    @property
    def min_clear_fraction(self) -> float: ...


Params_ = TypeVar("Params_", bound=KitParams)


class ParamsKit(Generic[Params_]):
    """The ``SensorKit`` members a kit takes from its parameters; kits subclass it."""

    def __init__(self, params: Params_) -> None:
        self.params = params

    @property
    def resolution(self) -> float:
        return self.params.resolution

    @property
    def margin_m(self) -> float:
        return self.params.margin_m

    @property
    def min_grid_m(self) -> float:
        return self.params.min_grid_m

    @property
    def min_clear_fraction(self) -> float:
        return self.params.min_clear_fraction

    def parameters(self) -> dict[str, Any]:
        return asdict(self.params)
