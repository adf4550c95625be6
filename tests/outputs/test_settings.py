"""The job's settings as the report's provenance lists them: readable labels with their units (they were the
raw keys: "resolution 10.0", "water db -15.0", "min clear fraction 0.5", "looks not set")."""

from __future__ import annotations

import re
from dataclasses import asdict

from geo.jobs.sar_kit import SarParams
from geo.outputs.settings import readable_settings
from geo.scenes.model import Sensor


def provenance(report: str) -> dict[str, str]:
    """The report's provenance list: term -> text."""
    return dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]*)</dd>", report))


def test_the_demo_report_lists_its_settings_with_their_units(demo_output):
    listed = provenance((demo_output / "report.html").read_text())
    assert listed["Grid resolution"] == "10 m"
    assert listed["Margin read around the AOI"] == "300 m"
    assert listed["Minimum share of the AOI clear on both dates"] == "50 %"
    assert listed["Smallest change region kept"] == "8 px"
    assert listed["Local co-registration model (tie points)"] == "on"
    assert listed["Local model applied when it departs from the shift by at least"] == "0.1 px"
    assert not {"resolution", "min clear fraction", "margin m", "coreg local"} & listed.keys()
    # the detector's own settings too (they were "detector: windows px", "detector: seed factor")
    assert listed["Detector: local regression windows (the lowest statistic kept)"] == "48, 96 px"
    assert listed["Detector: footprints (Gaussian σ; the lowest statistic kept)"] == "1.0, 2.0 px"
    assert listed["Detector: seed level"] == "1.5 × the detection level"
    assert listed["Detector: band of the statistic"] == "red"
    assert not any(term.startswith("detector:") for term in listed)


def test_a_radar_runs_settings_speak_of_the_area_seen_and_of_decibels():
    listed = dict(readable_settings({**asdict(SarParams()), "new_knob": 3}, Sensor.S1))
    assert listed["Water level (filtered VV below it on every date)"] == "-15.0 dB"
    assert listed["Equivalent looks of the intensities"] == "estimated from the pair's unfiltered log-ratio"
    assert listed["Minimum share of the AOI seen on both dates"] == "50 %"
    assert listed["Change: false-alarm rate per pixel (VV and VH test)"] == "0.001"
    assert listed["Speckle filter window"] == "7 px"
    assert listed["new knob"] == "3"  # a setting the report does not know keeps its name
    assert len(listed) == len(asdict(SarParams())) + 1


def test_a_detector_setting_the_report_does_not_know_keeps_its_name():
    from geo.outputs.settings import readable_detector_settings

    listed = dict(readable_detector_settings({"threshold": 2.2, "new_knob": [1, 2], "min_area_px": 8}))
    assert listed == {"Detector: detection level": "2.2", "Detector: new knob": "1, 2", "Detector: smallest region": "8 px"}
