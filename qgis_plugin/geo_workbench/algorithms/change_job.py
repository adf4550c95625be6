"""*Change job*: ``geo run`` on a drawn polygon or the canvas extent, then its layers in the project."""

import json
import os

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterString,
)

from ..aoi import aoi_parameters, write_aoi
from ..loading import LayerLoader, load_change_run
from .base import SOURCE, GeoAlgorithm

BEFORE, AFTER, CLAIMS, SENSOR, LOAD = "BEFORE", "AFTER", "CLAIMS", "SENSOR", "LOAD"
OUTPUT, ITEM, N_CHANGES = "OUTPUT", "ITEM", "N_CHANGES"
SENSORS = ["s2", "s1"]
STEPS = 8  # geo run's progress steps for Sentinel-2: search, read, co-register, read, statistic, polygons, claims, write


class ChangeJobAlgorithm(GeoAlgorithm):
    NAME = "changejob"
    TITLE = "Change job"
    SHORT = "Changes between a before and an after Sentinel scene over a drawn area (geo run), loaded styled"
    HELP = ("Finds the changes between two Sentinel scenes over an area: a polygon layer (its union; tick "
            "'Selected features only' for a drawn selection) or an extent (the canvas extent). Before/after are "
            "dates (YYYY-MM-DD, the nearest clear scene) or scene ids; leave them empty with claims to bracket "
            "the claims' windows. A claim tests the area it names: name the AOI layer as the AOI id the claim names "
            "(e.g. demo-nantes-port). Runs the installed geo command (geo run) and loads the change polygons, the "
            "AOI, the change statistic and the before/after true colour, styled and on the time slider.")

    def initAlgorithm(self, config=None):  # noqa: N802
        for parameter in aoi_parameters():
            self.addParameter(parameter)
        self.addParameter(QgsProcessingParameterString(BEFORE, "Before: date (YYYY-MM-DD) or scene id", optional=True))
        self.addParameter(QgsProcessingParameterString(AFTER, "After: date (YYYY-MM-DD) or scene id", optional=True))
        self.addParameter(self.source_parameter())
        self.addParameter(QgsProcessingParameterEnum(SENSOR, "Sensor", options=["Sentinel-2 (optical)",
                                                                              "Sentinel-1 (SAR)"], defaultValue=0))
        self.addParameter(QgsProcessingParameterString(CLAIMS, "Claim ids to test (comma-separated)", optional=True))
        self.addParameter(QgsProcessingParameterBoolean(LOAD, "Load the outputs into the project", defaultValue=True))
        self.addParameter(QgsProcessingParameterFolderDestination(OUTPUT, "Run folder"))
        self.addOutput(QgsProcessingOutputFile(ITEM, "STAC item of the run"))
        self.addOutput(QgsProcessingOutputNumber(N_CHANGES, "Change polygons found"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        aoi, aliases = write_aoi(self, parameters, context, feedback)
        out = self.parameterAsString(parameters, OUTPUT, context)
        args = ["run", "--aoi", aoi, "--source", self.text(parameters, SOURCE, context) or "earth-search",
                "--sensor", SENSORS[self.parameterAsEnum(parameters, SENSOR, context)], "--out", out]
        for option, name in (("--before", BEFORE), ("--after", AFTER)):
            if self.date_text(parameters, name, context):
                args += [option, self.date_text(parameters, name, context)]
        for claim in filter(None, (c.strip() for c in self.text(parameters, CLAIMS, context).split(","))):
            args += ["--claim", claim]
        self.geo(args, feedback, STEPS, aliases, options={"--before": BEFORE, "--after": AFTER, "--source": SOURCE,
                                                          "--sensor": SENSOR, "--claim": CLAIMS, "--out": OUTPUT})
        with open(os.path.join(out, "changes.geojson"), encoding="utf-8") as changes:
            n_changes = len(json.load(changes)["features"])
        feedback.pushInfo(f"{n_changes} change polygon(s) in {out}")
        if self.parameterAsBoolean(parameters, LOAD, context):
            load_change_run(LayerLoader(context, OUTPUT), out, feedback)
        return {OUTPUT: out, ITEM: os.path.join(out, "item.json"), N_CHANGES: n_changes}
