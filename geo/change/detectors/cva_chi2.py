"""``cva-chi2``: Mahalanobis D² of the normalised band differences, chi-square significance, hysteresis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo.change.detectors.base import NormalisedPair
from geo.change.detectors.chi_square import ChiSquareDetector

if TYPE_CHECKING:
    from geo.change.stats import ChangeStatistic


class CvaChi2(ChiSquareDetector):
    name = "cva-chi2"
    version = "0.1"
    label = "Mahalanobis D² of the normalised band differences"

    def statistic(self, pair: NormalisedPair) -> ChangeStatistic:
        from geo.change.stats import mahalanobis_change

        return mahalanobis_change(pair.before, pair.after_normalised.materialise(), pair.valid)
