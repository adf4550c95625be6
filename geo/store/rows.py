"""The rows a results store hands back: scenes of a chain, where a chain stands, its pairs (values, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SceneRef:
    id: str
    datetime: datetime


@dataclass(frozen=True)
class Chain:
    """Where an AOI's re-checks stand for one algorithm version."""

    baseline: SceneRef
    baseline_reason: str
    head: SceneRef  # newest usable after-scene (the baseline until a pair is done)


@dataclass(frozen=True)
class PairRow:
    before: SceneRef
    after: SceneRef
    status: str
    clear_fraction: float | None
    run_id: int
    # Share of the AOI each scene does not hold (outside its footprint); None: not recorded (a pair of an older store)
    nodata_fractions: tuple[float | None, float | None] = (None, None)
    # Whether both scenes' cloud was masked (their SCL read), from the pair's manifest; None: not recorded
    cloud_judged: bool | None = None

    @property
    def outside_fraction(self) -> float | None:
        """Share of the AOI outside the pair's scenes (the larger: a pixel missing on either date is not seen);
        None when unknown."""
        before, after = self.nodata_fractions
        return None if before is None or after is None else max(before, after)


@dataclass(frozen=True)
class ReadFailure:
    """A scene whose reading failed in ``n_runs`` consecutive re-checks of its AOI's chain, the first at
    ``first_failed_at`` (UTC)."""

    scene_id: str
    n_runs: int
    first_failed_at: datetime
    last_error: str
