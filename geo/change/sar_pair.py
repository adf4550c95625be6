"""SAR change on scene stacks (``geo.scenes.read.Stack`` of VV/VH intensity on one grid): the pair test over
both polarisations (Bonferroni), the unfiltered local log-ratio that finds an object's edge, and the omnibus
test over a series. The tests themselves are ``geo.change.sar``; this module applies them to stacks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from geo.change.sar import PairChange, SeriesChange, lee_filter, log_ratio_change, looks_from_log_ratio_spread, \
    omnibus_change
from geo.errors import ChangeError
from geo.scenes.read import Stack


@dataclass(frozen=True)
class PairTest:
    tests: dict[str, PairChange]
    p_value: np.ndarray  # Bonferroni-combined, NaN where invalid
    log_ratio: np.ndarray  # ln(after / before) of the most significant polarisation per pixel
    changed: np.ndarray

    @property
    def significance(self) -> np.ndarray:
        """-log10 of the combined p-value (the change statistic), NaN where invalid."""
        return np.asarray(-np.log10(np.maximum(self.p_value, 1e-300)))


def pair_test(before: Stack, after: Stack, looks: float | None, alpha: float, filter_size: int) -> PairTest:
    """The log-ratio test per polarisation (``looks``: None estimates them from the pair), combined: a pixel
    changed if min(p) < ``alpha`` / n_polarisations, so the pair's false-alarm rate stays at most ``alpha``."""
    if before.bands != after.bands:
        raise ChangeError(f"before scene {before.scene.id} has {'/'.join(before.bands)}, after scene "
                          f"{after.scene.id} has {'/'.join(after.bands)}: a pair needs the same polarisations")
    valid = before.valid & after.valid
    tests = {pol: log_ratio_change(before.band(pol), after.band(pol), looks, alpha, filter_size, valid)
             for pol in before.bands}
    p_values = np.stack([np.nan_to_num(t.p_value, nan=1.0) for t in tests.values()])
    best = np.argmin(p_values, axis=0)
    combined = np.minimum(1.0, len(tests) * p_values.min(axis=0))  # Bonferroni over the polarisations
    ratios = np.stack([np.nan_to_num(t.log_ratio) for t in tests.values()])
    log_ratio = np.take_along_axis(ratios, best[None], axis=0)[0]
    combined = np.where(valid, combined, np.nan)
    return PairTest(tests, combined, log_ratio, valid & (np.nan_to_num(combined, nan=1.0) < alpha))


def local_log_ratio(before: Stack, after: Stack, window: int) -> np.ndarray:
    """(polarisation, row, col) mean of ln(after / before) of the unfiltered intensities over a small
    window. The speckle filter lets a strong target bleed into its neighbours (their windows hold it);
    averaged in the log domain a pixel next to a target changes by a third of the target's change, one
    on its edge by two thirds, so the half-maximum contour of this field is the object's edge."""
    valid = before.valid & after.valid
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(valid, np.log(after.data / before.data), 0.0)
    weight = ndi.uniform_filter(valid.astype(float), window, mode="reflect")
    out = np.stack([ndi.uniform_filter(band, window, mode="reflect") for band in ratio])
    return np.asarray(np.where(weight > 0, out / np.maximum(weight, 1e-9), 0.0))


def filtered_co_pol(stack: Stack, looks: float, filter_size: int) -> np.ndarray:
    """The co-polarised band (VV, or HH: the first) Lee-filtered, NaN where invalid."""
    vv = stack.band(stack.bands[0])
    filled = np.where(stack.valid, vv, np.nanmedian(vv[stack.valid]))
    return np.asarray(np.where(stack.valid, lee_filter(filled, looks, filter_size), np.nan))


def multilook(stack: Stack, window: int) -> np.ndarray:
    """Each band's boxcar mean over ``window`` (more looks, same pixels), NaN where invalid."""
    data = stack.data.astype(np.float64)
    out = np.empty_like(data)
    for index, band in enumerate(data):
        filled = np.where(stack.valid, band, np.nanmedian(band[stack.valid]))
        out[index] = ndi.uniform_filter(filled, window, mode="reflect") if window > 1 else filled
    out[:, ~stack.valid] = np.nan
    return out


def series_test(stacks: Sequence[Stack], window: int, alpha: float) -> tuple[SeriesChange, float]:
    """Omnibus test over the series (multi-looked over ``window``); its looks estimated from consecutive
    dates' log-ratios (most pixels do not change between neighbouring dates), as the pair test does."""
    series = np.stack([multilook(s, window) for s in stacks])
    estimates = []
    for first, second in zip(series[:-1], series[1:]):
        for band in range(series.shape[1]):
            with np.errstate(divide="ignore", invalid="ignore"):
                estimates.append(looks_from_log_ratio_spread(np.log(second[band] / first[band])))
    looks = float(np.median(estimates))
    return omnibus_change(series, looks, alpha), looks
