"""Colours shared by the QGIS styles and the HTML report, so a change type looks the same in both."""

from __future__ import annotations

from geo.link import CONSISTENT, INCONSISTENT_WITH_DENIAL, NO_EVIDENCE, NOT_OBSERVABLE, NOT_TESTED, WEAK_EVIDENCE
from geo.scenes.model import Sensor

# Change types come from geo.change.classify by name; a type not listed here gets OTHER_COLOUR.
CHANGE_TYPE_COLOURS: dict[str, str] = {
    "new_bright_surface": "#e6194b",
    "vegetation_loss": "#f58231",
    "bare_soil": "#c99a2e",
    "vessel": "#4363d8",
    "water_to_land": "#9a6324",
    "land_to_water": "#42d4f4",
    "vegetation_gain": "#3cb44b",
    "darkening": "#911eb4",
    "shadow": "#6f7389",  # low priority (never claim evidence): muted
    "water_change": "#469990",
    "other": "#a9a9a9",
}
OTHER_COLOUR = "#808080"

# In the order of geo.link.VERDICTS; every colour carries white text (contrast >= 4.5:1).
VERDICT_COLOURS: dict[str, str] = {
    CONSISTENT: "#c0392b",
    INCONSISTENT_WITH_DENIAL: "#8e44ad",
    WEAK_EVIDENCE: "#a15c07",
    NO_EVIDENCE: "#2471a3",
    NOT_OBSERVABLE: "#5d6d7e",
    NOT_TESTED: "#6e7677",
}


# Vessel detections and counts per sensor: the same in the QGIS style and the report's plot.
SENSOR_COLOURS: dict[Sensor, str] = {Sensor.S1: "#1f5fa8", Sensor.S2: "#c2571a"}


def change_colour(change_type: str) -> str:
    return CHANGE_TYPE_COLOURS.get(change_type, OTHER_COLOUR)


def rgb_triplet(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
