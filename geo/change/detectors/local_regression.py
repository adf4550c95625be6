"""``local-regression``: the red band of each date predicted from the other by a robust linear fit over
its ~1 km neighbourhood; the residuals in robust standard deviations, averaged over a Gaussian footprint,
decided with a learnt threshold and seed level, small regions dropped (README, *The detector*). Its
parameters are learnt by ``benchmarks/learn_oscd.py`` and ship in ``geo/change/params/``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from geo.change.detectors.base import STRONG_ROLE, Decision, Description, Detector, Level, NormalisedPair

if TYPE_CHECKING:  # numpy is imported where the science runs: the registry is read without it
    import numpy as np

PARAMS_RESOURCE = "local_regression.json"


@dataclass(frozen=True)
class LocalParams:
    """Parameters of ``local-regression``. ``shipped()`` reads the values learnt on the OSCD dev cities."""

    band: str = "red"
    window_px: int = 96  # neighbourhood of the local fit (~1 km at 10 m)
    sigma_px: float = 1.5  # Gaussian footprint of the decision (~object scale)
    threshold: float = 3.0  # mean |z| of the residuals, in robust standard deviations
    seed_factor: float = 1.0  # a region must reach seed_factor × threshold somewhere (hysteresis)
    min_area_px: int = 16  # regions smaller than this are dropped

    @classmethod
    def shipped(cls) -> LocalParams:
        return cls(**read_shipped(PARAMS_RESOURCE, cls.__dataclass_fields__))


def read_shipped(resource: str, names: Iterable[str]) -> dict[str, Any]:
    """The parameters ``names`` from a learnt parameter file shipped in ``geo.change.params``."""
    data = json.loads(resources.files("geo.change.params").joinpath(resource).read_text())
    return {k: data["parameters"][k] for k in names}


def local_decision(score: np.ndarray, valid: np.ndarray, threshold: float, seed_factor: float) -> np.ndarray:
    """Pixels above ``threshold`` in regions that reach ``seed_factor × threshold`` somewhere: an object
    needs a clearly changed core, so the faint rim that residual misregistration leaves along the edges of
    bright, unchanged objects is not one. (scikit-image's hysteresis, 4-connected, on masks made in strips
    of rows: no float64 copy of a large grid's statistic.)"""
    return seeded_regions(score, valid, threshold, seed_factor)[0]


def seeded_regions(score: np.ndarray, valid: np.ndarray, threshold: float,
                   seed_factor: float) -> tuple[np.ndarray, int | None]:
    """``local_decision`` and the number of 4-connected regions it kept (None: not counted, no seed level)."""
    import numpy as np
    from scipy import ndimage as ndi

    from geo.change.labels import label_compact, most_regions

    low = above(score, valid, threshold)
    if seed_factor <= 1.0:
        return low, None
    labels, count = label_compact(low, ndi.generate_binary_structure(2, 1), most_regions(low))
    del low  # a large grid's masks are 1 byte a pixel each, its labels 2 or 4
    seeded = np.zeros(count + 1, bool)
    rows = 1024
    for start in range(0, valid.shape[0], rows):  # the regions reaching the seed level, a strip at a time
        strip = slice(start, start + rows)
        seeded[labels[strip][above(score[strip], valid[strip], seed_factor * threshold)]] = True
    seeded[0] = False
    kept: np.ndarray = seeded[labels]
    return kept, int(np.count_nonzero(seeded))


def above(score: np.ndarray, valid: np.ndarray, level: float, rows: int = 1024) -> np.ndarray:
    """``valid & (score > level)`` (``level`` >= 0: NaN is never above it), in strips of ``rows`` rows."""
    import numpy as np

    from geo.scenes.scratch import release

    out = np.empty(valid.shape, bool)
    for start in range(0, valid.shape[0], rows):
        strip = slice(start, start + rows)
        out[strip] = valid[strip] & (score[strip] > level)
        release()
    return out


def local_regions(score: np.ndarray, valid: np.ndarray, threshold: float, seed_factor: float,
                  min_area_px: int) -> np.ndarray:
    """``local_decision`` without its regions smaller than ``min_area_px`` (8-connected: no more of them
    than the 4-connected regions kept, so their labels can be as small as that count allows)."""
    from geo.change.threshold import drop_small

    kept, regions = seeded_regions(score, valid, threshold, seed_factor)
    return drop_small(kept, min_area_px, regions)

def decision_levels(threshold: float, seed_factor: float) -> tuple[Level, ...]:
    """The levels ``local_decision`` applies (and the strong level), for the outputs."""
    levels = [Level("detection", threshold, "detection level", "pixels above it can be change")]
    if seed_factor > 1.0:
        levels.append(Level("seed", threshold * seed_factor, f"seed level ({seed_factor:g} × detection)",
                            "a changed region must reach it somewhere"))
    levels.append(Level("strong", 2 * threshold, "strong level (2 × detection)", STRONG_ROLE))
    return tuple(levels)


class LocalRegression(Detector[LocalParams]):
    name = "local-regression"
    version = "0.3"  # 0.3: changes wider than the window screened out of the fits (geo.change.gross)

    @classmethod
    def default_params(cls) -> LocalParams:
        return LocalParams.shipped()

    def decide(self, pair: NormalisedPair) -> Decision:
        from geo.change.stats import local_change

        p = self.params
        statistic = local_change(pair.before, pair.after_normalised, pair.valid, pair.bands, p.band, p.window_px,
                                 p.sigma_px, pair.runner)
        mask = local_regions(statistic.values, pair.valid, p.threshold, p.seed_factor, p.min_area_px)
        return Decision(statistic, mask, p.threshold, 2 * p.threshold)

    def describe(self, decided: Decision) -> Description:
        p = self.params
        return Description(
            f"local-regression residual of the {p.band} band", "mean |z|",
            f"robust standard deviations of the residual, averaged over a Gaussian footprint (σ {p.sigma_px:g} px)",
            decision_levels(p.threshold, p.seed_factor),
        )
