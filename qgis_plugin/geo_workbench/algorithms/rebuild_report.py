"""*Rebuild report*: ``geo report`` on a run folder (after editing claims, or with a newer workbench)."""

from qgis.core import QgsProcessingParameterFile, QgsProcessingParameterFileDestination

from .base import GeoAlgorithm

RUN_DIR, OUTPUT = "RUN_DIR", "OUTPUT"


class RebuildReportAlgorithm(GeoAlgorithm):
    NAME = "rebuildreport"
    TITLE = "Rebuild report"
    SHORT = "The evidence report (HTML) of a run folder written again (geo report)"
    HELP = "Writes the evidence report (one self-contained HTML file) from a run folder again (geo report)."

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFile(RUN_DIR, "Run folder", behavior=QgsProcessingParameterFile.Folder))
        self.addParameter(QgsProcessingParameterFileDestination(OUTPUT, "Report", fileFilter="HTML (*.html)"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        run_dir = self.parameterAsFile(parameters, RUN_DIR, context)
        out = self.parameterAsFileOutput(parameters, OUTPUT, context)
        self.geo(["report", run_dir, "--out", out], feedback, options={"--out": OUTPUT})
        return {OUTPUT: out}
