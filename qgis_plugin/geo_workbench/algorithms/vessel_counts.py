"""*Vessel counts*: ``geo vessels`` over an area between two dates; the detections loaded on the time slider."""

import os

from qgis.core import (
    QgsProcessingParameterEnum,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterString,
    QgsVectorLayer,
    QgsVectorLayerTemporalProperties,
)

from ..aoi import aoi_parameters, write_aoi
from ..loading import LayerLoader
from .base import SOURCE, GeoAlgorithm

FROM, TO, SENSOR, OUTPUT = "FROM", "TO", "SENSOR", "OUTPUT"
SENSORS = [None, "s1", "s2"]
SEARCH_SHARE = 20  # the search is ~1/20 of the bar; the scenes ("detecting in ID (k/n)") move the rest


class VesselCountsAlgorithm(GeoAlgorithm):
    NAME = "vesselcounts"
    TITLE = "Vessel counts"
    HELP = ("Ships per scene and vessel counts per date over an area (geo vessels): Sentinel-1 CFAR and/or "
            "Sentinel-2. Writes the detections, the time series (CSV, JSON, SVG, PNG) and the evidence for "
            "vessel claims into the folder, and loads the detections on the time slider.")

    def initAlgorithm(self, config=None):  # noqa: N802
        for parameter in aoi_parameters():
            self.addParameter(parameter)
        self.addParameter(QgsProcessingParameterString(FROM, "From (YYYY-MM-DD)"))
        self.addParameter(QgsProcessingParameterString(TO, "To (YYYY-MM-DD)"))
        self.addParameter(self.source_parameter())
        self.addParameter(QgsProcessingParameterEnum(SENSOR, "Sensor", options=["every sensor the source has",
                                                                              "Sentinel-1", "Sentinel-2"],
                                                     defaultValue=0))
        self.addParameter(QgsProcessingParameterFolderDestination(OUTPUT, "Output folder"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        aoi = write_aoi(self, parameters, context, feedback)
        out = self.parameterAsString(parameters, OUTPUT, context)
        args = ["vessels", "--aoi", aoi, "--from", self.text(parameters, FROM, context),
                "--to", self.text(parameters, TO, context),
                "--source", self.text(parameters, SOURCE, context) or "earth-search", "--out", out]
        sensor = SENSORS[self.parameterAsEnum(parameters, SENSOR, context)]
        if sensor:
            args += ["--sensor", sensor]
        self.geo(args, feedback, SEARCH_SHARE)
        detections = QgsVectorLayer(os.path.join(out, "vessels.geojson"), "Vessels", "ogr")
        if detections.isValid() and "datetime" in detections.fields().names():
            properties = detections.temporalProperties()
            properties.setIsActive(True)
            properties.setMode(QgsVectorLayerTemporalProperties.ModeFeatureDateTimeStartAndEndFromExpressions)
            properties.setStartExpression('to_datetime("datetime")')
            properties.setEndExpression('to_datetime("datetime")')
        if detections.isValid() and detections.featureCount() == 0:
            # an empty GeoJSON has no geometry type nor CRS: QGIS would show a table asking for a CRS
            feedback.pushInfo("no vessel detected: vessels.geojson is empty, no layer loaded")
        elif detections.isValid():
            LayerLoader(context, OUTPUT).add(detections, out, 0)
        return {OUTPUT: out}
