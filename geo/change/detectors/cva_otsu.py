"""``cva-otsu``, the baseline: raw change-vector magnitude (no normalisation), Otsu threshold."""

from __future__ import annotations

from geo.change.detectors.base import STRONG_ROLE, Decision, Description, Detector, Level, NoParams, NormalisedPair


class CvaOtsu(Detector[NoParams]):
    name = "cva-otsu"
    version = "0.1"

    @classmethod
    def default_params(cls) -> NoParams:
        return NoParams()

    def decide(self, pair: NormalisedPair) -> Decision:
        from geo.change.stats import cva_magnitude
        from geo.change.threshold import otsu_threshold

        statistic = cva_magnitude(pair.before, pair.after, pair.valid)
        threshold = otsu_threshold(statistic.values, pair.valid)
        import numpy as np  # here, not at import: the registry is read without numpy (re-check no-op)

        mask = pair.valid & (np.nan_to_num(statistic.values) > threshold)
        return Decision(statistic, mask, threshold, 2 * threshold)

    def describe(self, decided: Decision) -> Description:
        return Description(
            "change-vector magnitude (raw bands)", "reflectance",
            "length of the band-difference vector in reflectance", (
                Level("detection", decided.threshold, "Otsu threshold", "pixels above it are change"),
                Level("strong", decided.strong_threshold, "strong level (2 × threshold)", STRONG_ROLE),
            ))
