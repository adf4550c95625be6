"""A toy detector, to show what adding one takes: this module and one registry line (the test registers it
with ``monkeypatch.setitem(DETECTORS, ...)``; a real one gets its line in ``geo.change.detectors``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo.change.detectors.base import STRONG_ROLE, Decision, Description, Detector, Level, NormalisedPair
from geo.change.stats import ChangeStatistic


@dataclass(frozen=True)
class BrighterParams:
    band: str = "red"
    step: float = 0.08  # reflectance the band must gain to be change


class Brighter(Detector[BrighterParams]):
    """Change where the after scene's band, normalised, is brighter by ``step`` or more."""

    name = "toy-brighter"
    version = "1.0"

    @classmethod
    def default_params(cls) -> BrighterParams:
        return BrighterParams()

    def decide(self, pair: NormalisedPair) -> Decision:
        band = pair.bands.index(self.params.band)
        gain = np.where(pair.valid, pair.after_normalised[band] - pair.before[band], np.nan)
        mask = pair.valid & (np.nan_to_num(gain) >= self.params.step)
        return Decision(ChangeStatistic(gain, f"{self.params.band} gain"), mask, self.params.step, 2 * self.params.step)

    def describe(self, decided: Decision) -> Description:
        return Description(f"gain of the {self.params.band} band", "reflectance", "reflectance gained", (
            Level("detection", decided.threshold, "detection level", "pixels above it are change"),
            Level("strong", decided.strong_threshold, "strong level (2 × detection)", STRONG_ROLE),
        ))
