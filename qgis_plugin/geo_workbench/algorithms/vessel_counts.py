"""*Vessel counts*: ``geo vessels`` over an area between two dates; the detections loaded on the time slider."""

import os

from qgis.core import (
    QgsProcessingException,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterString,
)

from ..aoi import aoi_parameters, write_aoi
from ..loading import LayerLoader, definition_layers, named, run_name
from .base import SOURCE, GeoAlgorithm

FROM, TO, SENSOR, OUTPUT = "FROM", "TO", "SENSOR", "OUTPUT"
LAYERS = "vessels.qlr"  # the run's layers as geo vessels defines them for QGIS (geo.vessels.job.VESSEL_LAYERS)
SENSORS = [None, "s1", "s2"]
SEARCH_SHARE = 20  # the search is ~1/20 of the bar; the scenes ("detecting in ID (k/n)") move the rest


class VesselCountsAlgorithm(GeoAlgorithm):
    NAME = "vesselcounts"
    TITLE = "Vessel counts"
    SHORT = "Ships per scene and vessel counts per date over an area (geo vessels), on the time slider"
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
        aoi, aliases = write_aoi(self, parameters, context, feedback)
        out = self.parameterAsString(parameters, OUTPUT, context)
        args = ["vessels", "--aoi", aoi, "--from", self.date_text(parameters, FROM, context),
                "--to", self.date_text(parameters, TO, context),
                "--source", self.text(parameters, SOURCE, context) or "earth-search", "--out", out]
        sensor = SENSORS[self.parameterAsEnum(parameters, SENSOR, context)]
        if sensor:
            args += ["--sensor", sensor]
        self.geo(args, feedback, SEARCH_SHARE, aliases, options={"--from": FROM, "--to": TO, "--source": SOURCE,
                                                                  "--sensor": SENSOR, "--out": OUTPUT})
        load_vessel_run(LayerLoader(context, OUTPUT), out, self.date_text(parameters, FROM, context),
                        self.date_text(parameters, TO, context))
        return {OUTPUT: out}


def load_vessel_run(loader, folder, first, last):
    """The detections of every scene, as ``vessels.qlr`` defines them: a lon/lat polygon layer styled by sensor,
    each ship at its scene's instant on the time slider, also when no ship was found (an empty
    ``vessels.geojson`` alone opens as a table without geometry or CRS). The file's per-scene layers, unticked
    there, are left out: the time slider shows each scene's ships."""
    path = os.path.join(folder, LAYERS)
    if not os.path.exists(path):
        raise QgsProcessingException(f"{path}: not written by geo vessels (an older geo?): no layer to load")
    layers = definition_layers(path)
    if not layers:
        raise QgsProcessingException(f"{path}: no layer shown in it: nothing to load")
    # the algorithm's name for the detections of every scene, with the run's AOI and period (another run's are apart)
    layers[0].setName(named("Vessels", run_name(folder, "timeseries.json", first, last)))
    for rank, layer in enumerate(layers):
        loader.add(layer, folder, rank, styled=True)
    return layers
