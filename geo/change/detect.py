"""Change detection methods: one entry point from a co-registered pair to a change mask.

Every method normalises the after image onto the before one (IR-MAD invariant pixels + orthogonal
regression; the normalised bands also feed change typing and polygon edges), computes a statistic and
turns it into a decision with a threshold and spatial regularisation:

==================  =========================================================================================
``cva-otsu``        baseline: raw change-vector magnitude, Otsu threshold, no normalisation
``cva-chi2``        Mahalanobis D² of normalised band differences, chi-square significance, hysteresis
``irmad-chi2``      IR-MAD chi-square, chi-square significance, hysteresis
``index-chi2``      (dNDVI, dNDWI, dNDBI) whitened, chi-square significance, hysteresis
``local-regression`` red-band local-regression residual, learnt threshold with a seed level, small regions dropped
==================  =========================================================================================

The chi-square methods flag most of a real scene a season or two apart: a Gaussian no-change model is
significant everywhere at these sample sizes. ``local-regression`` is the default (the best on OSCD; see
README); its four parameters are learnt by ``benchmarks/learn_oscd.py`` and ship in ``params/``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from typing import Any

import numpy as np
from skimage.filters import apply_hysteresis_threshold

from geo.change.normalise import IRMAD, BandFit, normalise
from geo.change.stats import ChangeStatistic, cva_magnitude, index_change, irmad_change, local_change, mahalanobis_change
from geo.change.threshold import change_mask, chi2_threshold, drop_small, otsu_threshold
from geo.errors import ChangeError

METHODS = ("local-regression", "cva-chi2", "irmad-chi2", "index-chi2", "cva-otsu")
DEFAULT_METHOD = "local-regression"
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
        data = json.loads(resources.files("geo.change.params").joinpath(PARAMS_RESOURCE).read_text())
        return cls(**{k: data["parameters"][k] for k in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def local_decision(score: np.ndarray, valid: np.ndarray, threshold: float, seed_factor: float) -> np.ndarray:
    """Pixels above ``threshold`` in regions that reach ``seed_factor × threshold`` somewhere: an object
    needs a clearly changed core, so the faint rim that residual misregistration leaves along the edges of
    bright, unchanged objects is not one."""
    values = np.where(valid, np.nan_to_num(score), 0.0)
    if seed_factor <= 1.0:
        return valid & (values > threshold)
    return valid & apply_hysteresis_threshold(values, threshold, seed_factor * threshold)


def edge_band(sigma_px: float) -> int:
    return max(2, int(round(1.5 * sigma_px)))


@dataclass(frozen=True)
class ChiSquareParams:
    alpha: float = 1e-4  # significance of a seed pixel
    alpha_grow: float = 1e-2  # significance for growing seeds into their neighbours


# Job settings (geo.pipeline.Params) that only configure a detector: a detector's summary lists the ones it
# used under its own ``parameters``; the others describe nothing that ran.
DETECTOR_SETTINGS = ("method", *(f.name for f in fields(ChiSquareParams)))


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


STRONG_ROLE = "a polygon's confidence is the share of its pixels above it"


def _local_description(p: LocalParams) -> Description:
    seed = p.threshold * p.seed_factor
    levels = [Level("detection", p.threshold, "detection level", "pixels above it can be change")]
    if p.seed_factor > 1.0:
        levels.append(Level("seed", seed, f"seed level ({p.seed_factor:g} × detection)",
                            "a changed region must reach it somewhere"))
    levels.append(Level("strong", 2 * p.threshold, "strong level (2 × detection)", STRONG_ROLE))
    return Description(
        f"local-regression residual of the {p.band} band", "mean |z|",
        f"robust standard deviations of the residual, averaged over a Gaussian footprint (σ {p.sigma_px:g} px)",
        tuple(levels),
    )


CHI_SQUARE_LABELS = {
    "cva-chi2": "Mahalanobis D² of the normalised band differences",
    "irmad-chi2": "IR-MAD chi-square of the canonical differences",
    "index-chi2": "whitened change of NDVI, NDWI and NDBI",
}


def _chi_square_description(method: str, dof: int, p: ChiSquareParams) -> Description:
    return Description(
        CHI_SQUARE_LABELS[method], "χ²", f"chi-square with {dof} degrees of freedom where nothing changed", (
            Level("grow", chi2_threshold(dof, p.alpha_grow), f"grow level (α = {p.alpha_grow:g})",
                  "seeds grow through neighbours above it"),
            Level("seed", chi2_threshold(dof, p.alpha), f"seed level (α = {p.alpha:g})",
                  "a change must reach it somewhere; " + STRONG_ROLE),
        ))


def _otsu_description(threshold: float) -> Description:
    return Description(
        "change-vector magnitude (raw bands)", "reflectance", "length of the band-difference vector in reflectance", (
            Level("detection", threshold, "Otsu threshold", "pixels above it are change"),
            Level("strong", 2 * threshold, "strong level (2 × threshold)", STRONG_ROLE),
        ))


@dataclass(frozen=True)
class Detection:
    method: str
    statistic: ChangeStatistic
    mask: np.ndarray
    threshold: float  # the lowest statistic a changed pixel can have (hysteresis: the grow level)
    strong_threshold: float  # hysteresis: the seed level; otherwise twice ``threshold``. Pixels above it
    # count towards a polygon's confidence.
    after_normalised: np.ndarray
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


def detect(
    before: np.ndarray,
    after: np.ndarray,
    valid: np.ndarray,
    bands: Sequence[str],
    method: str = DEFAULT_METHOD,
    local: LocalParams | None = None,
    chi_square: ChiSquareParams = ChiSquareParams(),
) -> Detection:
    """Change between two co-registered (band, row, col) stacks of reflectance over ``valid`` pixels."""
    if method not in METHODS:
        raise ChangeError(f"unknown change method {method!r}; choose one of {', '.join(METHODS)}")
    after_n, fits, _, mad = normalise(before, after, valid)
    if method == "cva-otsu":
        stat = cva_magnitude(before, after, valid)
        threshold = otsu_threshold(stat.values, valid)
        mask = valid & (np.nan_to_num(stat.values) > threshold)
        return Detection(method, stat, mask, threshold, 2 * threshold, after_n, fits, mad, _otsu_description(threshold))
    if method == "local-regression":
        p = local or LocalParams.shipped()
        stat = local_change(before, after_n, valid, bands, p.band, p.window_px, p.sigma_px)
        mask = drop_small(local_decision(stat.values, valid, p.threshold, p.seed_factor), p.min_area_px)
        return Detection(method, stat, mask, p.threshold, 2 * p.threshold, after_n, fits, mad, _local_description(p),
                         p.to_dict())
    if method == "cva-chi2":
        stat = mahalanobis_change(before, after_n, valid)
    elif method == "irmad-chi2":
        stat = irmad_change(mad)
    else:
        stat = index_change(before, after_n, valid, bands)
    dof = int(stat.dof or 1)
    mask = change_mask(stat.values, valid, dof, chi_square.alpha, chi_square.alpha_grow)
    return Detection(method, stat, mask, chi2_threshold(dof, chi_square.alpha_grow), chi2_threshold(dof, chi_square.alpha),
                     after_n, fits, mad, _chi_square_description(method, dof, chi_square),
                     asdict(chi_square))
