"""The chi-square detectors' common part: a statistic distributed as chi-square with ``dof`` degrees of
freedom where nothing changed, seeds significant at ``alpha`` grown through neighbours significant at
``alpha_grow`` (hysteresis). On real scenes a season or two apart a Gaussian no-change model is significant
almost everywhere at these sample sizes: they flag most of the scene (README, *Change detection*)."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from geo.change.detectors.base import STRONG_ROLE, Decision, Description, Detector, Level, NormalisedPair

if TYPE_CHECKING:
    from geo.change.stats import ChangeStatistic


@dataclass(frozen=True)
class ChiSquareParams:
    alpha: float = 1e-4  # significance of a seed pixel
    alpha_grow: float = 1e-2  # significance for growing seeds into their neighbours


class ChiSquareDetector(Detector[ChiSquareParams]):
    label: ClassVar[str]  # what the statistic is, in words
    job_settings = ("alpha", "alpha_grow")

    @classmethod
    def default_params(cls) -> ChiSquareParams:
        return ChiSquareParams()

    @abstractmethod
    def statistic(self, pair: NormalisedPair) -> ChangeStatistic:
        """The chi-square statistic over the pair."""

    def decide(self, pair: NormalisedPair) -> Decision:
        from geo.change.threshold import change_mask, chi2_threshold

        p, statistic = self.params, self.statistic(pair)
        dof = self.dof(statistic)
        mask = change_mask(statistic.values, pair.valid, dof, p.alpha, p.alpha_grow)
        return Decision(statistic, mask, chi2_threshold(dof, p.alpha_grow), chi2_threshold(dof, p.alpha))

    @staticmethod
    def dof(statistic: ChangeStatistic) -> int:
        return int(statistic.dof or 1)

    def describe(self, decided: Decision) -> Description:
        p, dof = self.params, self.dof(decided.statistic)
        return Description(
            self.label, "χ²", f"chi-square with {dof} degrees of freedom where nothing changed", (
                Level("grow", decided.threshold, f"grow level (α = {p.alpha_grow:g})",
                      "seeds grow through neighbours above it"),
                Level("seed", decided.strong_threshold, f"seed level (α = {p.alpha:g})",
                      "a change must reach it somewhere; " + STRONG_ROLE),
            ))
