"""What every change detector is: a value with a ``name``, a ``version`` and frozen ``params``, that turns
a co-registered pair into a ``Detection`` and describes the statistic it applied.

``algorithm_version`` is ``name/version+digest``: the digest covers the detector's effective parameters
(learnt ones included, read once when the detector is built), so a re-learnt parameter file, like a new
version, is a new algorithm: it is stamped on every feature and manifest and keys the re-check store.

A re-check with nothing new builds the detector only for that key, and must not import the science
(scipy, scikit-image: ``tests/recheck/test_noop_imports.py``); detectors import it inside ``decide``.

**Large grids: two phases, bounded memory.** A statistic over a whole Sentinel-2 tile (120 Mpx) cannot be
computed with whole-image float64 temporaries. A detector whose statistic reads a neighbourhood (a local
fit, a filter, a footprint) splits it in two phases, as ``local-regression`` does
(``geo.change.local_blocks``):

1. *fit*: every global quantity (a normalisation, a robust centre and scale, a fallback fit, a
   covariance, a threshold) from a bounded sample (``geo.change.sampling``: exact up to a million pixels;
   ``geo.change.normalise`` fits IR-MAD this way), or from sums streamed over blocks;
2. *apply*: the per-pixel statistic block by block (``geo.change.tiling.layout``), each block read with a
   halo at least the statistic's reach, so its core equals the whole-image statistic given the same global
   quantities; blocks go through ``NormalisedPair.runner`` (this process, or a Dask cluster: a
   module-level function of the block's own arrays).

A grid of one block may be computed whole (the same figures). Keep per-pixel arrays float32 unless a
precision is shown to matter. The decision on the statistic (thresholds, hysteresis, region sieving) and
polygonising (``geo.vector.polygonize``: per block, merged across seams) run on the assembled grid.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    import numpy as np

    from geo.change.normalise import IRMAD, BandFit
    from geo.change.normalised_stack import NormalisedStack
    from geo.change.tiling import BlockRunner
    from geo.change.stats import ChangeStatistic

P = TypeVar("P", bound="DataclassInstance")
DIGEST_CHARS = 8
STRONG_ROLE = "a polygon's confidence is the share of its pixels above it"


@dataclass(frozen=True)
class NoParams:
    """The parameters of a detector that has none."""


def parameter_digest(params: DataclassInstance) -> str:
    """A short digest of ``params`` (their JSON, keys sorted): equal parameters, equal digest."""
    text = json.dumps(asdict(params), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_CHARS]


def edge_band(sigma_px: float) -> int:
    """How far outside an object a decision on a statistic smoothed by ``sigma_px`` can spill."""
    return max(2, int(round(1.5 * sigma_px)))


@dataclass(frozen=True)
class Level:
    """A level of the statistic that the detector applied, and what it decided there."""

    key: str  # detection, grow, seed or strong (the keys of the output styles)
    value: float
    label: str  # e.g. "seed level (1.5 × detection)"
    role: str  # what the level does, in words

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "value": round(self.value, 4), "label": self.label, "role": self.role}


@dataclass(frozen=True)
class Description:
    """How a detector describes itself in manifests, reports and styles."""

    label: str  # what the statistic is, e.g. "local-regression residual of the red band"
    unit: str  # short, for column headings: "mean |z|", "χ²", "reflectance"
    unit_long: str  # what one unit is, in words
    levels: tuple[Level, ...]


@dataclass(frozen=True)
class NormalisedPair:
    """What a detector decides on: two (band, row, col) reflectance stacks on one grid, the after one also
    normalised onto the before one (IR-MAD invariant pixels + orthogonal regression)."""

    before: np.ndarray
    after: np.ndarray  # as read
    after_normalised: NormalisedStack
    valid: np.ndarray
    bands: tuple[str, ...]
    irmad: IRMAD
    runner: BlockRunner | None = None  # who computes blocks of a large grid (None: this process; module notes)


@dataclass(frozen=True)
class Decision:
    statistic: ChangeStatistic
    mask: np.ndarray
    threshold: float  # the lowest statistic a changed pixel can have (hysteresis: the grow level)
    strong_threshold: float  # hysteresis: the seed level; otherwise twice ``threshold``. Pixels above it
    # count towards a polygon's confidence.


@dataclass(frozen=True)
class Detection:
    method: str  # the detector's name
    algorithm_version: str
    statistic: ChangeStatistic
    mask: np.ndarray
    threshold: float  # see Decision
    strong_threshold: float
    after_normalised: NormalisedStack
    fits: list[BandFit]
    irmad: IRMAD
    description: Description
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def min_area_px(self) -> int:
        """The detector's own minimum region area (0 when it has none); the region step applies it again
        after trimming edges, so what is output is never smaller."""
        return int(self.parameters.get("min_area_px", 0))

    @property
    def edge_px(self) -> int:
        """How far outside an object a decision can spill: ~1.5σ of a smoothed statistic, at least 2 px
        (mixed pixels, residual misregistration). The region step trims that band back to the half-maximum."""
        return edge_band(float(self.parameters.get("sigma_px", 0.0)))

    def summary(self) -> dict[str, Any]:
        """The detector as it ran (manifest ``statistic``): every label, legend and provenance line of the
        outputs comes from here. ``threshold_grow`` is the lowest level a changed pixel can have,
        ``threshold_seed`` the level a region must reach (the grow level when there is none)."""
        levels = {level.key: level.value for level in self.description.levels}
        return {
            "method": self.method,
            "name": self.statistic.name,
            "label": self.description.label,
            "unit": self.description.unit,
            "unit_long": self.description.unit_long,
            **({"dof": self.statistic.dof} if self.statistic.dof is not None else {}),
            "threshold_grow": round(self.threshold, 4),
            "threshold_seed": round(levels.get("seed", self.threshold), 4),
            "threshold_strong": round(self.strong_threshold, 4),
            "levels": [level.to_dict() for level in self.description.levels],
            "parameters": self.parameters,
            "irmad": self.irmad.to_dict(),
            "changed_fraction": round(float(self.mask.mean()), 5),
        }


class Detector(ABC, Generic[P]):
    """A change detector with its parameters. Subclasses set ``name`` and ``version`` (bump it when the
    method changes) and implement ``default_params``, ``decide`` and ``describe``; the registry
    (``geo.change.detectors.DETECTORS``) lists them by name."""

    name: ClassVar[str]
    version: ClassVar[str]
    job_settings: ClassVar[tuple[str, ...]] = ()  # job settings (geo.jobs.optical_kit.Params) that are parameters of it

    def __init__(self, params: P) -> None:
        self._params = params
        self._algorithm_version = f"{self.name}/{self.version}+{parameter_digest(params)}"

    @property
    def params(self) -> P:
        return self._params

    @property
    def algorithm_version(self) -> str:
        """``name/version+digest`` of the parameters it runs with."""
        return self._algorithm_version

    @classmethod
    @abstractmethod
    def default_params(cls) -> P:
        """The parameters it runs with unless told otherwise (shipped learnt ones are read here)."""

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """The detector with its default parameters, those among ``job_settings`` taken from ``settings``."""
        given = {name: settings[name] for name in cls.job_settings if name in settings}
        return cls(replace(cls.default_params(), **given))

    def parameters(self) -> dict[str, Any]:
        return asdict(self.params)

    def detect(self, before: np.ndarray, after: np.ndarray, valid: np.ndarray, bands: Sequence[str],
               runner: BlockRunner | None = None) -> Detection:
        """Change between two co-registered (band, row, col) stacks of reflectance over ``valid`` pixels.
        Every detector's after stack is normalised: change typing and polygon edges use it. ``runner``
        computes the blocks of a large grid (see the module notes)."""
        from geo.change.normalise import normalise_lazily

        after_normalised, fits, _, irmad = normalise_lazily(before, after, valid)
        decided = self.decide(NormalisedPair(before, after, after_normalised, valid, tuple(bands), irmad, runner))
        return Detection(
            self.name, self.algorithm_version, decided.statistic, decided.mask, decided.threshold,
            decided.strong_threshold, after_normalised, fits, irmad, self.describe(decided), self.parameters(),
        )

    @abstractmethod
    def decide(self, pair: NormalisedPair) -> Decision:
        """The statistic over the pair and the changed pixels."""

    @abstractmethod
    def describe(self, decided: Decision) -> Description:
        """What the statistic is and the levels the decision applied, for the outputs."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"
