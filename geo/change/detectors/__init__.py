"""Change detectors by name. Each turns a co-registered pair into a change mask; every one normalises the
after image onto the before one (IR-MAD invariant pixels + orthogonal regression; the normalised bands
also feed change typing and polygon edges), computes a statistic and decides with a threshold and spatial
regularisation:

==================  =========================================================================================
``local-regression`` red-band local-regression residual, learnt threshold with a seed level, small regions dropped
``cva-chi2``        Mahalanobis D² of normalised band differences, chi-square significance, hysteresis
``irmad-chi2``      IR-MAD chi-square, chi-square significance, hysteresis
``index-chi2``      (dNDVI, dNDWI, dNDBI) whitened, chi-square significance, hysteresis
``cva-otsu``        baseline: raw change-vector magnitude, Otsu threshold, no normalisation
``self-trained``    ``local-regression``'s statistic × 2 P(change), P learnt per pair on its own tails
``local-fusion``    ``local-regression``'s statistic, per-pixel minimum over windows 48/96 px × footprints σ 1/2 px
==================  =========================================================================================

``local-fusion`` is the default (the best on OSCD held out, leave-one-city-out; see README). Adding a detector: a module here with
a ``Detector`` subclass (``base.py``), and its line in ``DETECTORS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from geo.change.detectors.base import Detection, Detector
from geo.change.detectors.cva_chi2 import CvaChi2
from geo.change.detectors.cva_otsu import CvaOtsu
from geo.change.detectors.index_chi2 import IndexChi2
from geo.change.detectors.irmad_chi2 import IrmadChi2
from geo.change.detectors.local_fusion import LocalFusion
from geo.change.detectors.local_regression import LocalRegression
from geo.change.detectors.self_trained import SelfTrained
from geo.errors import ChangeError

__all__ = ["DEFAULT_METHOD", "DETECTORS", "Detection", "Detector", "build_detector", "detector_settings"]

DETECTORS: dict[str, type[Detector[Any]]] = {
    LocalRegression.name: LocalRegression,
    CvaChi2.name: CvaChi2,
    IrmadChi2.name: IrmadChi2,
    IndexChi2.name: IndexChi2,
    CvaOtsu.name: CvaOtsu,
    SelfTrained.name: SelfTrained,
    LocalFusion.name: LocalFusion,
}
DEFAULT_METHOD = LocalFusion.name
# The Sentinel-1 kit's algorithm version (``geo.jobs.sar_kit``), here with the optical detectors' because it
# keys the store's Sentinel-1 chains and a re-check with nothing new reads it without the SAR science.
SAR_VERSION = "sar-logratio/0.1"


def build_detector(method: str = DEFAULT_METHOD, settings: Mapping[str, Any] = MappingProxyType({})) -> Detector[Any]:
    """The detector registered as ``method``, its parameters read now (learnt ones from the package) and
    those it takes from the job's ``settings`` (``geo.jobs.optical_kit.Params`` as a mapping)."""
    try:
        detector = DETECTORS[method]
    except KeyError:
        raise ChangeError(f"unknown change method {method!r}; choose one of {', '.join(DETECTORS)}") from None
    return detector.from_settings(settings)


def detector_settings() -> frozenset[str]:
    """The job settings that only configure a detector: ``method`` and those a detector takes. A detector's
    summary lists the ones it used under its own ``parameters``; the others describe nothing that ran."""
    return frozenset({"method", *(name for detector in DETECTORS.values() for name in detector.job_settings)})
