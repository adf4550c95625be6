"""*Co-registration*: ``geo coreg`` on two rasters; the shift as outputs, optionally the corrected raster."""

import json

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from .base import GeoAlgorithm

REFERENCE, TARGET, LOCAL, CORRECTED = "REFERENCE", "TARGET", "LOCAL", "CORRECTED"
NUMBERS = ("dx_px", "dy_px", "dx_m", "dy_m", "quality")


class CoregistrationAlgorithm(GeoAlgorithm):
    NAME = "coregistration"
    TITLE = "Co-registration"
    HELP = ("Sub-pixel shift between two rasters (geo coreg): a feature at (col, row) in the reference is at "
            "(col + dx_px, row + dy_px) in the target; dx_m/dy_m in metres on the ground, east and north positive. With a "
            "corrected raster, the target is resampled once onto the reference grid.")

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer(REFERENCE, "Reference raster"))
        self.addParameter(QgsProcessingParameterRasterLayer(TARGET, "Target raster"))
        self.addParameter(QgsProcessingParameterBoolean(LOCAL, "Local displacement model", defaultValue=False))
        self.addParameter(QgsProcessingParameterRasterDestination(CORRECTED, "Corrected target", optional=True,
                                                                  createByDefault=False))
        for name in NUMBERS:
            self.addOutput(QgsProcessingOutputNumber(name.upper(), name))
        self.addOutput(QgsProcessingOutputString("JSON", "geo coreg --json"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        reference = self.parameterAsRasterLayer(parameters, REFERENCE, context).source()
        target = self.parameterAsRasterLayer(parameters, TARGET, context).source()
        args = ["coreg", reference, target, "--json"]
        if self.parameterAsBoolean(parameters, LOCAL, context):
            args.append("--local")
        corrected = self.parameterAsOutputLayer(parameters, CORRECTED, context) if parameters.get(CORRECTED) else None
        if corrected:
            args += ["--apply", corrected]
        result = json.loads(self.geo(args, feedback))
        feedback.pushInfo(f"shift dx {result['dx_px']:.3f} px, dy {result['dy_px']:.3f} px, quality "
                          f"{result['quality']:.3f}")
        outputs = {name.upper(): result[name] for name in NUMBERS}
        outputs["JSON"] = json.dumps(result)
        if corrected:
            outputs[CORRECTED] = corrected
        return outputs
