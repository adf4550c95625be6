"""``index-chi2``: the change of (NDVI, NDWI, NDBI), whitened, chi-square significance, hysteresis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo.change.detectors.base import NormalisedPair
from geo.change.detectors.chi_square import ChiSquareDetector

if TYPE_CHECKING:
    from geo.change.stats import ChangeStatistic


class IndexChi2(ChiSquareDetector):
    name = "index-chi2"
    version = "0.1"
    label = "whitened change of NDVI, NDWI and NDBI"

    def statistic(self, pair: NormalisedPair) -> ChangeStatistic:
        from geo.change.stats import index_change

        return index_change(pair.before, pair.after_normalised.materialise(), pair.valid, pair.bands)
