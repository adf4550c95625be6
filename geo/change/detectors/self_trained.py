"""``self-trained``: the ``local-regression`` statistic re-weighted per pair by a logistic regression learnt
on the statistic's own confident tails (``geo.change.self_training``), decided as ``local-regression`` is
(threshold, seed level, minimum area). The tails and regularisation were fixed before scoring; the
decision levels are learnt by ``benchmarks/oscd_learned.py --write`` and ship in ``geo/change/params/``."""

from __future__ import annotations

from dataclasses import dataclass

from geo.change.detectors.base import Decision, Description, Detector, NormalisedPair
from geo.change.detectors.local_regression import decision_levels, local_regions, read_shipped

PARAMS_RESOURCE = "self_trained.json"


@dataclass(frozen=True)
class SelfTrainedParams:
    """Parameters of ``self-trained``; ``shipped()`` reads the values learnt on the OSCD dev cities."""

    band: str = "red"  # the statistic's (local-regression's)
    window_px: int = 96
    sigma_px: float = 1.5
    high: float = 4.0  # statistic above it: a change row of the pair's regression
    low: float = 1.5  # below it: a no-change row
    c: float = 0.1  # inverse L2 regularisation of the regression
    threshold: float = 2.7  # of the re-weighted statistic (mean |z| × 2 P(change))
    seed_factor: float = 1.5
    min_area_px: int = 8

    @classmethod
    def shipped(cls) -> SelfTrainedParams:
        return cls(**read_shipped(PARAMS_RESOURCE, cls.__dataclass_fields__))


class SelfTrained(Detector[SelfTrainedParams]):
    name = "self-trained"
    version = "0.2"  # 0.2: its statistic screens changes wider than the window (geo.change.gross)

    @classmethod
    def default_params(cls) -> SelfTrainedParams:
        return SelfTrainedParams.shipped()

    def decide(self, pair: NormalisedPair) -> Decision:
        from geo.change.self_training import reweighted
        from geo.change.stats import ChangeStatistic, local_change
        from geo.change.tiling import run_serial

        p, a, b = self.params, pair.after_normalised.materialise(), pair.before
        statistic = local_change(b, a, pair.valid, pair.bands, p.band, p.window_px, p.sigma_px, pair.runner)
        values, model = reweighted(b, a, pair.valid, pair.bands, statistic.values, p.high, p.low, p.c,
                                   pair.runner or run_serial)
        details = {**statistic.details, "self_trained": model is not None}  # False: no tail, the statistic as is
        mask = local_regions(values, pair.valid, p.threshold, p.seed_factor, p.min_area_px)
        return Decision(ChangeStatistic(values, self.name, details=details), mask, p.threshold, 2 * p.threshold)

    def describe(self, decided: Decision) -> Description:
        p = self.params
        return Description(
            f"local-regression residual of the {p.band} band × 2 P(change) learnt on the pair's own tails",
            "mean |z| × 2P",
            f"robust standard deviations of the residual over a Gaussian footprint (σ {p.sigma_px:g} px), times "
            "twice the probability of change the pair's own band and index changes give",
            decision_levels(p.threshold, p.seed_factor),
        )
