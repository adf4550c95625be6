"""*Co-registration*: ``geo coreg`` on two rasters; the shift as outputs, optionally the corrected raster."""

import json
import os

from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBand,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterLayer,
    QgsRasterLayer,
)

from ..loading import LayerLoader
from .base import GeoAlgorithm

REFERENCE, TARGET, LOCAL, CORRECTED = "REFERENCE", "TARGET", "LOCAL", "CORRECTED"
REFERENCE_BAND, TARGET_BAND = "REFERENCE_BAND", "TARGET_BAND"
NUMBERS = ("dx_px", "dy_px", "dx_m", "dy_m", "quality")
GEOTIFF = "GeoTIFF (*.tif *.tiff)"  # what geo coreg --apply writes (another extension is refused)
WEB_PROVIDERS = ("wms", "wcs", "arcgismapserver")  # QGIS's data providers of web maps (WMS, XYZ tiles, WCS...)


class CoregistrationAlgorithm(GeoAlgorithm):
    NAME = "coregistration"
    TITLE = "Co-registration"
    SHORT = "Sub-pixel shift between two rasters (geo coreg); optionally the target resampled onto the reference"
    HELP = ("Sub-pixel shift between two rasters (geo coreg), measured on the chosen band of each: a feature at "
            "(col, row) in the reference is at (col + dx_px, row + dy_px) in the target; dx_m/dy_m in metres on "
            "the ground, east and north positive. With a corrected raster (GeoTIFF), every band of the target is "
            "resampled once onto the reference grid.")

    def initAlgorithm(self, config=None):  # noqa: N802
        # optional, band 1 when not given: QGIS 3.22 refuses a required band left out of processing.run's
        # parameters even with a default, and scripts written before the bands existed leave them out
        for layer, band, role in ((REFERENCE, REFERENCE_BAND, "Reference"), (TARGET, TARGET_BAND, "Target")):
            self.addParameter(QgsProcessingParameterRasterLayer(layer, f"{role} raster"))
            self.addParameter(QgsProcessingParameterBand(band, f"{role} band", defaultValue=1,
                                                         parentLayerParameterName=layer, optional=True))
        self.addParameter(QgsProcessingParameterBoolean(LOCAL, "Local displacement model", defaultValue=False))
        self.addParameter(QgsProcessingParameterFileDestination(CORRECTED, "Corrected target", fileFilter=GEOTIFF,
                                                                optional=True, createByDefault=False))
        for name in NUMBERS:
            self.addOutput(QgsProcessingOutputNumber(name.upper(), name))
        self.addOutput(QgsProcessingOutputString("JSON", "geo coreg --json"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        reference = self.raster_file(parameters, REFERENCE, "Reference", context)
        target = self.raster_file(parameters, TARGET, "Target", context)
        args = ["coreg", reference, target, "--json",
                "--band", str(self.parameterAsInt(parameters, REFERENCE_BAND, context)),
                "--tgt-band", str(self.parameterAsInt(parameters, TARGET_BAND, context))]
        if self.parameterAsBoolean(parameters, LOCAL, context):
            args.append("--local")
        corrected = self.parameterAsFileOutput(parameters, CORRECTED, context) if parameters.get(CORRECTED) else None
        if corrected:
            args += ["--apply", corrected]
        result = json.loads(self.geo(args, feedback, summary=False, options={
            "--band": REFERENCE_BAND, "--tgt-band": TARGET_BAND, "--local": LOCAL, "--apply": CORRECTED}))
        feedback.pushInfo(f"shift dx {result['dx_px']:.3f} px, dy {result['dy_px']:.3f} px, quality "
                          f"{result['quality']:.3f}")
        outputs = {name.upper(): result[name] for name in NUMBERS}
        outputs["JSON"] = json.dumps(result)
        if corrected:
            # a file destination is not loaded by Processing itself: the corrected raster joins the project here
            # (a run onto the same file replaces the layer of the earlier one)
            name = os.path.splitext(os.path.basename(corrected))[0]
            LayerLoader(context, CORRECTED).add(QgsRasterLayer(corrected, name), corrected, rank=0)
            outputs[CORRECTED] = corrected
        return outputs

    def raster_file(self, parameters, name, role, context):
        """The file of a raster layer; a layer of another data provider (a web map: OpenStreetMap's tiles) fails,
        naming it: geo was handed its data source ('type=xyz&url=...: No such file or directory')."""
        layer = self.parameterAsRasterLayer(parameters, name, context)
        provider = layer.providerType()
        if provider != "gdal":
            kind = f"a web map ({provider})" if provider in WEB_PROVIDERS else f"a layer of QGIS's {provider} provider"
            raise QgsProcessingException(
                f"{role} raster '{layer.name()}': {kind}, not a raster file; geo measures the shift between two raster "
                "files (GeoTIFF, JPEG 2000...): give one")
        return layer.source()
