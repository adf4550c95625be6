"""The job's settings (``manifest["parameters"]``, a kit's parameters: ``geo.jobs.optical_kit.Params``,
``geo.jobs.sar_kit.SarParams``) as the report's provenance lists them: a readable label and the value with its
unit, as the code using each reads it. A key not listed here keeps its raw name (a newer kit's setting)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from geo.scenes.model import Sensor

Format = Callable[[Any], str]


def plain(value: Any) -> str:
    """Lists as comma-separated text, so parameters read as values, not Python."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return "not set" if value is None else str(value)


def _metres(value: Any) -> str:
    return f"{float(value):g} m"


def _pixels(value: Any) -> str:
    return f"{value:g} px" if isinstance(value, float) else f"{value} px"


def _share(value: Any) -> str:
    return f"{100 * float(value):g} %"


def _db(value: Any) -> str:
    return f"{float(value):.1f} dB"


def _on(value: Any) -> str:
    return "on" if value else "off"


def _looks(value: Any) -> str:
    return "estimated from the pair's unfiltered log-ratio" if value is None else f"{value:g}"


def _labels(clear: str) -> dict[str, tuple[str, Format]]:
    """Key -> (label, format); ``clear``: how a share of the area seen is said for the sensor ('clear' of
    cloud or 'seen')."""
    return {
        "resolution": ("Grid resolution", _metres),
        "margin_m": ("Margin read around the AOI", _metres),
        "min_grid_m": ("Smallest grid side (a small AOI's margin grows to it)", _metres),
        "margin_used_m": ("Margin used (x, y), m", plain),
        "max_coreg_shift_px": ("Largest co-registration shift believed", _pixels),
        "bands": ("Bands read", plain),
        "coreg_band": ("Co-registration band", plain),
        "method": ("Change method", plain),
        "min_area_px": ("Smallest change region kept", _pixels),
        "min_clear_fraction": (f"Minimum share of the AOI {clear} on both dates", _share),
        "min_coreg_quality": ("Minimum co-registration quality (correlation; below it no shift is applied)", plain),
        "coreg_local": ("Local co-registration model (tie points)", _on),
        "coreg_window": ("Tie-point window", _pixels),
        "coreg_spacing": ("Tie-point spacing", _pixels),
        "coreg_local_min_px": ("Local model applied when it departs from the shift by at least", _pixels),
        # Sentinel-1 (geo.change.sar, geo.change.sar_pair, geo.change.sar_types)
        "looks": ("Equivalent looks of the intensities", _looks),
        "filter_size": ("Speckle filter window", _pixels),
        "strong_alpha": ("Strong change: false-alarm rate per pixel", plain),
        "edge_window": ("Edge trimming: window of the local log-ratio", _pixels),
        "edge_px": ("Edge trimming: within this of a region's border", _pixels),
        "series_window": ("Series test: multilook window of each date", _pixels),
        "water_db": ("Water level (filtered VV below it on every date)", _db),
    }


def _alpha(sensor: Sensor) -> dict[str, tuple[str, Format]]:
    """The significance settings read differently by the two kits' tests."""
    if sensor is Sensor.S1:  # geo.change.sar.log_ratio_change, sar_pair.series_test
        return {"alpha": ("Change: false-alarm rate per pixel (VV and VH test)", plain)}
    return {"alpha": ("Chi-square methods: significance of a seed pixel", plain),
            "alpha_grow": ("Chi-square methods: significance to grow a seed", plain)}


def _times(value: Any) -> str:
    return f"{float(value):g} × the detection level"


# The detectors' own settings (``geo.change.detectors``: each one's params dataclass, listed by the run in
# manifest ``statistic.parameters``), in the statistic's own unit where they are levels.
DETECTOR_LABELS: dict[str, tuple[str, Format]] = {
    "band": ("Detector: band of the statistic", plain),
    "window_px": ("Detector: local regression window", _pixels),
    "windows_px": ("Detector: local regression windows (the lowest statistic kept)", lambda v: f"{plain(v)} px"),
    "sigma_px": ("Detector: footprint (Gaussian σ)", _pixels),
    "sigmas_px": ("Detector: footprints (Gaussian σ; the lowest statistic kept)", lambda v: f"{plain(v)} px"),
    "threshold": ("Detector: detection level", plain),
    "seed_factor": ("Detector: seed level", _times),
    "min_area_px": ("Detector: smallest region", _pixels),
    "high": ("Detector: self-training, change examples above", plain),
    "low": ("Detector: self-training, no-change examples below", plain),
    "c": ("Detector: self-training, inverse regularisation (C)", plain),
    "alpha": ("Detector: significance of a seed pixel", plain),
    "alpha_grow": ("Detector: significance to grow a seed", plain),
}


def _readable(parameters: Mapping[str, Any], labels: Mapping[str, tuple[str, Format]],
              unknown: str = "") -> list[tuple[str, str]]:
    out = []
    for key, value in parameters.items():
        label, show = labels.get(key, (unknown + key.replace("_", " "), plain))
        out.append((label, show(value)))
    return out


def readable_settings(parameters: Mapping[str, Any], sensor: Sensor) -> list[tuple[str, str]]:
    """(label, value with its unit) of each of ``parameters``, in their order; ``sensor``: the run's."""
    return _readable(parameters, {**_labels(sensor.clear_word), **_alpha(sensor)})


def readable_detector_settings(parameters: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value with its unit) of each of a detector's own ``parameters`` (manifest
    ``statistic.parameters``), in their order; a setting not listed keeps its name after 'Detector: '."""
    return _readable(parameters, DETECTOR_LABELS, unknown="Detector: ")
