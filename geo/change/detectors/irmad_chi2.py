"""``irmad-chi2``: the IR-MAD chi-square of the canonical differences, significance, hysteresis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo.change.detectors.base import NormalisedPair
from geo.change.detectors.chi_square import ChiSquareDetector

if TYPE_CHECKING:
    from geo.change.stats import ChangeStatistic


class IrmadChi2(ChiSquareDetector):
    name = "irmad-chi2"
    version = "0.1"
    label = "IR-MAD chi-square of the canonical differences"

    def statistic(self, pair: NormalisedPair) -> ChangeStatistic:
        from geo.change.stats import irmad_change

        return irmad_change(pair.irmad)
